//! Authentication, as Unikorn's middleware does it: the credential from the request, the token
//! checked by identity's userinfo (cached per token), the ACL asked of identity for the route's
//! scope (cached per subject and scope), and what the caller is told when any of it fails.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::cache::{CacheKey, Shared, SharedCache, SingleFlight, TtlCache};
use super::certificate::{common_name_of_dn, common_name_of_pem};
use super::{AccountType, AclRequest, Credential, IdentityError, IdentityService, Principal, Userinfo};
use crate::error::{Error, Result};
use crate::rbac::{Acl, Caller};

/// Unikorn's bounds: userinfo per token for an hour in an LRU of 4,096; ACLs per subject and scope
/// for a minute in an LRU of 65,536.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSettings {
    pub token_ttl: Duration,
    pub token_entries: usize,
    pub acl_ttl: Duration,
    pub acl_entries: usize,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            token_ttl: Duration::from_secs(3600),
            token_entries: 4096,
            acl_ttl: Duration::from_secs(60),
            acl_entries: 65_536,
        }
    }
}

/// How long a container that claimed a question may take to write its answer, and how long the
/// others wait for it before asking identity themselves.
const CLAIM: Duration = Duration::from_secs(3);
const WAIT: Duration = Duration::from_millis(2500);
const POLL: Duration = Duration::from_millis(40);
/// No bearer token is this long; a longer header is malformed rather than sent on.
const MAX_TOKEN: usize = 8192;

/// A client certificate the gateway verified (`requestContext.authentication.clientCert`).
#[derive(Debug, Clone, Default)]
pub struct VerifiedCertificate {
    pub pem: Option<String>,
    pub subject_dn: Option<String>,
}

/// What a request presents: its `Authorization` header, the verified client certificate, the
/// principal a service passes on, and the organization its route names (v1 routes).
#[derive(Debug, Clone, Default)]
pub struct Presented {
    pub authorization: Option<String>,
    pub certificate: Option<VerifiedCertificate>,
    pub principal: Principal,
    pub organization: Option<String>,
}

/// The caller, and whether identity was asked (for the logs and the bench).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub caller: Caller,
    pub acctype: AccountType,
}

pub struct Authenticator {
    identity: Arc<dyn IdentityService>,
    shared: Arc<dyn SharedCache>,
    settings: CacheSettings,
    tokens: TtlCache<Userinfo>,
    acls: TtlCache<Acl>,
    flights: SingleFlight,
}

fn denied(message: &str) -> Error {
    Error::Unauthenticated(message.to_owned())
}

/// What the caller is told when identity could not say who it is.
fn told(e: IdentityError) -> Error {
    match e {
        IdentityError::Refused => denied("token is invalid or has expired"),
        IdentityError::Answered { status, code, description } => Error::passed_on(status, code.as_deref(), description),
        IdentityError::Unavailable(why) => {
            tracing::warn!(cause = %why, "identity unavailable");
            Error::Unavailable {
                message: "the identity service is unavailable".into(),
                retry_after: Some(Duration::from_secs(2)),
            }
        }
        IdentityError::Unreadable(why) => {
            tracing::error!(cause = %why, "identity answered unreadably");
            Error::BadGateway("the identity service answered unreadably".into())
        }
    }
}

fn seconds(d: Duration) -> chrono::Duration {
    chrono::Duration::milliseconds(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Authenticator {
    pub fn new(identity: Arc<dyn IdentityService>, shared: Arc<dyn SharedCache>, settings: CacheSettings) -> Self {
        Authenticator {
            identity,
            shared,
            settings,
            tokens: TtlCache::new(settings.token_entries),
            acls: TtlCache::new(settings.acl_entries),
            flights: SingleFlight::default(),
        }
    }

    /// `IDENTITY_TOKEN_CACHE_SECONDS` (3600), `IDENTITY_TOKEN_CACHE_SIZE` (4096),
    /// `IDENTITY_ACL_CACHE_SECONDS` (60), `IDENTITY_ACL_CACHE_SIZE` (65536).
    pub fn settings_from_env() -> Result<CacheSettings> {
        let number = |name: &str, default: u64| -> Result<u64> {
            match std::env::var(name) {
                Ok(v) => v.trim().parse().map_err(|_| Error::internal(format!("{name} is not a whole number"))),
                Err(_) => Ok(default),
            }
        };
        let defaults = CacheSettings::default();
        let entries = |n: u64| usize::try_from(n.max(1)).unwrap_or(usize::MAX);
        Ok(CacheSettings {
            token_ttl: Duration::from_secs(number("IDENTITY_TOKEN_CACHE_SECONDS", defaults.token_ttl.as_secs())?),
            token_entries: entries(number("IDENTITY_TOKEN_CACHE_SIZE", defaults.token_entries as u64)?),
            acl_ttl: Duration::from_secs(number("IDENTITY_ACL_CACHE_SECONDS", defaults.acl_ttl.as_secs())?),
            acl_entries: entries(number("IDENTITY_ACL_CACHE_SIZE", defaults.acl_entries as u64)?),
        })
    }

    /// Who presented this, and what identity says it may do.
    pub async fn authenticate(&self, presented: &Presented) -> Result<Authenticated> {
        let credential = credential(presented)?;
        let userinfo = match &credential {
            Credential::Bearer(token) => {
                let key = CacheKey::of("token", &[token]);
                self.cached(&self.tokens, key, self.settings.token_ttl, || self.identity.userinfo(token)).await?
            }
            // A service over mutual TLS is its certificate's common name, a system account.
            Credential::Certificate { common_name, .. } => {
                Userinfo { sub: common_name.clone(), acctype: AccountType::System, org_ids: Vec::new() }
            }
        };
        let principal = &presented.principal;
        let actor = principal.actor();
        let scope = presented.organization.as_deref().unwrap_or("_global");
        let key = if principal.impersonate {
            let actor = actor.clone().or_else(|| principal.header.clone()).unwrap_or_default();
            CacheKey::of("acl", &["impersonated", &userinfo.sub, &actor, scope])
        } else {
            CacheKey::of("acl", &["direct", &userinfo.sub, scope])
        };
        let request =
            AclRequest { credential: &credential, organization: presented.organization.as_deref(), principal };
        let acl = self.cached(&self.acls, key, self.settings.acl_ttl, || self.identity.acl(&request)).await?;
        // A system account acting for someone names them; anyone else is who a record says acted.
        let subject = match userinfo.acctype {
            AccountType::System => actor.unwrap_or_else(|| userinfo.sub.clone()),
            _ => userinfo.sub.clone(),
        };
        Ok(Authenticated { caller: Caller { subject, acl }, acctype: userinfo.acctype })
    }

    /// The container's cache, then the shared one (where one container asks identity and the
    /// others wait for its answer), then identity.
    async fn cached<V, F, Fut>(&self, local: &TtlCache<V>, key: CacheKey, ttl: Duration, fetch: F) -> Result<V>
    where
        V: Clone + Serialize + DeserializeOwned,
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<V, IdentityError>>,
    {
        if let Some(v) = local.get(&key, Utc::now()) {
            return Ok(v);
        }
        let _flight = self.flights.lock(&key).await;
        if let Some(v) = local.get(&key, Utc::now()) {
            return Ok(v);
        }
        if let Some((v, expires)) = self.shared_answer::<V>(&key).await {
            local.put(key, v.clone(), expires, Utc::now());
            return Ok(v);
        }
        let now = Utc::now();
        let claimed = match self.shared.claim(&key, now + seconds(CLAIM), now).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "shared identity cache unavailable");
                true
            }
        };
        if !claimed {
            if let Some((v, expires)) = self.wait_for_answer::<V>(&key).await {
                local.put(key, v.clone(), expires, Utc::now());
                return Ok(v);
            }
        }
        match fetch().await {
            Ok(v) => {
                let expires = Utc::now() + seconds(ttl);
                if let Ok(text) = serde_json::to_string(&v) {
                    if let Err(e) = self.shared.put(&key, &text, expires).await {
                        tracing::warn!(error = %e, "cannot write the shared identity cache");
                    }
                }
                local.put(key, v.clone(), expires, Utc::now());
                Ok(v)
            }
            Err(e) => {
                if claimed {
                    if let Err(e) = self.shared.release(&key).await {
                        tracing::warn!(error = %e, "cannot release a shared identity cache claim");
                    }
                }
                Err(told(e))
            }
        }
    }

    async fn shared_answer<V: DeserializeOwned>(&self, key: &CacheKey) -> Option<(V, DateTime<Utc>)> {
        match self.shared.get(key, Utc::now()).await {
            Ok(entry) => answer(entry),
            Err(e) => {
                tracing::warn!(error = %e, "shared identity cache unavailable");
                None
            }
        }
    }

    /// Waits for the container that claimed the question; `None` when it gave up or is too slow.
    async fn wait_for_answer<V: DeserializeOwned>(&self, key: &CacheKey) -> Option<(V, DateTime<Utc>)> {
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
            match self.shared.get(key, Utc::now()).await {
                Ok(Some(Shared::Pending { .. })) => continue,
                Ok(entry) => return answer(entry),
                Err(_) => return None,
            }
        }
        None
    }
}

/// A shared entry's answer, parsed: `None` for a claim, no entry, or one that does not parse.
fn answer<V: DeserializeOwned>(entry: Option<Shared>) -> Option<(V, DateTime<Utc>)> {
    match entry {
        Some(Shared::Ready { value, expires }) => serde_json::from_str(&value).ok().map(|v| (v, expires)),
        _ => None,
    }
}

/// The credential a request presents: a bearer token (Unikorn's texts for a missing, malformed or
/// other-scheme header), else a client certificate the gateway verified.
pub fn credential(presented: &Presented) -> Result<Credential> {
    if let Some(header) = presented.authorization.as_deref().filter(|h| !h.is_empty()) {
        let parts: Vec<&str> = header.split(' ').collect();
        let [scheme, token] = parts.as_slice() else { return Err(denied("authorization header malformed")) };
        if token.is_empty() || token.len() > MAX_TOKEN {
            return Err(denied("authorization header malformed"));
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(denied("authorization scheme not allowed"));
        }
        return Ok(Credential::Bearer((*token).to_owned()));
    }
    let Some(cert) = &presented.certificate else { return Err(denied("authorization header missing")) };
    let pem = cert.pem.clone().unwrap_or_default();
    let common_name = cert
        .subject_dn
        .as_deref()
        .and_then(common_name_of_dn)
        .or_else(|| common_name_of_pem(&pem))
        .ok_or_else(|| denied("client certificate has no common name"))?;
    Ok(Credential::Certificate { pem, common_name })
}
