//! `/v2.0/floatingips`: allocate on an external network (bound to a port or not), show, list,
//! re-bind, release.

use axum::extract::{Path, Query as AxumQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::model::{floating_ip_json, FloatingIp, Port};
use super::{bad_request, listing, neutron, neutron_error, resource, Query};
use crate::common::Ctx;
use crate::model::{now, TokenInfo};
use crate::state::Inner;

fn fip_not_found(id: &str) -> Response {
    neutron_error(404, "FloatingIPNotFound", format!("Floating IP {id} could not be found"))
}

fn json_of(state: &Inner, fip: &FloatingIp) -> Value {
    floating_ip_json(fip, fip.port_id.as_ref().and_then(|p| state.net.ports.get(p)))
}

/// The port a floating IP is to be bound to: the caller's, and not already holding one.
fn bindable(state: &Inner, token: &TokenInfo, port_id: &str, except: Option<&str>) -> Result<Port, Response> {
    let Some(port) = state.net.ports.get(port_id).filter(|p| p.project_id == token.project_id) else {
        return Err(neutron_error(404, "PortNotFound", format!("Port {port_id} could not be found.")));
    };
    if let Some(held) = state.net.floating_ip_of(port_id).filter(|f| Some(f.id.as_str()) != except) {
        return Err(neutron_error(
            409,
            "FloatingIPPortAlreadyAssociated",
            format!(
                "Cannot associate floating IP {} ({}) with port {port_id} using fixed IP {}, as that fixed IP already has a floating IP on external network {}.",
                held.floating_ip_address, held.id, port.ip_address, held.floating_network_id
            ),
        ));
    }
    Ok(port.clone())
}

pub async fn create_floating_ip(State(ctx): State<Ctx>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    neutron(&ctx, &headers, |state, token| {
        let fip = match resource(&body, "floatingip") {
            Ok(f) => f,
            Err(r) => return r,
        };
        let Some(network_id) = fip.get("floating_network_id").and_then(Value::as_str) else {
            return bad_request("Failed to parse request. Required attribute 'floating_network_id' not specified");
        };
        match state.net.networks.get(network_id) {
            None => return neutron_error(404, "NetworkNotFound", format!("Network {network_id} could not be found.")),
            Some(n) if !n.external => {
                return bad_request(format!(
                    "Bad floatingip request: Network {network_id} is not a valid external network."
                ))
            }
            Some(_) => {}
        }
        let port = match fip.get("port_id").and_then(Value::as_str) {
            Some(port_id) => match bindable(state, token, port_id, None) {
                Ok(port) => Some(port),
                Err(r) => return r,
            },
            None => None,
        };
        let description = fip.get("description").and_then(Value::as_str).unwrap_or_default().to_owned();
        match state.net.allocate_floating_ip(&token.project_id, network_id, port.as_ref(), description) {
            Some(created) => {
                (StatusCode::CREATED, Json(json!({"floatingip": json_of(state, &created)}))).into_response()
            }
            None => neutron_error(
                409,
                "ExternalIpAddressExhausted",
                format!("Unable to find any IP address on external network {network_id}."),
            ),
        }
    })
}

pub async fn show_floating_ip(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    neutron(&ctx, &headers, |state, token| match state.net.floating_ips.get(&id) {
        Some(f) if f.project_id == token.project_id => Json(json!({"floatingip": json_of(state, f)})).into_response(),
        _ => fip_not_found(&id),
    })
}

pub async fn list_floating_ips(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    AxumQuery(query): AxumQuery<Vec<(String, String)>>,
) -> Response {
    neutron(&ctx.clone(), &headers, |state, token| {
        let admin = state.is_admin(token);
        let mine = state
            .net
            .floating_ips
            .values()
            .filter(|f| admin || f.project_id == token.project_id)
            .map(|f| json_of(state, f))
            .collect();
        listing(&ctx, "floatingips", "floatingips", mine, &Query::new(&query))
    })
}

/// Binds the floating IP to `port_id`, or unbinds it (`null`).
pub async fn update_floating_ip(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    neutron(&ctx, &headers, |state, token| {
        let changes = match resource(&body, "floatingip") {
            Ok(f) => f,
            Err(r) => return r,
        };
        if state.net.floating_ips.get(&id).is_none_or(|f| f.project_id != token.project_id) {
            return fip_not_found(&id);
        }
        let port = match changes.get("port_id") {
            Some(Value::String(port_id)) => match bindable(state, token, port_id, Some(&id)) {
                Ok(port) => Some(Some(port)),
                Err(r) => return r,
            },
            Some(Value::Null) => Some(None),
            _ => None,
        };
        let Some(fip) = state.net.floating_ips.get_mut(&id) else { return fip_not_found(&id) };
        if let Some(port) = port {
            fip.port_id = port.as_ref().map(|p| p.id.clone());
            fip.fixed_ip_address = port.map(|p| p.ip_address);
        }
        if let Some(description) = changes.get("description").and_then(Value::as_str) {
            fip.description = description.to_owned();
        }
        fip.revision_number += 1;
        fip.updated_at = now();
        let fip = fip.clone();
        Json(json!({"floatingip": json_of(state, &fip)})).into_response()
    })
}

pub async fn delete_floating_ip(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    neutron(&ctx, &headers, |state, token| {
        if state.net.floating_ips.get(&id).is_none_or(|f| f.project_id != token.project_id) {
            return fip_not_found(&id);
        }
        state.net.floating_ips.remove(&id);
        StatusCode::NO_CONTENT.into_response()
    })
}
