//! The control plane under `/_emulator/`: tokens, ACLs, system accounts, faults, counters.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use emulator_support::{Log, Recorder};
use serde_json::{json, Value};

use crate::state::{certificate_key, Fault, Received, State as Known, TokenGrant};
use crate::Ctx;

/// Registers a token and its subject's ACL; returns the token.
pub fn register(state: &mut Known, mut grant: TokenGrant) -> String {
    let token = grant
        .token
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("uat-{}", uuid::Uuid::new_v4().simple()));
    grant.token = Some(token.clone());
    if let Some(acl) = grant.acl.take() {
        state.acls.insert(grant.sub.clone(), acl);
    }
    state.tokens.insert(token.clone(), grant);
    token
}

pub async fn add_token(State(ctx): State<Ctx>, Json(grant): Json<TokenGrant>) -> (StatusCode, Json<Value>) {
    let token = register(&mut ctx.shared.lock(), grant);
    (StatusCode::CREATED, Json(json!({"token": token})))
}

pub async fn revoke_token(State(ctx): State<Ctx>, Path(token): Path<String>) -> StatusCode {
    match ctx.shared.lock().tokens.remove(&token) {
        Some(_) => StatusCode::NO_CONTENT,
        None => StatusCode::NOT_FOUND,
    }
}

pub async fn set_acl(State(ctx): State<Ctx>, Path(sub): Path<String>, Json(acl): Json<Value>) -> StatusCode {
    ctx.shared.lock().acls.insert(sub, acl);
    StatusCode::NO_CONTENT
}

/// `{"certificate": PEM, "commonName": name, "acl": {...}}`.
pub async fn add_system(State(ctx): State<Ctx>, Json(body): Json<Value>) -> StatusCode {
    let (Some(pem), Some(cn)) = (body["certificate"].as_str(), body["commonName"].as_str()) else {
        return StatusCode::BAD_REQUEST;
    };
    let acl = body.get("acl").cloned().unwrap_or_else(|| json!({}));
    ctx.shared.lock().systems.insert(certificate_key(pem), (cn.to_owned(), acl));
    StatusCode::CREATED
}

impl Recorder for Ctx {
    type Fault = Fault;
    type Request = Received;

    fn with_log<T>(&self, f: impl FnOnce(&mut Log<Fault, Received>) -> T) -> T {
        f(&mut self.shared.lock().log)
    }
}

pub async fn reset(State(ctx): State<Ctx>) -> StatusCode {
    ctx.shared.lock().log.clear();
    StatusCode::NO_CONTENT
}
