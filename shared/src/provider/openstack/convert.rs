//! Wire (OpenStack JSON) -> port types.

use super::wire::{GlanceImage, NovaFlavor, NovaImageRef, NovaServer, GLANCE_CORE_ATTRIBUTES};
use crate::provider::{Flavor, Image, ImageState, ProviderServer, ServerPhase};

/// Glance's image status in the port's words.
fn image_state(status: &str) -> ImageState {
    match status {
        "queued" => ImageState::Pending,
        "saving" | "uploading" | "importing" => ImageState::Creating,
        "active" => ImageState::Ready,
        _ => ImageState::Failed,
    }
}

/// Nova's status (from vm_state and task_state) in the port's words.
fn phase(status: &str, task_state: Option<&str>) -> ServerPhase {
    if task_state == Some("deleting") {
        return ServerPhase::Deleting;
    }
    match status {
        "BUILD" => ServerPhase::Building,
        "ACTIVE" => ServerPhase::Active,
        "SHUTOFF" => ServerPhase::Stopped,
        "REBOOT" | "HARD_REBOOT" => ServerPhase::Rebooting,
        "RESIZE" | "REVERT_RESIZE" => ServerPhase::Resizing,
        "VERIFY_RESIZE" => ServerPhase::ResizeAwaitingConfirmation,
        "REBUILD" => ServerPhase::Rebuilding,
        "DELETED" | "SOFT_DELETED" => ServerPhase::Deleting,
        "ERROR" => ServerPhase::Error,
        "PAUSED" | "SUSPENDED" | "SHELVED" | "SHELVED_OFFLOADED" => ServerPhase::Held,
        "RESCUE" => ServerPhase::Rescued,
        _ => ServerPhase::Other,
    }
}

pub fn server_from_wire(server: NovaServer) -> ProviderServer {
    let all = server.addresses.values().flatten();
    let fixed = all.clone().find(|a| a.version == 4 && a.ip_type.as_deref() != Some("floating"));
    let floating = all.clone().find(|a| a.ip_type.as_deref() == Some("floating"));
    let phase = phase(&server.status, server.task_state.as_deref());
    // Held or rescued by someone at the provider: the record says so (its fault), in Nova's word.
    let fault = match phase {
        ServerPhase::Held | ServerPhase::Rescued => {
            Some(format!("the server is {} at the provider", server.status.to_lowercase().replace('_', " ")))
        }
        _ => server.fault.and_then(|f| f.message),
    };
    ProviderServer {
        private_ip: fixed.map(|a| a.addr.clone()),
        public_ip: floating.map(|a| a.addr.clone()),
        mac_address: fixed.and_then(|a| a.mac_addr.clone()),
        image_id: match server.image {
            NovaImageRef::Image { id } => Some(id),
            NovaImageRef::BootFromVolume(_) => None,
        },
        phase,
        busy: server.task_state.is_some(),
        fault,
        flavor_name: server.flavor.and_then(|f| f.original_name.or(f.id)),
        created_at: server
            .created
            .and_then(|c| chrono::DateTime::parse_from_rfc3339(&c).ok())
            .map(|c| c.with_timezone(&chrono::Utc)),
        project_id: server.tenant_id,
        id: server.id,
        name: server.name,
        metadata: server.metadata,
    }
}

pub fn image_from_wire(image: GlanceImage) -> Image {
    let architecture = properties_architecture(&image.extra);
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
        state: image_state(&image.status),
        architecture,
        min_disk_gib: image.min_disk,
        size_bytes: image.size,
        virtual_size_bytes: image.virtual_size,
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
        is_public: flavor.is_public,
        extra_specs: flavor.extra_specs.unwrap_or_default(),
    }
}

/// Glance's standard `architecture` property, in the two spellings Unikorn knows.
fn properties_architecture(extra: &std::collections::BTreeMap<String, serde_json::Value>) -> Option<String> {
    match extra.get("architecture").and_then(|v| v.as_str())? {
        "x86_64" | "amd64" => Some("x86_64".into()),
        "aarch64" | "arm64" => Some("aarch64".into()),
        _ => None,
    }
}
