//! The fanned-out sweep's items: `SWEEP#<id>`/`PLAN` (claimed once, the slice count, the slices
//! finished) and `SWEEP#<id>`/`SLICE#<n>` (its lease: holder and until when, or finished). Both
//! expire a day later (TTL): a sweep's bookkeeping is only read while the next ones run.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use super::errors::{build, is_condition_failure, sdk_error};
use super::items::*;
use super::transactions::Transaction;
use super::DynamoStore;
use crate::store::{Kind, Lease, Result, StoreError, SweepClaim, SweepStore, SweepSummary};

/// How long a sweep's items are kept.
const KEPT_SECONDS: i64 = 86_400;

fn plan_key(sweep: &str) -> Item {
    HashMap::from([(PK.into(), s(format!("SWEEP#{sweep}"))), (SK.into(), s("PLAN"))])
}

/// Names the latest sweep claimed.
fn latest_key() -> Item {
    HashMap::from([(PK.into(), s("SWEEP#LATEST")), (SK.into(), s("LATEST"))])
}

fn slice_key(sweep: &str, slice: u32) -> Item {
    HashMap::from([(PK.into(), s(format!("SWEEP#{sweep}"))), (SK.into(), s(format!("SLICE#{slice:06}")))])
}

/// A slice its holder still holds and nobody finished: what giving it back and finishing it need.
const STILL_HELD: &str = "holder = :holder AND attribute_not_exists(finishedAt)";

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

#[async_trait]
impl SweepStore for DynamoStore {
    async fn claim_sweep(&self, sweep: &str, at: DateTime<Utc>) -> Result<SweepClaim> {
        let mut item = plan_key(sweep);
        item.insert("plannedAt".into(), s(at.to_rfc3339()));
        item.insert("finished".into(), n(0));
        item.insert(EXPIRES_AT.into(), n(at.timestamp() + KEPT_SECONDS));
        // A second planner of the tick finds the plan there.
        let taken = || StoreError::Changed(Kind::CleanupCursor, sweep.to_owned());
        match self.put_new(item, "claim sweep", taken).await {
            Ok(()) => {}
            Err(StoreError::Changed(..)) => return Ok(SweepClaim::Taken),
            Err(e) => return Err(e),
        }
        let mut latest = latest_key();
        latest.insert("sweep".into(), s(sweep));
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(latest))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| sdk_error("claim sweep", e))?;
        Ok(SweepClaim::Ours { previous: out.attributes().and_then(|old| string_attr(old, "sweep")) })
    }

    async fn set_sweep_slices(&self, sweep: &str, slices: u32) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(plan_key(sweep)))
            .update_expression("SET slices = :slices")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":slices", n(slices))
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("plan sweep", e))
    }

    async fn sweep_summary(&self, sweep: &str) -> Result<Option<SweepSummary>> {
        let item = self.get(plan_key(sweep), "read sweep").await?;
        Ok(item.map(|item| SweepSummary {
            sweep: sweep.to_owned(),
            planned_at: string_attr(&item, "plannedAt")
                .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
                .map(|at| at.with_timezone(&Utc)),
            slices: number_attr(&item, "slices").and_then(|v| u32::try_from(v).ok()),
            finished: number_attr(&item, "finished").and_then(|v| u32::try_from(v).ok()).unwrap_or(0),
        }))
    }

    async fn lease_slice(
        &self,
        sweep: &str,
        slice: u32,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Lease> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(slice_key(sweep, slice)))
            .update_expression("SET holder = :holder, leasedUntil = :until, expiresAt = :expires")
            .condition_expression(
                "attribute_not_exists(finishedAt) AND \
                 (attribute_not_exists(leasedUntil) OR leasedUntil <= :now OR holder = :holder)",
            )
            .expression_attribute_values(":holder", s(holder))
            .expression_attribute_values(":until", n(millis(until)))
            .expression_attribute_values(":now", n(millis(now)))
            .expression_attribute_values(":expires", n(now.timestamp() + KEPT_SECONDS))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Lease::Granted),
            Err(e) if is_condition_failure(&e) => {
                let Some(item) = self.get(slice_key(sweep, slice), "read slice lease").await? else {
                    return Ok(Lease::Held { until: now });
                };
                if item.contains_key("finishedAt") {
                    return Ok(Lease::Finished);
                }
                let until = number_attr(&item, "leasedUntil")
                    .and_then(|ms| DateTime::from_timestamp_millis(i64::try_from(ms).unwrap_or(i64::MAX)))
                    .unwrap_or(now);
                Ok(Lease::Held { until })
            }
            Err(e) => Err(sdk_error("lease slice", e)),
        }
    }

    async fn release_slice(&self, sweep: &str, slice: u32, holder: &str, now: DateTime<Utc>) -> Result<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(slice_key(sweep, slice)))
            .update_expression("SET leasedUntil = :now")
            .condition_expression(STILL_HELD)
            .expression_attribute_values(":holder", s(holder))
            .expression_attribute_values(":now", n(millis(now)))
            .send()
            .await;
        match result {
            // Not ours any more: nothing to give back.
            Err(e) if is_condition_failure(&e) => Ok(()),
            other => other.map(drop).map_err(|e| sdk_error("release slice", e)),
        }
    }

    async fn finish_slice(&self, sweep: &str, slice: u32, holder: &str, now: DateTime<Utc>) -> Result<bool> {
        let finished = build(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(slice_key(sweep, slice)))
                .update_expression("SET finishedAt = :now")
                .condition_expression(STILL_HELD)
                .expression_attribute_values(":holder", s(holder))
                .expression_attribute_values(":now", n(millis(now)))
                .build(),
        )?;
        // The sweep counts it, in the same transaction (so once).
        let counted = self.counter(plan_key(sweep), "finished", 1, "attribute_exists(PK)")?;
        let tx = Transaction::new("finish slice")
            .with("slice", TransactWriteItem::builder().update(finished).build())
            .with("plan", counted);
        Ok(self.transact(tx).await?.is_ok())
    }
}
