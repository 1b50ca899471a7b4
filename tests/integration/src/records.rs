//! Records as the store contract writes them: networks (bound and provisioned with their hidden
//! identity), security groups, servers and SSH certificate authorities, built from their JSON.

use chrono::{Duration, Utc};
use serde_json::json;
use shared::domain::{IdentityRecord, Lifecycle, NetworkRecord, SecurityGroupRecord, ServerRecord, SshCaRecord};

use crate::calls::seeded_server;

pub fn network(id: &str) -> NetworkRecord {
    serde_json::from_value(json!({"id": id, "apiVersion": 2, "name": "net", "description": null, "tags": [],
        "organizationId": "o", "projectId": "p", "regionId": "r", "identityId": "i", "providerNetworkId": "pn",
        "createdBy": "t", "creationTime": "2026-01-01T00:00:00Z"}))
    .unwrap_or_else(|e| panic!("network: {e}"))
}

/// A provisioned network `id` (pending) and its hidden identity `i<n>`.
pub fn provisioned(id: &str) -> (IdentityRecord, NetworkRecord) {
    let identity_id = format!("i{}", id.trim_start_matches('n'));
    let mut n = network(id);
    n.identity_id = identity_id.clone();
    n.lifecycle = Some(Lifecycle::pending(Utc::now() - Duration::seconds(1)));
    let identity: IdentityRecord = serde_json::from_value(json!({"id": identity_id, "apiVersion": 2,
        "name": "networkv2-service-principal", "description": null, "tags": [], "organizationId": "o",
        "projectId": "p", "regionId": "r", "providerIdentityId": identity_id, "hidden": true,
        "createdBy": "t", "creationTime": "2026-01-01T00:00:00Z"}))
    .unwrap_or_else(|e| panic!("identity: {e}"));
    (identity, n)
}

/// A pending security group on `network` (v2) or under `identity` (v1).
pub fn group(id: &str, network: Option<&str>, identity: Option<&str>) -> SecurityGroupRecord {
    serde_json::from_value(json!({"id": id, "apiVersion": 2, "name": "sg", "description": null, "tags": [],
        "organizationId": "o", "projectId": "p", "regionId": "r", "networkId": network, "identityId": "i",
        "parentIdentityId": identity, "rules": [{"direction": "ingress", "protocol": "tcp", "ports": {"min": 22, "max": 22}}],
        "lifecycle": {"stage": "pending", "since": (Utc::now() - Duration::seconds(1)).to_rfc3339()},
        "createdBy": "t", "creationTime": "2026-01-01T00:00:00Z"}))
    .unwrap_or_else(|e| panic!("group: {e}"))
}

pub fn server(id: &str, name: &str, network: &str) -> ServerRecord {
    seeded_server(json!({"id": id, "name": name, "networkId": network}))
}

pub fn ca(id: &str) -> SshCaRecord {
    serde_json::from_value(json!({"id": id, "apiVersion": 2, "name": "ca", "description": null, "tags": [],
        "organizationId": "o", "projectId": "p",
        "publicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
        "createdBy": "t", "creationTime": "2026-01-01T00:00:00Z"}))
    .unwrap_or_else(|e| panic!("ca: {e}"))
}

pub fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}
