//! What the provider adapter reports: the provider's answer, classified, with its own message kept
//! as the cause. Never words for the caller: the use-cases decide what a caller is told
//! (`usecase::errors`).

/// Provider answers the adapter does not treat as success.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// The provider has no such resource (404).
    #[error("{what} not found at the provider: {detail}")]
    NotFound { what: String, detail: String },
    /// The resource's state does not allow the request (409).
    #[error("{what} is in a state that does not allow this: {detail}")]
    Conflict { what: String, detail: String },
    /// The provider refused the request itself as malformed (400).
    #[error("the provider rejected the request for {what}: {detail}")]
    Rejected { what: String, detail: String },
    /// The provider refused the request as not allowed (403 from a service: a quota, a policy, a
    /// flavor's constraint); the credential itself was accepted.
    #[error("the provider refused the request for {what}: {detail}")]
    Refused { what: String, detail: String },
    /// The project's quota for `resource` (instances, cores, ram, port, ...) is used up: Nova's 403
    /// or 413 "Quota exceeded for ...", Neutron's 409 `OverQuota`.
    #[error("the provider's quota for {resource} is exhausted ({what}): {detail}")]
    Quota { what: String, resource: String, detail: String },
    /// The provider is limiting our requests (429, a 413 that is not a quota, a 503 asking us to
    /// wait) and still was after the adapter's backoff: nothing was done.
    #[error("the provider is limiting requests for {what}")]
    Throttled { what: String, retry_after: Option<std::time::Duration> },
    /// The provider refused the platform's own credential.
    #[error("{0}")]
    Unauthorized(String),
    /// No answer, a 5xx, an unreadable answer: the outcome is unknown.
    #[error("{0}")]
    Unavailable(String),
    /// A status outside the mapped set.
    #[error("the provider answered {status} for {what}: {detail}")]
    Unexpected { status: u16, what: String, detail: String },
    /// A request that could not be built, a catalog without the service.
    #[error("{0}")]
    Failed(String),
}

impl ProviderError {
    pub fn unavailable(cause: impl Into<String>) -> Self {
        ProviderError::Unavailable(cause.into())
    }

    pub fn failed(cause: impl Into<String>) -> Self {
        ProviderError::Failed(cause.into())
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ProviderError::NotFound { what: what.into(), detail: String::new() }
    }
}

pub type Result<T, E = ProviderError> = std::result::Result<T, E>;
