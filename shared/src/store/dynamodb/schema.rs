//! The table definition: one value the local stack creates its tables from and a test compares
//! with the SAM template's `Table` (keys, attributes, indexes, projections, TTL).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;

use super::errors::sdk_error;
use super::items::{EXPIRES_AT, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, GSI4PK, GSI4SK, PK, SK};
use crate::store::{Result, StoreError};

pub const INDEX_BY_PROJECT: &str = "byProject";
pub const INDEX_BY_ORGANIZATION: &str = "byOrganization";
/// Sparse: name claims due for a check and networks being deleted (the cleanup function's work).
pub const INDEX_BY_ATTENTION: &str = "byAttention";
/// Every server of a region, across organizations (the cleanup function's sweep).
pub const INDEX_BY_REGION: &str = "byRegion";

/// One global secondary index: its name and keys (every index projects all attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSchema {
    pub name: &'static str,
    pub hash: &'static str,
    pub range: &'static str,
}

/// The table: its keys, the string attributes its keys use, its indexes and its TTL attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSchema {
    pub hash: &'static str,
    pub range: &'static str,
    pub attributes: [&'static str; 10],
    pub indexes: [IndexSchema; 4],
    /// Items with this attribute (epoch seconds) are removed by DynamoDB after that time.
    pub ttl_attribute: &'static str,
}

pub const TABLE: TableSchema = TableSchema {
    hash: PK,
    range: SK,
    attributes: [PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, GSI4PK, GSI4SK],
    indexes: [
        IndexSchema { name: INDEX_BY_PROJECT, hash: GSI1PK, range: GSI1SK },
        IndexSchema { name: INDEX_BY_ORGANIZATION, hash: GSI2PK, range: GSI2SK },
        IndexSchema { name: INDEX_BY_ATTENTION, hash: GSI3PK, range: GSI3SK },
        IndexSchema { name: INDEX_BY_REGION, hash: GSI4PK, range: GSI4SK },
    ],
    ttl_attribute: EXPIRES_AT,
};

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| StoreError::failed(e.to_string()))
}

fn attribute(name: &str) -> Result<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| StoreError::failed(e.to_string()))
}

fn index(name: &str, pk: &str, sk: &str) -> Result<GlobalSecondaryIndex> {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(pk, KeyType::Hash)?)
        .key_schema(key(sk, KeyType::Range)?)
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .map_err(|e| StoreError::failed(e.to_string()))
}

/// Creates the table (on-demand billing) of [`TABLE`] unless it exists.
pub async fn create_table(client: &Client, table: &str) -> Result<()> {
    let mut create = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(TABLE.hash, KeyType::Hash)?)
        .key_schema(key(TABLE.range, KeyType::Range)?);
    for name in TABLE.attributes {
        create = create.attribute_definitions(attribute(name)?);
    }
    for i in TABLE.indexes {
        create = create.global_secondary_indexes(index(i.name, i.hash, i.range)?);
    }
    match create.send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => Ok(()),
        Err(e) => Err(sdk_error("create table", e)),
    }
}
