//! Unikorn's v1 `identityWrite` and `identityRead`. An identity here binds a project in a region to
//! the provider identity the operator configured; its credentials are never shown, so the read
//! carries no `spec.openstack` (Unikorn's holds a cloud config and an SSH private key).

use serde::{Deserialize, Serialize};

use crate::api::metadata::{ProjectScopedResourceReadMetadata, ResourceWriteMetadata};
use crate::domain::{IdentityCreateInput, IdentityRecord, ReferenceId};
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
}

impl From<&IdentityRecord> for IdentityRead {
    fn from(i: &IdentityRecord) -> Self {
        IdentityRead {
            metadata: ProjectScopedResourceReadMetadata {
                deletion_time: i.deleting_since,
                provisioning_status: if i.deleting_since.is_some() { "deprovisioning" } else { "provisioned" }.into(),
                ..ProjectScopedResourceReadMetadata::settled(i)
            },
            spec: IdentitySpec { kind: "openstack".into(), region_id: i.region_id.clone() },
        }
    }
}
