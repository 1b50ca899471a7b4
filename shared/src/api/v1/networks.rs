//! Unikorn's v1 `networkWrite` and `networkRead`: a network under an identity. This product binds
//! a provider network the operator provides (as its v2 networks do), named by `spec.providerNetworkId`,
//! beside Unikorn's `prefix` and `dnsNameservers`, which are recorded and echoed.

use serde::{Deserialize, Serialize};

use crate::api::metadata::{ProjectScopedResourceReadMetadata, ResourceWriteMetadata};
use crate::domain::{Cidr, NetworkAddressing, NetworkCreateInput, NetworkPlacement, NetworkRecord, ReferenceId};
use crate::error::{Error, Result};

/// At most this many DNS servers per network (resolv.conf reads three).
pub const MAX_DNS_NAMESERVERS: usize = 8;

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
        let prefix = Cidr::parse("spec.prefix", &self.spec.prefix).map_err(|e| Error::invalid(e.to_string()))?;
        if !prefix.is_ipv4() {
            return Err(Error::invalid(format!("spec.prefix: '{}' is not an IPv4 prefix", prefix.as_str())));
        }
        if self.spec.dns_nameservers.len() > MAX_DNS_NAMESERVERS {
            return Err(Error::invalid(format!("spec.dnsNameservers: at most {MAX_DNS_NAMESERVERS} addresses")));
        }
        let dns = self
            .spec
            .dns_nameservers
            .iter()
            .enumerate()
            .map(|(i, a)| {
                a.parse().map_err(|_| {
                    let shown: String = a.chars().take(64).collect();
                    Error::invalid(format!("spec.dnsNameservers[{i}]: '{shown}' is not an IPv4 address"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(NetworkCreateInput {
            metadata: self.metadata.parse()?,
            placement: NetworkPlacement::Identity {
                organization_id: ReferenceId::parse("organizationID", organization_id)?,
                project_id: ReferenceId::parse("projectID", project_id)?,
                identity_id: ReferenceId::parse("identityID", identity_id)?,
            },
            provider_network_id: ReferenceId::parse("spec.providerNetworkId", &self.spec.provider_network_id)?,
            addressing: Some(NetworkAddressing { prefix, dns_nameservers: dns }),
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
                prefix: addressing.map(|a| a.prefix.as_str().to_owned()).unwrap_or_default(),
                dns_nameservers: addressing
                    .map(|a| a.dns_nameservers.iter().map(ToString::to_string).collect())
                    .unwrap_or_default(),
                region_id: n.region_id.clone(),
                openstack: NetworkSpecOpenstack { network_id: n.provider_network_id.clone() },
            },
        }
    }
}
