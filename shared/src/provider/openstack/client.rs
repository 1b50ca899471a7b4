//! The HTTP side of the adapter: every call carries a timeout, the cached token and, for Nova, the
//! microversion; every failure comes back as a domain error that names the resource.

use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::errors::{is_throttling, status_error_after, transport_error};
use super::identity::{Session, SessionCache};
use super::wire::ServerAction;
use super::COMPUTE_MICROVERSION;
use crate::lazy_http::LazyClient;
use crate::provider::{ProviderCredential, Receipt};
use crate::provider::{ProviderError, Result};

#[derive(Debug, Clone)]
pub struct OpenStackConfig {
    /// Whole-request timeout for every provider call, Keystone included.
    pub timeout: Duration,
    /// A token this close to expiry is replaced before use.
    pub token_refresh_margin: Duration,
}

impl Default for OpenStackConfig {
    fn default() -> Self {
        OpenStackConfig { timeout: Duration::from_secs(10), token_refresh_margin: Duration::from_secs(300) }
    }
}

pub struct OpenStackProvider {
    http: LazyClient,
    sessions: SessionCache,
    config: OpenStackConfig,
}

#[derive(Clone, Copy)]
pub(super) enum Service {
    Compute,
    Image,
    Network,
    /// Keystone itself (the credential's endpoint).
    Identity,
    /// Cinder, where the catalog has it.
    Volume,
}

impl OpenStackProvider {
    pub fn new(config: OpenStackConfig) -> Result<Self> {
        let timeout = config.timeout;
        let http = LazyClient::new(move || {
            reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout)
                .pool_idle_timeout(Duration::from_secs(50))
        });
        Ok(OpenStackProvider { http, sessions: SessionCache::default(), config })
    }

    /// The HTTP client, built at the first provider call (see [`LazyClient`]).
    fn http(&self) -> Result<&reqwest::Client> {
        self.http.get().map_err(ProviderError::failed)
    }

    /// Takes a token for each credential (and opens its Keystone connection) before the first
    /// request needs one, within `budget` in all: a function that always calls the provider does
    /// this during init. A failure only means the first request authenticates itself.
    pub async fn warm(&self, creds: &[ProviderCredential], budget: Duration) {
        let margin = self.config.token_refresh_margin;
        let all = async {
            for cred in creds {
                let session = match self.http() {
                    Ok(http) => self.sessions.get(http, cred, margin, None).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = session {
                    tracing::warn!(error = %e, "provider warm-up failed; the first request authenticates");
                }
            }
        };
        if tokio::time::timeout(budget, all).await.is_err() {
            tracing::warn!("provider warm-up ran out of time; the first request authenticates");
        }
    }

    /// Whether the credential's catalog has block storage (authenticating if there is no token yet).
    pub(super) async fn has_block_storage(&self, cred: &ProviderCredential) -> Result<bool> {
        let session = self.sessions.get(self.http()?, cred, self.config.token_refresh_margin, None).await?;
        Ok(session.volume_url.is_some())
    }

    /// The project the credential's token is scoped to (authenticating if there is no token yet).
    pub(super) async fn project_id(&self, cred: &ProviderCredential) -> Result<Option<String>> {
        let session = self.sessions.get(self.http()?, cred, self.config.token_refresh_margin, None).await?;
        Ok(session.project_id)
    }

    /// Sends one request; on 401 the token is replaced and the request sent once more. When the
    /// provider asks us to slow down (429, a 413 that is not a quota; a 503 with `Retry-After` for a
    /// request that may be repeated) it is sent again after a backoff ([`throttle_wait`]) at most
    /// [`THROTTLE_RETRIES`] times, never in a tight loop; then it is [`ProviderError::Throttled`].
    pub(super) async fn send(
        &self,
        cred: &ProviderCredential,
        service: Service,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<(Vec<u8>, Receipt)> {
        self.send_as(cred, service, method, path, body.map(|b| (b, "application/json")), what).await
    }

    /// A JSON patch (`PATCH` with the service's own patch media type).
    pub(super) async fn send_patch(
        &self,
        cred: &ProviderCredential,
        service: Service,
        path: &str,
        patch: &serde_json::Value,
        media_type: &str,
        what: &str,
    ) -> Result<(Vec<u8>, Receipt)> {
        self.send_as(cred, service, Method::PATCH, path, Some((patch, media_type)), what).await
    }

    /// [`Self::send`] with the body's media type.
    async fn send_as(
        &self,
        cred: &ProviderCredential,
        service: Service,
        method: Method,
        path: &str,
        body: Option<(&serde_json::Value, &str)>,
        what: &str,
    ) -> Result<(Vec<u8>, Receipt)> {
        let margin = self.config.token_refresh_margin;
        let mut session = self.sessions.get(self.http()?, cred, margin, None).await?;
        let (mut refreshed, mut throttled) = (false, 0);
        loop {
            let sent = self.send_once(&session, service, method.clone(), path, body, what).await?;
            let (status, bytes, receipt, retry_after) = sent;
            if status == 401 && !refreshed {
                refreshed = true;
                session = self.sessions.get(self.http()?, cred, margin, Some(&session.token)).await?;
                continue;
            }
            if status == 401 {
                return Err(ProviderError::Unauthorized(format!("provider refused our token for {what} ({status})")));
            }
            let repeatable = method != Method::POST;
            let slow_down = is_throttling(status, &bytes) || (status == 503 && retry_after.is_some() && repeatable);
            if slow_down && throttled < THROTTLE_RETRIES {
                if let Some(wait) = throttle_wait(throttled, retry_after) {
                    tracing::info!(
                        what,
                        status,
                        wait_ms = wait.as_millis() as u64,
                        "the provider asks us to slow down"
                    );
                    tokio::time::sleep(wait).await;
                    throttled += 1;
                    continue;
                }
            }
            if !(200..300).contains(&status) {
                return Err(status_error_after(status, what, &bytes, retry_after));
            }
            return Ok((bytes, receipt));
        }
    }

    async fn send_once(
        &self,
        session: &Session,
        service: Service,
        method: Method,
        path: &str,
        body: Option<(&serde_json::Value, &str)>,
        what: &str,
    ) -> Result<(u16, Vec<u8>, Receipt, Option<Duration>)> {
        let (base, service_name) = match service {
            Service::Compute => (session.compute_url.as_str(), "compute"),
            Service::Image => (glance_base(&session.image_url), "image"),
            Service::Network => match &session.network_url {
                Some(url) => (neutron_base(url), "network"),
                None => return Err(ProviderError::failed("the provider catalog has no public network endpoint")),
            },
            Service::Identity => (session.identity_url.as_str(), "identity"),
            Service::Volume => match &session.volume_url {
                Some(url) => (url.as_str(), "block-storage"),
                None => return Err(ProviderError::failed("the provider catalog has no public block-storage endpoint")),
            },
        };
        let mut request = self.http()?.request(method, format!("{base}{path}")).header("X-Auth-Token", &session.token);
        if let Service::Compute = service {
            request = request.header("OpenStack-API-Version", format!("compute {COMPUTE_MICROVERSION}"));
        }
        if let Some((body, media_type)) = body {
            request = request.header("Content-Type", media_type).body(body.to_string());
        }
        let response = request.send().await.map_err(|e| transport_error(service_name, &e))?;
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("x-openstack-request-id")
            .or_else(|| response.headers().get("x-compute-request-id"))
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(128).collect::<String>());
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(retry_after);
        let bytes = response.bytes().await.map_err(|e| transport_error(service_name, &e))?;
        tracing::debug!(
            service = service_name,
            status,
            what,
            request_id = request_id.as_deref().unwrap_or_default(),
            "provider call"
        );
        Ok((status, bytes.to_vec(), Receipt { request_id }, retry_after))
    }

    pub(super) async fn json<T: DeserializeOwned>(
        &self,
        cred: &ProviderCredential,
        service: Service,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<T> {
        Ok(self.json_receipt(cred, service, method, path, body, what).await?.0)
    }

    /// The answer's JSON, or `null` for an empty answer (a 204): the administration calls of
    /// Keystone and Neutron, read as documents rather than typed wire structs.
    pub(super) async fn document(
        &self,
        cred: &ProviderCredential,
        service: Service,
        (method, path): (Method, &str),
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<serde_json::Value> {
        let (bytes, _) = self.send(cred, service, method, path, body, what).await?;
        if bytes.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| ProviderError::unavailable(format!("unreadable answer for {what}: {e}")))
    }

    /// [`Self::json`] with the provider's request id.
    pub(super) async fn json_receipt<T: DeserializeOwned>(
        &self,
        cred: &ProviderCredential,
        service: Service,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<(T, Receipt)> {
        let (bytes, receipt) = self.send(cred, service, method, path, body, what).await?;
        let parsed = serde_json::from_slice(&bytes)
            .map_err(|e| ProviderError::unavailable(format!("unreadable provider response for {what}: {e}")))?;
        Ok((parsed, receipt))
    }

    pub(super) async fn action(
        &self,
        cred: &ProviderCredential,
        id: &str,
        action: &ServerAction,
    ) -> Result<(Vec<u8>, Receipt)> {
        let body = to_value(action)?;
        let what = format!("server {id}");
        self.send(cred, Service::Compute, Method::POST, &format!("/servers/{id}/action"), Some(&body), &what).await
    }
}

/// Glance catalogs usually list the unversioned root; some list `/v2` already.
fn glance_base(url: &str) -> &str {
    url.strip_suffix("/v2").unwrap_or(url)
}

/// Neutron catalogs list the unversioned root (paths here start `/v2.0`); some list `/v2.0` already.
fn neutron_base(url: &str) -> &str {
    url.strip_suffix("/v2.0").unwrap_or(url)
}

pub(super) fn to_value<T: Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| ProviderError::failed(format!("cannot encode provider request: {e}")))
}

/// Times a request the provider throttles is sent again (so at most three sends in all).
pub const THROTTLE_RETRIES: u32 = 2;
/// The longest the adapter waits before sending again; a provider asking for longer is answered
/// at once (the caller gets 503 with the provider's `Retry-After`).
pub const MAX_THROTTLE_WAIT: Duration = Duration::from_secs(2);

/// How long to wait before the `attempt`-th resend: the provider's `Retry-After`, else 250 ms
/// doubled each time, with up to a quarter more of jitter so containers do not resend in step;
/// `None` when the provider asks for more than [`MAX_THROTTLE_WAIT`].
pub fn throttle_wait(attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
    let backoff = Duration::from_millis(250) * 2u32.saturating_pow(attempt);
    let base = retry_after.unwrap_or(backoff).max(backoff);
    if base > MAX_THROTTLE_WAIT {
        return None;
    }
    let jitter_ms = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * (base.as_millis() as u64 / 4) / 255;
    Some((base + Duration::from_millis(jitter_ms)).min(MAX_THROTTLE_WAIT))
}

/// `Retry-After` as seconds (the form OpenStack services send); an HTTP date is not honoured.
fn retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(|s| Duration::from_secs(s.min(3600)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glance_roots_are_normalised() {
        assert_eq!(glance_base("http://h/image/v2"), "http://h/image");
        assert_eq!(neutron_base("http://h:9696/v2.0"), "http://h:9696");
        assert_eq!(neutron_base("http://h:9696"), "http://h:9696");
    }
}
