//! The table definition, for tests and the local stack (the SAM template declares the same).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;

use super::errors::sdk_error;
use super::items::{GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, PK, SK};
use crate::store::{Result, StoreError};

pub const INDEX_BY_PROJECT: &str = "byProject";
pub const INDEX_BY_ORGANIZATION: &str = "byOrganization";
/// Sparse: name claims due for a check and networks being deleted (the cleanup function's work).
pub const INDEX_BY_ATTENTION: &str = "byAttention";

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

/// Creates the table (on-demand billing) unless it exists.
pub async fn create_table(client: &Client, table: &str) -> Result<()> {
    let result = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .attribute_definitions(attribute(PK)?)
        .attribute_definitions(attribute(SK)?)
        .attribute_definitions(attribute(GSI1PK)?)
        .attribute_definitions(attribute(GSI1SK)?)
        .attribute_definitions(attribute(GSI2PK)?)
        .attribute_definitions(attribute(GSI2SK)?)
        .attribute_definitions(attribute(GSI3PK)?)
        .attribute_definitions(attribute(GSI3SK)?)
        .global_secondary_indexes(index(INDEX_BY_PROJECT, GSI1PK, GSI1SK)?)
        .global_secondary_indexes(index(INDEX_BY_ORGANIZATION, GSI2PK, GSI2SK)?)
        .global_secondary_indexes(index(INDEX_BY_ATTENTION, GSI3PK, GSI3SK)?)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => Ok(()),
        Err(e) => Err(sdk_error("create table", e)),
    }
}
