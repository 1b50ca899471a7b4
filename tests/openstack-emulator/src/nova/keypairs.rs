//! Nova's keypairs.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::common::{nova_fault, Ctx};
use crate::model::now;

use super::nova;

fn fingerprint(public_key: &str) -> String {
    // Not Nova's MD5: a stable per-key value in the same colon-separated shape.
    let mut hash: u64 = 0xcbf29ce484222325;
    for b in public_key.bytes() {
        hash = (hash ^ b as u64).wrapping_mul(0x100000001b3);
    }
    let bytes = [hash.to_be_bytes(), hash.rotate_left(29).to_be_bytes()].concat();
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

pub async fn create_keypair(State(ctx): State<Ctx>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    nova(&ctx, &headers, |state, token, minor| {
        let k = &body["keypair"];
        let Some(name) = k["name"].as_str().filter(|n| !n.is_empty() && n.len() <= 255) else {
            return nova_fault(
                400,
                "Keypair data is invalid: Keypair name must be string and between 1 and 255 characters long",
            );
        };
        let Some(public_key) = k["public_key"].as_str() else {
            // Generation was removed in 2.92; the emulator only imports.
            return nova_fault(400, "Invalid input for field/attribute keypair. 'public_key' is a required property");
        };
        if !(public_key.starts_with("ssh-") || public_key.starts_with("ecdsa-")) {
            return nova_fault(400, "Keypair data is invalid: failed to generate fingerprint");
        }
        let key = (token.user_id.clone(), name.to_owned());
        if state.keypairs.contains_key(&key) {
            return nova_fault(409, format!("Key pair '{name}' already exists."));
        }
        let fp = fingerprint(public_key);
        state.keypairs.insert(key, (public_key.to_owned(), fp.clone()));
        let mut body =
            json!({"keypair": {"name": name, "public_key": public_key, "fingerprint": fp, "user_id": token.user_id}});
        if minor >= 2 {
            body["keypair"]["type"] = json!(k["type"].as_str().unwrap_or("ssh"));
        }
        let status = if minor >= 2 { StatusCode::CREATED } else { StatusCode::OK };
        (status, Json(body)).into_response()
    })
}

pub async fn list_keypairs(State(ctx): State<Ctx>, headers: HeaderMap) -> Response {
    nova(&ctx, &headers, |state, token, _| {
        let keypairs: Vec<Value> = state
            .keypairs
            .iter()
            .filter(|((user, _), _)| *user == token.user_id)
            .map(|((_, name), (key, fp))| json!({"keypair": {"name": name, "public_key": key, "fingerprint": fp, "type": "ssh"}}))
            .collect();
        Json(json!({"keypairs": keypairs})).into_response()
    })
}

pub async fn show_keypair(State(ctx): State<Ctx>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    nova(&ctx, &headers, |state, token, _| {
        match state.keypairs.get(&(token.user_id.clone(), name.clone())) {
        Some((key, fp)) => Json(json!({"keypair": {"name": name, "public_key": key, "fingerprint": fp, "type": "ssh",
            "user_id": token.user_id, "deleted": false, "created_at": now(), "updated_at": null, "deleted_at": null, "id": 1}}))
        .into_response(),
        None => nova_fault(404, format!("Keypair {name} not found for user {}", token.user_id)),
    }
    })
}

pub async fn delete_keypair(State(ctx): State<Ctx>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    nova(&ctx, &headers, |state, token, _| match state.keypairs.remove(&(token.user_id.clone(), name.clone())) {
        Some(_) => StatusCode::ACCEPTED.into_response(),
        None => nova_fault(404, format!("Keypair {name} not found for user {}", token.user_id)),
    })
}
