//! Glance v2: image show, list (filters and marker paging), delete, version discovery.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::common::{authenticate, glance_error, Ctx};
use crate::model::Image;

pub fn image_json(image: &Image) -> Value {
    let mut body = json!({
        "id": image.id,
        "name": image.name,
        "status": image.status,
        "visibility": image.visibility,
        "owner": image.owner,
        "min_disk": image.min_disk,
        "min_ram": 0,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "tags": image.tags,
        "container_format": "bare",
        "disk_format": "qcow2",
        "protected": false,
        "os_hidden": false,
        "checksum": null,
        "os_hash_algo": null,
        "os_hash_value": null,
        "created_at": image.created_at,
        "updated_at": image.created_at,
        "self": format!("/v2/images/{}", image.id),
        "file": format!("/v2/images/{}/file", image.id),
        "schema": "/v2/schemas/image",
    });
    for (k, v) in &image.properties {
        body[k] = json!(v);
    }
    body
}

fn visible(image: &Image, project: &str) -> bool {
    image.visibility == "public" || image.owner.as_deref() == Some(project)
}

pub async fn show_image(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let token = match authenticate(&ctx, &headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut state = ctx.shared.lock();
    state.settle();
    match state.images.get(&id).filter(|i| visible(i, &token.project_id)) {
        Some(image) => Json(image_json(image)).into_response(),
        None => glance_error(404, format!("No image found with ID {id}")),
    }
}

/// Deletes an image its project owns. An image a server still boots from answers 409, as a
/// Ceph-backed Glance does while the server's disk is a clone of it (a file store would not).
pub async fn delete_image(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let token = match authenticate(&ctx, &headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut state = ctx.shared.lock();
    state.settle();
    let in_use = state.servers.values().any(|s| s.image_id == id && s.vm_state != "deleted");
    match state.images.get(&id) {
        Some(image) if image.owner.as_deref() == Some(token.project_id.as_str()) && in_use => {
            glance_error(409, format!("Image {id} could not be deleted because it is in use: The image cannot be deleted because it is in use through the backend store outside of Glance."))
        }
        Some(image) if image.owner.as_deref() == Some(token.project_id.as_str()) => {
            state.images.remove(&id);
            StatusCode::NO_CONTENT.into_response()
        }
        Some(image) if visible(image, &token.project_id) => {
            glance_error(403, "You are not permitted to delete this image.")
        }
        _ => glance_error(404, format!("No image found with ID {id}")),
    }
}

/// Glance's JSON patch (`application/openstack-images-v2.1-json-patch`): `replace` or `add` of
/// `/visibility` or of a custom property, by the image's owner.
pub async fn update_image(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let token = match authenticate(&ctx, &headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let patch_type = "application/openstack-images-v2.1-json-patch";
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some(patch_type) {
        return glance_error(415, format!("Unsupported Content-Type; use {patch_type}"));
    }
    let Ok(Value::Array(ops)) = serde_json::from_slice::<Value>(&body) else {
        return glance_error(400, "Invalid JSON pointer for this resource: the body must be a JSON patch");
    };
    let mut state = ctx.shared.lock();
    state.settle();
    let Some(image) = state.images.get_mut(&id).filter(|i| visible(i, &token.project_id)) else {
        return glance_error(404, format!("No image found with ID {id}"));
    };
    if image.owner.as_deref() != Some(token.project_id.as_str()) {
        return glance_error(403, "You are not permitted to modify this image.");
    }
    for op in &ops {
        let (Some(kind), Some(path), Some(value)) = (op["op"].as_str(), op["path"].as_str(), op["value"].as_str())
        else {
            return glance_error(400, "Unable to find `op`, `path` or `value` in JSON Schema change");
        };
        match (kind, path.strip_prefix('/')) {
            ("replace", Some("visibility")) if ["public", "private", "shared", "community"].contains(&value) => {
                image.visibility = value.to_owned();
            }
            ("replace" | "add", Some(property)) if !property.is_empty() && !property.contains('/') => {
                image.properties.insert(property.to_owned(), value.to_owned());
            }
            _ => return glance_error(400, format!("Invalid operation {kind} on {path}")),
        }
    }
    Json(image_json(image)).into_response()
}

/// Glance's own list parameters; any other key filters on an image property.
const STANDARD_FILTERS: [&str; 10] =
    ["limit", "marker", "name", "status", "owner", "visibility", "tag", "sort_key", "sort_dir", "sort"];

pub async fn list_images(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let token = match authenticate(&ctx, &headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let get = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let tags: Vec<&String> = query.iter().filter(|(k, _)| k == "tag").map(|(_, v)| v).collect();
    let limit = match get("limit").map(|l| l.parse::<usize>()) {
        None => 25,
        Some(Ok(l)) => l.min(1000),
        Some(Err(_)) => return glance_error(400, "limit param must be an integer"),
    };
    let marker = get("marker");
    let mut state = ctx.shared.lock();
    state.settle();
    let matching: Vec<&Image> = state
        .images
        .values()
        .filter(|i| visible(i, &token.project_id))
        .filter(|i| get("name").is_none_or(|n| i.name == n))
        .filter(|i| get("status").is_none_or(|s| i.status == s))
        .filter(|i| get("owner").is_none_or(|o| i.owner.as_deref() == Some(o.as_str())))
        .filter(|i| get("visibility").is_none_or(|v| i.visibility == v))
        .filter(|i| tags.iter().all(|t| i.tags.contains(t)))
        // Any other key filters on the image's own properties, as Glance does.
        .filter(|i| {
            query
                .iter()
                .filter(|(k, _)| !STANDARD_FILTERS.contains(&k.as_str()))
                .all(|(k, v)| i.properties.get(k) == Some(v))
        })
        .collect();
    let start = match &marker {
        Some(m) => match matching.iter().position(|i| &i.id == m) {
            Some(p) => p + 1,
            None => return glance_error(400, format!("marker {m} not found")),
        },
        None => 0,
    };
    let page: Vec<&Image> = matching.iter().skip(start).take(limit).copied().collect();
    let mut body = json!({
        "images": page.iter().map(|i| image_json(i)).collect::<Vec<_>>(),
        "first": "/v2/images",
        "schema": "/v2/schemas/images",
    });
    if start + page.len() < matching.len() {
        if let Some(last) = page.last() {
            let mut next: Vec<String> = query
                .iter()
                .filter(|(k, _)| k != "marker")
                .map(|(k, v)| format!("{k}={}", v.replace(' ', "%20")))
                .collect();
            next.push(format!("marker={}", last.id));
            body["next"] = json!(format!("/v2/images?{}", next.join("&")));
        }
    }
    Json(body).into_response()
}

pub async fn versions(State(ctx): State<Ctx>) -> Json<Value> {
    Json(json!({"versions": [
        {"id": "v2.16", "status": "CURRENT", "links": [{"rel": "self", "href": format!("{}/image/v2/", ctx.base_url)}]}
    ]}))
}
