//! Flavors: Nova's, with the operator's overrides (CPU count, memory), public ones only, the
//! selector's ids only, in Unikorn's units and order.

use serde::{Deserialize, Serialize};

use super::GIB;
use crate::provider::Flavor;
use crate::regions::OpenStackRegion;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferedFlavor {
    pub id: String,
    pub name: String,
    pub cpus: u32,
    /// GiB, rounded down.
    pub memory_gib: u64,
    /// Bytes, for the order.
    pub memory_bytes: u64,
    /// Nova's root disk, GB.
    pub disk_gb: u64,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_family: Option<String>,
    #[serde(default)]
    pub baremetal: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<FlavorGpuSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlavorGpuSpec {
    pub vendor: String,
    pub model: String,
    /// GiB, rounded down.
    pub memory_gib: u64,
    pub physical_count: u32,
    pub logical_count: u32,
}

/// Nova's flavors (in its name order) as the region offers them.
pub fn offered_flavors(region: &OpenStackRegion, nova: Vec<Flavor>) -> Vec<OfferedFlavor> {
    let mut offered: Vec<OfferedFlavor> = nova
        .into_iter()
        .filter(|f| f.is_public)
        .filter(|f| region.flavor_ids.is_empty() || region.flavor_ids.contains(&f.id))
        .map(|f| {
            let meta = region.flavor_metadata.get(&f.id).cloned().unwrap_or_default();
            let memory_bytes = meta.memory_bytes.unwrap_or(f.ram_mib.saturating_mul(1 << 20));
            OfferedFlavor {
                cpus: meta.cpus.unwrap_or(f.vcpus),
                memory_gib: memory_bytes / GIB,
                memory_bytes,
                disk_gb: f.disk_gib,
                architecture: meta.architecture.clone().unwrap_or_else(|| "x86_64".into()),
                cpu_family: meta.cpu_family.clone(),
                baremetal: meta.baremetal,
                gpu: meta.gpu.as_ref().map(|g| FlavorGpuSpec {
                    vendor: g.vendor.clone(),
                    model: g.model.clone(),
                    memory_gib: g.memory_bytes / GIB,
                    physical_count: g.physical_count,
                    logical_count: g.logical_count,
                }),
                id: f.id,
                name: f.name,
            }
        })
        .collect();
    // Stable: equal flavors keep Nova's name order.
    offered.sort_by_key(|f| (f.gpu.as_ref().map_or(0, |g| g.logical_count), f.cpus, f.memory_bytes));
    offered
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regions::Regions;

    fn flavor(id: &str, name: &str, vcpus: u32, ram_mib: u64, public: bool) -> Flavor {
        Flavor {
            id: id.into(),
            name: name.into(),
            vcpus,
            ram_mib,
            disk_gib: 40,
            is_public: public,
            ..Flavor::default()
        }
    }

    fn region(openstack: serde_json::Value) -> OpenStackRegion {
        let mut os = serde_json::json!({"endpoint": "http://k/v3", "serviceAccountSecret": "s"});
        if let (Some(o), Some(extra)) = (os.as_object_mut(), openstack.as_object()) {
            o.extend(extra.clone());
        }
        let doc = serde_json::json!({"regions": [{"id": "r", "name": "r", "type": "openstack", "openstack": os}]});
        let regions = Regions::parse(&doc.to_string()).unwrap_or_else(|e| panic!("{e}"));
        regions.get("r").and_then(|r| r.openstack.clone()).unwrap_or_else(|| panic!("openstack"))
    }

    #[test]
    fn public_flavors_with_overrides_in_unikorns_units_and_order() {
        let region = region(serde_json::json!({"compute": {"flavors": {"metadata": [
            {"id": "g", "cpu": {"count": 64, "family": "EPYC", "architecture": "aarch64"}, "memory": "1Ti",
             "baremetal": true, "gpu": {"vendor": "NVIDIA", "model": "H100", "memory": "80Gi", "physicalCount": 8, "logicalCount": 8}}]}}}));
        let nova = vec![
            flavor("g", "a-gpu", 8, 8192, true),
            flavor("big", "b-big", 16, 65536, true),
            flavor("odd", "c-odd", 2, 1536, true),
            flavor("private", "d-private", 1, 512, false),
            flavor("small", "e-small", 2, 4096, true),
        ];
        let offered = offered_flavors(&region, nova);
        let ids: Vec<&str> = offered.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["odd", "small", "big", "g"], "GPUs last, then CPUs, then memory; private dropped");
        assert_eq!((offered[0].memory_gib, offered[0].architecture.as_str()), (1, "x86_64"), "1536 MiB is 1 GiB");
        let g = &offered[3];
        assert_eq!((g.cpus, g.memory_gib, g.architecture.as_str(), g.baremetal), (64, 1024, "aarch64", true));
        assert_eq!(g.gpu.as_ref().map(|g| (g.memory_gib, g.logical_count)), Some((80, 8)));
        assert_eq!(g.cpu_family.as_deref(), Some("EPYC"));
    }

    #[test]
    fn the_selector_keeps_its_ids_only() {
        let region = region(serde_json::json!({"compute": {"flavors": {"selector": {"ids": ["small", "private"]}}}}));
        let nova = vec![
            flavor("small", "s", 2, 4096, true),
            flavor("big", "b", 8, 8192, true),
            flavor("private", "p", 1, 512, false),
        ];
        let ids: Vec<String> = offered_flavors(&region, nova).into_iter().map(|f| f.id).collect();
        assert_eq!(ids, ["small"], "selected and public");
    }
}
