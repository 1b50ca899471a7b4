//! Keystone v3: application-credential authentication and version discovery.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::common::{unauthorized, Ctx};
use chrono::{DateTime, Utc};

use crate::model::{AppCredential, TokenInfo};

pub async fn issue_token(State(ctx): State<Ctx>, Json(body): Json<Value>) -> Response {
    let identity = &body["auth"]["identity"];
    let uses_app_cred = identity["methods"].as_array().is_some_and(|m| m.iter().any(|v| v == "application_credential"));
    if !uses_app_cred {
        return unauthorized();
    }
    if !body["auth"]["scope"].is_null() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"code": 401, "title": "Unauthorized", "message": "Application credentials cannot request a scope."}})),
        )
            .into_response();
    }
    let given = &identity["application_credential"];
    let secret = given["secret"].as_str().unwrap_or_default();
    let mut state = ctx.shared.lock();
    let found = state
        .credentials
        .values()
        .find(|c| match given["id"].as_str() {
            Some(id) => c.id == id,
            None => {
                given["name"].as_str() == Some(c.name.as_str())
                    && given["user"]["id"].as_str() == Some(c.user_id.as_str())
            }
        })
        .filter(|c| c.secret == secret)
        .cloned();
    let Some(cred) = found else {
        return unauthorized();
    };
    let token = uuid::Uuid::new_v4().simple().to_string();
    let issued = chrono::Utc::now();
    let expires_at = issued + chrono::Duration::seconds(state.delays.token_ttl_s);
    state.tokens.insert(
        token.clone(),
        TokenInfo {
            project_id: cred.project_id.clone(),
            user_id: cred.user_id.clone(),
            credential_id: cred.id.clone(),
            expires_at,
        },
    );
    let body = token_body(&ctx.base_url, &cred, issued, expires_at);
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = token.parse() {
        response.headers_mut().insert("x-subject-token", v);
    }
    response
}

/// The token Keystone returns for an application credential, with the emulator's catalog.
fn token_body(base: &str, cred: &AppCredential, issued: DateTime<Utc>, expires_at: DateTime<Utc>) -> Value {
    let endpoint = |service: &str, url: String| {
        json!({
            "type": service,
            "id": format!("{service}-service"),
            "name": service,
            "endpoints": [{"id": format!("{service}-public"), "interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": url}]
        })
    };
    json!({
        "token": {
            "methods": ["application_credential"],
            "audit_ids": [uuid::Uuid::new_v4().simple().to_string()],
            "issued_at": issued.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "expires_at": expires_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "is_domain": false,
            "user": {"id": cred.user_id, "name": format!("user-{}", cred.user_id), "domain": {"id": "default", "name": "Default"}, "password_expires_at": null},
            "project": {"id": cred.project_id, "name": format!("project-{}", cred.project_id), "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": "member-role", "name": "member"}],
            "application_credential": {"id": cred.id, "name": cred.name, "restricted": true},
            "catalog": [
                endpoint("identity", format!("{base}/identity")),
                endpoint("compute", format!("{base}/compute/v2.1")),
                endpoint("image", format!("{base}/image")),
                endpoint("network", format!("{base}/network")),
            ]
        }
    })
}

pub async fn version(State(ctx): State<Ctx>) -> Json<Value> {
    Json(json!({"version": version_doc(&ctx.base_url)}))
}

pub async fn versions(State(ctx): State<Ctx>) -> Json<Value> {
    Json(json!({"versions": {"values": [version_doc(&ctx.base_url)]}}))
}

fn version_doc(base: &str) -> Value {
    json!({
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{base}/identity/v3/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]
    })
}
