//! What Nova checks in a boot request, and how it binds the server's Neutron ports.

use serde_json::Value;

use axum::response::Response;

use super::visible_image;
use crate::common::nova_fault;
use crate::model::{now, Flavor, Server, TokenInfo};
use crate::neutron::model::{NewPort, NOVA_MADE};
use crate::state::Inner;

/// What a boot request names, checked as Nova checks it (400 with Nova's message otherwise).
pub(super) struct Boot {
    pub name: String,
    pub image_id: String,
    pub flavor: Flavor,
    pub key_name: Option<String>,
    pub networks: Vec<Attach>,
    /// The groups of the ports Nova makes (ids; the project's `default` unless named).
    pub security_groups: Vec<String>,
}

/// One entry of `networks`: a port to bind, or a network to make a port on.
pub(super) enum Attach {
    Port(String),
    Network(String),
}

pub(super) fn check_boot(state: &Inner, token: &TokenInfo, s: &Value, minor: u32) -> Result<Boot, Response> {
    let Some(name) = s["name"].as_str().filter(|n| !n.is_empty()) else {
        return Err(nova_fault(400, "Invalid input for field/attribute name."));
    };
    // Nova's schema bounds user_data at 65,535 characters, and its 400 echoes the value.
    if let Some(user_data) = s["user_data"].as_str().filter(|u| u.len() > 65_535) {
        return Err(nova_fault(
            400,
            format!("Invalid input for field/attribute user_data. Value: {user_data}. '{user_data}' is too long"),
        ));
    }
    let image_id = s["imageRef"].as_str().unwrap_or_default();
    let flavor_id = s["flavorRef"].as_str().unwrap_or_default();
    if minor >= 37 && s.get("networks").is_none() {
        return Err(nova_fault(
            400,
            "Invalid input for field/attribute server. Value: ... 'networks' is a required property",
        ));
    }
    let networks = attachments(state, token, &s["networks"])?;
    let security_groups = match s["security_groups"].as_array() {
        None => vec![state.net.group(&token.project_id, "default").map(|g| g.id.clone()).unwrap_or_default()],
        Some(list) => {
            let mut ids = Vec::new();
            for name in list.iter().map(|g| g["name"].as_str().unwrap_or_default()) {
                match state.net.group(&token.project_id, name) {
                    Some(group) => ids.push(group.id.clone()),
                    None => {
                        return Err(nova_fault(
                            400,
                            format!("Security group {name} not found for project {}.", token.project_id),
                        ))
                    }
                }
            }
            ids
        }
    };
    let Some(image) = visible_image(state, &token.project_id, image_id) else {
        return Err(nova_fault(400, format!("Image {image_id} could not be found.")));
    };
    if image.status != "active" {
        return Err(nova_fault(400, format!("Image {image_id} is not active.")));
    }
    let Some(flavor) = state.flavors.get(flavor_id).filter(|f| f.visible_to(&token.project_id)).cloned() else {
        return Err(nova_fault(400, format!("Flavor {flavor_id} could not be found.")));
    };
    if image.min_disk > flavor.disk {
        return Err(nova_fault(400, "Flavor's disk is too small for requested image."));
    }
    let key_name = s["key_name"].as_str().map(str::to_owned);
    if let Some(key) = &key_name {
        if !state.keypairs.contains_key(&(token.user_id.clone(), key.clone())) {
            return Err(nova_fault(400, "Invalid key_name provided."));
        }
    }
    Ok(Boot { name: name.to_owned(), image_id: image_id.to_owned(), flavor, key_name, networks, security_groups })
}

/// Nova's checks of `networks`: each port the caller's and unbound, each network visible.
fn attachments(state: &Inner, token: &TokenInfo, networks: &Value) -> Result<Vec<Attach>, Response> {
    let Value::Array(list) = networks else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for entry in list {
        if let Some(port_id) = entry["port"].as_str() {
            match state.net.ports.get(port_id).filter(|p| p.project_id == token.project_id) {
                None => return Err(nova_fault(400, format!("Port id {port_id} could not be found."))),
                Some(p) if !p.device_id.is_empty() => {
                    return Err(nova_fault(409, format!("Port {port_id} is still in use.")))
                }
                Some(_) => out.push(Attach::Port(port_id.to_owned())),
            }
        } else if let Some(network_id) = entry["uuid"].as_str() {
            if state.net.visible_network(&token.project_id, network_id).is_none() {
                return Err(nova_fault(400, format!("Network {network_id} could not be found.")));
            }
            out.push(Attach::Network(network_id.to_owned()));
        }
    }
    Ok(out)
}

/// Binds the server's ports: the ones it was given, and one per network it named (made by Nova,
/// so deleted with the server).
pub(super) fn attach(state: &mut Inner, server: &Server, networks: Vec<Attach>, security_groups: &[String]) {
    for attach in networks {
        match attach {
            Attach::Port(id) => {
                if let Some(port) = state.net.ports.get_mut(&id) {
                    port.device_id = server.id.clone();
                    port.device_owner = "compute:nova".into();
                    port.revision_number += 1;
                    port.updated_at = now();
                }
            }
            Attach::Network(network_id) => {
                let _ = state.net.create_port(NewPort {
                    name: String::new(),
                    network_id,
                    project_id: server.project_id.clone(),
                    device_id: server.id.clone(),
                    device_owner: "compute:nova".into(),
                    security_groups: security_groups.to_vec(),
                    allowed_address_pairs: Vec::new(),
                    description: NOVA_MADE.into(),
                });
            }
        }
    }
}
