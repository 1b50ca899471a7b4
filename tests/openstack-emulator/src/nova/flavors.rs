//! Nova's flavors.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::common::{nova_fault, Ctx};
use crate::model::Flavor;

use super::nova;

fn flavor_json(f: &Flavor, base: &str, minor: u32) -> Value {
    let link = format!("{base}/compute/v2.1/flavors/{}", f.id);
    let mut body = json!({
        "id": f.id, "name": f.name, "vcpus": f.vcpus, "ram": f.ram, "disk": f.disk, "swap": 0,
        "OS-FLV-EXT-DATA:ephemeral": 0, "OS-FLV-DISABLED:disabled": false, "os-flavor-access:is_public": true,
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

pub async fn list_flavors(State(ctx): State<Ctx>, headers: HeaderMap) -> Response {
    nova(&ctx, &headers, |state, _, _| {
        let flavors: Vec<Value> = state
            .flavors
            .values()
            .map(|f| {
                let link = format!("{}/compute/v2.1/flavors/{}", ctx.base_url, f.id);
                json!({"id": f.id, "name": f.name, "description": null, "links": [{"rel": "self", "href": link}]})
            })
            .collect();
        Json(json!({"flavors": flavors})).into_response()
    })
}

pub async fn list_flavors_detail(State(ctx): State<Ctx>, headers: HeaderMap) -> Response {
    nova(&ctx, &headers, |state, _, minor| {
        let flavors: Vec<Value> = state.flavors.values().map(|f| flavor_json(f, &ctx.base_url, minor)).collect();
        Json(json!({"flavors": flavors})).into_response()
    })
}

pub async fn show_flavor(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    nova(&ctx, &headers, |state, _, minor| match state.flavors.get(&id) {
        Some(f) => Json(json!({"flavor": flavor_json(f, &ctx.base_url, minor)})).into_response(),
        None => nova_fault(404, format!("Flavor {id} could not be found.")),
    })
}
