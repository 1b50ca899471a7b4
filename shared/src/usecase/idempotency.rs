//! Idempotent requests (`Idempotency-Key`), as AWS Lambda Powertools does it: one conditional put
//! claims the key for an attempt (in progress, with an expiry so a crashed attempt can be retried);
//! the attempt's response is then stored with a hash of the request body, and DynamoDB's TTL
//! forgets the key after a day.
//!
//! Same key and same body: the first response again, without running anything. Same key and a
//! different body: 422. A retry while the first attempt still runs: 409 with `Retry-After`.
//!
//! An attempt whose outcome is unknown (the provider did not answer) gives its key back, but what
//! it made carries the key ([`RequestKey`]): the retry finds it instead of making another (a
//! server by its name claim, an image by its property), as EC2's client tokens do.

use std::future::Future;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::Deps;
use crate::domain::RequestKey;
use crate::error::{Error, Result};
use crate::rbac::Caller;
use crate::store::{IdempotencyStore, KeyClaim, KeyState, StoredResponse};

/// How long a key (and its response) is kept.
pub const KEY_LIFETIME_HOURS: i64 = 24;
/// After this, an attempt that never completed (its function crashed) no longer holds the key.
/// Longer than any function runs.
pub const ATTEMPT_TIMEOUT_SECONDS: i64 = 60;
/// How long a duplicate waits for the first attempt's answer before it is told to retry (well
/// inside the functions' timeouts).
const WAIT_FOR_FIRST: Duration = Duration::from_secs(8);
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// A client's idempotency key: 1-255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(value: &str) -> Result<Self> {
        if value.is_empty() || value.len() > 255 || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid("Idempotency-Key: must be 1-255 printable characters without spaces"));
        }
        Ok(IdempotencyKey(value.to_owned()))
    }
}

/// The body's fingerprint: its JSON value with sorted keys, so formatting does not matter.
pub fn body_hash(body: &[u8]) -> String {
    let canonical = serde_json::from_slice::<serde_json::Value>(body).map(|v| v.to_string().into_bytes());
    let digest = Sha256::digest(canonical.as_deref().unwrap_or(body));
    crate::text::hex(&digest)
}

/// The key as a record keeps it (see [`RequestKey`]): the scoped key's digest and the body's.
pub fn request_key(caller: &Caller, operation: &str, key: &IdempotencyKey, body: &[u8]) -> RequestKey {
    let digest = Sha256::digest(scoped(caller, operation, key).as_bytes());
    RequestKey { key: crate::text::hex(&digest), body: body_hash(body) }
}

fn scoped(caller: &Caller, operation: &str, key: &IdempotencyKey) -> String {
    format!("{}#{operation}#{}", caller.subject, key.0)
}

/// Claims the key for this attempt (`None`), or answers what it already holds: the first
/// attempt's response, a 422 for another body, or a 409 with Retry-After while the first attempt
/// runs (after waiting a while for it).
async fn claim<S: IdempotencyStore, P>(deps: &Deps<S, P>, scoped: &str, hash: &str) -> Result<Option<StoredResponse>> {
    let started = std::time::Instant::now();
    loop {
        let now = deps.clock.now();
        let claim = KeyClaim {
            key: scoped,
            body_hash: hash,
            now,
            until: now + chrono::Duration::seconds(ATTEMPT_TIMEOUT_SECONDS),
            expires_at: now + chrono::Duration::hours(KEY_LIFETIME_HOURS),
        };
        match deps.store.claim_key(&claim).await? {
            KeyState::Claimed => return Ok(None),
            KeyState::Completed { body_hash, .. } | KeyState::InProgress { body_hash, .. } if body_hash != hash => {
                return Err(Error::unprocessable(
                    "Idempotency-Key: this key was used with a different request body; use a new key",
                ));
            }
            KeyState::Completed { response, .. } => return Ok(Some(response)),
            // A duplicate of a request still running waits for its answer, for a while.
            KeyState::InProgress { .. } if started.elapsed() < WAIT_FOR_FIRST => {
                tokio::time::sleep(POLL_INTERVAL).await;
            }
            KeyState::InProgress { until, .. } => {
                let wait = (until - now).num_seconds().clamp(1, ATTEMPT_TIMEOUT_SECONDS) as u64;
                return Err(Error::InProgress {
                    message: format!("a request with this Idempotency-Key is still being processed: retry in {wait} s"),
                    retry_after: Duration::from_secs(wait),
                });
            }
        }
    }
}

/// Runs `attempt` once per key: keys are scoped to the caller and the operation, so two callers
/// (or two routes) never share one.
pub async fn once<S: IdempotencyStore, P, F, Fut>(
    deps: &Deps<S, P>,
    caller: &Caller,
    operation: &str,
    key: Option<&IdempotencyKey>,
    body: &[u8],
    attempt: F,
) -> Result<StoredResponse>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<StoredResponse>>,
{
    let Some(key) = key else { return attempt().await };
    let scoped = scoped(caller, operation, key);
    let hash = body_hash(body);
    if let Some(replay) = claim(deps, &scoped, &hash).await? {
        return Ok(replay);
    }
    match attempt().await {
        Ok(response) => {
            if let Err(e) = deps.store.complete_key(&scoped, &hash, &response).await {
                // The work is done; the key expires as in progress and a late retry runs again.
                tracing::warn!(error = %e, "could not store the idempotent response");
            }
            Ok(response)
        }
        Err(e) => {
            if let Err(release) = deps.store.release_key(&scoped, &hash).await {
                tracing::warn!(error = %release, "could not release an idempotency key; it expires on its own");
            }
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_ignores_formatting_but_not_content() {
        let a = body_hash(br#"{"metadata": {"name": "web"}, "spec": {"flavorId": "2"}}"#);
        let b = body_hash(br#"{"spec":{"flavorId":"2"},"metadata":{"name":"web"}}"#);
        let c = body_hash(br#"{"spec":{"flavorId":"3"},"metadata":{"name":"web"}}"#);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn keys_are_printable_and_bounded() {
        assert!(IdempotencyKey::parse("3f1e8a52-retry-1").is_ok());
        for bad in ["", "a b", "é", &"k".repeat(256)] {
            assert_eq!(IdempotencyKey::parse(bad).map(|_| ()).expect_err(bad).status_and_code().0, 400);
        }
    }
}
