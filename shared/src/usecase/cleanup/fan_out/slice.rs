//! Working one slice of a sweep, as the worker function does: under a lease (two workers never
//! repair the same records at once; a worker that dies leaves a lease that runs out), each
//! project's records read by key and matched against the planner's listing of it (or the worker's
//! own, where the region could not be listed at once), exactly as the inline sweep matches them.

use crate::crash;
use crate::domain::ServerRecord;
use crate::provider::{Compute, Networking, RegionListing};
use crate::store::Lease;
use crate::usecase::cleanup::provisioned::finish_network;
use crate::usecase::cleanup::{region, region_records, sync_project, Maintained, Report, NETWORK_BATCH};
use crate::usecase::networks::provision::Builds;
use crate::usecase::Deps;
use crate::work::{SliceProject, SweepSlice};

/// What became of a slice that needs no other try.
#[derive(Debug)]
pub enum SliceDone {
    /// Matched here, with what it did.
    Finished(Box<Report>),
    /// Another worker finished it (a repeated message).
    AlreadyFinished,
    /// Its listing is older than [`freshness`] allows: matching it now could undo what happened
    /// since; the next sweep, a tick away, lists afresh.
    Stale,
}

/// Works `slice`; `Err` says why it must be tried again (its lease is held, a project's listing
/// or records could not be read). The projects matched before a failure stay matched: a retry
/// matches them again, which changes nothing.
pub async fn work_slice<S: Maintained, P: Compute + Networking + RegionListing + Builds>(
    deps: &Deps<S, P>,
    slice: &SweepSlice,
) -> Result<SliceDone, String> {
    let now = deps.clock.now();
    if now - slice.listed_at > freshness(deps.timing.grace) {
        return Ok(SliceDone::Stale);
    }
    let (sweep, n) = (slice.sweep.as_str(), slice.slice);
    let holder = deps.ids.new_id();
    let until = now + deps.timing.slice_lease;
    match deps.store.lease_slice(sweep, n, &holder, now, until).await {
        Ok(Lease::Granted) => {}
        Ok(Lease::Finished) => return Ok(SliceDone::AlreadyFinished),
        Ok(Lease::Held { until }) => return Err(format!("slice {n} of sweep {sweep} is leased until {until}")),
        Err(e) => return Err(format!("slice {n} of sweep {sweep}: lease: {e}")),
    }
    let mut report = Report::default();
    let mut failed = Vec::new();
    let mut networks = std::collections::HashSet::new();
    // Every carried id read at once (a hundred keys a call), not project by project.
    let ids: Vec<String> = slice.projects.iter().filter_map(|p| p.records.clone()).flatten().collect();
    let mut read = match deps.store.get_servers(&ids).await {
        Ok(records) => records,
        Err(e) => {
            release(deps, slice, &holder).await;
            return Err(format!("slice {n} of sweep {sweep}: records: {e}"));
        }
    };
    for (i, project) in slice.projects.iter().enumerate() {
        if i == 1 {
            deps.crash.hit(crash::SLICE_MIDWAY);
        }
        let (here, rest): (Vec<_>, Vec<_>) = read.into_iter().partition(|r| lives_in(r, &slice.region, project));
        read = rest;
        networks.extend(here.iter().map(|r| r.network_id.clone()));
        if let Err(e) = sync_one(deps, &slice.region, project, here, &mut report).await {
            let shown = project.project.as_deref().unwrap_or("(the region's)");
            failed.push(format!("region {} project {shown}: {e}", slice.region));
        }
    }
    if report.records_removed > 0 {
        finish_networks(deps, &networks, &mut report).await;
    }
    report.failures.extend(failed.iter().cloned());
    report.count_region_failures(&slice.region, 0);
    if !failed.is_empty() {
        release(deps, slice, &holder).await;
        report.emit_slice_metrics();
        return Err(failed.join("; "));
    }
    report.complete = true;
    match deps.store.finish_slice(sweep, n, &holder, deps.clock.now()).await {
        Ok(true) => {}
        // Its lease ran out mid-way and another worker took it: both matched it, which is safe.
        Ok(false) => tracing::warn!(sweep, slice = n, "slice finished after its lease ran out"),
        Err(e) => return Err(format!("slice {n} of sweep {sweep}: finish: {e}")),
    }
    report.emit_slice_metrics();
    Ok(SliceDone::Finished(Box::new(report)))
}

/// How old a slice's listing may be when it is matched: as old as an inline sweep's listing can
/// be by the time it reaches its last project (the cleanup function's minute), or half the grace
/// period when that is longer.
pub fn freshness(grace: chrono::Duration) -> chrono::Duration {
    (grace / 2).max(chrono::Duration::seconds(60))
}

/// A network being deleted whose last server this slice removed goes now, as the inline sweep's
/// pass deletes it after its sync (its identity, if being deleted too, goes with the next pass).
async fn finish_networks<S: Maintained, P: Builds>(
    deps: &Deps<S, P>,
    touched: &std::collections::HashSet<String>,
    report: &mut Report,
) {
    let deleting = match deps.store.networks_being_deleted(NETWORK_BATCH).await {
        Ok(networks) => networks,
        Err(e) => return report.failures.push(format!("networks being deleted: {e}")),
    };
    for network in deleting.iter().filter(|n| touched.contains(&n.id)) {
        match finish_network(deps, network).await {
            Ok(true) => report.networks_deleted += 1,
            Ok(false) => {}
            Err(e) => report.failures.push(format!("network {}: {e}", network.id)),
        }
    }
}

/// Whether `record` is one of the slice project's: a record read by key may have gone and come back
/// elsewhere, and one read with its region belongs to another project.
fn lives_in(record: &ServerRecord, region: &str, project: &SliceProject) -> bool {
    record.region_id == region && record.provider_project_id == project.project
}

/// Gives a failed attempt's lease back, so its retry need not wait for it to run out.
async fn release<S: Maintained, P>(deps: &Deps<S, P>, slice: &SweepSlice, holder: &str) {
    if let Err(e) = deps.store.release_slice(&slice.sweep, slice.slice, holder, deps.clock.now()).await {
        tracing::info!(error = %e, "slice lease not given back; it runs out");
    }
}

/// One project of a slice: its records (read with the slice's, or here when there were too many
/// to carry), its listing as carried or listed here.
async fn sync_one<S: Maintained, P: Compute + Networking + RegionListing>(
    deps: &Deps<S, P>,
    region_id: &str,
    project: &SliceProject,
    read: Vec<ServerRecord>,
    report: &mut Report,
) -> crate::error::Result<()> {
    let cred = deps.regions.credential_in(region_id, project.project.as_deref())?;
    let records = match &project.records {
        Some(_) => read,
        None => {
            region_records(deps, region_id).await?.into_iter().filter(|r| lives_in(r, region_id, project)).collect()
        }
    };
    let listing = match &project.listing {
        Some(listing) => listing.clone(),
        None => region::list_project(&*deps.provider, &cred, report).await?,
    };
    report.projects_synced += 1;
    sync_project(deps, &cred, records, listing.into(), report).await;
    Ok(())
}
