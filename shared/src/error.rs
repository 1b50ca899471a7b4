//! What a caller is told, and its single mapping to an HTTP status and error body.
//!
//! Parsing, RBAC and the use-cases return this enum; the store and the provider report their own
//! causes (`store::StoreError`, `provider::ProviderError`) and the use-cases decide what they mean
//! to the caller (`usecase::outcomes`). `http::error_response` is the only place that turns it into a
//! response, so a meaning has exactly one status code everywhere.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Malformed request, or a request that is not valid in the resource's current state.
    #[error("{0}")]
    Invalid(String),
    /// Missing, forged or expired caller credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller is known but lacks the permission.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Name clash, or the resource (or the provider's copy of it) is in the wrong state.
    #[error("{0}")]
    Conflict(String),
    /// The same request is still being processed (an idempotency key in use): retry later.
    #[error("{message}")]
    InProgress { message: String, retry_after: Duration },
    /// The organization's fair-use bucket for this kind of request is empty: retry later.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: Duration },
    /// `If-Match` named a version that is no longer current.
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Well-formed but semantically unacceptable (rename, image too large for the flavor, ...).
    #[error("{0}")]
    Unprocessable(String),
    /// The provider rejected our own credential: an operator problem, never the caller's.
    #[error("{0}")]
    ProviderUnauthorized(String),
    /// The provider answered something this product does not understand (an unmapped status).
    #[error("{0}")]
    BadGateway(String),
    /// A dependency (provider, database) timed out, dropped the connection or answered 5xx.
    #[error("{message}")]
    Unavailable { message: String, retry_after: Option<Duration> },
    /// Another service's error answer, passed on with its status (identity's, as Unikorn does).
    #[error("{message}")]
    Passed { status: u16, code: &'static str, message: String },
    #[error("{0}")]
    Internal(String),
}

/// Unikorn's error codes (core's `error` enum).
const CODES: [&str; 10] = [
    "invalid_request",
    "server_error",
    "access_denied",
    "not_found",
    "conflict",
    "method_not_allowed",
    "unsupported_media_type",
    "request_entity_too_large",
    "unprocessable_content",
    "forbidden",
];

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }
    pub fn not_found(msg: impl Into<String>) -> Self {
        Error::NotFound(msg.into())
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Error::Forbidden(msg.into())
    }
    pub fn conflict(msg: impl Into<String>) -> Self {
        Error::Conflict(msg.into())
    }
    pub fn unprocessable(msg: impl Into<String>) -> Self {
        Error::Unprocessable(msg.into())
    }
    pub fn internal(msg: impl Into<String>) -> Self {
        Error::Internal(msg.into())
    }
    /// Another service's 4xx answer as it gave it: its status, and its code when that is one of
    /// Unikorn's (else the code of the status). Anything but a 4xx is the service being unavailable.
    pub fn passed_on(status: u16, code: Option<&str>, message: impl Into<String>) -> Self {
        if !(400..500).contains(&status) {
            return Error::unavailable(message);
        }
        let by_status = match status {
            401 => "access_denied",
            403 => "forbidden",
            404 => "not_found",
            405 => "method_not_allowed",
            409 | 412 => "conflict",
            413 => "request_entity_too_large",
            415 => "unsupported_media_type",
            422 => "unprocessable_content",
            _ => "invalid_request",
        };
        let code = code.and_then(|c| CODES.iter().copied().find(|known| *known == c)).unwrap_or(by_status);
        Error::Passed { status, code, message: message.into() }
    }

    pub fn unavailable(msg: impl Into<String>) -> Self {
        Error::Unavailable { message: msg.into(), retry_after: Some(Duration::from_secs(5)) }
    }

    /// HTTP status and the `error` code of the response body: always one of the codes of Unikorn's
    /// error enum, which clients switch on (412 and 503 have none of their own).
    pub fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            Error::Invalid(_) => (400, "invalid_request"),
            Error::Unauthenticated(_) => (401, "access_denied"),
            Error::Forbidden(_) => (403, "forbidden"),
            Error::NotFound(_) => (404, "not_found"),
            Error::MethodNotAllowed(_) => (405, "method_not_allowed"),
            Error::Conflict(_) | Error::InProgress { .. } => (409, "conflict"),
            Error::PreconditionFailed(_) => (412, "conflict"),
            // Unikorn's enum has no code of its own for 429; `invalid_request` is what any other
            // 4xx without one is (see `passed_on`), and the status and `Retry-After` say the rest.
            Error::TooManyRequests { .. } => (429, "invalid_request"),
            Error::UnsupportedMediaType(_) => (415, "unsupported_media_type"),
            Error::Unprocessable(_) => (422, "unprocessable_content"),
            Error::ProviderUnauthorized(_) | Error::Internal(_) => (500, "server_error"),
            Error::BadGateway(_) => (502, "server_error"),
            Error::Unavailable { .. } => (503, "server_error"),
            Error::Passed { status, code, .. } => (*status, code),
        }
    }

    /// A refusal decided from the request and the records alone, before anything was written or
    /// changed at the provider: it costs the caller no fair-use token.
    pub fn costs_nothing(&self) -> bool {
        matches!(
            self,
            Error::Invalid(_)
                | Error::Unauthenticated(_)
                | Error::Forbidden(_)
                | Error::NotFound(_)
                | Error::MethodNotAllowed(_)
                | Error::PreconditionFailed(_)
                | Error::UnsupportedMediaType(_)
        )
    }

    /// The text shown to the caller. Internal details stay in the logs.
    pub fn public_description(&self) -> String {
        match self {
            Error::ProviderUnauthorized(_) => "the cloud provider rejected the platform's credential".into(),
            Error::Internal(_) => "an internal error occurred".into(),
            other => other.to_string(),
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Unavailable { retry_after, .. } => *retry_after,
            Error::InProgress { retry_after, .. } | Error::TooManyRequests { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_status_and_code() {
        let cases = [
            (Error::invalid("x"), 400, "invalid_request"),
            (Error::Unauthenticated("x".into()), 401, "access_denied"),
            (Error::forbidden("x"), 403, "forbidden"),
            (Error::not_found("x"), 404, "not_found"),
            (Error::conflict("x"), 409, "conflict"),
            (Error::PreconditionFailed("x".into()), 412, "conflict"),
            (
                Error::TooManyRequests { message: "x".into(), retry_after: Duration::from_secs(2) },
                429,
                "invalid_request",
            ),
            (Error::unprocessable("x"), 422, "unprocessable_content"),
            (Error::ProviderUnauthorized("x".into()), 500, "server_error"),
            (Error::unavailable("x"), 503, "server_error"),
            (Error::internal("x"), 500, "server_error"),
            (Error::BadGateway("x".into()), 502, "server_error"),
            (Error::passed_on(403, Some("forbidden"), "x"), 403, "forbidden"),
            (Error::passed_on(429, Some("made_up"), "x"), 429, "invalid_request"),
            (Error::passed_on(500, None, "x"), 503, "server_error"),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status_and_code(), (status, code), "{err:?}");
        }
    }

    #[test]
    fn internal_details_are_not_shown_to_callers() {
        assert_eq!(Error::internal("dynamodb: secret detail").public_description(), "an internal error occurred");
        assert_eq!(Error::not_found("no server found").public_description(), "no server found");
    }
}
