//! DynamoDB adapter: one table, two indexes (`byProject`, `byOrganization`), records as JSON
//! documents beside the key and filter attributes.

mod identity_cache;
/// The item layout, public for tools and tests that load data in bulk.
pub mod items;
mod schema;
mod store;

pub use schema::{create_table, INDEX_BY_ATTENTION, INDEX_BY_ORGANIZATION, INDEX_BY_PROJECT};
pub use store::DynamoStore;
