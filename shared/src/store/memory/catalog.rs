//! Regions' catalogue copies in memory.

use async_trait::async_trait;

use super::MemoryStore;
use crate::store::{CatalogCopy, CatalogKind, CatalogStore, Result};

#[async_trait]
impl CatalogStore for MemoryStore {
    async fn get_catalog(&self, region: &str, kind: CatalogKind) -> Result<Option<CatalogCopy>> {
        Ok(self.tables().catalog.get(&(region.to_owned(), kind)).cloned())
    }

    async fn put_catalog(&self, region: &str, kind: CatalogKind, copy: &CatalogCopy) -> Result<()> {
        self.tables().catalog.insert((region.to_owned(), kind), copy.clone());
        Ok(())
    }

    async fn drop_catalog(&self, region: &str, kind: CatalogKind) -> Result<()> {
        self.tables().catalog.remove(&(region.to_owned(), kind));
        Ok(())
    }
}
