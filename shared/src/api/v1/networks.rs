//! Unikorn's v1 `networkWrite` and `networkRead`: a network under an identity. This product binds
//! a provider network the operator provides (as its v2 networks do), named by `spec.providerNetworkId`,
//! beside Unikorn's `prefix` and `dnsNameservers`, which are recorded and echoed.

use serde::{Deserialize, Serialize};

use crate::api::metadata::{ProjectScopedResourceReadMetadata, ResourceWriteMetadata};
use crate::domain::addressing::{parse_nameservers, parse_network_prefix};
use crate::domain::{
    NetworkAddressing, NetworkCreateInput, NetworkPlacement, NetworkRecord, NetworkSource, ReferenceId,
};
use crate::error::Result;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkWrite {
    pub metadata: ResourceWriteMetadata,
    pub spec: NetworkWriteSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkWriteSpec {
    pub prefix: String,
    pub dns_nameservers: Vec<String>,
    pub provider_network_id: String,
}

impl NetworkWrite {
    /// `identity`: the organization, project and identity of the path.
    pub fn parse(self, organization_id: &str, project_id: &str, identity_id: &str) -> Result<NetworkCreateInput> {
        let addressing = NetworkAddressing {
            prefix: parse_network_prefix("spec.prefix", &self.spec.prefix, None)?,
            dns_nameservers: parse_nameservers("spec.dnsNameservers", &self.spec.dns_nameservers)?,
            routes: Vec::new(),
            reservations: None,
        };
        Ok(NetworkCreateInput {
            metadata: self.metadata.parse()?,
            placement: NetworkPlacement::Identity {
                organization_id: ReferenceId::parse("organizationID", organization_id)?,
                project_id: ReferenceId::parse("projectID", project_id)?,
                identity_id: ReferenceId::parse("identityID", identity_id)?,
            },
            source: NetworkSource::Bound {
                provider_network_id: ReferenceId::parse("spec.providerNetworkId", &self.spec.provider_network_id)?,
                addressing: Some(addressing),
            },
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkRead {
    pub metadata: ProjectScopedResourceReadMetadata,
    pub spec: NetworkReadSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkReadSpec {
    pub prefix: String,
    pub dns_nameservers: Vec<String>,
    pub region_id: String,
    pub openstack: NetworkSpecOpenstack,
}

/// Where the network is at the provider: the provider network it binds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkSpecOpenstack {
    pub network_id: String,
}

impl From<&NetworkRecord> for NetworkRead {
    fn from(n: &NetworkRecord) -> Self {
        let addressing = n.addressing.as_ref();
        NetworkRead {
            metadata: ProjectScopedResourceReadMetadata::of_network(n),
            spec: NetworkReadSpec {
                prefix: addressing.map(|a| a.prefix.to_string()).unwrap_or_default(),
                dns_nameservers: addressing
                    .map(|a| a.dns_nameservers.iter().map(ToString::to_string).collect())
                    .unwrap_or_default(),
                region_id: n.region_id.clone(),
                openstack: NetworkSpecOpenstack { network_id: n.provider_network_id.clone() },
            },
        }
    }
}
