//! The persistence port. `dynamodb` is the production adapter; records are written with
//! conditional writes only (no read-then-write), so concurrent functions cannot corrupt them.

pub mod dynamodb;
pub mod memory;

use async_trait::async_trait;

use crate::domain::{IdentityKeypair, NetworkRecord, ServerRecord};
use crate::error::Result;
use crate::rbac::Scope;

/// A page of servers in ascending id order, across every scope asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerQuery {
    pub scopes: Vec<Scope>,
    pub region_ids: Vec<String>,
    pub network_ids: Vec<String>,
    /// Only ids strictly greater than this (the previous page's last id).
    pub after: Option<String>,
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Whether items exist past the last one returned.
    pub more: bool,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Fails with Conflict if the id exists.
    async fn create_network(&self, network: &NetworkRecord) -> Result<()>;
    async fn get_network(&self, id: &str) -> Result<Option<NetworkRecord>>;
    async fn list_networks(&self, scopes: &[Scope]) -> Result<Vec<NetworkRecord>>;
    /// NotFound if missing; Conflict while any server still references it.
    async fn delete_network(&self, id: &str) -> Result<()>;

    /// Writes the server and claims its name on its network in one transaction. Conflict when the
    /// name is held; NotFound when the network is gone.
    async fn create_server(&self, server: &ServerRecord) -> Result<()>;
    async fn get_server(&self, id: &str) -> Result<Option<ServerRecord>>;
    /// Replaces the record if its stored version is still `expected_version`;
    /// PreconditionFailed otherwise, NotFound if it is gone.
    async fn replace_server(&self, server: &ServerRecord, expected_version: u64) -> Result<()>;
    /// Deletes the record and releases its name claim in one transaction.
    async fn remove_server(&self, server: &ServerRecord) -> Result<()>;
    /// The id of the server holding `name` on `network_id`, if any.
    async fn claim_holder(&self, network_id: &str, name: &str) -> Result<Option<String>>;
    async fn list_servers(&self, query: &ServerQuery) -> Result<Page<ServerRecord>>;

    async fn get_keypair(&self, identity_id: &str) -> Result<Option<IdentityKeypair>>;
    /// Fails with Conflict if the identity already has one.
    async fn create_keypair(&self, keypair: &IdentityKeypair) -> Result<()>;
    async fn mark_keypair_registered(&self, identity_id: &str) -> Result<()>;
}
