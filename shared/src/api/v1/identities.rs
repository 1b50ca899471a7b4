//! Unikorn's v1 `identityWrite` and `identityRead`. A provisioned identity's read carries
//! `spec.openstack` as Unikorn's does: a cloud config (base64url of a `clouds.yaml` with one cloud
//! `cloud` and the identity's application credential), its user, project, server group, and its
//! key pair's name and private key.

use serde::{Deserialize, Serialize};

use crate::api::metadata::{ProjectScopedResourceReadMetadata, ResourceWriteMetadata};
use base64::Engine as _;

use crate::domain::{IdentityCreateInput, ReferenceId, Stage};
use crate::domain::{IdentityView, OpenStackAccess};
use crate::error::Result;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityWrite {
    pub metadata: ResourceWriteMetadata,
    pub spec: IdentityWriteSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IdentityWriteSpec {
    pub region_id: String,
}

impl IdentityWrite {
    /// The organization and project come from the path.
    pub fn parse(self, organization_id: &str, project_id: &str) -> Result<IdentityCreateInput> {
        Ok(IdentityCreateInput {
            metadata: self.metadata.parse()?,
            organization_id: ReferenceId::parse("organizationID", organization_id)?,
            project_id: ReferenceId::parse("projectID", project_id)?,
            region_id: ReferenceId::parse("spec.regionId", &self.spec.region_id)?,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IdentityRead {
    pub metadata: ProjectScopedResourceReadMetadata,
    pub spec: IdentitySpec,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySpec {
    /// `regionType`: this product's provider is OpenStack.
    #[serde(rename = "type")]
    pub kind: String,
    pub region_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openstack: Option<IdentitySpecOpenStack>,
}

/// `identitySpecOpenStack`.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySpecOpenStack {
    pub cloud: String,
    pub cloud_config: String,
    pub user_id: String,
    pub project_id: String,
    pub server_group_id: String,
    pub ssh_key_name: String,
    pub ssh_private_key: String,
}

impl std::fmt::Debug for IdentitySpecOpenStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentitySpecOpenStack").field("project_id", &self.project_id).finish_non_exhaustive()
    }
}

/// The cloud's name in the cloud config, as Unikorn's.
const CLOUD: &str = "cloud";

impl From<&OpenStackAccess> for IdentitySpecOpenStack {
    fn from(a: &OpenStackAccess) -> Self {
        // JSON strings are YAML's double-quoted scalars: any value is written safely.
        let quoted = |v: &str| serde_json::Value::String(v.to_owned()).to_string();
        let clouds = format!(
            "clouds:\n  {CLOUD}:\n    auth:\n      auth_url: {}\n      application_credential_id: {}\n      \
             application_credential_secret: {}\n    auth_type: v3applicationcredential\n",
            quoted(&a.auth_url),
            quoted(&a.application_credential_id),
            quoted(&a.application_credential_secret)
        );
        IdentitySpecOpenStack {
            cloud: CLOUD.into(),
            cloud_config: base64::engine::general_purpose::URL_SAFE.encode(clouds),
            user_id: a.user_id.clone(),
            project_id: a.project_id.clone(),
            server_group_id: a.server_group_id.clone(),
            ssh_key_name: a.ssh_key_name.clone(),
            ssh_private_key: a.ssh_private_key.clone(),
        }
    }
}

impl From<&IdentityView> for IdentityRead {
    fn from(view: &IdentityView) -> Self {
        let i = &view.record;
        let stage = match (&i.lifecycle, i.deleting_since) {
            (_, Some(_)) => Stage::Deprovisioning,
            (Some(l), None) => l.stage,
            (None, None) => Stage::Provisioned,
        };
        IdentityRead {
            metadata: ProjectScopedResourceReadMetadata {
                deletion_time: i.deleting_since,
                provisioning_status: stage.as_str().into(),
                // Nobody sets an identity's health in Unikorn.
                health_status: "unknown".into(),
                ..ProjectScopedResourceReadMetadata::settled(i)
            },
            spec: IdentitySpec {
                kind: "openstack".into(),
                region_id: i.region_id.clone(),
                openstack: view.openstack.as_ref().map(IdentitySpecOpenStack::from),
            },
        }
    }
}
