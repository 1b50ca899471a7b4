//! What a project's own network is made of, as a region's user makes it: networks (with a VLAN
//! segment when asked), subnets, routers with an external gateway and interfaces, and quotas; with
//! Neutron's refusals (`VlanIdInUse`, `NetworkInUse`, `SubnetInUse`, `RouterInUse`).

use std::net::Ipv4Addr;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::model::{network_json, Network, Port, Router, Subnet};
use super::{bad_request, neutron, neutron_error, resource, text};
use crate::common::Ctx;
use crate::model::now;

pub async fn create_network(State(ctx): State<Ctx>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    neutron(&ctx, &headers, |state, token| {
        let n = match resource(&body, "network") {
            Ok(n) => n,
            Err(r) => return r,
        };
        let segment = match n.get("segments").and_then(Value::as_array).and_then(|s| s.first()) {
            None => None,
            Some(s) => {
                let physnet = s["provider:physical_network"].as_str().unwrap_or_default().to_owned();
                let Some(vlan) = s["provider:segmentation_id"].as_u64().and_then(|v| u16::try_from(v).ok()) else {
                    return bad_request("Invalid input for operation: segmentation_id requires a VLAN id.");
                };
                let taken = state.net.networks.values().any(|x| x.segment.as_ref() == Some(&(physnet.clone(), vlan)));
                if taken {
                    return neutron_error(
                        409,
                        "VlanIdInUse",
                        format!(
                            "Unable to create the network. The VLAN {vlan} on physical network {physnet} is in use."
                        ),
                    );
                }
                Some((physnet, vlan))
            }
        };
        let network = Network {
            id: uuid::Uuid::new_v4().to_string(),
            name: text(n, "name"),
            project_id: token.project_id.clone(),
            shared: false,
            external: false,
            subnet_id: String::new(),
            tags: Vec::new(),
            prefix: String::new(),
            next_host: 0,
            pool: None,
            segment,
        };
        let body = json!({"network": network_json(&network)});
        state.net.networks.insert(network.id.clone(), network);
        (StatusCode::CREATED, Json(body)).into_response()
    })
}

pub async fn delete_network(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    neutron(&ctx, &headers, |state, token| {
        if state.net.networks.get(&id).is_none_or(|n| n.project_id != token.project_id) {
            return neutron_error(404, "NetworkNotFound", format!("Network {id} could not be found."));
        }
        if state.net.ports.values().any(|p| p.network_id == id) {
            return neutron_error(
                409,
                "NetworkInUse",
                format!(
                "Unable to complete operation on network {id}. There are one or more ports still in use on the network."
            ),
            );
        }
        state.net.networks.remove(&id);
        state.net.subnets.retain(|_, s| s.network_id != id);
        StatusCode::NO_CONTENT.into_response()
    })
}

fn subnet_json(s: &Subnet) -> Value {
    json!({"id": s.id, "name": s.name, "network_id": s.network_id, "project_id": s.project_id,
        "tenant_id": s.project_id, "ip_version": 4, "cidr": s.cidr, "gateway_ip": s.gateway_ip, "enable_dhcp": true,
        "allocation_pools": s.allocation_pools.iter().map(|(a, b)| json!({"start": a, "end": b})).collect::<Vec<_>>(),
        "dns_nameservers": s.dns_nameservers,
        "host_routes": s.host_routes.iter().map(|(d, n)| json!({"destination": d, "nexthop": n})).collect::<Vec<_>>(),
        "description": "", "tags": [], "revision_number": 1})
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn routes(value: Option<&Value>) -> Vec<(String, String)> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r["destination"].as_str().unwrap_or_default().to_owned(),
                        r["nexthop"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn address(text: &str) -> Option<u32> {
    text.parse::<Ipv4Addr>().ok().map(u32::from)
}

pub async fn create_subnet(State(ctx): State<Ctx>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    neutron(&ctx, &headers, |state, token| {
        let s = match resource(&body, "subnet") {
            Ok(s) => s,
            Err(r) => return r,
        };
        let network_id = text(s, "network_id");
        if state.net.networks.get(&network_id).is_none_or(|n| n.project_id != token.project_id) {
            return neutron_error(404, "NetworkNotFound", format!("Network {network_id} could not be found."));
        }
        let cidr = text(s, "cidr");
        let Some((base, bits)) = cidr.split_once('/').and_then(|(a, b)| Some((address(a)?, b.parse::<u32>().ok()?)))
        else {
            return bad_request(format!("Invalid input for cidr. Reason: '{cidr}' is not a valid IP subnet."));
        };
        let broadcast = base | (u32::MAX >> bits.min(32));
        let pools: Vec<(String, String)> = match s.get("allocation_pools").and_then(Value::as_array) {
            Some(p) => p
                .iter()
                .map(|x| {
                    (
                        x["start"].as_str().unwrap_or_default().to_owned(),
                        x["end"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            None => vec![(Ipv4Addr::from(base + 2).to_string(), Ipv4Addr::from(broadcast - 1).to_string())],
        };
        let Some(pool) = pools.first().and_then(|(a, b)| Some((address(a)?, address(b)?))) else {
            return bad_request("Invalid input for allocation_pools.");
        };
        let subnet = Subnet {
            id: uuid::Uuid::new_v4().to_string(),
            name: text(s, "name"),
            network_id: network_id.clone(),
            project_id: token.project_id.clone(),
            cidr,
            gateway_ip: s
                .get("gateway_ip")
                .and_then(Value::as_str)
                .map_or_else(|| Ipv4Addr::from(base + 1).to_string(), str::to_owned),
            allocation_pools: pools,
            dns_nameservers: strings(s.get("dns_nameservers")),
            host_routes: routes(s.get("host_routes")),
        };
        if let Some(network) = state.net.networks.get_mut(&network_id) {
            network.subnet_id = subnet.id.clone();
            network.pool = Some(pool);
        }
        let body = json!({"subnet": subnet_json(&subnet)});
        state.net.subnets.insert(subnet.id.clone(), subnet);
        (StatusCode::CREATED, Json(body)).into_response()
    })
}

pub async fn list_subnets(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    neutron(&ctx.clone(), &headers, |state, token| {
        let mine = state.net.subnets.values().filter(|s| s.project_id == token.project_id).map(subnet_json).collect();
        super::listing(&ctx, "subnets", "subnets", mine, &super::Query::new(&query))
    })
}

pub async fn show_subnet(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    neutron(&ctx, &headers, |state, token| {
        match state.net.subnets.get(&id).filter(|s| s.project_id == token.project_id) {
            Some(s) => Json(json!({"subnet": subnet_json(s)})).into_response(),
            None => neutron_error(404, "SubnetNotFound", format!("Subnet {id} could not be found.")),
        }
    })
}

/// `PUT /v2.0/subnets/{id}`: nameservers and host routes (what a network update changes).
pub async fn update_subnet(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    neutron(&ctx, &headers, |state, token| {
        let s = match resource(&body, "subnet") {
            Ok(s) => s.clone(),
            Err(r) => return r,
        };
        let Some(subnet) = state.net.subnets.get_mut(&id).filter(|s| s.project_id == token.project_id) else {
            return neutron_error(404, "SubnetNotFound", format!("Subnet {id} could not be found."));
        };
        if s.contains_key("dns_nameservers") {
            subnet.dns_nameservers = strings(s.get("dns_nameservers"));
        }
        if s.contains_key("host_routes") {
            subnet.host_routes = routes(s.get("host_routes"));
        }
        Json(json!({"subnet": subnet_json(subnet)})).into_response()
    })
}

pub async fn delete_subnet(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    neutron(&ctx, &headers, |state, token| {
        let Some(subnet) = state.net.subnets.get(&id).filter(|s| s.project_id == token.project_id).cloned() else {
            return neutron_error(404, "SubnetNotFound", format!("Subnet {id} could not be found."));
        };
        if state.net.ports.values().any(|p| p.subnet_id == id) {
            return neutron_error(
                409,
                "SubnetInUse",
                format!(
                "Unable to complete operation on subnet {id}: One or more ports have an IP allocation from this subnet."
            ),
            );
        }
        state.net.subnets.remove(&id);
        if let Some(network) = state.net.networks.get_mut(&subnet.network_id) {
            network.subnet_id.clear();
            network.pool = None;
        }
        StatusCode::NO_CONTENT.into_response()
    })
}

fn router_json(r: &Router) -> Value {
    let gateway = r.external_network_id.as_ref().map(|n| json!({"network_id": n, "enable_snat": true}));
    json!({"id": r.id, "name": r.name, "project_id": r.project_id, "tenant_id": r.project_id,
        "external_gateway_info": gateway, "admin_state_up": true, "status": "ACTIVE", "routes": [],
        "description": "", "tags": [], "revision_number": 1})
}

pub async fn create_router(State(ctx): State<Ctx>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    neutron(&ctx, &headers, |state, token| {
        let r = match resource(&body, "router") {
            Ok(r) => r,
            Err(r) => return r,
        };
        let external = r.get("external_gateway_info").and_then(|g| g["network_id"].as_str()).map(str::to_owned);
        if let Some(network) = &external {
            if !state.net.networks.get(network).is_some_and(|n| n.external) {
                return bad_request(format!("Bad router request: Network {network} is not a valid external network."));
            }
        }
        let router = Router {
            id: uuid::Uuid::new_v4().to_string(),
            name: text(r, "name"),
            project_id: token.project_id.clone(),
            external_network_id: external,
        };
        let body = json!({"router": router_json(&router)});
        state.net.routers.insert(router.id.clone(), router);
        (StatusCode::CREATED, Json(body)).into_response()
    })
}

pub async fn list_routers(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    neutron(&ctx.clone(), &headers, |state, token| {
        let mine = state.net.routers.values().filter(|r| r.project_id == token.project_id).map(router_json).collect();
        super::listing(&ctx, "routers", "routers", mine, &super::Query::new(&query))
    })
}

pub async fn delete_router(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    neutron(&ctx, &headers, |state, token| {
        if state.net.routers.get(&id).is_none_or(|r| r.project_id != token.project_id) {
            return neutron_error(404, "RouterNotFound", format!("Router {id} could not be found"));
        }
        if state.net.ports.values().any(|p| p.device_id == id) {
            return neutron_error(409, "RouterInUse", format!("Router {id} still has ports"));
        }
        state.net.routers.remove(&id);
        StatusCode::NO_CONTENT.into_response()
    })
}

/// `PUT /v2.0/routers/{id}/add_router_interface` and `.../remove_router_interface` `{subnet_id}`.
pub async fn router_interface(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path((id, verb)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    neutron(&ctx, &headers, |state, token| {
        if state.net.routers.get(&id).is_none_or(|r| r.project_id != token.project_id) {
            return neutron_error(404, "RouterNotFound", format!("Router {id} could not be found"));
        }
        let subnet_id = body["subnet_id"].as_str().unwrap_or_default().to_owned();
        let Some(subnet) = state.net.subnets.get(&subnet_id).filter(|s| s.project_id == token.project_id).cloned()
        else {
            return neutron_error(404, "SubnetNotFound", format!("Subnet {subnet_id} could not be found."));
        };
        let existing =
            state.net.ports.values().find(|p| p.device_id == id && p.subnet_id == subnet_id).map(|p| p.id.clone());
        let answer = |port: &str| {
            Json(json!({"id": id, "subnet_id": subnet_id, "subnet_ids": [subnet_id], "port_id": port, "network_id": subnet.network_id, "project_id": token.project_id, "tenant_id": token.project_id})).into_response()
        };
        match (verb.as_str(), existing) {
            ("add_router_interface", Some(_)) => {
                bad_request(format!("Bad router request: Router already has a port on subnet {subnet_id}."))
            }
            ("add_router_interface", None) => {
                let port = Port {
                    id: uuid::Uuid::new_v4().to_string(),
                    name: String::new(),
                    network_id: subnet.network_id.clone(),
                    project_id: token.project_id.clone(),
                    device_id: id.clone(),
                    device_owner: "network:router_interface".into(),
                    mac_address: "fa:16:3e:ff:ff:01".into(),
                    subnet_id: subnet_id.clone(),
                    ip_address: subnet.gateway_ip.clone(),
                    security_groups: Vec::new(),
                    allowed_address_pairs: Vec::new(),
                    description: String::new(),
                    created_at: now(),
                    updated_at: now(),
                    revision_number: 1,
                };
                let port_id = port.id.clone();
                state.net.ports.insert(port_id.clone(), port);
                answer(&port_id)
            }
            ("remove_router_interface", Some(port)) => {
                state.net.ports.remove(&port);
                answer(&port)
            }
            ("remove_router_interface", None) => neutron_error(
                404,
                "RouterInterfaceNotFoundForSubnet",
                format!("Router {id} has no interface on subnet {subnet_id}"),
            ),
            _ => neutron_error(404, "HTTPNotFound", "The resource could not be found."),
        }
    })
}

/// `PUT /v2.0/quotas/{project}`: recorded (the emulator enforces no Neutron quota).
pub async fn update_quota(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(project): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    neutron(&ctx, &headers, |state, _| {
        let Some(quota) = body["quota"].as_object() else { return bad_request("Resource body required: quota") };
        state.net.quotas_raised.insert(project);
        Json(json!({"quota": quota})).into_response()
    })
}
