//! The control plane under `/_emulator/`: seed resources, inject faults, read counters, reset.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use emulator_support::{Log, Recorder};
use serde_json::{json, Value};

use crate::common::Ctx;
use crate::model::{AppCredential, Flavor, Image};
use crate::state::{Delays, Fault, RecordedRequest};

pub async fn add_credential(State(ctx): State<Ctx>, Json(c): Json<AppCredential>) -> StatusCode {
    ctx.shared.lock().credentials.insert(c.id.clone(), c);
    StatusCode::CREATED
}

pub async fn add_image(State(ctx): State<Ctx>, Json(mut image): Json<Image>) -> Response {
    crate::signing::sign(&mut image);
    let body = crate::glance::image_json(&image);
    ctx.shared.lock().images.insert(image.id.clone(), image);
    (StatusCode::CREATED, Json(body)).into_response()
}

pub async fn add_flavor(State(ctx): State<Ctx>, Json(flavor): Json<Flavor>) -> StatusCode {
    ctx.shared.lock().flavors.insert(flavor.id.clone(), flavor);
    StatusCode::CREATED
}

/// Every server in every project, with its project.
pub async fn all_servers(State(ctx): State<Ctx>) -> Json<Value> {
    let mut state = ctx.shared.lock();
    state.settle();
    let servers: Vec<Value> = state
        .servers
        .values()
        .map(|s| {
            let mut v = crate::nova::server_json(s, &state.net, &ctx.base_url, 100);
            v["project_id"] = json!(s.project_id);
            v
        })
        .collect();
    Json(json!({"servers": servers}))
}

/// Removes a server behind its owner's back, as an operator or a failure would.
pub async fn vanish_server(State(ctx): State<Ctx>, Path(id): Path<String>) -> StatusCode {
    match ctx.shared.lock().servers.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT,
        None => StatusCode::NOT_FOUND,
    }
}

/// `{"vmState": "active" | "stopped" | "error", "fault"?: "message"}`: a change made at the provider.
pub async fn set_server_state(State(ctx): State<Ctx>, Path(id): Path<String>, Json(body): Json<Value>) -> StatusCode {
    let Some(vm_state) = body["vmState"].as_str().filter(|s| matches!(*s, "active" | "stopped" | "error")) else {
        return StatusCode::BAD_REQUEST;
    };
    if ctx.shared.lock().set_server_state(&id, vm_state, body["fault"].as_str()) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

impl Recorder for Ctx {
    type Fault = Fault;
    type Request = RecordedRequest;

    fn with_log<T>(&self, f: impl FnOnce(&mut Log<Fault, RecordedRequest>) -> T) -> T {
        f(&mut self.shared.lock().log)
    }
}

/// `{"instances"?, "cores"?, "ram"?}`: the project's compute quota, as an operator sets it.
pub async fn set_quota(
    State(ctx): State<Ctx>,
    Path(project): Path<String>,
    Json(quota): Json<crate::nova::ComputeQuota>,
) -> StatusCode {
    ctx.shared.lock().quotas.insert(project, quota);
    StatusCode::NO_CONTENT
}

/// `{"noValidHost": n}`: the next `n` creates land in ERROR with "No valid host was found".
pub async fn set_capacity(State(ctx): State<Ctx>, Json(body): Json<Value>) -> StatusCode {
    let Some(n) = body["noValidHost"].as_u64().and_then(|n| u32::try_from(n).ok()) else {
        return StatusCode::BAD_REQUEST;
    };
    ctx.shared.lock().no_valid_host = n;
    StatusCode::NO_CONTENT
}

pub async fn set_delays(State(ctx): State<Ctx>, Json(delays): Json<Delays>) -> StatusCode {
    ctx.shared.lock().delays = delays;
    StatusCode::NO_CONTENT
}

pub async fn expire_tokens(State(ctx): State<Ctx>) -> StatusCode {
    ctx.shared.lock().expire_tokens();
    StatusCode::NO_CONTENT
}

/// Clears counters, the request log and faults; `{"all": true}` also forgets every resource.
pub async fn reset(State(ctx): State<Ctx>, body: Option<Json<Value>>) -> StatusCode {
    let mut state = ctx.shared.lock();
    state.log.clear();
    state.no_valid_host = 0;
    state.quotas.clear();
    if body.is_some_and(|Json(b)| b["all"] == json!(true)) {
        state.servers.clear();
        state.images.clear();
        state.flavors.clear();
        state.keypairs.clear();
        state.tokens.clear();
        state.credentials.clear();
        state.users.clear();
        state.net = Default::default();
    }
    StatusCode::NO_CONTENT
}
