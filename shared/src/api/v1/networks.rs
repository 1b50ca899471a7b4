//! Unikorn's v1 `networkWrite` and `networkRead`: a network under an identity, provisioned in the
//! identity's project from `prefix` and `dnsNameservers` (read back with `spec.openstack.networkId`
//! and `subnetId`). The binding extension names `spec.providerNetworkId` instead: a provider
//! network the operator made, with the prefix and nameservers recorded and echoed.

use serde::{Deserialize, Serialize};

use crate::api::metadata::{ProjectScopedResourceReadMetadata, ResourceWriteMetadata};
use crate::domain::addressing::{parse_nameservers, parse_network_prefix, MIN_NETWORK_BITS};
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
    #[serde(default)]
    pub provider_network_id: Option<String>,
}

impl NetworkWrite {
    /// `identity`: the organization, project and identity of the path.
    pub fn parse(self, organization_id: &str, project_id: &str, identity_id: &str) -> Result<NetworkCreateInput> {
        let bound = self.spec.provider_network_id;
        // Unikorn checks no size on v1, and its subnet's DHCP pool (from +128) then falls outside a
        // smaller prefix at Neutron: a provisioned one is held to v2's /24 here instead.
        let min_bits = if bound.is_some() { None } else { Some(MIN_NETWORK_BITS) };
        let addressing = NetworkAddressing {
            prefix: parse_network_prefix("spec.prefix", &self.spec.prefix, min_bits)?,
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
            source: match bound {
                Some(id) => NetworkSource::Bound {
                    provider_network_id: ReferenceId::parse("spec.providerNetworkId", &id)?,
                    addressing: Some(addressing),
                },
                None => NetworkSource::Provisioned(addressing),
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openstack: Option<NetworkSpecOpenstack>,
}

/// Where the network is at the provider (once it is there): its Neutron network and, provisioned
/// here, its subnet.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkSpecOpenstack {
    pub network_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
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
                openstack: (!n.provider_network_id.is_empty()).then(|| NetworkSpecOpenstack {
                    network_id: n.provider_network_id.clone(),
                    subnet_id: n.objects.subnet_id.clone(),
                }),
            },
        }
    }
}
