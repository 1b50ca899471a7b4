//! `/v2.0/networks` (read-only here: the cloud's operator makes them) and version discovery.

use axum::extract::{Path, Query as AxumQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::model::network_json;
use super::{listing, neutron, neutron_error, Query};
use crate::common::Ctx;

pub async fn list_networks(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    AxumQuery(query): AxumQuery<Vec<(String, String)>>,
) -> Response {
    neutron(&ctx.clone(), &headers, |state, token| {
        let visible = state
            .net
            .networks
            .values()
            .filter(|n| state.net.visible_network(&token.project_id, &n.id).is_some())
            .map(network_json)
            .collect();
        listing(&ctx, "networks", "networks", visible, &Query::new(&query))
    })
}

pub async fn show_network(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    neutron(&ctx, &headers, |state, token| match state.net.visible_network(&token.project_id, &id) {
        Some(n) => Json(json!({"network": network_json(n)})).into_response(),
        None => neutron_error(404, "NetworkNotFound", format!("Network {id} could not be found.")),
    })
}

fn version_doc(base: &str) -> Value {
    json!({"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": format!("{base}/network/v2.0/")}]})
}

pub async fn versions(State(ctx): State<Ctx>) -> Json<Value> {
    Json(json!({"versions": [version_doc(&ctx.base_url)]}))
}

pub async fn version(State(ctx): State<Ctx>) -> Json<Value> {
    let base = format!("{}/network/v2.0", ctx.base_url);
    let resource = |name: &str, collection: &str| json!({"name": name, "collection": collection, "links": [{"rel": "self", "href": format!("{base}/{collection}")}]});
    Json(json!({"resources": [
        resource("network", "networks"),
        resource("port", "ports"),
        resource("floatingip", "floatingips"),
        resource("security_group", "security-groups"),
    ]}))
}
