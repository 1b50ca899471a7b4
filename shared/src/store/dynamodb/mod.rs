//! DynamoDB adapter: one table, three indexes (`byProject`, `byOrganization`, the sparse
//! `byAttention`), records as JSON documents beside the key and filter attributes. One file per
//! port and concern: `store` (the client, single-item reads and writes), `servers`, `resources`
//! (networks, identities, SSH CAs, key pairs), `idempotency`, `maintenance` (actions, the outbox,
//! cleanup), `sweeps` (a fanned-out sweep's plan and slice leases), `identity_cache`, `buckets` (fair use), under them `transactions`, `queries`, `errors`; `items` is the
//! item layout and `schema` the table.

mod buckets;
mod catalog;
mod claims;
mod errors;
mod idempotency;
mod identity_cache;
/// The item layout, public for tools and tests that load data in bulk.
pub mod items;
mod maintenance;
mod provisioned;
mod queries;
mod resources;
mod schema;
mod security_groups;
mod servers;
mod store;
mod sweeps;
mod transactions;

pub use errors::sdk_error;
pub use schema::{
    create_table, IndexSchema, TableSchema, INDEX_BY_ATTENTION, INDEX_BY_ORGANIZATION, INDEX_BY_PROJECT,
    INDEX_BY_REGION, TABLE,
};
pub use store::DynamoStore;
