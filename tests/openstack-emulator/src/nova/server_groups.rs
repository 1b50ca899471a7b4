//! Nova's server groups (microversion 2.64's body: one `policy`), per project.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::common::{nova_fault, Ctx};

use super::nova;

const POLICIES: [&str; 4] = ["affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"];

fn read(id: &str, group: &crate::state::ServerGroup) -> Value {
    json!({"id": id, "name": group.name, "policy": group.policy, "rules": {}, "members": [],
        "project_id": group.project_id, "user_id": group.user_id})
}

pub async fn create_server_group(State(ctx): State<Ctx>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    nova(&ctx, &headers, |state, token, _| {
        let g = &body["server_group"];
        let Some(name) = g["name"].as_str().filter(|n| !n.is_empty() && n.len() <= 255) else {
            return nova_fault(400, "Invalid input for field/attribute name.");
        };
        let Some(policy) = g["policy"].as_str().filter(|p| POLICIES.contains(p)) else {
            return nova_fault(400, "Invalid input for field/attribute policy.");
        };
        let id = uuid::Uuid::new_v4().to_string();
        let group = crate::state::ServerGroup {
            name: name.into(),
            policy: policy.into(),
            project_id: token.project_id.clone(),
            user_id: token.user_id.clone(),
        };
        let answer = json!({"server_group": read(&id, &group)});
        state.server_groups.insert(id, group);
        Json(answer).into_response()
    })
}

pub async fn list_server_groups(State(ctx): State<Ctx>, headers: HeaderMap) -> Response {
    nova(&ctx, &headers, |state, token, _| {
        let groups: Vec<Value> = state
            .server_groups
            .iter()
            .filter(|(_, g)| g.project_id == token.project_id)
            .map(|(id, g)| read(id, g))
            .collect();
        Json(json!({"server_groups": groups})).into_response()
    })
}

pub async fn delete_server_group(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    nova(&ctx, &headers, |state, token, _| {
        match state.server_groups.get(&id).filter(|g| g.project_id == token.project_id) {
            Some(_) => {
                state.server_groups.remove(&id);
                StatusCode::NO_CONTENT.into_response()
            }
            None => nova_fault(404, format!("Server group {id} could not be found.")),
        }
    })
}
