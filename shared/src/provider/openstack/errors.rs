//! OpenStack answers as domain errors: transport failures, and HTTP statuses with the service's
//! own fault message kept.

use super::wire::fault_message;
use crate::error::Error;

pub fn transport_error(service: &str, err: &reqwest::Error) -> Error {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not be reached"
    } else {
        "dropped the connection"
    };
    Error::unavailable(format!("the {service} service {kind}"))
}

pub fn status_error(status: u16, what: &str, body: &[u8]) -> Error {
    let detail =
        fault_message(body).unwrap_or_else(|| String::from_utf8_lossy(body).trim().chars().take(200).collect());
    match status {
        400 => Error::invalid(format!("the provider rejected the request for {what}: {detail}")),
        404 => Error::not_found(format!("{what} not found at the provider: {detail}")),
        409 => Error::conflict(format!("{what} is in a state that does not allow this: {detail}")),
        413 | 429 => Error::unavailable(format!("the provider is rate limiting requests for {what}")),
        s if s >= 500 => Error::unavailable(format!("the provider failed ({s}) for {what}")),
        // Anything else is the provider misbehaving, not us and not the caller.
        s => Error::BadGateway(format!("the provider answered {s} for {what}: {detail}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nova_faults_keep_the_provider_message_and_our_context() {
        let body = br#"{"conflictingRequest": {"code": 409, "message": "Cannot 'start' instance abc while it is in vm_state active"}}"#;
        let err = status_error(409, "server abc", body);
        assert!(
            matches!(&err, Error::Conflict(m) if m.contains("server abc") && m.contains("vm_state active")),
            "{err:?}"
        );
        assert!(matches!(status_error(404, "server x", b"{}"), Error::NotFound(m) if m.contains("server x")));
        assert!(matches!(status_error(503, "server x", b""), Error::Unavailable { .. }));
        assert!(matches!(status_error(400, "server x", b"bad"), Error::Invalid(_)));
        let teapot = status_error(418, "server x", br#"{"computeFault": {"code": 418, "message": "I'm a teapot"}}"#);
        assert!(matches!(&teapot, Error::BadGateway(m) if m.contains("418") && m.contains("teapot")), "{teapot:?}");
        assert_eq!(teapot.status_and_code(), (502, "server_error"));
    }
}
