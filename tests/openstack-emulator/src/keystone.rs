//! Keystone v3: application-credential authentication and version discovery.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::common::{unauthorized, Ctx};
use chrono::{DateTime, Utc};

use crate::model::{AppCredential, TokenInfo};

/// `POST /v3/auth/tokens`: an application credential (unscoped, its own project), or a user's
/// password with a project or a domain scope the user holds a role in.
pub async fn issue_token(State(ctx): State<Ctx>, Json(body): Json<Value>) -> Response {
    let identity = &body["auth"]["identity"];
    let uses = |method: &str| identity["methods"].as_array().is_some_and(|m| m.iter().any(|v| v == method));
    let grant = if uses("application_credential") {
        application_credential(&ctx, &body)
    } else if uses("password") {
        password(&ctx, &body)
    } else {
        Err(unauthorized())
    };
    let grant = match grant {
        Ok(grant) => grant,
        Err(response) => return response,
    };
    let token = uuid::Uuid::new_v4().simple().to_string();
    let issued = chrono::Utc::now();
    let mut state = ctx.shared.lock();
    let expires_at = issued + chrono::Duration::seconds(state.delays.token_ttl_s);
    let info = TokenInfo { expires_at, ..grant.info.clone() };
    state.tokens.insert(token.clone(), info);
    let body = token_body(&ctx.base_url, &grant, issued, expires_at);
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = token.parse() {
        response.headers_mut().insert("x-subject-token", v);
    }
    response
}

/// Who a token is for, and the method that proved it.
struct Grant {
    info: TokenInfo,
    method: &'static str,
    application_credential: Option<AppCredential>,
}

fn refuse(message: &str) -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({"error": {"code": 401, "title": "Unauthorized", "message": message}})))
        .into_response()
}

fn application_credential(ctx: &Ctx, body: &Value) -> Result<Grant, Response> {
    if !body["auth"]["scope"].is_null() {
        return Err(refuse("Application credentials cannot request a scope."));
    }
    let given = &body["auth"]["identity"]["application_credential"];
    let secret = given["secret"].as_str().unwrap_or_default();
    let state = ctx.shared.lock();
    let cred = state
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
        .cloned()
        .ok_or_else(unauthorized)?;
    let info = TokenInfo {
        project_id: cred.project_id.clone(),
        user_id: cred.user_id.clone(),
        credential_id: cred.id.clone(),
        domain_id: None,
        expires_at: chrono::Utc::now(),
    };
    Ok(Grant { info, method: "application_credential", application_credential: Some(cred) })
}

fn password(ctx: &Ctx, body: &Value) -> Result<Grant, Response> {
    let user = &body["auth"]["identity"]["password"]["user"];
    let state = ctx.shared.lock();
    let found = state
        .users
        .values()
        .find(|u| match user["id"].as_str() {
            Some(id) => u.id == id,
            None => user["name"].as_str() == Some(u.name.as_str()) && user["domain"]["id"] == u.domain_id.as_str(),
        })
        .filter(|u| user["password"].as_str() == Some(u.password.as_str()))
        .cloned()
        .ok_or_else(unauthorized)?;
    let scope = &body["auth"]["scope"];
    let (project_id, domain_id) = match (scope["project"]["id"].as_str(), scope["domain"]["id"].as_str()) {
        (Some(project), None) if found.projects.contains(project) => (project.to_owned(), None),
        (None, Some(domain)) if found.domains.contains(domain) => (String::new(), Some(domain.to_owned())),
        (None, None) => {
            return Err(refuse(
                "The request you have made requires authentication: an unscoped token has no catalog here.",
            ))
        }
        _ => return Err(refuse("User has no access to the requested scope.")),
    };
    let info = TokenInfo {
        project_id,
        user_id: found.id.clone(),
        credential_id: String::new(),
        domain_id,
        expires_at: chrono::Utc::now(),
    };
    Ok(Grant { info, method: "password", application_credential: None })
}

/// The token Keystone returns, with the emulator's catalog.
fn token_body(base: &str, grant: &Grant, issued: DateTime<Utc>, expires_at: DateTime<Utc>) -> Value {
    let endpoint = |service: &str, url: String| {
        json!({
            "type": service,
            "id": format!("{service}-service"),
            "name": service,
            "endpoints": [{"id": format!("{service}-public"), "interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": url}]
        })
    };
    let info = &grant.info;
    let mut token = json!({
        "methods": [grant.method],
        "audit_ids": [uuid::Uuid::new_v4().simple().to_string()],
        "issued_at": issued.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "expires_at": expires_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "is_domain": false,
        "user": {"id": info.user_id, "name": format!("user-{}", info.user_id), "domain": {"id": "default", "name": "Default"}, "password_expires_at": null},
        "roles": [{"id": "member-role", "name": "member"}],
        "catalog": [
            endpoint("identity", format!("{base}/identity")),
            endpoint("compute", format!("{base}/compute/v2.1")),
            endpoint("image", format!("{base}/image")),
            endpoint("network", format!("{base}/network")),
        ]
    });
    match &info.domain_id {
        Some(domain) => token["domain"] = json!({"id": domain, "name": domain}),
        None => {
            token["project"] = json!({"id": info.project_id, "name": format!("project-{}", info.project_id), "domain": {"id": "default", "name": "Default"}})
        }
    }
    if let Some(cred) = &grant.application_credential {
        token["application_credential"] = json!({"id": cred.id, "name": cred.name, "restricted": true});
    }
    json!({ "token": token })
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
