//! Who is calling, as Unikorn's identity service says: the port ([`IdentityService`]: userinfo and
//! the two ACL routes), its HTTP adapter ([`client`]), the caches Unikorn bounds ([`cache`]) and
//! the authentication every request goes through ([`authenticate`]); and the quota allocations a
//! network holds in identity ([`allocations`]).
//!
//! Not to be confused with [`crate::identities`], the provider identities (OpenStack application
//! credentials) the operator configures per project.

pub mod allocations;
pub mod authenticate;
pub mod cache;
pub mod certificate;
pub mod client;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::rbac::Acl;

/// `acctype` of identity's `authClaims`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AccountType {
    System,
    Service,
    #[default]
    User,
}

/// What identity's userinfo says of a token that is ours to keep: the subject, its account type and
/// organizations (the email and names it may carry are never kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Userinfo {
    pub sub: String,
    #[serde(default)]
    pub acctype: AccountType,
    #[serde(default, rename = "orgIds")]
    pub org_ids: Vec<String>,
}

/// identity's `userinfo` schema, read leniently: only what [`Userinfo`] keeps.
#[derive(Debug, Deserialize)]
pub struct UserinfoWire {
    pub sub: String,
    #[serde(default, rename = "https://unikorn-cloud.org/authz")]
    pub authz: Option<AuthClaims>,
}

#[derive(Debug, Deserialize)]
pub struct AuthClaims {
    #[serde(default)]
    pub acctype: Option<AccountType>,
    #[serde(default, rename = "orgIds")]
    pub org_ids: Option<Vec<String>>,
}

impl From<UserinfoWire> for Userinfo {
    fn from(wire: UserinfoWire) -> Self {
        let authz = wire.authz;
        Userinfo {
            sub: wire.sub,
            acctype: authz.as_ref().and_then(|a| a.acctype).unwrap_or_default(),
            org_ids: authz.and_then(|a| a.org_ids).unwrap_or_default(),
        }
    }
}

/// How the caller proved who it is.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// An access token identity issued.
    Bearer(String),
    /// A client certificate the gateway verified (PEM), and its subject's common name.
    Certificate { pem: String, common_name: String },
}

impl std::fmt::Debug for Credential {
    // A token is never printed, not even in a debug line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Bearer(_) => f.write_str("Bearer(..)"),
            Credential::Certificate { common_name, .. } => write!(f, "Certificate({common_name})"),
        }
    }
}

/// What a service acting for someone else passes on: Unikorn's `X-Principal` (forwarded to identity
/// as it came) and `X-Impersonate: true`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    pub header: Option<String>,
    pub impersonate: bool,
}

impl Principal {
    /// The principal's `actor`, when the header is Unikorn's base64url JSON (unsigned or the payload
    /// of a signed compact value).
    pub fn actor(&self) -> Option<String> {
        use base64::Engine as _;
        let header = self.header.as_deref()?;
        let payload = if header.split('.').count() == 3 { header.split('.').nth(1)? } else { header };
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        value.get("actor")?.as_str().filter(|a| !a.is_empty() && a.len() <= 255).map(str::to_owned)
    }
}

/// One ACL question: whose (the credential), where (`organization`: the organization-scoped route,
/// else the global one) and on whose behalf.
#[derive(Debug, Clone)]
pub struct AclRequest<'a> {
    pub credential: &'a Credential,
    pub organization: Option<&'a str>,
    pub principal: &'a Principal,
}

/// What went wrong asking identity (the authentication decides what the caller is told).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// Identity refused the credential (401).
    #[error("identity refused the credential")]
    Refused,
    /// Identity answered another error status, with its error body's code and description.
    #[error("identity answered {status}: {description}")]
    Answered { status: u16, code: Option<String>, description: String },
    /// Identity did not answer in time, dropped the connection, or answered 5xx.
    #[error("identity is unavailable: {0}")]
    Unavailable(String),
    /// Identity answered 200 with something that is not the documented schema.
    #[error("identity answered unreadably: {0}")]
    Unreadable(String),
}

/// Unikorn's identity service, as every Unikorn service asks it.
#[async_trait]
pub trait IdentityService: Send + Sync {
    /// `GET userinfo` with the token (the discovered `userinfo_endpoint`).
    async fn userinfo(&self, token: &str) -> Result<Userinfo, IdentityError>;
    /// `GET /api/v1/acl` or `GET /api/v1/organizations/{organizationID}/acl`.
    async fn acl(&self, request: &AclRequest<'_>) -> Result<Acl, IdentityError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn userinfo_keeps_subject_account_type_and_organizations_only() {
        let wire: UserinfoWire = serde_json::from_value(serde_json::json!({
            "sub": "alice", "email": "alice@example.com", "name": "Alice",
            "https://unikorn-cloud.org/authz": {"acctype": "service", "orgIds": ["o1"]}}))
        .unwrap_or_else(|e| panic!("{e}"));
        let info = Userinfo::from(wire);
        assert_eq!(info, Userinfo { sub: "alice".into(), acctype: AccountType::Service, org_ids: vec!["o1".into()] });
        assert!(!serde_json::to_string(&info).unwrap_or_default().contains("example.com"));
    }

    #[test]
    fn the_principal_names_its_actor() {
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::json!({"organizationId": "o1", "actor": "bob@example.com"}).to_string());
        let principal = Principal { header: Some(encoded.clone()), impersonate: true };
        assert_eq!(principal.actor().as_deref(), Some("bob@example.com"));
        let signed = Principal { header: Some(format!("e30.{encoded}.c2ln")), impersonate: false };
        assert_eq!(signed.actor().as_deref(), Some("bob@example.com"));
        assert_eq!(Principal { header: Some("!!".into()), impersonate: false }.actor(), None);
        assert!(!format!("{:?}", Credential::Bearer("secret-token".into())).contains("secret"));
    }
}
