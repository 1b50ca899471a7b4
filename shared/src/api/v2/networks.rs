//! `NetworkV2Create`, `NetworkV2Read`: the resource servers attach to.

use serde::{Deserialize, Serialize};

use crate::api::metadata::{ProjectScopedResourceReadMetadata, ResourceWriteMetadata};
use crate::domain::{NetworkCreateInput, NetworkPlacement, NetworkRecord, ReferenceId};
use crate::error::Result;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkV2Create {
    pub metadata: ResourceWriteMetadata,
    pub spec: NetworkV2CreateSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkV2CreateSpec {
    pub organization_id: String,
    pub project_id: String,
    pub region_id: String,
    pub provider_network_id: String,
}

impl NetworkV2Create {
    pub fn parse(self) -> Result<NetworkCreateInput> {
        Ok(NetworkCreateInput {
            metadata: self.metadata.parse()?,
            placement: NetworkPlacement::Project {
                organization_id: ReferenceId::parse("spec.organizationId", &self.spec.organization_id)?,
                project_id: ReferenceId::parse("spec.projectId", &self.spec.project_id)?,
                region_id: ReferenceId::parse("spec.regionId", &self.spec.region_id)?,
            },
            provider_network_id: ReferenceId::parse("spec.providerNetworkId", &self.spec.provider_network_id)?,
            addressing: None,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkV2Read {
    pub metadata: ProjectScopedResourceReadMetadata,
    pub spec: NetworkV2Spec,
    pub status: NetworkV2Status,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkV2Spec {
    pub provider_network_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkV2Status {
    pub region_id: String,
}

impl From<&NetworkRecord> for NetworkV2Read {
    fn from(n: &NetworkRecord) -> Self {
        NetworkV2Read {
            metadata: ProjectScopedResourceReadMetadata::of_network(n),
            spec: NetworkV2Spec { provider_network_id: n.provider_network_id.clone() },
            status: NetworkV2Status { region_id: n.region_id.clone() },
        }
    }
}
