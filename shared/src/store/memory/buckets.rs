//! Fair-use buckets in memory, counting the calls a DynamoDB table would have received.

use async_trait::async_trait;

use super::MemoryStore;
use crate::fairuse::{BucketKey, BucketStore, Micros, Overrides};

impl MemoryStore {
    /// Sets an organization's own limits, as an operator writes them into the table.
    pub fn set_overrides(&self, organization: &str, overrides: Overrides) {
        self.tables().overrides.insert(organization.to_owned(), overrides);
    }

    /// Conditional bucket updates received, successful or not.
    pub fn bucket_writes(&self) -> u64 {
        self.tables().bucket_calls.0
    }

    /// Bucket and override reads received.
    pub fn bucket_reads(&self) -> u64 {
        self.tables().bucket_calls.1
    }
}

#[async_trait]
impl BucketStore for MemoryStore {
    async fn start(&self, key: &BucketKey, tat: Micros, now: Micros) -> Result<bool, String> {
        let mut t = self.tables();
        t.bucket_calls.0 += 1;
        match t.buckets.get(key) {
            Some(current) if *current >= now => Ok(false),
            _ => {
                t.buckets.insert(key.clone(), tat);
                Ok(true)
            }
        }
    }

    async fn advance(&self, key: &BucketKey, by: Micros, now: Micros, cap: Micros) -> Result<Option<Micros>, String> {
        let mut t = self.tables();
        t.bucket_calls.0 += 1;
        match t.buckets.get_mut(key) {
            Some(current) if (now..=cap).contains(current) => {
                *current += by;
                Ok(Some(*current))
            }
            _ => Ok(None),
        }
    }

    async fn peek(&self, key: &BucketKey) -> Result<Option<Micros>, String> {
        let mut t = self.tables();
        t.bucket_calls.1 += 1;
        Ok(t.buckets.get(key).copied())
    }

    async fn overrides(&self, organization: &str) -> Result<Overrides, String> {
        let mut t = self.tables();
        t.bucket_calls.1 += 1;
        Ok(t.overrides.get(organization).copied().unwrap_or_default())
    }
}
