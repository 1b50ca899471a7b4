//! Wire (OpenStack JSON) -> port types.

use super::wire::{GlanceImage, NovaFlavor, NovaImageRef, NovaServer, GLANCE_CORE_ATTRIBUTES};
use crate::provider::{Flavor, Image, ProviderServer};

pub fn server_from_wire(server: NovaServer) -> ProviderServer {
    let all = server.addresses.values().flatten();
    let fixed = all.clone().find(|a| a.version == 4 && a.ip_type.as_deref() != Some("floating"));
    let floating = all.clone().find(|a| a.ip_type.as_deref() == Some("floating"));
    ProviderServer {
        private_ip: fixed.map(|a| a.addr.clone()),
        public_ip: floating.map(|a| a.addr.clone()),
        mac_address: fixed.and_then(|a| a.mac_addr.clone()),
        image_id: match server.image {
            NovaImageRef::Image { id } => Some(id),
            NovaImageRef::BootFromVolume(_) => None,
        },
        id: server.id,
        name: server.name,
        status: server.status,
        task_state: server.task_state,
        metadata: server.metadata,
    }
}

pub fn image_from_wire(image: GlanceImage) -> Image {
    let properties = image
        .extra
        .into_iter()
        .filter(|(key, _)| !GLANCE_CORE_ATTRIBUTES.contains(&key.as_str()))
        .filter_map(|(key, value)| match value {
            serde_json::Value::String(s) => Some((key, s)),
            serde_json::Value::Number(n) => Some((key, n.to_string())),
            serde_json::Value::Bool(b) => Some((key, b.to_string())),
            _ => None,
        })
        .collect();
    Image {
        id: image.id,
        name: image.name.unwrap_or_default(),
        status: image.status,
        min_disk_gib: image.min_disk,
        size_bytes: image.size,
        owner: image.owner,
        visibility: image.visibility,
        tags: image.tags,
        created_at: image.created_at,
        updated_at: image.updated_at,
        properties,
    }
}

pub fn flavor_from_wire(flavor: NovaFlavor) -> Flavor {
    Flavor {
        id: flavor.id,
        name: flavor.name,
        vcpus: flavor.vcpus,
        ram_mib: flavor.ram,
        disk_gib: flavor.disk,
        extra_specs: flavor.extra_specs.unwrap_or_default(),
    }
}
