//! `/v2.0/ports`: create, show, list, update, delete.

use axum::extract::{Path, Query as AxumQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::model::{port_json, AddressPair, NewPort};
use super::{bad_request, listing, neutron, neutron_error, resource, text, Query};
use crate::common::Ctx;
use crate::model::{now, TokenInfo};
use crate::state::Inner;

fn port_not_found(id: &str) -> Response {
    neutron_error(404, "PortNotFound", format!("Port {id} could not be found."))
}

/// The security group ids a request names, each checked in the caller's project.
fn groups(state: &Inner, token: &TokenInfo, value: &Value) -> Result<Option<Vec<String>>, Response> {
    let Some(list) = value.as_array() else {
        return match value {
            Value::Null => Ok(None),
            _ => Err(bad_request("Invalid input for security_groups. Reason: not a list.")),
        };
    };
    let mut ids = Vec::new();
    for id in list {
        let id = id.as_str().unwrap_or_default();
        match state.net.group(&token.project_id, id).filter(|g| g.id == id) {
            Some(group) => ids.push(group.id.clone()),
            None => {
                return Err(neutron_error(404, "SecurityGroupNotFound", format!("Security group {id} does not exist")))
            }
        }
    }
    Ok(Some(ids))
}

/// An allowed address pair as asked: the address or CIDR, and a MAC (the port's when absent).
type RequestedPair = (String, Option<String>);

/// `allowed_address_pairs`: each an IP address or CIDR, with an optional MAC.
fn pairs(value: &Value) -> Result<Option<Vec<RequestedPair>>, Response> {
    let Some(list) = value.as_array() else {
        return match value {
            Value::Null => Ok(None),
            _ => Err(bad_request("Invalid input for allowed_address_pairs. Reason: not a list.")),
        };
    };
    let mut out = Vec::new();
    for pair in list {
        let ip = pair["ip_address"].as_str().unwrap_or_default();
        let (address, prefix) = ip.split_once('/').map_or((ip, None), |(a, p)| (a, Some(p)));
        let valid = match address.parse::<std::net::IpAddr>() {
            Ok(addr) => {
                let most = if addr.is_ipv4() { 32 } else { 128 };
                prefix.is_none_or(|p| p.parse::<u8>().is_ok_and(|p| p <= most))
            }
            Err(_) => false,
        };
        if !valid {
            return Err(bad_request(format!(
                "Invalid input for allowed_address_pairs. Reason: '{ip}' is not a valid IP address."
            )));
        }
        out.push((ip.to_owned(), pair["mac_address"].as_str().map(str::to_owned)));
    }
    Ok(Some(out))
}

pub async fn create_port(State(ctx): State<Ctx>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    neutron(&ctx, &headers, |state, token| {
        let port = match resource(&body, "port") {
            Ok(p) => p,
            Err(r) => return r,
        };
        let Some(network_id) = port.get("network_id").and_then(Value::as_str) else {
            return bad_request("Failed to parse request. Required attribute 'network_id' not specified");
        };
        if state.net.visible_network(&token.project_id, network_id).is_none() {
            return neutron_error(404, "NetworkNotFound", format!("Network {network_id} could not be found."));
        }
        let security_groups = match groups(state, token, port.get("security_groups").unwrap_or(&Value::Null)) {
            Ok(Some(ids)) => ids,
            Ok(None) => vec![state.net.default_group(&token.project_id)],
            Err(r) => return r,
        };
        let allowed_address_pairs = match pairs(port.get("allowed_address_pairs").unwrap_or(&Value::Null)) {
            Ok(p) => p.unwrap_or_default(),
            Err(r) => return r,
        };
        let new = NewPort {
            name: text(port, "name"),
            network_id: network_id.to_owned(),
            project_id: token.project_id.clone(),
            device_id: text(port, "device_id"),
            device_owner: text(port, "device_owner"),
            security_groups,
            allowed_address_pairs,
            description: text(port, "description"),
        };
        match state.net.create_port(new) {
            Some(port) => (StatusCode::CREATED, Json(json!({"port": port_json(&port)}))).into_response(),
            None => neutron_error(
                409,
                "IpAddressGenerationFailure",
                format!("No more IP addresses available on network {network_id}."),
            ),
        }
    })
}

pub async fn show_port(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    neutron(&ctx, &headers, |state, token| match state.net.ports.get(&id) {
        Some(p) if p.project_id == token.project_id => Json(json!({"port": port_json(p)})).into_response(),
        _ => port_not_found(&id),
    })
}

pub async fn list_ports(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    AxumQuery(query): AxumQuery<Vec<(String, String)>>,
) -> Response {
    neutron(&ctx.clone(), &headers, |state, token| {
        // An admin sees every project's ports (a `project_id` filter narrows them).
        let admin = state.is_admin(token);
        let mine =
            state.net.ports.values().filter(|p| admin || p.project_id == token.project_id).map(port_json).collect();
        listing(&ctx, "ports", "ports", mine, &Query::new(&query))
    })
}

pub async fn update_port(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    neutron(&ctx, &headers, |state, token| {
        let changes = match resource(&body, "port") {
            Ok(p) => p,
            Err(r) => return r,
        };
        if state.net.ports.get(&id).is_none_or(|p| p.project_id != token.project_id) {
            return port_not_found(&id);
        }
        let groups = match groups(state, token, changes.get("security_groups").unwrap_or(&Value::Null)) {
            Ok(g) => g,
            Err(r) => return r,
        };
        let pairs = match pairs(changes.get("allowed_address_pairs").unwrap_or(&Value::Null)) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let Some(port) = state.net.ports.get_mut(&id) else { return port_not_found(&id) };
        if let Some(groups) = groups {
            port.security_groups = groups;
        }
        if let Some(pairs) = pairs {
            let mac = port.mac_address.clone();
            port.allowed_address_pairs = pairs
                .into_iter()
                .map(|(ip, m)| AddressPair { ip_address: ip, mac_address: m.unwrap_or_else(|| mac.clone()) })
                .collect();
        }
        for (key, field) in [
            ("name", &mut port.name),
            ("device_id", &mut port.device_id),
            ("device_owner", &mut port.device_owner),
            ("description", &mut port.description),
        ] {
            if let Some(value) = changes.get(key).and_then(Value::as_str) {
                *field = value.to_owned();
            }
        }
        port.revision_number += 1;
        port.updated_at = now();
        Json(json!({"port": port_json(port)})).into_response()
    })
}

pub async fn delete_port(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    neutron(&ctx, &headers, |state, token| {
        if state.net.ports.get(&id).is_none_or(|p| p.project_id != token.project_id) {
            return port_not_found(&id);
        }
        state.net.delete_port(&id);
        StatusCode::NO_CONTENT.into_response()
    })
}
