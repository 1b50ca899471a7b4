//! The networking part of the provider port: a server's port (its address, MAC, security groups
//! and the source addresses it may send from) and its public address, in domain words.

use async_trait::async_trait;

use super::{ProviderCredential, Receipt, Result};

/// A source address a server may send from besides its own (a router VM, a VIP): a prefix or an
/// address, and the MAC it comes from (the port's own when absent).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AllowedAddress {
    pub prefix: String,
    pub mac_address: Option<String>,
}

/// What a server's port is asked to be.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortSpec {
    /// Named after the server, so a port whose id was lost is found again.
    pub name: String,
    /// The provider network the port is on.
    pub network_id: String,
    /// Provider security group ids; empty means the provider's default group.
    pub security_groups: Vec<String>,
    pub allowed_addresses: Vec<AllowedAddress>,
}

/// A port as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProviderPort {
    pub id: String,
    pub name: String,
    pub network_id: String,
    /// The server it is bound to, if any.
    pub device_id: Option<String>,
    pub private_ip: Option<String>,
    pub mac_address: Option<String>,
    pub security_groups: Vec<String>,
    pub allowed_addresses: Vec<AllowedAddress>,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The project it lives in.
    pub project_id: Option<String>,
}

/// A public (floating) address.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PublicIp {
    pub id: String,
    pub address: String,
    /// The port it routes to, if bound.
    pub port_id: Option<String>,
    /// What the platform wrote on it when it allocated it (the server it is for).
    pub description: String,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The project it lives in.
    pub project_id: Option<String>,
}

/// A network public addresses come from (`router:external`).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ExternalNetwork {
    pub id: String,
    pub name: String,
    pub tags: Vec<String>,
}

/// One page of a listing; `next` is the marker of the following page, if any.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// Ports, public addresses and the lookups they need.
#[async_trait]
pub trait Networking: Send + Sync {
    async fn create_port(&self, cred: &ProviderCredential, spec: &PortSpec) -> Result<(ProviderPort, Receipt)>;
    async fn get_port(&self, cred: &ProviderCredential, id: &str) -> Result<ProviderPort>;
    /// The ports named exactly `name`.
    async fn find_ports(&self, cred: &ProviderCredential, name: &str) -> Result<Vec<ProviderPort>>;
    /// One page (at most `limit`) of every port the credential sees, from `marker` on.
    async fn list_ports(
        &self,
        cred: &ProviderCredential,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<Page<ProviderPort>>;
    /// Sets the port's security groups (ids, never empty: see [`Networking::default_security_group`])
    /// and allowed addresses to exactly these.
    async fn update_port(
        &self,
        cred: &ProviderCredential,
        id: &str,
        security_groups: &[String],
        allowed_addresses: &[AllowedAddress],
    ) -> Result<(ProviderPort, Receipt)>;
    async fn delete_port(&self, cred: &ProviderCredential, id: &str) -> Result<Receipt>;
    /// Allocates a public address on `external_network` bound to `port_id`, described by
    /// `description` (so a leaked one can be traced to its server).
    async fn create_public_ip(
        &self,
        cred: &ProviderCredential,
        external_network: &str,
        port_id: &str,
        description: &str,
    ) -> Result<(PublicIp, Receipt)>;
    /// The public addresses bound to a port.
    async fn public_ips_of(&self, cred: &ProviderCredential, port_id: &str) -> Result<Vec<PublicIp>>;
    /// One page of every public address the credential sees.
    async fn list_public_ips(
        &self,
        cred: &ProviderCredential,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<Page<PublicIp>>;
    async fn delete_public_ip(&self, cred: &ProviderCredential, id: &str) -> Result<Receipt>;
    /// Every external network the credential sees, in the provider's order (a region's selector
    /// chooses among them; the first one left is where public addresses come from).
    async fn external_networks(&self, cred: &ProviderCredential) -> Result<Vec<ExternalNetwork>>;
    /// The id of the project's default security group (the one a port asked for no group is in),
    /// if the project has one.
    async fn default_security_group(&self, cred: &ProviderCredential) -> Result<Option<String>>;
}
