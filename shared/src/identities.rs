//! Provider identities: which application credential serves an (organization, project) in a
//! region. Operators configure them; callers never see or choose credentials.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::provider::ProviderCredential;

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderIdentity {
    pub id: String,
    pub region_id: String,
    pub organization_id: String,
    pub project_id: String,
    pub auth_url: String,
    pub application_credential_id: String,
    pub application_credential_secret: String,
}

impl fmt::Debug for ProviderIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderIdentity")
            .field("id", &self.id)
            .field("region_id", &self.region_id)
            .field("organization_id", &self.organization_id)
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default, Clone)]
pub struct Identities {
    by_id: BTreeMap<String, ProviderIdentity>,
}

impl Identities {
    /// A JSON array of identities.
    pub fn from_json(text: &str) -> Result<Self> {
        let list: Vec<ProviderIdentity> = serde_json::from_str(text)
            .map_err(|e| Error::internal(format!("provider identities are unreadable: {e}")))?;
        Ok(Identities { by_id: list.into_iter().map(|i| (i.id.clone(), i)).collect() })
    }

    /// From `PROVIDER_IDENTITIES` (JSON) or the file named by `PROVIDER_IDENTITIES_FILE`.
    pub fn from_env() -> Result<Self> {
        if let Ok(text) = std::env::var("PROVIDER_IDENTITIES") {
            return Identities::from_json(&text);
        }
        let path = std::env::var("PROVIDER_IDENTITIES_FILE")
            .map_err(|_| Error::internal("neither PROVIDER_IDENTITIES nor PROVIDER_IDENTITIES_FILE is set"))?;
        let text = std::fs::read_to_string(&path).map_err(|e| Error::internal(format!("cannot read {path}: {e}")))?;
        Identities::from_json(&text)
    }

    /// Every identity, in id order.
    pub fn all(&self) -> impl Iterator<Item = &ProviderIdentity> {
        self.by_id.values()
    }

    pub fn has_region(&self, region: &str) -> bool {
        self.by_id.values().any(|i| i.region_id == region)
    }

    pub fn find(&self, region: &str, organization: &str, project: &str) -> Option<&ProviderIdentity> {
        self.by_id
            .values()
            .find(|i| i.region_id == region && i.organization_id == organization && i.project_id == project)
    }

    pub fn credential(&self, identity_id: &str) -> Result<ProviderCredential> {
        let identity = self
            .by_id
            .get(identity_id)
            .ok_or_else(|| Error::internal(format!("provider identity {identity_id} is no longer configured")))?;
        Ok(ProviderCredential {
            auth_url: identity.auth_url.clone(),
            application_credential_id: identity.application_credential_id.clone(),
            application_credential_secret: identity.application_credential_secret.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_scope_and_secret_never_printed() {
        let ids = Identities::from_json(
            r#"[{"id": "i1", "regionId": "r1", "organizationId": "o", "projectId": "p", "authUrl": "http://k/v3",
                 "applicationCredentialId": "c", "applicationCredentialSecret": "s3cret"}]"#,
        )
        .unwrap_or_default();
        assert!(ids.has_region("r1") && !ids.has_region("r2"));
        assert_eq!(ids.find("r1", "o", "p").map(|i| i.id.as_str()), Some("i1"));
        assert!(ids.find("r1", "o", "other").is_none());
        assert!(!format!("{ids:?}").contains("s3cret"));
        assert_eq!(ids.credential("i1").map(|c| c.application_credential_id).ok().as_deref(), Some("c"));
        assert!(ids.credential("nope").is_err());
    }
}
