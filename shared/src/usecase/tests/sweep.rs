//! Use-case unit tests: a sweep planned in slices and matched under leases.

use super::*;
use crate::store::{Lease, SweepStore};
use crate::usecase::cleanup::fan_out::{work_slice, FanOut, SliceDone};
use crate::work::{SweepSlice, WorkItem};

async fn planned(w: &World, sweep: &str) -> (cleanup::Report, Vec<SweepSlice>) {
    let bus = crate::events::MemoryBus::default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let fan = FanOut::new(sweep);
    let report = cleanup::run_fanned_out(&w.deps, &bus, deadline, &fan).await.unwrap_or_else(|e| panic!("{e}"));
    let slices = w
        .work
        .take()
        .into_iter()
        .filter_map(|item| match item {
            WorkItem::Slice(slice) => Some(*slice),
            _ => None,
        })
        .collect();
    (report, slices)
}

#[tokio::test]
async fn a_slice_is_matched_once_by_its_leaseholder_and_never_from_a_stale_listing() {
    let w = world().await;
    for name in ["web", "db"] {
        create_server(&w.deps, &cx(admin()), create_input(&w.network, name), None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let (report, slices) = planned(&w, "s1").await;
    assert_eq!((report.slices_planned, slices.len()), (1, 1), "{report:?}");
    let ids = slices[0].projects.iter().filter_map(|p| p.records.clone()).flatten().count();
    assert_eq!(ids, 2, "both records' ids travel with the slice");
    let (again, none) = planned(&w, "s1").await;
    assert!(again.sweep_taken && none.is_empty(), "a second planner of the tick plans nothing");

    match work_slice(&w.deps, &slices[0]).await {
        Ok(SliceDone::Finished(report)) => assert_eq!(report.records_seen, 2, "{report:?}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(work_slice(&w.deps, &slices[0]).await, Ok(SliceDone::AlreadyFinished)));
    let summary = w.store.sweep_summary("s1").await.ok().flatten().unwrap_or_default();
    assert_eq!((summary.slices, summary.finished), (Some(1), 1));

    // Another worker holds the next sweep's slice: this one is told to try later.
    let (report, slices) = planned(&w, "s2").await;
    assert_eq!(report.previous_sweep.map(|s| s.unfinished()), Some(0), "s1 finished");
    let now = w.deps.clock.now();
    let held = w.store.lease_slice("s2", 0, "another", now, now + chrono::Duration::seconds(60)).await;
    assert_eq!(held.ok(), Some(Lease::Granted));
    let refused = work_slice(&w.deps, &slices[0]).await;
    assert!(matches!(&refused, Err(why) if why.contains("leased until")), "{refused:?}");

    // A listing older than half the grace period (a minute at least) is never matched.
    let mut stale = slices[0].clone();
    assert_eq!(crate::usecase::cleanup::fan_out::freshness(chrono::Duration::zero()).num_seconds(), 60);
    stale.listed_at =
        now - crate::usecase::cleanup::fan_out::freshness(w.deps.timing.grace) - chrono::Duration::seconds(1);
    assert!(matches!(work_slice(&w.deps, &stale).await, Ok(SliceDone::Stale)));
    let (report, _) = planned(&w, "s3").await;
    assert_eq!(report.previous_sweep.map(|s| s.unfinished()), Some(1), "s2's slice was never finished");
}
