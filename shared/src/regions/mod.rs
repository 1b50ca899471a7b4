//! Regions: what the operator configured (one Keystone endpoint and one privileged credential per
//! OpenStack region, as Unikorn's `Region` resources hold), which organizations see each, and the
//! credential the product acts with there. Callers never see or choose credentials.
//!
//! The document comes from `REGIONS` (JSON) or the file `REGIONS_FILE` (YAML or JSON); each
//! OpenStack region's credential from the Secrets Manager secret it names, read by the functions
//! that call the provider (`context.rs`), never by the others.

pub mod document;
mod model;
mod quantity;

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

pub use document::RegionKind;
pub use model::{is_region_id, FlavorGpu, FlavorMetadata, KubernetesRegion, OpenStackRegion, ProviderNetworks, Region};
pub use quantity::bytes_of;

use crate::error::{Error, Result};
use crate::provider::{CredentialScope, ProviderCredential};
use crate::rbac::{Caller, Operation, REGIONS};

/// A region's credential, as Unikorn's region secret holds it: the region's user and its own project.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionCredential {
    #[serde(rename = "domain-id")]
    pub domain_id: String,
    #[serde(rename = "user-id")]
    pub user_id: String,
    pub password: String,
    #[serde(rename = "project-id")]
    pub project_id: String,
}

impl fmt::Debug for RegionCredential {
    // The password must never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegionCredential")
            .field("domain_id", &self.domain_id)
            .field("user_id", &self.user_id)
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

impl RegionCredential {
    /// A secret's text: JSON with the keys `domain-id`, `user-id`, `password`, `project-id`.
    pub fn parse(secret: &str, text: &str) -> Result<RegionCredential> {
        serde_json::from_str(text).map_err(|e| {
            Error::internal(format!(
                "secret {secret}: not a region credential (domain-id, user-id, password, project-id): {e}"
            ))
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct Regions {
    by_id: BTreeMap<String, Region>,
    credentials: BTreeMap<String, RegionCredential>,
    /// Kubernetes regions' kubeconfigs (read by the function that shows a region's detail).
    kubeconfigs: BTreeMap<String, String>,
}

impl Regions {
    /// The document's text (YAML, of which JSON is a part), checked.
    pub fn parse(text: &str) -> Result<Regions> {
        let doc: document::RegionsDocument =
            serde_yaml_ng::from_str(text).map_err(|e| Error::internal(format!("region document: {e}")))?;
        if doc.regions.len() > model::MAX_REGIONS {
            return Err(Error::internal(format!("region document: at most {} regions", model::MAX_REGIONS)));
        }
        let mut by_id = BTreeMap::new();
        for (i, region) in doc.regions.iter().enumerate() {
            let region = Region::parse(&format!("regions[{i}]"), region)?;
            if by_id.contains_key(&region.id) {
                return Err(Error::internal(format!("region document: regions[{i}].id: {} appears twice", region.id)));
            }
            by_id.insert(region.id.clone(), region);
        }
        Ok(Regions { by_id, ..Regions::default() })
    }

    /// From `REGIONS` (the document) or the file named by `REGIONS_FILE`.
    pub fn from_env() -> Result<Regions> {
        if let Ok(text) = std::env::var("REGIONS") {
            return Regions::parse(&text);
        }
        let path =
            std::env::var("REGIONS_FILE").map_err(|_| Error::internal("neither REGIONS nor REGIONS_FILE is set"))?;
        let text = std::fs::read_to_string(&path).map_err(|e| Error::internal(format!("cannot read {path}: {e}")))?;
        Regions::parse(&text)
    }

    /// Adds a region's credential (read from the secret its document names).
    pub fn with_credential(mut self, region_id: &str, credential: RegionCredential) -> Regions {
        self.credentials.insert(region_id.to_owned(), credential);
        self
    }

    /// The secrets to read: (region id, secret name) of every OpenStack region.
    pub fn credential_secrets(&self) -> Vec<(String, String)> {
        self.by_id
            .values()
            .filter_map(|r| r.openstack.as_ref().map(|o| (r.id.clone(), o.service_account_secret.clone())))
            .collect()
    }

    /// The secrets holding Kubernetes regions' kubeconfigs: (region id, secret name).
    pub fn kubeconfig_secrets(&self) -> Vec<(String, String)> {
        self.by_id
            .values()
            .filter_map(|r| r.kubernetes.as_ref().map(|k| (r.id.clone(), k.kubeconfig_secret.clone())))
            .collect()
    }

    /// Adds a Kubernetes region's kubeconfig: the secret's text, JSON `{"kubeconfig": "..."}` as
    /// Unikorn's region secret holds it, or the kubeconfig itself.
    pub fn with_kubeconfig(mut self, region_id: &str, secret_text: &str) -> Regions {
        let kubeconfig = serde_json::from_str::<serde_json::Value>(secret_text)
            .ok()
            .and_then(|v| v["kubeconfig"].as_str().map(str::to_owned))
            .unwrap_or_else(|| secret_text.to_owned());
        self.kubeconfigs.insert(region_id.to_owned(), kubeconfig);
        self
    }

    /// A Kubernetes region's kubeconfig, as its secret holds it.
    pub fn kubeconfig(&self, region_id: &str) -> Result<&str> {
        self.kubeconfigs
            .get(region_id)
            .map(String::as_str)
            .ok_or_else(|| Error::internal(format!("region {region_id}: its kubeconfig was not read")))
    }

    /// Every region, in id order.
    pub fn all(&self) -> impl Iterator<Item = &Region> {
        self.by_id.values()
    }

    pub fn get(&self, id: &str) -> Option<&Region> {
        self.by_id.get(id)
    }

    /// The OpenStack configuration of a region the operator serves (no caller: the product's own
    /// work in the region); `None` for a region gone from the document or not OpenStack.
    pub fn openstack_of(&self, id: &str) -> Option<&OpenStackRegion> {
        self.by_id.get(id).and_then(|r| r.openstack.as_ref())
    }

    /// A region the caller may see: a region open to every organization, or one listing an
    /// organization the caller belongs to, or any to a global `region:regions` reader (Unikorn's
    /// rule). Missing and hidden are the same 404.
    pub fn visible(&self, caller: &Caller, id: &str) -> Result<&Region> {
        self.by_id
            .get(id)
            .filter(|r| sees(caller, r))
            .ok_or_else(|| Error::not_found(format!("no region found with id {id}")))
    }

    /// Every region the caller may see, in id order.
    pub fn visible_all<'a>(&'a self, caller: &'a Caller) -> impl Iterator<Item = &'a Region> {
        self.by_id.values().filter(move |r| sees(caller, r))
    }

    /// [`Regions::visible`], which must be an OpenStack region (400 otherwise, Unikorn's words).
    pub fn openstack(&self, caller: &Caller, id: &str) -> Result<(&Region, &OpenStackRegion)> {
        let region = self.visible(caller, id)?;
        match &region.openstack {
            Some(openstack) => Ok((region, openstack)),
            None => Err(Error::invalid("region is not valid for this endpoint")),
        }
    }

    /// The region's user scoped to the region's own project: what every provider call of the
    /// product is authenticated with.
    pub fn project_credential(&self, region_id: &str) -> Result<ProviderCredential> {
        let (endpoint, credential) = self.credential_of(region_id)?;
        Ok(ProviderCredential {
            auth_url: endpoint.to_owned(),
            user_id: credential.user_id.clone(),
            password: credential.password.clone(),
            scope: CredentialScope::Project(credential.project_id.clone()),
        })
    }

    /// The region's user scoped to `project` (a project the product made, where the user holds its
    /// role), or to the region's own project when `None`.
    pub fn credential_in(&self, region_id: &str, project: Option<&str>) -> Result<ProviderCredential> {
        let mut cred = self.project_credential(region_id)?;
        if let Some(project) = project {
            cred.scope = CredentialScope::Project(project.to_owned());
        }
        Ok(cred)
    }

    /// The region's user scoped to its domain: what makes and removes projects and users.
    pub fn domain_credential(&self, region_id: &str) -> Result<(ProviderCredential, String)> {
        let (endpoint, credential) = self.credential_of(region_id)?;
        let cred = ProviderCredential {
            auth_url: endpoint.to_owned(),
            user_id: credential.user_id.clone(),
            password: credential.password.clone(),
            scope: CredentialScope::Domain(credential.domain_id.clone()),
        };
        Ok((cred, credential.user_id.clone()))
    }

    fn credential_of(&self, region_id: &str) -> Result<(&str, &RegionCredential)> {
        let endpoint = self
            .openstack_of(region_id)
            .map(|o| o.endpoint.as_str())
            .ok_or_else(|| Error::internal(format!("region {region_id} is no longer configured")))?;
        let credential = self
            .credentials
            .get(region_id)
            .ok_or_else(|| Error::internal(format!("region {region_id}: its credential was not read")))?;
        Ok((endpoint, credential))
    }
}

fn sees(caller: &Caller, region: &Region) -> bool {
    match &region.organizations {
        None => true,
        Some(allowed) => {
            caller.acl.global_grants(REGIONS, Operation::Read)
                || caller.acl.organizations.iter().any(|o| allowed.contains(&o.id))
        }
    }
}

#[cfg(test)]
mod tests;
