//! The identity adapter: OIDC discovery once per container, then `GET userinfo` and the ACL routes,
//! each with a timeout (at most 2 s), over mutual TLS when the platform has a client certificate.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use serde::Deserialize;
use tokio::sync::OnceCell;

use super::certificate::common_name_of_pem;
use super::{AclRequest, Credential, IdentityError, IdentityService, Userinfo, UserinfoWire};
use crate::error::{Error, Result};
use crate::lazy_http::LazyClient;
use crate::rbac::{Acl, IdentityAcl};
use crate::text::percent_encode;

/// Unikorn bounds the whole authentication by this; no identity call waits longer.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(2);
/// Far above any userinfo or ACL identity answers; a larger body is unreadable, not a crash.
const MAX_BODY: usize = 1024 * 1024;

/// Where identity is and how to reach it.
#[derive(Clone, Default)]
pub struct IdentityConfig {
    /// The identity service's base URL (`IDENTITY_URL`), e.g. `https://identity.example.com`.
    pub url: String,
    /// Per call, capped at [`MAX_TIMEOUT`].
    pub timeout: Option<Duration>,
    /// The platform's own client certificate and key (PEM), for mutual TLS to identity: required
    /// to ask the ACL of a service that called with a certificate.
    pub client_identity_pem: Option<String>,
    /// A private CA identity's certificate chains to (PEM).
    pub ca_pem: Option<String>,
}

impl std::fmt::Debug for IdentityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityConfig")
            .field("url", &self.url)
            .field("timeout", &self.timeout)
            .field("client_certificate", &self.client_identity_pem.as_deref().and_then(common_name_of_pem))
            .finish()
    }
}

pub struct HttpIdentity {
    http: LazyClient,
    base: String,
    userinfo_endpoint: OnceCell<String>,
}

#[derive(Deserialize)]
struct Discovery {
    userinfo_endpoint: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<String>,
    error_description: Option<String>,
}

pub(super) fn transport(e: reqwest::Error) -> IdentityError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "the connection failed"
    };
    IdentityError::Unavailable(what.into())
}

impl HttpIdentity {
    /// Checks the configuration (the URL, the certificates) now; the HTTP client itself is built
    /// at the first identity call ([`LazyClient`]).
    pub fn new(config: &IdentityConfig) -> Result<Self> {
        let base = config.url.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(Error::internal("IDENTITY_URL must be an http(s) URL"));
        }
        let timeout = config.timeout.unwrap_or(MAX_TIMEOUT).min(MAX_TIMEOUT);
        let identity = match &config.client_identity_pem {
            Some(pem) => Some(
                reqwest::Identity::from_pem(pem.as_bytes())
                    .map_err(|e| Error::internal(format!("the identity client certificate is unreadable: {e}")))?,
            ),
            None => None,
        };
        let certs = match &config.ca_pem {
            Some(pem) => reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| Error::internal(format!("the identity CA certificate is unreadable: {e}")))?,
            None => Vec::new(),
        };
        let http = LazyClient::new(move || {
            let mut builder = reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout)
                .pool_idle_timeout(Duration::from_secs(50))
                .redirect(reqwest::redirect::Policy::none());
            if let Some(identity) = identity.clone() {
                builder = builder.identity(identity);
            }
            if !certs.is_empty() {
                builder = builder.tls_certs_merge(certs.clone());
            }
            builder
        });
        Ok(HttpIdentity { http, base, userinfo_endpoint: OnceCell::new() })
    }

    pub(super) fn base(&self) -> &str {
        &self.base
    }

    pub(super) fn http(&self) -> Result<&reqwest::Client, IdentityError> {
        self.http.get().map_err(|e| IdentityError::Unavailable(e.to_owned()))
    }

    /// The discovered userinfo endpoint; discovery runs once per container (a failure is retried by
    /// the next request).
    async fn userinfo_endpoint(&self) -> Result<&str, IdentityError> {
        let endpoint = self
            .userinfo_endpoint
            .get_or_try_init(|| async {
                let url = format!("{}/.well-known/openid-configuration", self.base);
                let response = self.http()?.get(url).send().await.map_err(transport)?;
                let status = response.status();
                let body = read(response).await?;
                if !status.is_success() {
                    return Err(IdentityError::Unavailable(format!("discovery answered {}", status.as_u16())));
                }
                let discovery: Discovery = serde_json::from_slice(&body)
                    .map_err(|e| IdentityError::Unreadable(format!("openid-configuration: {e}")))?;
                Ok(discovery.userinfo_endpoint)
            })
            .await?;
        Ok(endpoint)
    }
}

pub(super) async fn read(response: reqwest::Response) -> Result<Vec<u8>, IdentityError> {
    if response.content_length().is_some_and(|l| l > MAX_BODY as u64) {
        return Err(IdentityError::Unreadable("the answer is over 1 MiB".into()));
    }
    let bytes = response.bytes().await.map_err(transport)?;
    if bytes.len() > MAX_BODY {
        return Err(IdentityError::Unreadable("the answer is over 1 MiB".into()));
    }
    Ok(bytes.to_vec())
}

/// An answer that is not 200: 401 is a refusal, 5xx unavailability, anything else is passed on.
pub(super) fn refusal(status: StatusCode, body: &[u8]) -> IdentityError {
    if status == StatusCode::UNAUTHORIZED {
        return IdentityError::Refused;
    }
    if status.is_server_error() {
        return IdentityError::Unavailable(format!("answered {}", status.as_u16()));
    }
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let (code, description) = match parsed {
        Some(b) => (b.error, b.error_description),
        None => (None, None),
    };
    let description: String = description.unwrap_or_else(|| format!("identity answered {}", status.as_u16()));
    IdentityError::Answered { status: status.as_u16(), code, description: description.chars().take(512).collect() }
}

#[async_trait]
impl IdentityService for HttpIdentity {
    async fn userinfo(&self, token: &str) -> Result<Userinfo, IdentityError> {
        let endpoint = self.userinfo_endpoint().await?;
        let response = self.http()?.get(endpoint).bearer_auth(token).send().await.map_err(transport)?;
        let status = response.status();
        let body = read(response).await?;
        if status != StatusCode::OK {
            return Err(refusal(status, &body));
        }
        let wire: UserinfoWire =
            serde_json::from_slice(&body).map_err(|e| IdentityError::Unreadable(format!("userinfo: {e}")))?;
        Ok(wire.into())
    }

    async fn acl(&self, request: &AclRequest<'_>) -> Result<Acl, IdentityError> {
        let url = match request.organization {
            Some(org) => format!("{}/api/v1/organizations/{}/acl", self.base, percent_encode(org)),
            None => format!("{}/api/v1/acl", self.base),
        };
        let mut call = self.http()?.get(url);
        call = match request.credential {
            Credential::Bearer(token) => call.header("authorization", format!("bearer {token}")),
            // Identity knows the service by the certificate relayed; ours opened the connection.
            Credential::Certificate { pem, .. } => call.header("unikorn-client-certificate", percent_encode(pem)),
        };
        if let Some(principal) = &request.principal.header {
            call = call.header("x-principal", principal);
        }
        if request.principal.impersonate {
            call = call.header("x-impersonate", "true");
        }
        let response = call.send().await.map_err(transport)?;
        let status = response.status();
        let body = read(response).await?;
        if status != StatusCode::OK {
            return Err(refusal(status, &body));
        }
        let wire: IdentityAcl =
            serde_json::from_slice(&body).map_err(|e| IdentityError::Unreadable(format!("acl: {e}")))?;
        Ok(wire.into_acl(request.organization))
    }
}
