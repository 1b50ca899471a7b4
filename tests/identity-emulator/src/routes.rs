//! The routes region calls, answering as identity's OpenAPI document says.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::state::{certificate_key, Received, State as Known};
use crate::{Ctx, ACL, ORGANIZATION_ACL};

/// identity's error body (core's `error` schema).
pub fn error(status: u16, code: &str, description: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(json!({"error": code, "error_description": description}))).into_response()
}

fn unauthorized() -> Response {
    error(401, "access_denied", "token is invalid or has expired")
}

pub async fn discovery(State(ctx): State<Ctx>) -> Json<Value> {
    let base = &ctx.base_url;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth2/v2/authorization"),
        "token_endpoint": format!("{base}/oauth2/v2/token"),
        "userinfo_endpoint": format!("{base}/oauth2/v2/userinfo"),
        "jwks_uri": format!("{base}/oauth2/v2/jwks"),
        "scopes_supported": ["openid", "email", "profile"],
        "claims_supported": ["sub", "email", "email_verified", "name"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "tls_client_auth"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "id_token_signing_alg_values_supported": ["ES512"],
        "code_challenge_methods_supported": ["S256"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    }))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token)
}

pub async fn userinfo(State(ctx): State<Ctx>, headers: HeaderMap) -> Response {
    let state = ctx.shared.lock();
    let Some(grant) = bearer(&headers).and_then(|t| state.tokens.get(t)) else { return unauthorized() };
    let mut body = json!({"sub": grant.sub, "https://unikorn-cloud.org/authz": {"acctype": grant.acctype, "orgIds": grant.org_ids}});
    if let Some(email) = &grant.email {
        body["email"] = json!(email);
    }
    Json(body).into_response()
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(b) = value.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The actor of Unikorn's `X-Principal` (base64url JSON).
fn actor(principal: &str) -> Option<String> {
    let bytes = base64url(principal)?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value["actor"].as_str().map(str::to_owned)
}

fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

/// Whose ACL a request asks for: the token's subject, or the system account of the relayed
/// certificate (acting for the principal's actor with `X-Impersonate: true`).
fn subject_acl(state: &mut Known, headers: &HeaderMap, route: &str, path: &str) -> Option<(String, Value)> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let principal = header("x-principal");
    let impersonate = header("x-impersonate").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let certificate = header("unikorn-client-certificate");
    let direct = match (bearer(headers), &certificate) {
        (Some(token), _) => state.tokens.get(token).map(|g| (g.sub.clone(), false)),
        (None, Some(pem)) => {
            state.systems.get(&certificate_key(&percent_decode(pem))).map(|(cn, _)| (cn.clone(), true))
        }
        (None, None) => None,
    };
    state.log.requests.push(Received {
        route: route.into(),
        path: path.into(),
        subject: direct.as_ref().map(|(s, _)| s.clone()),
        principal: principal.clone(),
        impersonate,
        client_certificate: certificate.is_some(),
    });
    let (sub, system) = direct?;
    if system && impersonate {
        let actor = principal.as_deref().and_then(actor)?;
        return Some((actor.clone(), state.acls.get(&actor).cloned().unwrap_or_else(|| json!({}))));
    }
    let acl = if system {
        certificate.and_then(|pem| state.systems.get(&certificate_key(&percent_decode(&pem))).map(|(_, a)| a.clone()))
    } else {
        state.acls.get(&sub).cloned()
    };
    Some((sub, acl.unwrap_or_else(|| json!({}))))
}

pub async fn acl(State(ctx): State<Ctx>, headers: HeaderMap) -> Response {
    let mut state = ctx.shared.lock();
    let Some((_, acl)) = subject_acl(&mut state, &headers, ACL, "/api/v1/acl") else { return unauthorized() };
    let mut body = json!({});
    for key in ["global", "organizations"] {
        if let Some(v) = acl.get(key) {
            body[key] = v.clone();
        }
    }
    Json(body).into_response()
}

/// The organization-scoped answer, as identity builds it: the organization's own endpoints in
/// `organization`, its projects' in a top-level `projects`.
pub async fn organization_acl(State(ctx): State<Ctx>, Path(org): Path<String>, headers: HeaderMap) -> Response {
    let mut state = ctx.shared.lock();
    let path = format!("/api/v1/organizations/{org}/acl");
    let Some((_, acl)) = subject_acl(&mut state, &headers, ORGANIZATION_ACL, &path) else { return unauthorized() };
    let mut body = json!({});
    if let Some(global) = acl.get("global") {
        body["global"] = global.clone();
    }
    let entry = acl["organizations"].as_array().and_then(|orgs| orgs.iter().find(|o| o["id"] == org.as_str()));
    if let Some(entry) = entry {
        if let Some(endpoints) = entry.get("endpoints") {
            body["organization"] = json!({"id": org, "endpoints": endpoints});
        }
        if let Some(projects) = entry.get("projects").filter(|p| p.as_array().is_some_and(|a| !a.is_empty())) {
            body["projects"] = projects.clone();
        }
    }
    Json(body).into_response()
}
