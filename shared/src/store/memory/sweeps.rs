//! A fanned-out sweep's plan and slice leases, with the DynamoDB adapter's conditions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::store::{Lease, Result, SweepClaim, SweepStore, SweepSummary};

#[derive(Debug, Clone, Default)]
pub(super) struct Slice {
    holder: String,
    until: Option<DateTime<Utc>>,
    finished: bool,
}

#[async_trait]
impl SweepStore for MemoryStore {
    async fn claim_sweep(&self, sweep: &str, at: DateTime<Utc>) -> Result<SweepClaim> {
        let mut t = self.tables();
        if t.sweeps.contains_key(sweep) {
            return Ok(SweepClaim::Taken);
        }
        let summary = SweepSummary { sweep: sweep.to_owned(), planned_at: Some(at), ..SweepSummary::default() };
        t.sweeps.insert(sweep.to_owned(), summary);
        Ok(SweepClaim::Ours { previous: t.latest_sweep.replace(sweep.to_owned()) })
    }

    async fn set_sweep_slices(&self, sweep: &str, slices: u32) -> Result<()> {
        if let Some(summary) = self.tables().sweeps.get_mut(sweep) {
            summary.slices = Some(slices);
        }
        Ok(())
    }

    async fn sweep_summary(&self, sweep: &str) -> Result<Option<SweepSummary>> {
        Ok(self.tables().sweeps.get(sweep).cloned())
    }

    async fn lease_slice(
        &self,
        sweep: &str,
        slice: u32,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Lease> {
        let mut t = self.tables();
        let entry = t.slices.entry((sweep.to_owned(), slice)).or_default();
        if entry.finished {
            return Ok(Lease::Finished);
        }
        match entry.until {
            Some(held) if held > now && entry.holder != holder => Ok(Lease::Held { until: held }),
            _ => {
                *entry = Slice { holder: holder.to_owned(), until: Some(until), finished: false };
                Ok(Lease::Granted)
            }
        }
    }

    async fn release_slice(&self, sweep: &str, slice: u32, holder: &str, now: DateTime<Utc>) -> Result<()> {
        if let Some(entry) = self.tables().slices.get_mut(&(sweep.to_owned(), slice)) {
            if entry.holder == holder && !entry.finished {
                entry.until = Some(now);
            }
        }
        Ok(())
    }

    async fn finish_slice(&self, sweep: &str, slice: u32, holder: &str, _now: DateTime<Utc>) -> Result<bool> {
        let mut t = self.tables();
        let Some(entry) = t.slices.get_mut(&(sweep.to_owned(), slice)) else { return Ok(false) };
        if entry.holder != holder || entry.finished {
            return Ok(false);
        }
        entry.finished = true;
        if let Some(summary) = t.sweeps.get_mut(sweep) {
            summary.finished += 1;
        }
        Ok(true)
    }
}
