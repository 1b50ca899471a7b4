//! What a caller is told about a store or provider outcome when the use-case has nothing more
//! specific to say (the use-cases match the outcomes they give their own words to, such as a taken
//! name or a server in the wrong state).

use crate::domain::{ActionError, QUOTA};
use crate::error::Error;
use crate::provider::ProviderError;
use crate::store::StoreError;

impl From<ProviderError> for Error {
    fn from(err: ProviderError) -> Self {
        match err {
            ProviderError::NotFound { what, .. } => Error::not_found(format!("{what} was not found at the provider")),
            ProviderError::Conflict { what, detail } => {
                Error::conflict(format!("{what} is in a state the provider does not allow this in: {detail}"))
            }
            ProviderError::Rejected { what, detail } => {
                Error::unprocessable(format!("the provider rejected the request for {what}: {detail}"))
            }
            ProviderError::Refused { what, detail } => {
                Error::unprocessable(format!("the provider refused the request for {what}: {detail}"))
            }
            // 409: the request is sound, the project's usage is what stands in the way; it succeeds
            // once usage drops or the quota is raised (docs/fair-use.md).
            ProviderError::Quota { resource, detail, .. } => {
                Error::conflict(format!("the project's {resource} quota at the provider is exhausted: {detail}"))
            }
            ProviderError::Throttled { what, retry_after } => Error::Unavailable {
                message: format!("the provider is limiting requests for {what}: retry later"),
                retry_after: Some(
                    retry_after.unwrap_or(std::time::Duration::from_secs(5)).max(std::time::Duration::from_secs(1)),
                ),
            },
            ProviderError::Unauthorized(cause) => Error::ProviderUnauthorized(cause),
            ProviderError::Unavailable(cause) => Error::unavailable(cause),
            ProviderError::Unexpected { status, what, detail } => {
                Error::BadGateway(format!("the provider answered {status} for {what}: {detail}"))
            }
            ProviderError::Failed(cause) => Error::internal(cause),
        }
    }
}

/// How an action ends when the provider refuses its call: the provider's own message kept.
pub(crate) fn action_error(err: &ProviderError) -> ActionError {
    match err {
        ProviderError::Conflict { detail, .. } => ActionError::new("provider_conflict", detail.clone()),
        ProviderError::Rejected { detail, .. } => ActionError::new("provider_rejected", detail.clone()),
        ProviderError::Refused { detail, .. } => ActionError::new("provider_refused", detail.clone()),
        ProviderError::NotFound { detail, .. } => ActionError::new("provider_not_found", detail.clone()),
        ProviderError::Quota { detail, .. } => ActionError::new(QUOTA, detail.clone()),
        other => ActionError::new("provider_error", other.to_string()),
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Missing(kind, id) => Error::not_found(format!("no {kind} found with id {id}")),
            StoreError::Exists(kind, id) => Error::conflict(format!("{kind} {id} already exists")),
            StoreError::Changed(kind, id) => {
                Error::PreconditionFailed(format!("{kind} {id} was modified by another request"))
            }
            StoreError::Closing(kind, id) => Error::conflict(format!("{kind} {id} is being deleted")),
            StoreError::InUse(kind, id) => Error::conflict(format!("{kind} {id} is in use")),
            StoreError::Protected(kind, id) => Error::conflict(format!("{kind} {id} is protected from this change")),
            StoreError::NameTaken { network, name } => {
                Error::conflict(format!("a server named {name} already exists on network {network}"))
            }
            StoreError::TooLarge => Error::unprocessable(
                "the resource would be larger than the service can store: send fewer or shorter values",
            ),
            StoreError::Refused(cause) => {
                tracing::warn!(cause = %cause, "the database refused a request as invalid");
                Error::invalid("the request could not be stored")
            }
            StoreError::Unavailable(cause) => Error::unavailable(format!("the database did not answer ({cause})")),
            StoreError::Failed(cause) => Error::internal(cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Kind;

    #[test]
    fn provider_answers_become_one_answer_each() {
        let what = || "server s".to_owned();
        let cases = [
            (ProviderError::NotFound { what: what(), detail: "gone".into() }, 404),
            (ProviderError::Conflict { what: what(), detail: "vm_state active".into() }, 409),
            // The provider refusing well-formed input (documented 422; it was 400).
            (ProviderError::Rejected { what: what(), detail: "bad flavorRef".into() }, 422),
            // A 403 from a service with our token accepted: quota, policy; not our credential (it was 500).
            (ProviderError::Refused { what: what(), detail: "Policy doesn't allow this".into() }, 422),
            // Issue 23: the exhausted quota is a conflict with the project's usage (it was 500, then 422).
            (ProviderError::Quota { what: what(), resource: "instances".into(), detail: "Quota exceeded".into() }, 409),
            (ProviderError::Throttled { what: what(), retry_after: None }, 503),
            (ProviderError::Unauthorized("token refused".into()), 500),
            (ProviderError::unavailable("timed out"), 503),
            (ProviderError::Unexpected { status: 418, what: what(), detail: "teapot".into() }, 502),
            (ProviderError::failed("no compute endpoint"), 500),
        ];
        for (err, status) in cases {
            assert_eq!(Error::from(err.clone()).status_and_code().0, status, "{err:?}");
        }
        let unauthorized = Error::from(ProviderError::Unauthorized("app credential abc refused".into()));
        assert!(!unauthorized.public_description().contains("abc"), "our credential stays in the logs");
    }

    #[test]
    fn store_causes_become_one_answer_each() {
        let cases = [
            (StoreError::Missing(Kind::Network, "n".into()), 404),
            (StoreError::Exists(Kind::Identity, "i".into()), 409),
            (StoreError::Changed(Kind::Server, "s".into()), 412),
            (StoreError::Closing(Kind::Network, "n".into()), 409),
            (StoreError::NameTaken { network: "n".into(), name: "web".into() }, 409),
            (StoreError::TooLarge, 422),
            (StoreError::Refused("Invalid FilterExpression".into()), 400),
            (StoreError::Unavailable("timeout".into()), 503),
            (StoreError::failed("unreadable item"), 500),
        ];
        for (err, status) in cases {
            let answer = Error::from(err.clone());
            assert_eq!(answer.status_and_code().0, status, "{err:?}");
            assert!(!answer.public_description().contains("FilterExpression"), "internals stay in the logs");
        }
    }
}
