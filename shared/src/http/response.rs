//! Building responses, and the one place an [`Error`] becomes a status and an error body.

use lambda_http::{Body, Response};
use serde::Serialize;

use crate::api::ErrorBody;
use crate::error::Error;

fn build(status: u16, headers: &[(&str, String)], body: Body) -> Response<Body> {
    let mut builder = Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    builder.body(body).unwrap_or_else(|_| {
        let mut fallback = Response::new(Body::Empty);
        *fallback.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

pub fn json<T: Serialize>(status: u16, body: &T, extra: &[(&str, String)]) -> Response<Body> {
    match serde_json::to_string(body) {
        Ok(text) => {
            let mut headers = vec![("content-type", "application/json".to_owned())];
            headers.extend(extra.iter().cloned());
            build(status, &headers, Body::Text(text))
        }
        Err(e) => error_response(&Error::internal(format!("cannot encode response: {e}"))),
    }
}

pub fn empty(status: u16) -> Response<Body> {
    build(status, &[], Body::Empty)
}

/// An empty answer no cache may keep (Unikorn's reference routes).
pub fn empty_uncached(status: u16) -> Response<Body> {
    build(status, &[("cache-control", "no-cache".to_owned())], Body::Empty)
}

/// The single error mapping: status and `{"error", "error_description"}` from the variant.
pub fn error_response(err: &Error) -> Response<Body> {
    let (status, code) = err.status_and_code();
    if status >= 500 {
        tracing::error!(status, error = %err, "request failed");
    } else {
        tracing::info!(status, error = %err, "request refused");
    }
    let body = ErrorBody { error: code, error_description: err.public_description() };
    let mut headers = vec![("content-type", "application/json".to_owned())];
    if let Some(after) = err.retry_after() {
        headers.push(("retry-after", after.as_secs().max(1).to_string()));
    }
    let text = serde_json::to_string(&body).unwrap_or_else(|_| format!("{{\"error\":\"{code}\"}}"));
    build(status, &headers, Body::Text(text))
}
