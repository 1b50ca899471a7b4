//! Helpers every emulated service uses: token checks, fault bodies, microversions.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::model::TokenInfo;
use crate::state::Shared;

pub const MIN_MINOR: u32 = 1;
/// Highest compute microversion emulated (the client speaks 2.100).
pub const MAX_MINOR: u32 = 100;

#[derive(Clone)]
pub struct Ctx {
    pub shared: Shared,
    pub base_url: String,
}

/// Nova's fault name for a status (nova `wsgi.py` `Fault`).
pub fn fault_name(status: u16) -> &'static str {
    match status {
        400 => "badRequest",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "itemNotFound",
        405 => "badMethod",
        409 => "conflictingRequest",
        413 | 429 => "overLimit",
        415 => "badMediaType",
        501 => "notImplemented",
        503 => "serviceUnavailable",
        _ => "computeFault",
    }
}

pub fn nova_fault(status: u16, message: impl Into<String>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, Json(json!({ fault_name(status): { "code": status, "message": message.into() } }))).into_response()
}

/// Glance answers errors as plain text.
pub fn glance_error(status: u16, message: impl Into<String>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = code.canonical_reason().unwrap_or("Error");
    (code, [("content-type", "text/plain; charset=UTF-8")], format!("{status} {reason}\n\n{}\n\n", message.into()))
        .into_response()
}

pub fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}})),
    )
        .into_response()
}

/// The caller's token, or 401 when it is missing, unknown or expired.
pub fn authenticate(ctx: &Ctx, headers: &HeaderMap) -> Result<TokenInfo, Response> {
    let token = headers.get("x-auth-token").and_then(|v| v.to_str().ok()).ok_or_else(unauthorized)?;
    let state = ctx.shared.lock();
    match state.tokens.get(token) {
        Some(info) if info.expires_at > chrono::Utc::now() => Ok(info.clone()),
        _ => Err(unauthorized()),
    }
}

/// The requested compute microversion (minor part), or 406 outside the supported range.
pub fn microversion(headers: &HeaderMap) -> Result<u32, Response> {
    let requested = headers
        .get("openstack-api-version")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("compute").map(|s| s.trim().to_owned()))
        .or_else(|| {
            headers.get("x-openstack-nova-api-version").and_then(|v| v.to_str().ok()).map(|s| s.trim().to_owned())
        });
    let Some(requested) = requested else {
        return Ok(MIN_MINOR);
    };
    if requested == "latest" {
        return Ok(MAX_MINOR);
    }
    let minor = requested
        .strip_prefix("2.")
        .and_then(|m| m.parse::<u32>().ok())
        .ok_or_else(|| nova_fault(400, format!("API Version String {requested} is of invalid format.")))?;
    if !(MIN_MINOR..=MAX_MINOR).contains(&minor) {
        return Err(with_version(
            nova_fault(406, format!("Version {requested} is not supported by the API. Minimum is 2.{MIN_MINOR} and maximum is 2.{MAX_MINOR}.")),
            minor,
        ));
    }
    Ok(minor)
}

/// Nova echoes the microversion on every response, errors included.
pub fn with_version(mut response: Response, minor: u32) -> Response {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("compute 2.{minor}")) {
        headers.insert("openstack-api-version", v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("2.{minor}")) {
        headers.insert("x-openstack-nova-api-version", v);
    }
    headers.insert("vary", HeaderValue::from_static("OpenStack-API-Version, X-OpenStack-Nova-API-Version"));
    response
}
