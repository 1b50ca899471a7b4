//! What one cleanup run did.

use serde::Serialize;

/// What one run did; logged by the function and returned as its result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub identities_synced: usize,
    /// Projects whose servers and networking were matched against their records.
    pub projects_synced: usize,
    /// Regions listed at once (every project's servers, ports, floating IPs and default groups
    /// with the region's credential) rather than project by project.
    pub region_listings: usize,
    pub provider_list_calls: usize,
    pub provider_servers_seen: usize,
    pub records_seen: usize,
    pub records_written: usize,
    pub records_adopted: usize,
    pub records_removed: usize,
    pub orphans_deleted: usize,
    /// Servers placed again because the provider had no capacity for them.
    pub servers_rescheduled: usize,
    /// Neutron listings (ports and public addresses, per identity per page).
    pub network_list_calls: usize,
    pub ports_repaired: usize,
    pub public_ips_allocated: usize,
    pub public_ips_released: usize,
    pub orphan_ports_deleted: usize,
    pub orphan_public_ips_deleted: usize,
    /// Live servers with no port named after them (booted on a network by something else).
    pub servers_without_port: usize,
    /// Provisioned networks a worker had left unsettled (made, changed or taken down here).
    pub networks_converged: usize,
    /// Security groups a worker had left unsettled (enacted or removed here).
    pub security_groups_converged: usize,
    /// v1 identities a worker had left unsettled (provisioned here).
    pub identities_converged: usize,
    /// Projects named after an identity whose record is gone, emptied and removed.
    pub orphan_projects_removed: usize,
    pub networks_cascading: usize,
    pub servers_marked_deleting: usize,
    pub networks_deleted: usize,
    /// v1 identities whose last network went (their delete's foreground cascade finished).
    pub identities_deleted: usize,
    pub claims_checked: usize,
    pub claims_released: usize,
    pub events_published: usize,
    /// Events the bus refused or did not answer for: published by a later run.
    pub events_left: usize,
    /// Regions whose images were listed again for every container (the catalogue's refresh-ahead).
    pub image_catalogues_refreshed: usize,
    /// Snapshots an interrupted publish had left private, made public.
    pub snapshots_published: usize,
    /// How long the oldest unsettled intent (a network, security group or identity a worker left
    /// unfinished) has waited, in seconds, as the run ended; 0 when none waits.
    pub oldest_unsettled_seconds: u64,
    /// Failures by the region they happened in (a region's provider refusing its listings).
    pub failures_by_region: std::collections::BTreeMap<String, usize>,
    /// The fanned-out sweep this run planned (its slices are matched by the workers).
    pub sweep: Option<String>,
    /// Another run had planned this tick's sweep already: this one planned nothing.
    pub sweep_taken: bool,
    /// Slices queued for the workers.
    pub slices_planned: usize,
    /// The sweep planned before this one, as its slices reported back: unfinished slices are
    /// ones that failed every try, went stale, or were never queued.
    pub previous_sweep: Option<crate::store::SweepSummary>,
    /// Messages in the work queue's dead-letter queue (each with its reason), when it can be asked.
    pub dead_letters: Option<u64>,
    /// Every identity was synced in this run (otherwise the next run resumes where this one stopped).
    pub complete: bool,
    pub failures: Vec<String>,
}

impl Report {
    /// Counts the failures added since there were `since` against `region`.
    pub(super) fn count_region_failures(&mut self, region: &str, since: usize) {
        let failed = self.failures.len().saturating_sub(since);
        if failed > 0 {
            *self.failures_by_region.entry(region.to_owned()).or_default() += failed;
        }
    }

    /// Adds what one slice of this run's sweep did (matched by a worker) to the run's figures.
    pub fn absorb(&mut self, slice: Report) {
        self.projects_synced += slice.projects_synced;
        self.provider_list_calls += slice.provider_list_calls;
        self.provider_servers_seen += slice.provider_servers_seen;
        self.records_seen += slice.records_seen;
        self.records_written += slice.records_written;
        self.records_adopted += slice.records_adopted;
        self.records_removed += slice.records_removed;
        self.orphans_deleted += slice.orphans_deleted;
        self.servers_rescheduled += slice.servers_rescheduled;
        self.network_list_calls += slice.network_list_calls;
        self.ports_repaired += slice.ports_repaired;
        self.public_ips_allocated += slice.public_ips_allocated;
        self.public_ips_released += slice.public_ips_released;
        self.orphan_ports_deleted += slice.orphan_ports_deleted;
        self.orphan_public_ips_deleted += slice.orphan_public_ips_deleted;
        self.servers_without_port += slice.servers_without_port;
        self.networks_deleted += slice.networks_deleted;
        for (region, failures) in slice.failures_by_region {
            *self.failures_by_region.entry(region).or_default() += failures;
        }
        self.failures.extend(slice.failures);
    }

    /// The run's embedded metrics (namespace `UnikornCompute`, dimension `Function=cleanup`; a
    /// region's failures also under `Region`), what the template's alarms and dashboard read.
    pub fn emit_metrics(&self) {
        use crate::metrics::Metric;
        let intents = self.networks_converged + self.security_groups_converged + self.identities_converged;
        let unfinished = self.previous_sweep.as_ref().map_or(0, |s| s.unfinished() as usize);
        let mut metrics = self.sync_metrics();
        metrics.extend([
            Metric::count("IntentsCompleted", intents),
            Metric::seconds("OldestUnsettledIntentAge", self.oldest_unsettled_seconds as f64),
            Metric::count("OutboxBacklog", self.events_left),
            Metric::count("SweepIncomplete", usize::from(!self.complete)),
            Metric::count("SlicesPlanned", self.slices_planned),
            Metric::count("SlicesUnfinished", unfinished),
            Metric::count("DeadLetters", usize::try_from(self.dead_letters.unwrap_or(0)).unwrap_or(usize::MAX)),
        ]);
        self.emit("cleanup", metrics);
    }

    /// What a worker's slice of a sweep did, under the sweep's names and `Function=worker` (the
    /// planner's own figures stay alone under `Function=cleanup`, where the alarms read them).
    pub fn emit_slice_metrics(&self) {
        let mut metrics = self.sync_metrics();
        metrics.push(crate::metrics::Metric::count("SlicesWorked", 1));
        self.emit("worker", metrics);
    }

    /// What matching records against the provider did (the inline sweep's, or a slice's).
    fn sync_metrics(&self) -> Vec<crate::metrics::Metric<'static>> {
        use crate::metrics::Metric;
        let repaired =
            self.records_written + self.ports_repaired + self.public_ips_allocated + self.public_ips_released;
        let orphans = self.orphans_deleted + self.orphan_ports_deleted + self.orphan_public_ips_deleted;
        vec![
            Metric::count("RecordsSynced", self.records_seen),
            Metric::count("RecordsRepaired", repaired),
            Metric::count("RecordsAdopted", self.records_adopted),
            Metric::count("OrphansRemoved", orphans + self.orphan_projects_removed),
            Metric::count("ProviderListCalls", self.provider_list_calls + self.network_list_calls),
            Metric::count("SweepFailures", self.failures.len()),
        ]
    }

    fn emit(&self, function: &str, metrics: Vec<crate::metrics::Metric<'static>>) {
        use crate::metrics::{emit, Metric};
        emit(&[("Function", function)], &metrics);
        for (region, failures) in &self.failures_by_region {
            emit(&[("Function", function), ("Region", region)], &[Metric::count("RegionFailures", *failures)]);
        }
    }
}
