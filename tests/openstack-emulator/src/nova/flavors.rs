//! Nova's flavors.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::common::{nova_fault, Ctx};
use crate::model::Flavor;
use crate::state::Inner;

use super::nova;

fn flavor_json(f: &Flavor, base: &str, minor: u32) -> Value {
    let link = format!("{base}/compute/v2.1/flavors/{}", f.id);
    let mut body = json!({
        "id": f.id, "name": f.name, "vcpus": f.vcpus, "ram": f.ram, "disk": f.disk, "swap": 0,
        "OS-FLV-EXT-DATA:ephemeral": 0, "OS-FLV-DISABLED:disabled": false, "os-flavor-access:is_public": f.is_public,
        "links": [{"rel": "self", "href": link}, {"rel": "bookmark", "href": link}],
    });
    if minor < 75 {
        body["rxtx_factor"] = json!(1.0);
    }
    if minor >= 55 {
        body["description"] = Value::Null;
    }
    if minor >= 61 {
        body["extra_specs"] = json!(f.extra_specs);
    }
    body
}

/// The flavors the project sees, in the listing's order (`sort_key` `name` or Nova's default
/// `flavorid`), one page from `marker` (a flavor id) of at most `limit` (Nova's max 1000), and the
/// `next` link when more remain.
fn page<'a>(state: &'a Inner, project: &str, query: &[(String, String)]) -> Result<(Vec<&'a Flavor>, bool), Response> {
    let get = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let mut flavors: Vec<&Flavor> = state.flavors.values().filter(|f| f.visible_to(project)).collect();
    match get("sort_key") {
        None | Some("flavorid") => flavors.sort_by(|a, b| a.id.cmp(&b.id)),
        Some("name") => flavors.sort_by(|a, b| a.name.cmp(&b.name)),
        Some(other) => {
            return Err(nova_fault(400, format!("Invalid input for query parameters sort_key. Value: {other}.")))
        }
    }
    let start = match get("marker") {
        None => 0,
        Some(m) => match flavors.iter().position(|f| f.id == m) {
            Some(p) => p + 1,
            None => return Err(nova_fault(400, format!("marker [{m}] not found"))),
        },
    };
    let limit = match get("limit").map(str::parse::<usize>) {
        None => 1000,
        Some(Ok(n)) => n.min(1000),
        Some(Err(_)) => return Err(nova_fault(400, "Invalid input for query parameters limit.")),
    };
    let page: Vec<&Flavor> = flavors.iter().skip(start).take(limit).copied().collect();
    let more = start + page.len() < flavors.len();
    Ok((page, more))
}

fn listed(ctx: &Ctx, page: Vec<Value>, last: Option<&str>, more: bool) -> Response {
    let mut body = json!({"flavors": page});
    if let (true, Some(last)) = (more, last) {
        let next = format!("{}/compute/v2.1/flavors/detail?marker={last}", ctx.base_url);
        body["flavors_links"] = json!([{"rel": "next", "href": next}]);
    }
    Json(body).into_response()
}

pub async fn list_flavors(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    nova(&ctx, &headers, |state, token, _| {
        let (flavors, more) = match page(state, &token.project_id, &query) {
            Ok(found) => found,
            Err(r) => return r,
        };
        let last = flavors.last().map(|f| f.id.clone());
        let flavors: Vec<Value> = flavors
            .iter()
            .map(|f| {
                let link = format!("{}/compute/v2.1/flavors/{}", ctx.base_url, f.id);
                json!({"id": f.id, "name": f.name, "description": null, "links": [{"rel": "self", "href": link}]})
            })
            .collect();
        listed(&ctx, flavors, last.as_deref(), more)
    })
}

pub async fn list_flavors_detail(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    nova(&ctx, &headers, |state, token, minor| {
        let (flavors, more) = match page(state, &token.project_id, &query) {
            Ok(found) => found,
            Err(r) => return r,
        };
        let last = flavors.last().map(|f| f.id.clone());
        let flavors: Vec<Value> = flavors.iter().map(|f| flavor_json(f, &ctx.base_url, minor)).collect();
        listed(&ctx, flavors, last.as_deref(), more)
    })
}

pub async fn show_flavor(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    nova(&ctx, &headers, |state, token, minor| {
        match state.flavors.get(&id).filter(|f| f.visible_to(&token.project_id)) {
            Some(f) => Json(json!({"flavor": flavor_json(f, &ctx.base_url, minor)})).into_response(),
            None => nova_fault(404, format!("Flavor {id} could not be found.")),
        }
    })
}
