//! Neutron v2.0: ports, floating IPs, networks and security groups, with Neutron's `NeutronError`
//! bodies, its query filters and its `limit`/`marker` paging.

mod fabric;
mod floating_ips;
pub mod model;
mod networks;
mod ports;
mod security_groups;

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub use fabric::{
    create_network, create_router, create_subnet, delete_network, delete_router, delete_subnet, list_routers,
    list_subnets, router_interface, show_subnet, update_quota, update_subnet,
};
pub use floating_ips::{
    create_floating_ip, delete_floating_ip, list_floating_ips, show_floating_ip, update_floating_ip,
};
pub use networks::{list_networks, show_network, version, versions};
pub use ports::{create_port, delete_port, list_ports, show_port, update_port};
pub use security_groups::{
    create_security_group, create_security_group_rule, delete_security_group, delete_security_group_rule,
    list_security_group_rules, list_security_groups, show_security_group,
};

use crate::common::{authenticate, Ctx};
use crate::model::TokenInfo;
use crate::state::Inner;

/// Neutron's error body (`neutron/api/v2/resource.py`): `type` names the exception.
pub fn neutron_error(status: u16, kind: &str, message: impl Into<String>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, Json(json!({"NeutronError": {"type": kind, "message": message.into(), "detail": ""}}))).into_response()
}

pub fn bad_request(message: impl Into<String>) -> Response {
    neutron_error(400, "HTTPBadRequest", message)
}

/// Checks the token, settles due tasks, then runs `f` on the locked state.
fn neutron<F>(ctx: &Ctx, headers: &HeaderMap, f: F) -> Response
where
    F: FnOnce(&mut Inner, &TokenInfo) -> Response,
{
    let token = match authenticate(ctx, headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut state = ctx.shared.lock();
    state.settle();
    f(&mut state, &token)
}

/// The query's filters, each possibly repeated (Neutron ORs repeated values of one filter).
pub(crate) struct Query(BTreeMap<String, Vec<String>>);

impl Query {
    pub fn new(pairs: &[(String, String)]) -> Query {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            map.entry(k.clone()).or_default().push(v.clone());
        }
        Query(map)
    }

    /// Whether a resource's JSON passes every filter (`limit`, `marker`, `fields`, `sort_*` and
    /// `page_reverse` are paging, not filters).
    pub fn admits(&self, resource: &Value) -> bool {
        self.0
            .iter()
            .filter(|(k, _)| {
                !matches!(k.as_str(), "limit" | "marker" | "fields" | "sort_key" | "sort_dir" | "page_reverse")
            })
            .all(|(key, wanted)| {
                if let Some(admitted) = tag_filter(key, wanted, resource) {
                    return admitted;
                }
                let value = &resource[key.as_str()];
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                wanted.iter().any(|w| w.eq_ignore_ascii_case(&text))
            })
    }

    fn one(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.first()).map(String::as_str)
    }
}

/// A listing in id order, filtered, one page of `limit` after `marker`, with Neutron's `<name>_links`
/// `next` link when the page is full.
/// Neutron's tag filters (`tags`: all of them, `tags-any`: one of them, `not-` the negations),
/// each a comma-separated list; `None` for any other key.
fn tag_filter(key: &str, wanted: &[String], resource: &Value) -> Option<bool> {
    let tags: Vec<&str> = resource["tags"].as_array()?.iter().filter_map(Value::as_str).collect();
    let asked: Vec<&str> = wanted.iter().flat_map(|w| w.split(',')).collect();
    let all = || asked.iter().all(|t| tags.contains(t));
    let any = || asked.iter().any(|t| tags.contains(t));
    match key {
        "tags" => Some(all()),
        "tags-any" => Some(any()),
        "not-tags" => Some(!all()),
        "not-tags-any" => Some(!any()),
        _ => None,
    }
}

pub(crate) fn listing(ctx: &Ctx, collection: &str, path: &str, items: Vec<Value>, query: &Query) -> Response {
    let mut items: Vec<Value> = items.into_iter().filter(|i| query.admits(i)).collect();
    items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    if let Some(marker) = query.one("marker") {
        items.retain(|i| i["id"].as_str().is_some_and(|id| id > marker));
    }
    let limit = match query.one("limit").map(str::parse::<usize>) {
        None => None,
        Some(Ok(n)) if n > 0 => Some(n),
        Some(_) => return bad_request("Bad limit request: Limit must be an integer 0 or greater and not '0'."),
    };
    let mut body = json!({});
    if let Some(limit) = limit {
        if items.len() > limit {
            items.truncate(limit);
            let last = items.last().and_then(|i| i["id"].as_str()).unwrap_or_default().to_owned();
            let next = format!("{}/network/v2.0/{path}?limit={limit}&marker={last}", ctx.base_url);
            body[format!("{collection}_links")] = json!([{"rel": "next", "href": next}]);
        }
    }
    body[collection] = Value::Array(items);
    Json(body).into_response()
}

/// A string field of a request's resource object (empty when absent).
pub(crate) fn text(resource: &serde_json::Map<String, Value>, key: &str) -> String {
    resource.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// The request's resource object (`{"port": {...}}`), or Neutron's 400.
pub(crate) fn resource<'a>(body: &'a Value, name: &str) -> Result<&'a serde_json::Map<String, Value>, Response> {
    body[name]
        .as_object()
        .ok_or_else(|| bad_request(format!("Resource body required: the body must be an object named '{name}'.")))
}
