//! `networkV2Create`, `networkV2Update`, `networkV2Read`: Unikorn's body (prefix, nameservers,
//! routes, reservations), or the binding extension's `providerNetworkId` in place of the prefix.

use serde::{Deserialize, Serialize};

use crate::api::metadata::{ProjectScopedResourceReadMetadata, ResourceWriteMetadata};
use crate::domain::addressing::{parse_nameservers, parse_network_prefix, parse_routes, MIN_NETWORK_BITS};
use crate::domain::{
    NetworkAddressing, NetworkCreateInput, NetworkPlacement, NetworkRecord, NetworkSource, NetworkUpdateInput,
    ReferenceId, Reservations, Route,
};
use crate::error::{Error, Result};

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
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub dns_nameservers: Option<Vec<String>>,
    #[serde(default)]
    pub routes: Option<Vec<RouteV2>>,
    #[serde(default)]
    pub reservations: Option<ReservationsV2>,
    /// The binding extension: a provider network the operator made, in place of `prefix`.
    #[serde(default)]
    pub provider_network_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RouteV2 {
    pub prefix: String,
    pub nexthop: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReservationsV2 {
    pub prefix_length: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_reserved_prefix_length: Option<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkV2Update {
    pub metadata: ResourceWriteMetadata,
    pub spec: NetworkV2UpdateSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkV2UpdateSpec {
    pub dns_nameservers: Vec<String>,
    #[serde(default)]
    pub routes: Option<Vec<RouteV2>>,
}

fn routes(routes: Option<&[RouteV2]>) -> Result<Vec<Route>> {
    let pairs: Vec<(String, String)> =
        routes.unwrap_or_default().iter().map(|r| (r.prefix.clone(), r.nexthop.clone())).collect();
    parse_routes("spec.routes", &pairs)
}

impl NetworkV2Create {
    pub fn parse(self) -> Result<NetworkCreateInput> {
        let spec = self.spec;
        let placement = NetworkPlacement::Project {
            organization_id: ReferenceId::parse("spec.organizationId", &spec.organization_id)?,
            project_id: ReferenceId::parse("spec.projectId", &spec.project_id)?,
            region_id: ReferenceId::parse("spec.regionId", &spec.region_id)?,
        };
        let source = match (spec.prefix, spec.provider_network_id) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "spec.providerNetworkId: a network has a prefix or binds a provider network, not both",
                ))
            }
            (None, None) => return Err(Error::invalid("spec.prefix: a network needs an IPv4 prefix")),
            (None, Some(id)) => {
                if spec.dns_nameservers.is_some() || spec.routes.is_some() || spec.reservations.is_some() {
                    return Err(Error::invalid(
                        "spec.providerNetworkId: a bound provider network keeps its own nameservers, routes and reservations",
                    ));
                }
                NetworkSource::Bound {
                    provider_network_id: ReferenceId::parse("spec.providerNetworkId", &id)?,
                    addressing: None,
                }
            }
            (Some(prefix), None) => {
                let prefix = parse_network_prefix("spec.prefix", &prefix, Some(MIN_NETWORK_BITS))?;
                let dns = spec
                    .dns_nameservers
                    .ok_or_else(|| Error::invalid("spec.dnsNameservers: required (it may be empty)"))?;
                let reservations = match spec.reservations {
                    None => None,
                    Some(r) => Some(
                        Reservations {
                            prefix_length: r.prefix_length,
                            provider_reserved_prefix_length: r
                                .provider_reserved_prefix_length
                                .unwrap_or(Reservations::DEFAULT.provider_reserved_prefix_length.max(r.prefix_length)),
                        }
                        .check(prefix)?,
                    ),
                };
                NetworkSource::Provisioned(NetworkAddressing {
                    prefix,
                    dns_nameservers: parse_nameservers("spec.dnsNameservers", &dns)?,
                    routes: routes(spec.routes.as_deref())?,
                    reservations,
                })
            }
        };
        Ok(NetworkCreateInput { metadata: self.metadata.parse()?, placement, source })
    }
}

impl NetworkV2Update {
    pub fn parse(self) -> Result<NetworkUpdateInput> {
        Ok(NetworkUpdateInput {
            metadata: self.metadata.parse()?,
            dns_nameservers: parse_nameservers("spec.dnsNameservers", &self.spec.dns_nameservers)?,
            routes: routes(self.spec.routes.as_deref())?,
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
    /// Always an array, as Unikorn answers it.
    pub dns_nameservers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<RouteV2>>,
    /// The binding extension's provider network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_network_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkV2Status {
    pub region_id: String,
    /// Empty for a bound provider network (the product does not know its prefix).
    pub prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations: Option<ReservationsV2>,
}

impl From<&NetworkRecord> for NetworkV2Read {
    fn from(n: &NetworkRecord) -> Self {
        let addressing = n.addressing.as_ref();
        let routes: Vec<RouteV2> = addressing
            .map(|a| {
                a.routes
                    .iter()
                    .map(|r| RouteV2 { prefix: r.prefix.to_string(), nexthop: r.nexthop.to_string() })
                    .collect()
            })
            .unwrap_or_default();
        NetworkV2Read {
            metadata: ProjectScopedResourceReadMetadata::of_network(n),
            spec: NetworkV2Spec {
                dns_nameservers: addressing
                    .map(|a| a.dns_nameservers.iter().map(ToString::to_string).collect())
                    .unwrap_or_default(),
                routes: (!routes.is_empty()).then_some(routes),
                provider_network_id: (!n.is_provisioned_by_us()).then(|| n.provider_network_id.clone()),
            },
            status: NetworkV2Status {
                region_id: n.region_id.clone(),
                prefix: addressing.map(|a| a.prefix.to_string()).unwrap_or_default(),
                reservations: addressing.and_then(|a| a.reservations).map(|r| ReservationsV2 {
                    prefix_length: r.prefix_length,
                    provider_reserved_prefix_length: Some(r.provider_reserved_prefix_length),
                }),
            },
        }
    }
}
