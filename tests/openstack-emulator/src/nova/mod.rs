//! Nova v2.1: servers, server actions, remote consoles, flavors, keypairs, server groups, version
//! discovery.

mod boot;
mod capacity;
mod flavors;
mod keypairs;
mod server_groups;

use boot::{attach, check_boot, Boot};
pub use capacity::{update_quota_set, ComputeQuota, DEFAULT_QUOTA, NO_VALID_HOST};
pub use flavors::{list_flavors, list_flavors_detail, show_flavor};
pub use keypairs::{create_keypair, delete_keypair, list_keypairs, show_keypair};
pub use server_groups::{create_server_group, delete_server_group, list_server_groups};

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::common::{authenticate, microversion, nova_fault, with_version, Ctx, MAX_MINOR, MIN_MINOR};
use crate::model::{now, Image, Server, Transition};
use crate::neutron::model::{Net, Port};
use crate::state::Inner;

/// Checks the token and microversion, settles due tasks, then runs `f` on the locked state.
fn nova<F>(ctx: &Ctx, headers: &HeaderMap, f: F) -> Response
where
    F: FnOnce(&mut Inner, &crate::model::TokenInfo, u32) -> Response,
{
    let minor = match microversion(headers) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let token = match authenticate(ctx, headers) {
        Ok(t) => t,
        Err(r) => return with_version(r, minor),
    };
    let mut state = ctx.shared.lock();
    state.settle();
    with_version(f(&mut state, &token, minor), minor)
}

pub(crate) fn not_found(id: &str) -> Response {
    nova_fault(404, format!("Instance {id} could not be found."))
}

pub(crate) fn invalid_state(action: &str, server: &Server) -> Response {
    let message = match server.task_state {
        Some(task) => format!("Cannot '{action}' instance {} while it is in task_state {task}", server.id),
        None => format!("Cannot '{action}' instance {} while it is in vm_state {}", server.id, server.vm_state),
    };
    nova_fault(409, message)
}

pub fn server_json(s: &Server, net: &Net, base: &str, minor: u32) -> Value {
    let self_link = format!("{base}/compute/v2.1/servers/{}", s.id);
    let flavor = if minor >= 47 {
        json!({"vcpus": s.flavor.vcpus, "ram": s.flavor.ram, "disk": s.flavor.disk, "ephemeral": 0, "swap": 0,
               "original_name": s.flavor.name, "extra_specs": s.flavor.extra_specs})
    } else {
        json!({"id": s.flavor.id, "links": [{"rel": "bookmark", "href": format!("{base}/compute/flavors/{}", s.flavor.id)}]})
    };
    // Nova reports what Neutron holds: each port's fixed IP under its network's name, and the
    // floating IP bound to it (type `floating`); its security groups are the ports' groups.
    let ports: Vec<&Port> = net.ports.values().filter(|p| p.device_id == s.id).collect();
    let mut addresses: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for port in &ports {
        let name = net.networks.get(&port.network_id).map_or(port.network_id.clone(), |n| n.name.clone());
        let entry = addresses.entry(name).or_default();
        let address = |addr: &str, kind: &str| json!({"addr": addr, "version": 4, "OS-EXT-IPS:type": kind, "OS-EXT-IPS-MAC:mac_addr": port.mac_address});
        entry.push(address(&port.ip_address, "fixed"));
        if let Some(fip) = net.floating_ip_of(&port.id) {
            entry.push(address(&fip.floating_ip_address, "floating"));
        }
    }
    let mut groups: Vec<&str> = ports
        .iter()
        .flat_map(|p| p.security_groups.iter())
        .map(|id| net.security_groups.get(id).map_or(id.as_str(), |g| g.name.as_str()))
        .collect();
    groups.sort_unstable();
    groups.dedup();
    let mut body = json!({
        "id": s.id,
        "name": s.name,
        "status": s.status(),
        "tenant_id": s.project_id,
        "user_id": s.user_id,
        "metadata": s.metadata,
        "hostId": if s.vm_state == "building" { "" } else { "92154fab69d5883ba2c8622b7e65f745dd33257221c07af363c51b29" },
        "image": {"id": s.image_id, "links": [{"rel": "bookmark", "href": format!("{base}/compute/images/{}", s.image_id)}]},
        "flavor": flavor,
        "created": s.created,
        "updated": s.updated,
        "addresses": addresses,
        "accessIPv4": "",
        "accessIPv6": "",
        "links": [{"rel": "self", "href": self_link}, {"rel": "bookmark", "href": self_link}],
        "key_name": s.key_name,
        "config_drive": "",
        "progress": if s.vm_state == "building" { 0 } else { 100 },
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": "nova",
        "OS-EXT-STS:power_state": s.power_state,
        "OS-EXT-STS:task_state": s.task_state,
        "OS-EXT-STS:vm_state": s.vm_state,
        "OS-SRV-USG:launched_at": if s.vm_state == "building" { Value::Null } else { json!(s.created) },
        "OS-SRV-USG:terminated_at": null,
        "os-extended-volumes:volumes_attached": [],
        "security_groups": groups.iter().map(|n| json!({"name": n})).collect::<Vec<_>>(),
    });
    let extra = [
        (9, "locked", json!(false)),
        (19, "description", Value::Null),
        (26, "tags", json!([])),
        (63, "trusted_image_certificates", Value::Null),
        (71, "server_groups", json!([])),
        (73, "locked_reason", Value::Null),
        (90, "OS-EXT-SRV-ATTR:hostname", json!(s.name)),
        (96, "pinned_availability_zone", Value::Null),
        (100, "scheduler_hints", json!({})),
    ];
    for (since, key, value) in extra {
        if minor >= since {
            body[key] = value;
        }
    }
    if let Some(message) = &s.fault {
        body["fault"] = json!({"code": 500, "created": s.updated, "message": message});
    }
    body
}

pub(crate) fn visible_image<'a>(state: &'a Inner, project: &str, id: &str) -> Option<&'a Image> {
    state.images.get(id).filter(|i| i.visibility == "public" || i.owner.as_deref() == Some(project))
}

pub async fn create_server(State(ctx): State<Ctx>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    nova(&ctx.clone(), &headers, |state, token, minor| {
        let s = &body["server"];
        let Boot { name, image_id, flavor, key_name, networks, security_groups } =
            match check_boot(state, token, s, minor) {
                Ok(boot) => boot,
                Err(refusal) => return refusal,
            };
        if let Err(refusal) = capacity::check_quota(state, &token.project_id, &flavor) {
            return refusal;
        }
        let scheduled = capacity::host_found(state);
        let metadata: BTreeMap<String, String> = match s["metadata"].as_object() {
            Some(m) => m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect(),
            None => BTreeMap::new(),
        };
        let id = uuid::Uuid::new_v4().to_string();
        let due = state.due(state.delays.build_ms);
        let server = Server {
            id: id.clone(),
            project_id: token.project_id.clone(),
            user_id: token.user_id.clone(),
            name: name.clone(),
            image_id,
            flavor,
            old_flavor: None,
            metadata,
            vm_state: "building",
            task_state: Some("spawning"),
            power_state: 0,
            key_name,
            user_data: s["user_data"].as_str().map(str::to_owned),
            created: now(),
            updated: now(),
            pending: Some((due, if scheduled { Transition::Built } else { Transition::NoValidHost })),
            pending_image: None,
            console: vec![format!("[{}] Booting {name}", now())],
            seq: state.next_seq(),
            fault: None,
        };
        // A server the scheduler found no host for never reaches a compute node, which is what
        // binds its ports: real Nova leaves them as they were (and makes none).
        if scheduled {
            attach(state, &server, networks, &security_groups);
        }
        state.servers.insert(id.clone(), server);
        state.settle();
        let link = format!("{}/compute/v2.1/servers/{id}", ctx.base_url);
        let mut response = (
            StatusCode::ACCEPTED,
            Json(json!({"server": {"id": id, "adminPass": "emulatorPass1", "OS-DCF:diskConfig": "MANUAL",
                "links": [{"rel": "self", "href": link}, {"rel": "bookmark", "href": link}],
                "security_groups": [{"name": "default"}]}})),
        )
            .into_response();
        if let Ok(v) = link.parse() {
            response.headers_mut().insert("location", v);
        }
        response
    })
}

pub async fn list_servers(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    list(&ctx, &headers, &query, false)
}

pub async fn list_servers_detail(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    list(&ctx, &headers, &query, true)
}

/// Nova's default `max_limit`.
const MAX_LIMIT: usize = 1000;

fn list(ctx: &Ctx, headers: &HeaderMap, query: &[(String, String)], detail: bool) -> Response {
    nova(ctx, headers, |state, token, minor| {
        let get = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let name = get("name");
        let status = get("status");
        // Emulator extension: `metadata={"key": "value"}` (real Nova only filters by name for users).
        let metadata: Option<BTreeMap<String, String>> = get("metadata").and_then(|v| serde_json::from_str(v).ok());
        let limit = match get("limit").map(str::parse::<usize>) {
            None => MAX_LIMIT,
            Some(Ok(l)) => l.min(MAX_LIMIT),
            Some(Err(_)) => return nova_fault(400, "limit param must be an integer"),
        };
        // Nova's policy: only an admin lists every project's servers.
        let every_project = get("all_tenants").is_some_and(|v| !matches!(v, "0" | "false" | "False"));
        if every_project && !state.is_admin(token) {
            return nova_fault(
                403,
                "Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.",
            );
        }
        let mut matching: Vec<&Server> = state
            .servers
            .values()
            .filter(|s| every_project || s.project_id == token.project_id)
            .filter(|s| name.is_none_or(|n| s.name.contains(n)))
            .filter(|s| status.is_none_or(|st| s.status().eq_ignore_ascii_case(st)))
            .filter(|s| metadata.as_ref().is_none_or(|m| m.iter().all(|(k, v)| s.metadata.get(k) == Some(v))))
            .collect();
        // Newest first, as Nova sorts by default (created_at desc, id desc), or by `sort_key=uuid`
        // (what a region-wide listing split into ranges pages by); the marker is the previous
        // page's last.
        let descending = match get("sort_dir") {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(other) => {
                return nova_fault(400, format!("Invalid input for query parameters sort_dir. Value: {other}."))
            }
        };
        match get("sort_key") {
            None | Some("created_at") => matching.sort_by_key(|s| s.seq),
            Some("uuid") => matching.sort_by(|a, b| a.id.cmp(&b.id)),
            Some(other) => {
                return nova_fault(400, format!("Invalid input for query parameters sort_key. Value: {other}."))
            }
        }
        if descending {
            matching.reverse();
        }
        let start = match get("marker") {
            None => 0,
            Some(marker) => match matching.iter().position(|s| s.id == marker) {
                Some(i) => i + 1,
                None => return nova_fault(400, format!("marker [{marker}] not found")),
            },
        };
        let page: Vec<&Server> = matching.into_iter().skip(start).take(limit).collect();
        let servers: Vec<Value> = page
            .iter()
            .map(|s| {
                if detail {
                    server_json(s, &state.net, &ctx.base_url, minor)
                } else {
                    let link = format!("{}/compute/v2.1/servers/{}", ctx.base_url, s.id);
                    json!({"id": s.id, "name": s.name, "links": [{"rel": "self", "href": link}]})
                }
            })
            .collect();
        let mut body = json!({"servers": servers});
        if limit > 0 && page.len() == limit {
            if let Some(last) = page.last() {
                let path = if detail { "servers/detail" } else { "servers" };
                body["servers_links"] = json!([{"rel": "next",
                    "href": format!("{}/compute/v2.1/{path}?limit={limit}&marker={}", ctx.base_url, last.id)}]);
            }
        }
        Json(body).into_response()
    })
}

pub async fn show_server(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    nova(&ctx, &headers, |state, token, minor| match state.servers.get(&id) {
        Some(s) if s.project_id == token.project_id => {
            Json(json!({"server": server_json(s, &state.net, &ctx.base_url, minor)})).into_response()
        }
        _ => not_found(&id),
    })
}

pub async fn update_server(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    nova(&ctx, &headers, |state, token, minor| match state.servers.get_mut(&id) {
        Some(s) if s.project_id == token.project_id => {
            if let Some(name) = body["server"]["name"].as_str() {
                s.name = name.to_owned();
            }
            s.updated = now();
            Json(json!({"server": server_json(s, &state.net, &ctx.base_url, minor)})).into_response()
        }
        _ => not_found(&id),
    })
}

pub async fn delete_server(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    nova(&ctx, &headers, |state, token, _| {
        let due = state.due(state.delays.delete_ms);
        match state.servers.get_mut(&id) {
            Some(s) if s.project_id == token.project_id => {
                s.task_state = Some("deleting");
                s.pending = Some((due, Transition::Deleted));
            }
            _ => return not_found(&id),
        }
        state.settle();
        StatusCode::NO_CONTENT.into_response()
    })
}

pub async fn server_action(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let Some((action, args)) = body.as_object().and_then(|o| o.iter().next()).map(|(k, v)| (k.clone(), v.clone()))
    else {
        return nova_fault(400, "Malformed request body");
    };
    let base_url = ctx.base_url.clone();
    nova(&ctx.clone(), &headers, move |state, token, minor| {
        state.log.count(format!("action {action}"));
        let visible = state.servers.get(&id).is_some_and(|s| s.project_id == token.project_id);
        if !visible {
            return not_found(&id);
        }
        let call = crate::actions::Call { id: &id, args: &args, minor, base_url: &base_url };
        let response = crate::actions::dispatch(state, &action, &call);
        state.settle();
        response
    })
}

pub async fn remote_console(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    nova(&ctx, &headers, |state, token, minor| {
        if minor < 6 {
            return nova_fault(404, "The resource could not be found.");
        }
        let protocol = body["remote_console"]["protocol"].as_str().unwrap_or_default().to_owned();
        let console_type = body["remote_console"]["type"].as_str().unwrap_or_default().to_owned();
        if protocol != "vnc" || console_type != "novnc" {
            return nova_fault(400, format!("Unsupported console type {console_type} for protocol {protocol}"));
        }
        let Some(server) = state.servers.get(&id).filter(|s| s.project_id == token.project_id) else {
            return not_found(&id);
        };
        if server.vm_state != "active" {
            return nova_fault(409, format!("Instance {id} is not ready."));
        }
        let url = format!("{}/vnc_auto.html?path=%3Ftoken%3D{}", ctx.base_url, uuid::Uuid::new_v4());
        Json(json!({"remote_console": {"protocol": protocol, "type": console_type, "url": url}})).into_response()
    })
}

fn version_doc(base: &str) -> Value {
    json!({
        "id": "v2.1",
        "links": [{"href": format!("{base}/compute/v2.1/"), "rel": "self"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}],
        "status": "CURRENT",
        "version": format!("2.{MAX_MINOR}"),
        "min_version": format!("2.{MIN_MINOR}"),
        "updated": "2013-07-23T11:33:21Z"
    })
}

pub async fn versions(State(ctx): State<Ctx>) -> Json<Value> {
    Json(json!({"versions": [version_doc(&ctx.base_url)]}))
}

pub async fn version(State(ctx): State<Ctx>) -> Json<Value> {
    Json(json!({"version": version_doc(&ctx.base_url)}))
}
