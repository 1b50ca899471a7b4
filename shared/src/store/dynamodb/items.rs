//! Keys and item layout. Kept here, beside the adapter, so the model never learns the table shape.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::domain::{NetworkRecord, ServerRecord};
use crate::error::{Error, Result};
use crate::rbac::Scope;

pub type Item = HashMap<String, AttributeValue>;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";

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

pub fn keypair_key(identity_id: &str) -> Item {
    HashMap::from([(PK.into(), s(format!("KEYPAIR#{identity_id}"))), (SK.into(), s("KEYPAIR"))])
}

pub fn claim_key(network_id: &str, name: &str) -> Item {
    HashMap::from([(PK.into(), s(format!("CLAIM#{network_id}#{name}"))), (SK.into(), s("CLAIM"))])
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
    serde_json::to_string(record).map(s).map_err(|e| Error::internal(format!("cannot encode record: {e}")))
}

pub fn server_item(r: &ServerRecord) -> Result<Item> {
    let mut item = server_key(&r.id);
    item.insert("doc".into(), doc(r)?);
    item.insert("version".into(), n(r.version));
    item.insert("apiVersion".into(), n(r.api_version));
    item.insert("regionId".into(), s(&r.region_id));
    item.insert("networkId".into(), s(&r.network_id));
    let project = Scope::Project(r.organization_id.clone(), r.project_id.clone());
    let org = Scope::Organization(r.organization_id.clone());
    item.insert(GSI1PK.into(), s(scope_partition(&project, "SERVER").3));
    item.insert(GSI1SK.into(), s(&r.id));
    item.insert(GSI2PK.into(), s(scope_partition(&org, "SERVER").3));
    item.insert(GSI2SK.into(), s(&r.id));
    Ok(item)
}

pub fn network_item(r: &NetworkRecord) -> Result<Item> {
    let mut item = network_key(&r.id);
    item.insert("doc".into(), doc(r)?);
    item.insert("apiVersion".into(), n(r.api_version));
    item.insert("serverCount".into(), n(0));
    let project = Scope::Project(r.organization_id.clone(), r.project_id.clone());
    let org = Scope::Organization(r.organization_id.clone());
    item.insert(GSI1PK.into(), s(scope_partition(&project, "NETWORK").3));
    item.insert(GSI1SK.into(), s(&r.id));
    item.insert(GSI2PK.into(), s(scope_partition(&org, "NETWORK").3));
    item.insert(GSI2SK.into(), s(&r.id));
    Ok(item)
}

pub fn keypair_item(k: &crate::domain::IdentityKeypair) -> Result<Item> {
    let mut item = keypair_key(&k.identity_id);
    item.insert("doc".into(), doc(k)?);
    Ok(item)
}

pub fn from_item<T: DeserializeOwned>(item: &Item) -> Result<T> {
    let text =
        item.get("doc").and_then(|v| v.as_s().ok()).ok_or_else(|| Error::internal("stored item has no document"))?;
    serde_json::from_str(text).map_err(|e| Error::internal(format!("stored document is unreadable: {e}")))
}
