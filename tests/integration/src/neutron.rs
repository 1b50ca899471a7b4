//! The emulator's Neutron read back as a client reads it (over its HTTP API, with a token of the
//! demo project), so tests assert what the provider holds, not the emulator's internals.

use openstack_emulator::Emulator;
use serde_json::Value;

use crate::{raw_token, raw_token_of};

pub const PORTS: &str = "/network/v2.0/ports";
pub const FIPS: &str = "/network/v2.0/floatingips";

pub struct NeutronApi {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl NeutronApi {
    pub async fn connect(emulator: &Emulator) -> NeutronApi {
        shared::aws::install_tls_provider();
        NeutronApi { base: emulator.url.clone(), token: raw_token(emulator).await, http: reqwest::Client::new() }
    }

    /// As one application credential's project.
    pub async fn connect_as(emulator: &Emulator, id: &str, secret: &str) -> NeutronApi {
        shared::aws::install_tls_provider();
        NeutronApi {
            base: emulator.url.clone(),
            token: raw_token_of(emulator, id, secret).await,
            http: reqwest::Client::new(),
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-Auth-Token", &self.token)
            .header("OpenStack-API-Version", "compute 2.100");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn list(&self, path: &str, key: &str) -> Vec<Value> {
        let (status, body) = self.call("GET", path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        body[key].as_array().cloned().unwrap_or_default()
    }

    /// Every port of the project.
    pub async fn ports(&self) -> Vec<Value> {
        self.list(PORTS, "ports").await
    }

    /// The ports named exactly `name` (the product names a server's port after its record id).
    pub async fn ports_named(&self, name: &str) -> Vec<Value> {
        self.list(&format!("{PORTS}?name={name}"), "ports").await
    }

    /// The server's one port; panics unless there is exactly one.
    pub async fn port_of(&self, server_id: &str) -> Value {
        let mut ports = self.ports_named(server_id).await;
        assert_eq!(ports.len(), 1, "server {server_id} has exactly one port: {ports:?}");
        ports.remove(0)
    }

    /// Every floating IP of the project.
    pub async fn floating_ips(&self) -> Vec<Value> {
        self.list(FIPS, "floatingips").await
    }

    /// The floating IPs bound to a port.
    pub async fn floating_ips_of(&self, port_id: &str) -> Vec<Value> {
        self.list(&format!("{FIPS}?port_id={port_id}"), "floatingips").await
    }
}

/// A port's security group ids, sorted.
pub fn groups_of(port: &Value) -> Vec<String> {
    let mut groups: Vec<String> = port["security_groups"]
        .as_array()
        .map(|g| g.iter().filter_map(|g| g.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    groups.sort();
    groups
}

/// A port's allowed address pairs' prefixes, sorted.
pub fn pairs_of(port: &Value) -> Vec<String> {
    let mut pairs: Vec<String> = port["allowed_address_pairs"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["ip_address"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    pairs.sort();
    pairs
}
