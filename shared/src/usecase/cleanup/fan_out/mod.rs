//! The sweep fanned out on the work queue: the cleanup function plans (`plan`: the region listed
//! once where its credential may, its records read, both cut into slices of a few projects each,
//! one work item per slice), and workers match the slices (`slice`), each under a lease, as many at
//! once as the worker's reserved concurrency lets them. A sweep's wall time then grows with the
//! region over the workers, not with its projects one after another.

mod plan;
mod slice;

pub use plan::plan;
pub use slice::{freshness, work_slice, SliceDone};

use super::server_ranges::Ranges;
use crate::work::SliceProject;

/// What one sweep is, and how finely it is cut.
#[derive(Debug, Clone)]
pub struct FanOut {
    /// The sweep's id: the schedule tick it is for, so two planners of one tick plan one sweep.
    pub sweep: String,
    pub budget: SliceBudget,
    /// How the region's server listing splits into ranges listed at once.
    pub listing: Ranges,
}

impl FanOut {
    /// Sweep `sweep`, cut and listed as production does.
    pub fn new(sweep: impl Into<String>) -> FanOut {
        FanOut { sweep: sweep.into(), budget: SliceBudget::default(), listing: Ranges::default() }
    }
}

/// How much one slice holds: what one worker invocation matches well within its timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliceBudget {
    /// Records (servers) per slice.
    pub records: usize,
    /// Projects per slice that the worker lists itself (a token and three listings each).
    pub self_listed: usize,
    /// Bytes of a slice's message, well under SQS's 256 KiB.
    pub bytes: usize,
}

impl Default for SliceBudget {
    fn default() -> Self {
        SliceBudget { records: 500, self_listed: 16, bytes: 192 * 1024 }
    }
}

/// A project's weight in a slice: (records, listed by the worker, bytes).
fn weight(project: &SliceProject) -> (usize, usize, usize) {
    let records = project.records.as_ref().map_or(0, Vec::len);
    let self_listed = usize::from(project.listing.is_none());
    let bytes = serde_json::to_vec(project).map_or(usize::MAX, |b| b.len());
    (records, self_listed, bytes)
}

/// Cuts a region's projects into slices within `budget`, in the order given. A project is never
/// split (its networking is matched against all its servers at once): one too heavy to carry is
/// made lighter instead, its listing left to the worker, then its record ids.
pub(super) fn pack(projects: Vec<SliceProject>, budget: &SliceBudget) -> Vec<Vec<SliceProject>> {
    let mut slices: Vec<Vec<SliceProject>> = Vec::new();
    let mut current = Vec::new();
    let mut load = (0, 0, 0);
    for mut project in projects {
        if weight(&project).2 > budget.bytes {
            project.listing = None;
        }
        if weight(&project).2 > budget.bytes {
            project.records = None;
        }
        let (records, self_listed, bytes) = weight(&project);
        let over = load.0 + records > budget.records
            || load.1 + self_listed > budget.self_listed
            || load.2 + bytes > budget.bytes;
        if over && !current.is_empty() {
            slices.push(std::mem::take(&mut current));
            load = (0, 0, 0);
        }
        load = (load.0 + records, load.1 + self_listed, load.2 + bytes);
        current.push(project);
    }
    if !current.is_empty() {
        slices.push(current);
    }
    slices
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{ProjectListing, ProviderServer};

    fn project(name: &str, records: usize, listed: bool) -> SliceProject {
        let ids: Vec<String> = (0..records).map(|i| format!("{name}-{i:032}")).collect();
        let listing = listed.then(|| ProjectListing {
            servers: ids.iter().map(|id| ProviderServer { id: id.clone(), ..ProviderServer::default() }).collect(),
            networking: None,
        });
        SliceProject { project: Some(name.into()), records: Some(ids), listing }
    }

    fn names(slices: &[Vec<SliceProject>]) -> Vec<Vec<String>> {
        slices.iter().map(|s| s.iter().filter_map(|p| p.project.clone()).collect()).collect()
    }

    #[test]
    fn projects_are_packed_whole_within_every_bound() {
        let budget = SliceBudget { records: 10, self_listed: 2, bytes: 64 * 1024 };
        let listed: Vec<SliceProject> = (0..5).map(|i| project(&format!("p{i}"), 4, true)).collect();
        assert_eq!(names(&pack(listed, &budget)), [vec!["p0", "p1"], vec!["p2", "p3"], vec!["p4"]]);
        let unlisted: Vec<SliceProject> = (0..5).map(|i| project(&format!("p{i}"), 1, false)).collect();
        assert_eq!(names(&pack(unlisted, &budget)), [vec!["p0", "p1"], vec!["p2", "p3"], vec!["p4"]]);
        // One project over the record bound still goes, alone: it is never split.
        let big = vec![project("a", 1, true), project("big", 25, true), project("c", 1, true)];
        assert_eq!(names(&pack(big, &budget)), [vec!["a"], vec!["big"], vec!["c"]]);
        assert!(pack(Vec::new(), &budget).is_empty());
    }

    #[test]
    fn a_project_too_heavy_to_carry_is_listed_and_then_read_by_the_worker() {
        let budget = SliceBudget { records: 100_000, self_listed: 16, bytes: 16 * 1024 };
        let slices = pack(vec![project("heavy", 200, true), project("light", 2, true)], &budget);
        let heavy = &slices[0][0];
        assert!(heavy.listing.is_none() && heavy.records.as_ref().is_some_and(|r| r.len() == 200), "ids still fit");
        let slices = pack(vec![project("heavier", 1000, true)], &budget);
        assert!(slices[0][0].listing.is_none() && slices[0][0].records.is_none(), "neither fits");
        assert!(slices.iter().flatten().all(|p| weight(p).2 <= budget.bytes));
        assert_eq!(names(&pack(vec![project("light", 2, true)], &budget)), [vec!["light"]]);
    }
}
