//! A region as the product uses it: the operator's document, checked and parsed once.

use std::collections::BTreeMap;

use p256::ecdsa::VerifyingKey;
use p256::pkcs8::DecodePublicKey;

use super::document::{FlavorMetadataDocument, OpenStackDocument, RegionDocument, RegionKind};
use super::quantity::bytes_of;
use crate::domain::Tag;
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Region {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<Tag>,
    pub kind: RegionKind,
    pub openstack: Option<OpenStackRegion>,
    pub kubernetes: Option<KubernetesRegion>,
    /// The organizations that see the region; `None`: every organization.
    pub organizations: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct KubernetesRegion {
    pub kubeconfig_secret: String,
    pub domain_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OpenStackRegion {
    /// Keystone v3, without a trailing `/`.
    pub endpoint: String,
    pub service_account_secret: String,
    pub cluster_roles: Vec<String>,
    pub server_group_policy: String,
    /// Only these flavors are offered (empty: every public flavor).
    pub flavor_ids: Vec<String>,
    pub flavor_metadata: BTreeMap<String, FlavorMetadata>,
    pub signing_key: Option<VerifyingKey>,
    pub external_network_ids: Vec<String>,
    pub external_network_tags: Vec<String>,
    pub provider_networks: Option<ProviderNetworks>,
}

/// What the operator says of a flavor that Nova does not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlavorMetadata {
    pub baremetal: bool,
    pub cpus: Option<u32>,
    pub cpu_family: Option<String>,
    pub architecture: Option<String>,
    pub memory_bytes: Option<u64>,
    pub gpu: Option<FlavorGpu>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlavorGpu {
    pub vendor: String,
    pub model: String,
    pub memory_bytes: u64,
    pub physical_count: u32,
    pub logical_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderNetworks {
    pub physical_network: String,
    /// Inclusive VLAN id ranges (default 1-4094).
    pub segments: Vec<(u16, u16)>,
}

/// Bounds of the document (each item of a list is checked too).
pub const MAX_REGIONS: usize = 64;
pub const MAX_LIST: usize = 1000;

fn invalid(field: &str, why: impl std::fmt::Display) -> Error {
    Error::internal(format!("region document: {field}: {why}"))
}

/// Region ids are Kubernetes names, as Unikorn's are: 1-63 lower case letters, digits and `-`,
/// starting and ending with a letter or digit.
pub fn is_region_id(id: &str) -> bool {
    (1..=63).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

fn check_id(field: &str, id: &str) -> Result<()> {
    if is_region_id(id) {
        Ok(())
    } else {
        Err(invalid(field, format!("'{id}' is not 1-63 lower case letters, digits and '-'")))
    }
}

fn architecture(field: &str, value: Option<&str>) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(a @ ("x86_64" | "aarch64")) => Ok(Some(a.to_owned())),
        Some(other) => Err(invalid(field, format!("'{other}' is not x86_64 or aarch64"))),
    }
}

fn parse_flavor_metadata(field: &str, doc: &FlavorMetadataDocument) -> Result<FlavorMetadata> {
    let cpu = doc.cpu.as_ref();
    let gpu = match &doc.gpu {
        None => None,
        Some(gpu) => {
            if !matches!(gpu.vendor.as_str(), "NVIDIA" | "AMD") {
                return Err(invalid(&format!("{field}.gpu.vendor"), "must be NVIDIA or AMD"));
            }
            Some(FlavorGpu {
                vendor: gpu.vendor.clone(),
                model: gpu.model.clone(),
                memory_bytes: bytes_of(&gpu.memory).map_err(|e| invalid(&format!("{field}.gpu.memory"), e))?,
                physical_count: gpu.physical_count,
                logical_count: gpu.logical_count,
            })
        }
    };
    Ok(FlavorMetadata {
        baremetal: doc.baremetal.unwrap_or(false),
        cpus: cpu.and_then(|c| c.count),
        cpu_family: cpu.and_then(|c| c.family.clone()),
        architecture: architecture(&format!("{field}.cpu.architecture"), cpu.and_then(|c| c.architecture.as_deref()))?,
        memory_bytes: doc
            .memory
            .as_deref()
            .map(bytes_of)
            .transpose()
            .map_err(|e| invalid(&format!("{field}.memory"), e))?,
        gpu,
    })
}

fn openstack(field: &str, doc: &OpenStackDocument) -> Result<OpenStackRegion> {
    let endpoint = doc.endpoint.trim_end_matches('/').to_owned();
    if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
        return Err(invalid(&format!("{field}.endpoint"), "must be an http(s) URL of Keystone v3"));
    }
    if doc.service_account_secret.is_empty() {
        return Err(invalid(&format!("{field}.serviceAccountSecret"), "must name a secret"));
    }
    let compute = doc.compute.as_ref();
    let flavors = compute.and_then(|c| c.flavors.as_ref());
    let mut flavor_metadata = BTreeMap::new();
    for (i, m) in flavors.map(|f| f.metadata.as_slice()).unwrap_or_default().iter().enumerate() {
        let field = format!("{field}.compute.flavors.metadata[{i}]");
        flavor_metadata.insert(m.id.clone(), parse_flavor_metadata(&field, m)?);
    }
    let signing_key = match doc.image.as_ref().and_then(|i| i.selector.as_ref()).and_then(|s| s.signing_key.as_ref()) {
        None => None,
        Some(pem) => Some(VerifyingKey::from_public_key_pem(pem.trim()).map_err(|e| {
            invalid(&format!("{field}.image.selector.signingKey"), format!("not an ECDSA P-256 PUBLIC KEY: {e}"))
        })?),
    };
    let network = doc.network.as_ref();
    let external = network.and_then(|n| n.external_networks.as_ref()).and_then(|e| e.selector.clone());
    let provider_networks = match network.and_then(|n| n.provider_networks.as_ref()) {
        None => None,
        Some(p) => {
            let segments: Vec<(u16, u16)> = match &p.vlan {
                Some(vlan) => vlan.segments.iter().map(|s| (s.start_id, s.end_id)).collect(),
                None => vec![(1, 4094)],
            };
            if segments.is_empty() || segments.iter().any(|(a, b)| *a == 0 || a > b || *b > 4094) {
                return Err(invalid(
                    &format!("{field}.network.providerNetworks.vlan"),
                    "segments must be 1-4094, start <= end",
                ));
            }
            Some(ProviderNetworks { physical_network: p.physical_network.clone(), segments })
        }
    };
    let external = external.unwrap_or_default();
    Ok(OpenStackRegion {
        endpoint,
        service_account_secret: doc.service_account_secret.clone(),
        cluster_roles: doc
            .identity
            .as_ref()
            .map(|i| i.cluster_roles.clone())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| vec!["member".into(), "load-balancer_member".into()]),
        server_group_policy: compute
            .and_then(|c| c.server_group_policy.clone())
            .unwrap_or_else(|| "soft-anti-affinity".into()),
        flavor_ids: flavors.and_then(|f| f.selector.as_ref()).map(|s| s.ids.clone()).unwrap_or_default(),
        flavor_metadata,
        signing_key,
        external_network_ids: external.ids,
        external_network_tags: external.tags,
        provider_networks,
    })
}

impl Region {
    /// One region of the document, checked; `field` names it in errors (`regions[0]`).
    pub fn parse(field: &str, doc: &RegionDocument) -> Result<Region> {
        check_id(&format!("{field}.id"), &doc.id)?;
        if doc.name.is_empty() || doc.name.len() > 63 {
            return Err(invalid(&format!("{field}.name"), "must be 1-63 characters"));
        }
        let lists = [doc.tags.len(), doc.security.as_ref().map_or(0, |s| s.organizations.len())];
        if lists.iter().any(|n| *n > MAX_LIST) {
            return Err(invalid(field, format!("lists hold at most {MAX_LIST} entries")));
        }
        let (openstack, kubernetes) = match doc.kind {
            RegionKind::Openstack => {
                let Some(os) = &doc.openstack else {
                    return Err(invalid(&format!("{field}.openstack"), "an openstack region needs it"));
                };
                (Some(openstack(&format!("{field}.openstack"), os)?), None)
            }
            RegionKind::Kubernetes => {
                let Some(k) = &doc.kubernetes else {
                    return Err(invalid(&format!("{field}.kubernetes"), "a kubernetes region needs it"));
                };
                let region = KubernetesRegion {
                    kubeconfig_secret: k.kubeconfig_secret.clone(),
                    domain_name: k.domain_name.clone(),
                };
                (None, Some(region))
            }
        };
        Ok(Region {
            id: doc.id.clone(),
            name: doc.name.clone(),
            description: doc.description.clone(),
            tags: doc.tags.iter().map(|t| Tag { name: t.name.clone(), value: t.value.clone() }).collect(),
            kind: doc.kind,
            openstack,
            kubernetes,
            organizations: doc.security.as_ref().map(|s| s.organizations.iter().map(|o| o.id.clone()).collect()),
        })
    }

    /// Whether the region offers VLAN provider networks (Unikorn's `physicalNetworks` feature).
    pub fn physical_networks(&self) -> bool {
        self.openstack.as_ref().is_some_and(|o| o.provider_networks.is_some())
    }
}
