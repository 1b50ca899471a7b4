//! OpenStack answers as provider errors: transport failures, and HTTP statuses with the service's
//! own fault message kept.

use std::time::Duration;

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
    status_error_after(status, what, body, None)
}

/// Which quota a refusal names: Nova's "Quota exceeded for instances: Requested 1, but ..." (or
/// "for cores, ram: ..."), Neutron's "Quota exceeded for resources: ['port']."
pub fn exhausted_quota(detail: &str) -> Option<String> {
    const MARK: &str = "quota exceeded for ";
    let lower = detail.to_ascii_lowercase();
    let start = lower.find(MARK)? + MARK.len();
    let rest = &detail[start..];
    let named = rest.split([':', '.']).next().unwrap_or_default().trim();
    let resource = match named.strip_prefix("resources") {
        Some(list) => list.trim_start_matches(':').trim(),
        None => named,
    };
    let resource = if resource.is_empty() {
        // Neutron's list follows the colon: "resources: ['port']".
        rest.split_once(':').map(|(_, list)| list).unwrap_or_default()
    } else {
        resource
    };
    let cleaned: String = resource
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | '\'' | '"'))
        .collect::<String>()
        .trim()
        .trim_end_matches('.')
        .to_owned();
    (!cleaned.is_empty()).then_some(cleaned.chars().take(64).collect())
}

/// Whether an answer is the provider asking us to slow down (rather than a quota).
pub fn is_throttling(status: u16, body: &[u8]) -> bool {
    match status {
        429 => true,
        413 => fault_message(body).is_none_or(|d| exhausted_quota(&d).is_none()),
        _ => false,
    }
}

/// [`status_error`] with the `Retry-After` the provider sent.
pub fn status_error_after(status: u16, what: &str, body: &[u8], retry_after: Option<Duration>) -> ProviderError {
    let detail =
        fault_message(body).unwrap_or_else(|| String::from_utf8_lossy(body).trim().chars().take(200).collect());
    let what = what.to_owned();
    if matches!(status, 403 | 409 | 413) {
        if let Some(resource) = exhausted_quota(&detail) {
            return ProviderError::Quota { what, resource, detail };
        }
    }
    if is_throttling(status, body) || (status == 503 && retry_after.is_some()) {
        return ProviderError::Throttled { what, retry_after };
    }
    match status {
        400 => ProviderError::Rejected { what, detail },
        // The token was accepted (Keystone's own refusals are the credential's): the request is not allowed.
        403 => ProviderError::Refused { what, detail },
        404 => ProviderError::NotFound { what, detail },
        409 => ProviderError::Conflict { what, detail },
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
        let policy = br#"{"forbidden": {"code": 403, "message": "Policy doesn't allow os_compute_api:servers:create to be performed."}}"#;
        assert!(matches!(status_error(403, "server x", policy), ProviderError::Refused { .. }));
        let teapot = status_error(418, "server x", br#"{"computeFault": {"code": 418, "message": "I'm a teapot"}}"#);
        assert!(
            matches!(&teapot, ProviderError::Unexpected { status: 418, detail, .. } if detail.contains("teapot")),
            "{teapot:?}"
        );
    }

    /// Regression (issue 23): a quota refusal was an authorization failure, then a generic 422.
    #[test]
    fn quota_refusals_name_the_exhausted_quota() {
        let nova = br#"{"forbidden": {"code": 403, "message": "Quota exceeded for instances: Requested 1, but already used 16 of 16 instances"}}"#;
        let err = status_error(403, "server x", nova);
        assert!(matches!(&err, ProviderError::Quota { resource, .. } if resource == "instances"), "{err:?}");
        let old_nova = br#"{"overLimit": {"code": 413, "message": "Quota exceeded for cores, ram: Requested 4, but already used 20 of 20 cores"}}"#;
        let err = status_error(413, "server x", old_nova);
        assert!(matches!(&err, ProviderError::Quota { resource, .. } if resource == "cores, ram"), "{err:?}");
        let neutron = br#"{"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for resources: ['port'].", "detail": ""}}"#;
        let err = status_error(409, "port", neutron);
        assert!(matches!(&err, ProviderError::Quota { resource, .. } if resource == "port"), "{err:?}");
    }

    #[test]
    fn rate_limits_are_throttling_with_the_providers_wait() {
        let wait = Some(Duration::from_secs(7));
        let limited = br#"{"overLimit": {"code": 413, "message": "This request was rate-limited."}}"#;
        for (status, body) in [(429, &b""[..]), (413, &limited[..])] {
            let err = status_error_after(status, "server x", body, wait);
            assert_eq!(err, ProviderError::Throttled { what: "server x".into(), retry_after: wait }, "{status}");
        }
        assert!(matches!(status_error_after(503, "x", b"", wait), ProviderError::Throttled { .. }));
        assert!(matches!(status_error_after(503, "x", b"", None), ProviderError::Unavailable(_)));
    }
}
