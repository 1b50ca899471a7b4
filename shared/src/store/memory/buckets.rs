//! Fair-use buckets in memory, counting the calls a DynamoDB table would have received.

use async_trait::async_trait;

use super::MemoryStore;
use crate::fairuse::{BucketKey, BucketStore, Level, Micros, Overrides};

impl MemoryStore {
    /// Sets an organization's own limits, as an operator writes them into the table.
    pub fn set_overrides(&self, organization: &str, overrides: Overrides) {
        self.tables().overrides.insert(organization.to_owned(), overrides);
    }

    /// Removes an organization's own limits, as an operator deletes the item.
    pub fn clear_overrides(&self, organization: &str) {
        self.tables().overrides.remove(organization);
    }

    /// Drops every bucket, as the table's TTL removes idle ones.
    pub fn forget_buckets(&self) {
        self.tables().buckets.clear();
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
    async fn start(&self, key: &BucketKey, tat: Micros, interval: Micros, now: Micros) -> Result<bool, String> {
        let mut t = self.tables();
        t.bucket_calls.0 += 1;
        match t.buckets.get(key) {
            Some(current) if current.tat > now => Ok(false),
            _ => {
                t.buckets.insert(key.clone(), Level { tat, interval: Some(interval) });
                Ok(true)
            }
        }
    }

    async fn advance(
        &self,
        key: &BucketKey,
        by: Micros,
        interval: Micros,
        now: Micros,
        cap: Micros,
    ) -> Result<Option<Micros>, String> {
        let mut t = self.tables();
        t.bucket_calls.0 += 1;
        match t.buckets.get_mut(key) {
            Some(current) if (now..=cap).contains(&current.tat) && current.interval.is_none_or(|i| i == interval) => {
                current.tat += by;
                current.interval = Some(interval);
                Ok(Some(current.tat))
            }
            _ => Ok(None),
        }
    }

    async fn give_back(&self, key: &BucketKey, by: Micros, interval: Micros) -> Result<bool, String> {
        let mut t = self.tables();
        t.bucket_calls.0 += 1;
        match t.buckets.get_mut(key) {
            Some(current) if current.interval == Some(interval) => {
                current.tat -= by;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn peek(&self, key: &BucketKey) -> Result<Option<Level>, String> {
        let mut t = self.tables();
        t.bucket_calls.1 += 1;
        Ok(t.buckets.get(key).copied())
    }

    async fn rescale(&self, key: &BucketKey, from: Level, tat: Micros, interval: Micros) -> Result<bool, String> {
        let mut t = self.tables();
        t.bucket_calls.0 += 1;
        match t.buckets.get_mut(key) {
            Some(current) if current.tat == from.tat => {
                *current = Level { tat, interval: Some(interval) };
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn overrides(&self, organization: &str) -> Result<Overrides, String> {
        let mut t = self.tables();
        t.bucket_calls.1 += 1;
        Ok(t.overrides.get(organization).copied().unwrap_or_default())
    }
}
