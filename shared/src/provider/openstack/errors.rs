//! OpenStack answers as provider errors: transport failures, and HTTP statuses with the service's
//! own fault message kept.

use super::wire::fault_message;
use crate::provider::ProviderError;

pub fn transport_error(service: &str, err: &reqwest::Error) -> ProviderError {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not be reached"
    } else {
        "dropped the connection"
    };
    ProviderError::Unavailable(format!("the {service} service {kind}"))
}

pub fn status_error(status: u16, what: &str, body: &[u8]) -> ProviderError {
    let detail =
        fault_message(body).unwrap_or_else(|| String::from_utf8_lossy(body).trim().chars().take(200).collect());
    let what = what.to_owned();
    match status {
        400 => ProviderError::Rejected { what, detail },
        // The token was accepted (Keystone's own refusals are the credential's): the request is not allowed.
        403 => ProviderError::Refused { what, detail },
        404 => ProviderError::NotFound { what, detail },
        409 => ProviderError::Conflict { what, detail },
        413 | 429 => ProviderError::Unavailable(format!("the provider is rate limiting requests for {what}")),
        s if s >= 500 => ProviderError::Unavailable(format!("the provider failed ({s}) for {what}")),
        // Anything else is the provider misbehaving, not us and not the caller.
        status => ProviderError::Unexpected { status, what, detail },
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
            matches!(&err, ProviderError::Conflict { what, detail } if what == "server abc" && detail.contains("vm_state active")),
            "{err:?}"
        );
        assert!(
            matches!(status_error(404, "server x", b"{}"), ProviderError::NotFound { what, .. } if what == "server x")
        );
        assert!(matches!(status_error(503, "server x", b""), ProviderError::Unavailable(_)));
        assert!(
            matches!(status_error(400, "server x", b"bad"), ProviderError::Rejected { detail, .. } if detail == "bad")
        );
        let quota = br#"{"forbidden": {"code": 403, "message": "Quota exceeded for instances: Requested 1, but already used 16 of 16 instances"}}"#;
        assert!(
            matches!(status_error(403, "server x", quota), ProviderError::Refused { detail, .. } if detail.starts_with("Quota exceeded for instances")),
        );
        let teapot = status_error(418, "server x", br#"{"computeFault": {"code": 418, "message": "I'm a teapot"}}"#);
        assert!(
            matches!(&teapot, ProviderError::Unexpected { status: 418, detail, .. } if detail.contains("teapot")),
            "{teapot:?}"
        );
    }
}
