//! Unikorn's `regionRead`, `regionDetailRead`, `flavor` and `externalNetwork`: what the region
//! routes answer. Regions and flavors are configuration, not records: their creation time is Go's
//! zero time, as Unikorn shows it for what it never stored.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::metadata::{zero_time, StaticResourceMetadata};
use crate::api::Tag;
use crate::domain::catalog::OfferedFlavor;
use crate::provider::networking::ExternalNetwork as ProviderExternalNetwork;
use crate::regions::Region;
use crate::usecase::regions::KubernetesDetail;

/// `resourceReadMetadata`: a region is always provisioned and healthy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceReadMetadata {
    #[serde(flatten)]
    pub resource: StaticResourceMetadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_time: Option<DateTime<Utc>>,
    pub provisioning_status: String,
    pub health_status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RegionFeatures {
    pub physical_networks: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RegionSpec {
    #[serde(rename = "type")]
    pub kind: String,
    pub features: RegionFeatures,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RegionRead {
    pub metadata: ResourceReadMetadata,
    pub spec: RegionSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RegionDetailKubernetes {
    /// base64url, unpadded, of the kubeconfig (as Unikorn encodes it).
    pub kubeconfig: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RegionDetailSpec {
    #[serde(rename = "type")]
    pub kind: String,
    pub features: RegionFeatures,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<RegionDetailKubernetes>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RegionDetailRead {
    pub metadata: ResourceReadMetadata,
    pub spec: RegionDetailSpec,
}

fn region_metadata(region: &Region) -> ResourceReadMetadata {
    let tags: Vec<Tag> = region.tags.iter().map(|t| Tag { name: t.name.clone(), value: t.value.clone() }).collect();
    ResourceReadMetadata {
        resource: StaticResourceMetadata {
            id: region.id.clone(),
            name: region.name.clone(),
            description: region.description.clone(),
            tags: (!tags.is_empty()).then_some(tags),
            creation_time: zero_time(),
            created_by: None,
            modified_time: None,
            modified_by: None,
        },
        deletion_time: None,
        provisioning_status: "provisioned".into(),
        health_status: "healthy".into(),
    }
}

impl From<&Region> for RegionRead {
    fn from(region: &Region) -> Self {
        RegionRead {
            metadata: region_metadata(region),
            spec: RegionSpec {
                kind: region.kind.as_str().into(),
                features: RegionFeatures { physical_networks: region.physical_networks() },
            },
        }
    }
}

impl RegionDetailRead {
    pub fn new(region: &Region, kubernetes: Option<KubernetesDetail>) -> Self {
        RegionDetailRead {
            metadata: region_metadata(region),
            spec: RegionDetailSpec {
                kind: region.kind.as_str().into(),
                features: RegionFeatures { physical_networks: region.physical_networks() },
                kubernetes: kubernetes.map(|k| RegionDetailKubernetes {
                    kubeconfig: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(k.kubeconfig),
                    domain_name: k.domain_name,
                }),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GpuSpec {
    pub vendor: String,
    pub model: String,
    /// GiB.
    pub memory: u64,
    pub physical_count: u32,
    pub logical_count: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FlavorSpec {
    /// Present (true) only for a flavor the region says is a dedicated machine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baremetal: Option<bool>,
    pub cpus: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_family: Option<String>,
    /// GiB.
    pub memory: u64,
    /// GB.
    pub disk: u64,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Flavor {
    pub metadata: StaticResourceMetadata,
    pub spec: FlavorSpec,
}

impl From<&OfferedFlavor> for Flavor {
    fn from(f: &OfferedFlavor) -> Self {
        Flavor {
            metadata: StaticResourceMetadata {
                id: f.id.clone(),
                name: f.name.clone(),
                description: None,
                tags: None,
                creation_time: zero_time(),
                created_by: None,
                modified_time: None,
                modified_by: None,
            },
            spec: FlavorSpec {
                baremetal: f.baremetal.then_some(true),
                cpus: f.cpus,
                cpu_family: f.cpu_family.clone(),
                memory: f.memory_gib,
                disk: f.disk_gb,
                architecture: f.architecture.clone(),
                gpu: f.gpu.as_ref().map(|g| GpuSpec {
                    vendor: g.vendor.clone(),
                    model: g.model.clone(),
                    memory: g.memory_gib,
                    physical_count: g.physical_count,
                    logical_count: g.logical_count,
                }),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExternalNetwork {
    pub id: String,
    pub name: String,
}

impl From<&ProviderExternalNetwork> for ExternalNetwork {
    fn from(n: &ProviderExternalNetwork) -> Self {
        ExternalNetwork { id: n.id.clone(), name: n.name.clone() }
    }
}

/// `serviceVersionRead`: the build's name and version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceVersion {
    pub name: String,
    pub version: String,
}

impl ServiceVersion {
    /// This build: the product's name, and `RELEASE_VERSION` as the release build stamps it (a
    /// developer build answers the crate's version).
    pub fn of_this_build() -> Self {
        ServiceVersion {
            name: "region-servers".into(),
            version: option_env!("RELEASE_VERSION").unwrap_or(concat!("v", env!("CARGO_PKG_VERSION"))).into(),
        }
    }
}
