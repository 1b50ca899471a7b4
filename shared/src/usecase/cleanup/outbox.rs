//! The cleanup passes over bookkeeping: the outbox published to the event bus, and name claims
//! whose holder is gone released.

use std::time::Instant;

use super::{Maintained, Report, CLAIM_BATCH, EVENT_LIMIT};
use crate::error::Result;
use crate::events::{EventBus, BATCH};
use crate::provider::{Compute, Networking};
use crate::store::MaintenanceStore;
use crate::usecase::Deps;

/// Publishes the outbox, oldest first, in batches the bus takes; an item leaves the outbox only
/// once the bus accepted it, so a failure is retried by the next run (at-least-once; consumers
/// de-duplicate by `eventId`).
pub(super) async fn publish<S: MaintenanceStore, P, B: EventBus>(
    deps: &Deps<S, P>,
    bus: &B,
    deadline: Instant,
    report: &mut Report,
) -> Result<()> {
    let pending = deps.store.unpublished_events(EVENT_LIMIT).await?;
    for batch in pending.chunks(BATCH) {
        if Instant::now() >= deadline {
            report.events_left += batch.len();
            continue;
        }
        let accepted = match bus.publish(batch).await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "events not published; the next run retries");
                report.failures.push(e.to_string());
                vec![false; batch.len()]
            }
        };
        for (event, ok) in batch.iter().zip(accepted) {
            if !ok {
                report.events_left += 1;
                continue;
            }
            deps.store.mark_published(event).await?;
            report.events_published += 1;
        }
    }
    Ok(())
}

pub(super) async fn release_stale_claims<S: Maintained, P: Compute + Networking>(
    deps: &Deps<S, P>,
    report: &mut Report,
) -> Result<()> {
    for claim in deps.store.claims_due(deps.clock.now(), CLAIM_BATCH).await? {
        report.claims_checked += 1;
        let holder_exists = deps.store.get_server(&claim.server_id).await?.is_some();
        deps.store.settle_claim(&claim, holder_exists).await?;
        if !holder_exists {
            tracing::info!(network_id = %claim.network_id, name = %claim.name, "stale name claim released");
            report.claims_released += 1;
        }
    }
    Ok(())
}
