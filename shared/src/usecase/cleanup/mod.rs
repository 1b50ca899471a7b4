//! One pass of the cleanup function: what a controller would do, in bounded runs. Every write is
//! conditional, so two overlapping runs, or a run racing a request, cannot corrupt anything; work
//! left when the time budget ends resumes next run from a stored cursor.
//!
//! 0. Provisioned networks a worker left unsettled (provisioning, an update, a teardown) for longer
//!    than the grace period are brought to what their record says (`networks::converge`).
//!    Then each region's projects named after an identity whose record is gone are emptied
//!    (routers, subnets, networks) and removed with their user.
//! 1. Cascade: servers of networks being deleted are marked deprovisioning and deleted.
//! 2. Sync, per region and project (`region`: the region listed at once where its credential may),
//!    here or planned in slices for the workers (`fan_out`): one server listing per page (every
//!    server carrying our `unikorn:server:id`), matched against the region's records (the
//!    `byRegion` index). Each record is reconciled
//!    (power, status, addresses, fault; deletions finished or re-issued; stuck creates adopted or
//!    removed; pending resizes and rebuilds completed); provider servers without a record, older
//!    than the grace period, are deleted.
//! 3. Networks being deleted whose last server is gone are deleted; identities being deleted whose
//!    last network is gone are deleted (their networks marked again first).
//! 4. Name claims due for a check are released when their holder record is gone.
//! 5. Transitions the record writes left in the outbox are published to the event bus; what the
//!    bus does not accept stays for the next run.
//! 6. Every region's images are listed again and shared (the catalogue's refresh-ahead: requests
//!    then read a copy at most a run old, as Unikorn's minute-by-minute refresh serves them).

use std::time::Instant;

mod cascade;
mod catalogues;
pub mod fan_out;
mod networking;
mod outbox;
mod provisioned;
mod region;
pub mod server_ranges;

use cascade::cascade;
use outbox::{publish, release_stale_claims};
use provisioned::{converge_networks, finish_identities, finish_network, oldest_unsettled, sweep_projects};
mod report;
mod reschedule;

pub use report::Report;

use std::collections::{BTreeMap, HashSet};

use super::networks::provision::{Builds, Provisioned};
use super::reconcile::{apply, plan, Outcome};
use super::{Deps, META_ORGANIZATION_ID, META_PROJECT_ID};
use crate::domain::{ActionRecord, ActionRef, Command, ServerRecord, PLATFORM_SUBJECT};
use crate::error::Result;
use crate::events::EventBus;
use crate::provider::{Compute, Images, Networking, RegionListing};
use crate::provider::{ProviderCredential, ProviderError, ProviderServer, ServerPhase};
use crate::store::{CatalogStore, KeypairStore, MaintenanceStore, NetworkStore, ServerStore, SshCaStore};
use crate::store::{Page, SweepStore};

/// What the cleanup function reads and writes: every record kind a repair touches (a server placed
/// again needs its network, key pair and SSH CA).
pub trait Maintained:
    ServerStore + MaintenanceStore + NetworkStore + KeypairStore + SshCaStore + CatalogStore + Provisioned + SweepStore
{
}
impl<
        S: ServerStore
            + MaintenanceStore
            + NetworkStore
            + KeypairStore
            + SshCaStore
            + CatalogStore
            + Provisioned
            + SweepStore,
    > Maintained for S
{
}

/// Provider listing page size (Nova's default maximum).
pub(super) const PROVIDER_PAGE: u32 = 1000;
const RECORD_PAGE: usize = 1000;
const NETWORK_BATCH: usize = 100;
const CLAIM_BATCH: usize = 500;

/// The most outbox items one run publishes.
const EVENT_LIMIT: usize = 1000;

/// Runs one pass, stopping its work at `deadline` (set it below the function's timeout), and
/// matches every region's records against the provider itself (step 2, region after region).
pub async fn run<S: Maintained, P: Compute + Networking + Images + Builds + RegionListing, B: EventBus>(
    deps: &Deps<S, P>,
    bus: &B,
    deadline: Instant,
) -> Result<Report> {
    pass(deps, bus, deadline, None).await
}

/// Runs one pass as [`run`] does, except that step 2 is planned (`fan_out::plan`) and left to
/// the workers, a slice each, on the work queue: what the scheduled function does.
pub async fn run_fanned_out<S: Maintained, P: Compute + Networking + Images + Builds + RegionListing, B: EventBus>(
    deps: &Deps<S, P>,
    bus: &B,
    deadline: Instant,
    fan: &fan_out::FanOut,
) -> Result<Report> {
    pass(deps, bus, deadline, Some(fan)).await
}

async fn pass<S: Maintained, P: Compute + Networking + Images + Builds + RegionListing, B: EventBus>(
    deps: &Deps<S, P>,
    bus: &B,
    deadline: Instant,
    fan: Option<&fan_out::FanOut>,
) -> Result<Report> {
    let mut report = Report::default();
    converge_networks(deps, deadline, &mut report).await?;
    sweep_projects(deps, &mut report).await;
    let cascading = cascade(deps, deadline, &mut report).await?;
    match fan {
        Some(fan) => fan_out::plan(deps, fan, deadline, &mut report).await?,
        None => sync(deps, deadline, &mut report).await?,
    }
    for network in &cascading {
        match finish_network(deps, network).await {
            Ok(true) => report.networks_deleted += 1,
            Ok(false) => {}
            Err(e) => report.failures.push(format!("network {}: {e}", network.id)),
        }
    }
    finish_identities(deps, &mut report).await?;
    if Instant::now() < deadline {
        release_stale_claims(deps, &mut report).await?;
    }
    publish(deps, bus, deadline, &mut report).await?;
    catalogues::refresh(deps, deadline, &mut report).await;
    report.oldest_unsettled_seconds = oldest_unsettled(deps).await?;
    tracing::info!(report = ?report, "cleanup run finished");
    Ok(report)
}

/// Publishes the outbox as a pass does (step 5): what a test driving a fanned-out sweep's slices
/// itself calls after them, as the next pass would.
pub async fn publish_outbox<S: Maintained, P, B: EventBus>(
    deps: &Deps<S, P>,
    bus: &B,
    deadline: Instant,
    report: &mut Report,
) -> Result<()> {
    publish(deps, bus, deadline, report).await
}

/// Syncs regions in id order from the stored cursor, wrapping around, until every region is done
/// or the deadline passes; then stores where the next run starts. A region's own project is the
/// provider identity every network of the region lives in.
async fn sync<S: Maintained, P: Compute + Networking + RegionListing>(
    deps: &Deps<S, P>,
    deadline: Instant,
    report: &mut Report,
) -> Result<()> {
    let regions = swept_regions(deps);
    if regions.is_empty() {
        report.complete = true;
        return Ok(());
    }
    let (cursor, cursor_version) = deps.store.cleanup_cursor().await?;
    let start = cursor.and_then(|c| regions.iter().position(|r| *r >= c.as_str())).unwrap_or(0);
    let mut next = None;
    for k in 0..regions.len() {
        let region = regions[(start + k) % regions.len()];
        if Instant::now() >= deadline {
            next = Some(region.to_owned());
            break;
        }
        let failures = report.failures.len();
        let synced = sync_region(deps, region, report).await;
        if let Err(e) = &synced {
            // One region's provider being down must not stop the others.
            tracing::warn!(region_id = %region, error = %e, "region not synced");
            report.failures.push(format!("region {region}: {e}"));
        }
        report.count_region_failures(region, failures);
        if synced.is_ok() {
            report.identities_synced += 1;
        }
    }
    report.complete = next.is_none();
    if let Err(e) = deps.store.save_cleanup_cursor(next.as_deref(), cursor_version).await {
        tracing::info!(error = %e, "cleanup cursor not saved (another run moved it)");
    }
    Ok(())
}

/// Syncs a region: its own project (bound networks' servers, and orphans there) and every project
/// of a provisioned network its server records name, each with the region's user scoped to it.
/// The region is listed at once where its credential may; otherwise project by project.
async fn sync_region<S: Maintained, P: Compute + Networking + RegionListing>(
    deps: &Deps<S, P>,
    region: &str,
    report: &mut Report,
) -> Result<()> {
    let records = region_records(deps, region).await?;
    let ranges = server_ranges::Ranges::default();
    let starts = listing_starts(&records, false, ranges);
    let by_project = by_project(records);
    let own = deps.regions.credential_in(region, None)?;
    let mut listed = region::list_region(&*deps.provider, &own, &starts, ranges, report).await?;
    let mut first_error = None;
    for (project, records) in by_project {
        let cred = deps.regions.credential_in(region, project.as_deref())?;
        let seen = match listed.take(project.as_deref()) {
            Some(share) => Ok(share),
            None => region::list_project(&*deps.provider, &cred, report).await,
        };
        match seen {
            Ok(seen) => {
                report.projects_synced += 1;
                sync_project(deps, &cred, records, seen.into(), report).await;
            }
            Err(e) => {
                // One project's listing failing must not stop the others.
                let shown = project.as_deref().unwrap_or("(the region's)");
                report.failures.push(format!("region {region} project {shown}: {e}"));
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// Syncs one project, as listed (before its records were read: anything created after the
/// listing is younger than the grace period), against the records of servers living there.
async fn sync_project<S: Maintained, P: Compute + Networking>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    records: Vec<ServerRecord>,
    seen: region::Seen,
    report: &mut Report,
) {
    let region::Seen { servers: mut ours, networking } = seen;
    let mut known = HashSet::new();
    let mut live = Vec::new();
    for record in records {
        report.records_seen += 1;
        known.insert(record.id.clone());
        let observed = match ours.remove(&record.id) {
            Some(server) => Some(server),
            None => match confirm_absent(deps, cred, &record).await {
                Ok(found) => found,
                Err(e) => {
                    report.failures.push(format!("server {}: {e}", record.id));
                    continue;
                }
            },
        };
        if observed.as_ref().is_some_and(|s| s.phase != ServerPhase::Deleting) && !record.is_deleting() {
            live.push(record.clone());
        }
        if let Some(current) = reconcile(deps, cred, record, observed.as_ref(), report).await {
            reschedule::reschedule(deps, cred, &current, report).await;
        }
    }
    for (record_id, server) in ours {
        delete_orphan(deps, cred, &record_id, &server, report).await;
    }
    if let Some(seen) = networking {
        networking::converge(deps, cred, seen, &live, &known, report).await;
    }
}

/// The regions a sweep covers (those at an OpenStack), by id.
fn swept_regions<S, P>(deps: &Deps<S, P>) -> Vec<&str> {
    deps.regions.all().filter(|r| r.openstack.is_some()).map(|r| r.id.as_str()).collect()
}

/// A region's records by the project they live in (`None`: the region's own project, always
/// there: its orphans have no record to name it).
fn by_project(records: Vec<ServerRecord>) -> BTreeMap<Option<String>, Vec<ServerRecord>> {
    let mut projects: BTreeMap<Option<String>, Vec<ServerRecord>> = BTreeMap::from([(None, Vec::new())]);
    for record in records {
        projects.entry(record.provider_project_id.clone()).or_default().push(record);
    }
    projects
}

/// The first page of a region's records: a fair sample of its servers' uuids too (records are
/// keyed by their own random ids), where the region's listing splits (`server_ranges`).
async fn first_records<S: Maintained, P>(deps: &Deps<S, P>, region: &str) -> Result<Page<ServerRecord>> {
    Ok(deps.store.list_region_servers(region, None, RECORD_PAGE).await?)
}

/// Where a region's server listing splits, from its records (`more`: a page of more).
fn listing_starts(records: &[ServerRecord], more: bool, ranges: server_ranges::Ranges) -> Vec<String> {
    ranges.starts(records.iter().filter_map(|r| r.provider_id.as_deref()), more)
}

/// Every record of a region.
async fn region_records<S: Maintained, P>(deps: &Deps<S, P>, region: &str) -> Result<Vec<ServerRecord>> {
    rest_of_records(deps, region, first_records(deps, region).await?).await
}

/// Every record of a region, reading on from its first page.
async fn rest_of_records<S: Maintained, P>(
    deps: &Deps<S, P>,
    region: &str,
    first: Page<ServerRecord>,
) -> Result<Vec<ServerRecord>> {
    let Page { items: mut all, mut next } = first;
    while let Some(after) = next {
        let page = deps.store.list_region_servers(region, Some(&after), RECORD_PAGE).await?;
        all.extend(page.items);
        next = page.next;
    }
    Ok(all)
}

/// Which of two provider servers naming one record is the record's: one being deleted least,
/// then one in error (a failed placement), then any other.
pub(super) fn standing(server: &ProviderServer) -> u8 {
    match server.phase {
        ServerPhase::Deleting => 0,
        ServerPhase::Error => 1,
        _ => 2,
    }
}

/// A record with a provider id the listing did not show: asked by id before anything is removed.
async fn confirm_absent<S: Maintained, P: Compute + Networking>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    record: &ServerRecord,
) -> Result<Option<ProviderServer>> {
    match &record.provider_id {
        None => Ok(None),
        Some(pid) => match deps.provider.get_server(cred, pid).await {
            Ok(server) => Ok(Some(server)),
            Err(ProviderError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        },
    }
}

async fn reconcile<S: Maintained, P: Compute + Networking>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    record: ServerRecord,
    observed: Option<&ProviderServer>,
    report: &mut Report,
) -> Option<ServerRecord> {
    let decided = plan(&record, observed, deps.clock.now(), deps.timing);
    if decided.step.is_none() && decided.outcome == Outcome::Unchanged {
        return Some(record);
    }
    let removing = decided.outcome == Outcome::Remove;
    match apply(deps, cred, &record, decided).await {
        Ok(None) if removing => {
            report.records_removed += 1;
            None
        }
        Ok(Some(next)) if next.version != record.version => {
            report.records_written += 1;
            if record.provider_id.is_none() && next.provider_id.is_some() {
                report.records_adopted += 1;
            }
            if next.provisioning_status != record.provisioning_status || next.power_state != record.power_state {
                tracing::info!(
                    server_id = %record.id,
                    from = ?(record.provisioning_status, record.power_state),
                    to = ?(next.provisioning_status, next.power_state),
                    fault = next.provider_fault.as_deref().unwrap_or_default(),
                    "provider change recorded"
                );
            }
            Some(next)
        }
        Ok(current) => current,
        Err(e) => {
            report.failures.push(format!("server {}: {e}", record.id));
            None
        }
    }
}

/// A provider server carrying our metadata and no record: deleted once it is older than the grace
/// period (a create may still be recording it) and a consistent read confirms the record is gone.
async fn delete_orphan<S: Maintained, P: Compute + Networking>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    record_id: &str,
    server: &ProviderServer,
    report: &mut Report,
) {
    if server.phase == ServerPhase::Deleting {
        return;
    }
    let young = server.created_at.is_some_and(|at| deps.clock.now() - at < deps.timing.grace);
    if young {
        return;
    }
    match deps.store.get_server(record_id).await {
        Ok(None) => {}
        Ok(Some(_)) => return,
        Err(e) => {
            report.failures.push(format!("orphan {}: {e}", server.id));
            return;
        }
    }
    let request_id = match deps.provider.delete_server(cred, &server.id).await {
        Ok(receipt) => receipt.request_id,
        Err(ProviderError::NotFound { .. }) => None,
        // Retried next run; only a removal is recorded (a failing one would add an action a minute).
        Err(e) => return report.failures.push(format!("orphan {}: {e}", server.id)),
    };
    tracing::info!(server_id = %record_id, provider_id = %server.id, "orphan deleted at the provider");
    report.orphans_deleted += 1;
    let meta = |key: &str| server.metadata.get(key).cloned().unwrap_or_default();
    let action = ActionRecord {
        server_id: record_id.to_owned(),
        organization_id: meta(META_ORGANIZATION_ID),
        project_id: meta(META_PROJECT_ID),
        api_version: None,
        action: ActionRef::done(Command::RemoveOrphan, PLATFORM_SUBJECT, deps.clock.now(), Ok(())),
        provider_request_id: request_id,
    };
    if let Err(e) = deps.store.record_action(&action).await {
        report.failures.push(format!("orphan {} action: {e}", server.id));
    }
}
