//! Planning a fanned-out sweep: claimed once per tick (a second planner of the same tick stops
//! there), each region listed once where its credential may and its records read, cut into
//! slices, the count recorded before the first slice is queued (a planner dying mid-way leaves a
//! sweep that reports its unfinished slices, and the next tick's sweep covers them).

use std::time::Instant;

use super::{pack, FanOut};
use crate::error::Result;
use crate::provider::{Compute, Networking, RegionListing};
use crate::store::SweepClaim;
use crate::usecase::cleanup::{by_project, first_records, listing_starts, region, rest_of_records};
use crate::usecase::cleanup::{swept_regions, Maintained, Report};
use crate::usecase::Deps;
use crate::work::{SliceProject, SweepSlice, WorkItem};

/// Plans the sweep `fan.sweep` and queues its slices for the workers.
pub async fn plan<S: Maintained, P: Compute + Networking + RegionListing>(
    deps: &Deps<S, P>,
    fan: &FanOut,
    deadline: Instant,
    report: &mut Report,
) -> Result<()> {
    let now = deps.clock.now();
    match deps.store.claim_sweep(&fan.sweep, now).await? {
        SweepClaim::Taken => {
            tracing::info!(sweep = %fan.sweep, "sweep planned by another run");
            report.sweep_taken = true;
            report.complete = true;
            return Ok(());
        }
        SweepClaim::Ours { previous: Some(previous) } => {
            report.previous_sweep = deps.store.sweep_summary(&previous).await?;
        }
        SweepClaim::Ours { previous: None } => {}
    }
    report.sweep = Some(fan.sweep.clone());
    let regions = swept_regions(deps);
    let mut slices = Vec::new();
    report.complete = true;
    for region in regions {
        if Instant::now() >= deadline {
            // The next tick's sweep plans every region again.
            report.complete = false;
            break;
        }
        let failures = report.failures.len();
        match cut(deps, region, fan, report).await {
            Ok(cut) => {
                report.identities_synced += 1;
                slices.extend(cut);
            }
            Err(e) => {
                tracing::warn!(region_id = %region, error = %e, "region not planned");
                report.failures.push(format!("region {region}: {e}"));
            }
        }
        report.count_region_failures(region, failures);
    }
    let count = u32::try_from(slices.len()).unwrap_or(u32::MAX);
    deps.store.set_sweep_slices(&fan.sweep, count).await?;
    for (n, (region, listed_at, projects)) in slices.into_iter().enumerate() {
        let slice = u32::try_from(n).unwrap_or(u32::MAX);
        let item = SweepSlice { sweep: fan.sweep.clone(), slice, region, listed_at, projects };
        match deps.work.enqueue(&WorkItem::Slice(Box::new(item))).await {
            Ok(()) => report.slices_planned += 1,
            Err(e) => report.failures.push(format!("slice {slice} of sweep {}: {e}", fan.sweep)),
        }
    }
    report.dead_letters = match deps.work.dead_letters().await {
        Ok(count) => count,
        Err(e) => {
            report.failures.push(format!("dead letters: {e}"));
            None
        }
    };
    tracing::info!(sweep = %fan.sweep, slices = report.slices_planned, "sweep planned");
    Ok(())
}

/// One region's slices: the region listed and its records read, grouped by the project they live
/// in (the region's own always among them).
async fn cut<S: Maintained, P: Compute + Networking + RegionListing>(
    deps: &Deps<S, P>,
    region: &str,
    fan: &FanOut,
    report: &mut Report,
) -> Result<Vec<(String, chrono::DateTime<chrono::Utc>, Vec<SliceProject>)>> {
    let own = deps.regions.credential_in(region, None)?;
    let listed_at = deps.clock.now();
    // The listing and the rest of the records read at once (the first page says where the listing
    // splits): the worker reads its records again after both.
    let first = first_records(deps, region).await?;
    let starts = listing_starts(&first.items, first.next.is_some(), fan.listing);
    let (listed, records) = tokio::join!(
        region::list_region(&*deps.provider, &own, &starts, fan.listing, report),
        rest_of_records(deps, region, first)
    );
    let mut listed = listed?;
    let projects = by_project(records?)
        .into_iter()
        .map(|(project, records)| {
            let listing = listed.take(project.as_deref());
            SliceProject { project, records: Some(records.into_iter().map(|r| r.id).collect()), listing }
        })
        .collect();
    Ok(pack(projects, &fan.budget).into_iter().map(|projects| (region.to_owned(), listed_at, projects)).collect())
}
