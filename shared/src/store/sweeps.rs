//! The fanned-out sweep's own bookkeeping: which sweep is planned (one per schedule tick, whoever
//! plans it first) and who holds each of its slices. Every write is conditional: two planners of
//! one tick plan one sweep, and two workers never work one slice at once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Result;

/// What a worker asking for a slice gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// Its own until the time it asked for.
    Granted,
    /// Another worker holds it until `until` (its invocation may still be running).
    Held { until: DateTime<Utc> },
    /// Somebody finished it already.
    Finished,
}

/// What a planner claiming a sweep learns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepClaim {
    /// The sweep is the caller's to plan; `previous` is the sweep planned before it, if any.
    Ours { previous: Option<String> },
    /// Another planner claimed it first.
    Taken,
}

/// A planned sweep, as its slices report back.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepSummary {
    pub sweep: String,
    pub planned_at: Option<DateTime<Utc>>,
    /// How many slices the planner put on the queue (none yet: it is still planning, or died).
    pub slices: Option<u32>,
    pub finished: u32,
}

impl SweepSummary {
    /// Slices planned and not (yet) finished.
    pub fn unfinished(&self) -> u32 {
        self.slices.unwrap_or(0).saturating_sub(self.finished)
    }
}

#[async_trait]
pub trait SweepStore: Send + Sync {
    /// Claims `sweep` for the caller (only the first planner gets it) and makes it the latest.
    async fn claim_sweep(&self, sweep: &str, at: DateTime<Utc>) -> Result<SweepClaim>;
    /// Records how many slices the sweep is cut into, before they are queued.
    async fn set_sweep_slices(&self, sweep: &str, slices: u32) -> Result<()>;
    async fn sweep_summary(&self, sweep: &str) -> Result<Option<SweepSummary>>;
    /// Leases a slice to `holder` until `until`, unless another holder's lease is still running at
    /// `now` or the slice is finished.
    async fn lease_slice(
        &self,
        sweep: &str,
        slice: u32,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Lease>;
    /// Gives a lease back unfinished (a failed attempt), so the retry need not wait for it to run out.
    async fn release_slice(&self, sweep: &str, slice: u32, holder: &str, now: DateTime<Utc>) -> Result<()>;
    /// Marks the slice finished and counts it on its sweep, in one transaction, if `holder` still
    /// holds it; false when it does not (its lease ran out and another took it).
    async fn finish_slice(&self, sweep: &str, slice: u32, holder: &str, now: DateTime<Utc>) -> Result<bool>;
}
