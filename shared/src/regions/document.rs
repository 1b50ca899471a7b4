//! The region document an operator writes (docs/deploying.md has a full example): what Unikorn's
//! `Region` resources hold, as JSON or YAML. Secrets are never in it: each region names the Secrets
//! Manager secret holding its credential (`serviceAccountSecret`, as Unikorn's region does).
//!
//! Everything is checked when a function starts: an unknown field, a duplicate id, an endpoint that
//! is not an http(s) URL, a signing key that is not an ECDSA P-256 public key, a quantity that does
//! not parse: the function refuses to start, naming the field.

use serde::Deserialize;

/// The whole document: `regions: [...]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionsDocument {
    pub regions: Vec<RegionDocument>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegionDocument {
    /// The region's id: 1-63 characters, lower case letters, digits and `-` (a Kubernetes name, as
    /// Unikorn's region ids are).
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<TagDocument>,
    #[serde(rename = "type")]
    pub kind: RegionKind,
    #[serde(default)]
    pub openstack: Option<OpenStackDocument>,
    #[serde(default)]
    pub kubernetes: Option<KubernetesDocument>,
    #[serde(default)]
    pub security: Option<SecurityDocument>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagDocument {
    pub name: String,
    pub value: String,
}

/// Unikorn's region types. Only OpenStack regions serve compute; a Kubernetes region is listed and
/// detailed (its kubeconfig shown to `region:regions/detail` readers), and refused by OpenStack routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegionKind {
    Openstack,
    Kubernetes,
}

impl RegionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RegionKind::Openstack => "openstack",
            RegionKind::Kubernetes => "kubernetes",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubernetesDocument {
    /// The Secrets Manager secret holding the region's kubeconfig (key `kubeconfig`).
    pub kubeconfig_secret: String,
    #[serde(default)]
    pub domain_name: Option<String>,
}

/// Which organizations see the region (absent: every organization).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityDocument {
    pub organizations: Vec<OrganizationDocument>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationDocument {
    pub id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OpenStackDocument {
    /// Keystone v3, e.g. `https://keystone.example.com:5000/v3`.
    pub endpoint: String,
    /// The Secrets Manager secret holding the region's credential: JSON with Unikorn's keys
    /// `domain-id`, `user-id`, `password`, `project-id` (the region's own project).
    pub service_account_secret: String,
    #[serde(default)]
    pub identity: Option<IdentityDocument>,
    #[serde(default)]
    pub compute: Option<ComputeDocument>,
    #[serde(default)]
    pub image: Option<ImageDocument>,
    #[serde(default)]
    pub network: Option<NetworkDocument>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IdentityDocument {
    /// The roles a network's user gets in its project (default `member`, `load-balancer_member`).
    #[serde(default)]
    pub cluster_roles: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ComputeDocument {
    /// The server group policy of identities (default `soft-anti-affinity`).
    #[serde(default)]
    pub server_group_policy: Option<String>,
    #[serde(default)]
    pub flavors: Option<FlavorsDocument>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlavorsDocument {
    #[serde(default)]
    pub selector: Option<IdSelector>,
    #[serde(default)]
    pub metadata: Vec<FlavorMetadataDocument>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdSelector {
    #[serde(default)]
    pub ids: Vec<String>,
}

/// What Nova does not say about a flavor, by flavor id (Unikorn's `compute.flavors.metadata[]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FlavorMetadataDocument {
    pub id: String,
    #[serde(default)]
    pub baremetal: Option<bool>,
    #[serde(default)]
    pub cpu: Option<CpuDocument>,
    /// A quantity (`256Gi`, `512G`, bytes): replaces the RAM Nova reports.
    #[serde(default)]
    pub memory: Option<String>,
    #[serde(default)]
    pub gpu: Option<GpuDocument>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuDocument {
    /// Replaces the vCPUs Nova reports.
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub family: Option<String>,
    /// `x86_64` (the default) or `aarch64`.
    #[serde(default)]
    pub architecture: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GpuDocument {
    /// `NVIDIA` or `AMD`.
    pub vendor: String,
    pub model: String,
    /// A quantity (`80Gi`).
    pub memory: String,
    pub physical_count: u32,
    pub logical_count: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageDocument {
    #[serde(default)]
    pub selector: Option<ImageSelectorDocument>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageSelectorDocument {
    /// A PEM `PUBLIC KEY` (ECDSA P-256): global images must carry `unikorn:digest`, its signature
    /// of the SHA-256 of the image id.
    #[serde(default)]
    pub signing_key: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkDocument {
    #[serde(default)]
    pub external_networks: Option<ExternalNetworksDocument>,
    #[serde(default)]
    pub provider_networks: Option<ProviderNetworksDocument>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalNetworksDocument {
    #[serde(default)]
    pub selector: Option<ExternalNetworkSelector>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalNetworkSelector {
    /// Only these networks.
    #[serde(default)]
    pub ids: Vec<String>,
    /// Only networks carrying every one of these Neutron tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// VLAN provider networks (the region then offers `physicalNetworks`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderNetworksDocument {
    pub physical_network: String,
    #[serde(default)]
    pub vlan: Option<VlanDocument>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VlanDocument {
    pub segments: Vec<VlanSegmentDocument>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VlanSegmentDocument {
    pub start_id: u16,
    pub end_id: u16,
}
