//! Keys and item layout. Kept here, beside the adapter, so the model never learns the table shape.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::domain::{ActionRecord, IdentityRecord, NetworkRecord, ServerRecord, StateEvent};
use crate::rbac::Scope;
use crate::store::{Result, StoreError};

pub type Item = HashMap<String, AttributeValue>;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
/// The sparse `byAttention` index: only items the cleanup function must look at carry these.
pub const GSI3PK: &str = "GSI3PK";
pub const GSI3SK: &str = "GSI3SK";
/// The region index's keys (servers only): `REGION#<region>#SERVER`, sorted by id.
pub const GSI4PK: &str = "GSI4PK";
pub const GSI4SK: &str = "GSI4SK";
/// Epoch seconds after which DynamoDB's TTL removes an item (idempotency keys, the identity cache).
pub const EXPIRES_AT: &str = "expiresAt";
pub const ATTENTION: &str = "ATTENTION";

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn server_key(id: &str) -> Item {
    HashMap::from([(PK.into(), s(format!("SERVER#{id}"))), (SK.into(), s("SERVER"))])
}

pub fn network_key(id: &str) -> Item {
    HashMap::from([(PK.into(), s(format!("NETWORK#{id}"))), (SK.into(), s("NETWORK"))])
}

/// An item that never exists: what the init warm-up reads.
pub fn warmup_key() -> Item {
    HashMap::from([(PK.into(), s("WARMUP".to_owned())), (SK.into(), s("WARMUP"))])
}

pub fn keypair_key(identity_id: &str) -> Item {
    HashMap::from([(PK.into(), s(format!("KEYPAIR#{identity_id}"))), (SK.into(), s("KEYPAIR"))])
}

pub fn claim_key(network_id: &str, name: &str) -> Item {
    HashMap::from([(PK.into(), s(format!("CLAIM#{network_id}#{name}"))), (SK.into(), s("CLAIM"))])
}

pub fn identity_key(id: &str) -> Item {
    HashMap::from([(PK.into(), s(format!("IDENTITY#{id}"))), (SK.into(), s("IDENTITY"))])
}

/// An identity resource, with the count of networks under it (the delete is conditional on zero).
pub fn identity_item(r: &IdentityRecord) -> Result<Item> {
    let mut item = identity_key(&r.id);
    item.insert("doc".into(), doc(r)?);
    item.insert("apiVersion".into(), n(r.api_version.0));
    item.insert("networkCount".into(), n(0));
    insert_tag_pairs(&mut item, &r.tags);
    insert_scope_keys(&mut item, "IDENTITY", &r.id, &r.organization_id, &r.project_id);
    Ok(item)
}

pub fn ssh_ca_key(id: &str) -> Item {
    HashMap::from([(PK.into(), s(format!("SSHCA#{id}"))), (SK.into(), s("SSHCA"))])
}

/// The keys of the two scope indexes (project and organization), sorted by the resource's id.
fn insert_scope_keys(item: &mut Item, kind: &str, id: &str, organization: &str, project: &str) {
    let project = Scope::Project(organization.to_owned(), project.to_owned());
    let org = Scope::Organization(organization.to_owned());
    item.insert(GSI1PK.into(), s(scope_partition(&project, kind).3));
    item.insert(GSI1SK.into(), s(id));
    item.insert(GSI2PK.into(), s(scope_partition(&org, kind).3));
    item.insert(GSI2SK.into(), s(id));
}

/// A string set of `name=value` pairs, for the tag filter (DynamoDB sets cannot be empty).
fn insert_tag_pairs(item: &mut Item, tags: &crate::domain::Tags) {
    if !tags.0.is_empty() {
        let pairs = tags.0.iter().map(|t| tag_pair(&t.name, &t.value)).collect();
        item.insert("tagPairs".into(), AttributeValue::Ss(pairs));
    }
}

pub fn ssh_ca_item(r: &crate::domain::SshCaRecord) -> Result<Item> {
    let mut item = ssh_ca_key(&r.id);
    item.insert("doc".into(), doc(r)?);
    item.insert("apiVersion".into(), n(r.api_version.0));
    insert_tag_pairs(&mut item, &r.tags);
    insert_scope_keys(&mut item, "SSHCA", &r.id, &r.organization_id, &r.project_id);
    Ok(item)
}

pub const PROTECT_DELETE: &str = "protectDelete";
pub const PROTECT_REBUILD: &str = "protectRebuild";

pub fn action_key(server_id: &str, action_id: &str) -> Item {
    HashMap::from([(PK.into(), s(format!("ACTIONS#{server_id}"))), (SK.into(), s(format!("ACTION#{action_id}")))])
}

/// An action item's attributes as an update sets them (all but the provider's request id, which
/// `note_request_id` sets on its own): the document, the status the list filter reads, the expiry.
pub fn action_values(a: &ActionRecord) -> Result<HashMap<String, AttributeValue>> {
    let mut stored = a.clone();
    stored.provider_request_id = None;
    Ok(HashMap::from([
        (":doc".to_owned(), doc(&stored)?),
        (":status".to_owned(), s(a.action.status.as_str())),
        (":expires".to_owned(), n(a.expires_at().timestamp())),
    ]))
}

/// The table's time-to-live attribute is `expiresAt` (epoch seconds): DynamoDB deletes expired items.
pub const ACTION_UPDATE: &str = "SET doc = :doc, actionStatus = :status, expiresAt = :expires";

pub fn action_from_item(item: &Item) -> Result<ActionRecord> {
    let mut action: ActionRecord = from_item(item)?;
    action.provider_request_id = string_attr(item, "providerRequestId");
    Ok(action)
}

/// A transition waiting to be published, found through the attention index in time order.
pub fn outbox_item(e: &StateEvent) -> Result<Item> {
    let mut item = outbox_key(e);
    item.insert("doc".into(), doc(e)?);
    item.insert(GSI3PK.into(), s(ATTENTION));
    item.insert(GSI3SK.into(), s(format!("EVENT#{}#{}#{:020}", sortable(e.time), e.server_id, e.sequence)));
    Ok(item)
}

pub fn outbox_key(e: &StateEvent) -> Item {
    HashMap::from([(PK.into(), s(format!("OUTBOX#{}#{:020}", e.server_id, e.sequence))), (SK.into(), s("OUTBOX"))])
}

pub fn cursor_key() -> Item {
    HashMap::from([(PK.into(), s("CLEANUP#CURSOR")), (SK.into(), s("CURSOR"))])
}

pub fn idempotency_key(key: &str) -> Item {
    HashMap::from([(PK.into(), s(format!("IDEMPOTENCY#{key}"))), (SK.into(), s("IDEMPOTENCY"))])
}

/// Sortable UTC time for index sort keys (fixed width, so string order is time order).
pub fn sortable(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A name claim, due for a check (is its holder still there?) at `check_at`.
pub fn claim_item(server: &ServerRecord, check_at: DateTime<Utc>) -> Item {
    let mut item = claim_key(&server.network_id, server.name.as_str());
    item.insert("serverId".into(), s(&server.id));
    item.insert("networkId".into(), s(&server.network_id));
    item.insert("name".into(), s(server.name.as_str()));
    item.insert(GSI3PK.into(), s(ATTENTION));
    item.insert(
        GSI3SK.into(),
        s(format!("CLAIM#{}#{}#{}", sortable(check_at), server.network_id, server.name.as_str())),
    );
    item
}

pub fn tag_pair(name: &str, value: &str) -> String {
    format!("{name}={value}")
}

pub fn string_attr(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

/// A time stored as epoch milliseconds.
pub fn millis_attr(item: &Item, name: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    number_attr(item, name).and_then(|ms| chrono::DateTime::from_timestamp_millis(i64::try_from(ms).ok()?))
}

pub fn number_attr(item: &Item, name: &str) -> Option<u64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

/// Partition keys of the two indexes for a kind (`SERVER`, `NETWORK`) in a scope.
pub fn scope_partition(scope: &Scope, kind: &str) -> (&'static str, &'static str, &'static str, String) {
    match scope {
        Scope::Project(org, project) => {
            (super::INDEX_BY_PROJECT, GSI1PK, GSI1SK, format!("PROJECT#{org}#{project}#{kind}"))
        }
        Scope::Organization(org) => (super::INDEX_BY_ORGANIZATION, GSI2PK, GSI2SK, format!("ORG#{org}#{kind}")),
    }
}

fn doc<T: Serialize>(record: &T) -> Result<AttributeValue> {
    serde_json::to_string(record).map(s).map_err(|e| StoreError::failed(format!("cannot encode record: {e}")))
}

pub fn server_item(r: &ServerRecord) -> Result<Item> {
    let mut item = server_key(&r.id);
    item.insert("doc".into(), doc(r)?);
    item.insert("version".into(), n(r.version));
    item.insert("apiVersion".into(), n(r.api_version.0));
    item.insert("regionId".into(), s(&r.region_id));
    item.insert("networkId".into(), s(&r.network_id));
    item.insert("identityId".into(), s(&r.identity_id));
    if let Some(parent) = &r.parent_identity_id {
        item.insert("parentIdentityId".into(), s(parent));
    }
    // Beside the document, for the conditions of deleting and rebuilding writes.
    item.insert(PROTECT_DELETE.into(), AttributeValue::Bool(r.protection.delete));
    item.insert(PROTECT_REBUILD.into(), AttributeValue::Bool(r.protection.rebuild));
    insert_tag_pairs(&mut item, &r.tags);
    insert_scope_keys(&mut item, "SERVER", &r.id, &r.organization_id, &r.project_id);
    item.insert(GSI4PK.into(), s(region_partition(&r.region_id)));
    item.insert(GSI4SK.into(), s(&r.id));
    Ok(item)
}

/// The region index's partition of a region's servers.
pub fn region_partition(region_id: &str) -> String {
    format!("REGION#{region_id}#SERVER")
}

pub fn network_item(r: &NetworkRecord) -> Result<Item> {
    let mut item = network_key(&r.id);
    item.insert("doc".into(), doc(r)?);
    item.insert("apiVersion".into(), n(r.api_version.0));
    item.insert("serverCount".into(), n(0));
    if let Some(parent) = &r.parent_identity_id {
        item.insert("parentIdentityId".into(), s(parent));
    }
    insert_scope_keys(&mut item, "NETWORK", &r.id, &r.organization_id, &r.project_id);
    Ok(item)
}

pub fn security_group_key(id: &str) -> Item {
    HashMap::from([(PK.into(), s(format!("SECGROUP#{id}"))), (SK.into(), s("SECGROUP"))])
}

/// A new security group: its document and version, the attributes the list's filters read, the
/// count of servers naming it, and (unsettled) its attention key.
pub fn security_group_item(g: &crate::domain::SecurityGroupRecord) -> Result<Item> {
    let mut item = security_group_key(&g.id);
    item.insert("doc".into(), doc(g)?);
    item.insert("version".into(), n(g.version));
    item.insert("apiVersion".into(), n(g.api_version.0));
    item.insert("serverCount".into(), n(0));
    if let Some(network) = &g.network_id {
        item.insert("networkId".into(), s(network));
    }
    if let Some(parent) = &g.parent_identity_id {
        item.insert("parentIdentityId".into(), s(parent));
    }
    if let Some(key) = unsettled_group_key(g) {
        item.insert(GSI3PK.into(), s(ATTENTION));
        item.insert(GSI3SK.into(), s(key));
    }
    insert_tag_pairs(&mut item, &g.tags);
    insert_scope_keys(&mut item, "SECGROUP", &g.id, &g.organization_id, &g.project_id);
    Ok(item)
}

/// The attention index's sort key of a group with work left (its stage's start, so the oldest
/// comes first), or `None` once it is provisioned.
pub fn unsettled_group_key(g: &crate::domain::SecurityGroupRecord) -> Option<String> {
    g.lifecycle.stage.unsettled().then(|| format!("SGPROVISION#{}#{}", sortable(g.lifecycle.since), g.id))
}

/// A security group as stored: the document, and the deletion mark kept beside it.
pub fn security_group_from_item(item: &Item) -> Result<crate::domain::SecurityGroupRecord> {
    let mut group: crate::domain::SecurityGroupRecord = from_item(item)?;
    group.deleting_since = string_attr(item, "deletingSince")
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc));
    group.version = number_attr(item, "version").unwrap_or(group.version);
    Ok(group)
}

pub fn keypair_item(k: &crate::domain::IdentityKeypair) -> Result<Item> {
    let mut item = keypair_key(&k.identity_id);
    item.insert("doc".into(), doc(k)?);
    Ok(item)
}

/// A network as stored: the document, and the deletion mark kept beside it.
pub fn network_from_item(item: &Item) -> Result<NetworkRecord> {
    let mut network: NetworkRecord = from_item(item)?;
    network.deleting_since = string_attr(item, "deletingSince")
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc));
    network.references =
        item.get("refs").and_then(|v| v.as_ss().ok()).map(|r| r.iter().cloned().collect()).unwrap_or_default();
    network.version = number_attr(item, "version").unwrap_or(network.version);
    Ok(network)
}

/// An identity as stored: the document, and the deletion mark kept beside it.
pub fn identity_from_item(item: &Item) -> Result<IdentityRecord> {
    let mut identity: IdentityRecord = from_item(item)?;
    identity.deleting_since = string_attr(item, "deletingSince")
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc));
    identity.version = number_attr(item, "version").unwrap_or(identity.version);
    Ok(identity)
}

pub fn from_item<T: DeserializeOwned>(item: &Item) -> Result<T> {
    let text =
        item.get("doc").and_then(|v| v.as_s().ok()).ok_or_else(|| StoreError::failed("stored item has no document"))?;
    serde_json::from_str(text).map_err(|e| StoreError::failed(format!("stored document is unreadable: {e}")))
}
