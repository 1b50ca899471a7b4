//! `worker` Lambda: fed by the work queue (SQS), it does what requests leave off their path: a
//! network's provisioning, update or teardown at the provider (`shared::usecase::networks::converge`),
//! a v1 identity's provisioning or teardown (`shared::usecase::identities::converge_identity`), a
//! security group's rules at Neutron or its removal (`shared::usecase::security_groups`), a server
//! intent followed up once its writer has ended (`shared::usecase::follow_up`), a slice of a sweep
//! (`shared::usecase::cleanup::fan_out`).
//! Each message is one item. One that fails is put off (its visibility, 10 s doubling to 80 s) and
//! reported back (a partial batch failure), so SQS offers it again; on its fifth receipt, or at once
//! when it cannot be read, it goes to the dead-letter queue with the reason ([`settle`]). The
//! record, not the message, says what is left to do.

use shared::context::{CloudDeps, Keys, Needs};
use shared::error::Result;
use shared::metrics::Metric;
use shared::usecase::cleanup::fan_out::{work_slice, SliceDone};
use shared::usecase::follow_up::{follow_up_server, FollowedUp};
use shared::usecase::identities::converge_identity;
use shared::usecase::networks::converge;
use shared::usecase::security_groups::converge_security_group;
use shared::usecase::Converged;
use shared::work::sqs::SqsQueue;
use shared::work::{Disposition, Failure, WorkItem};

/// Provisioning makes and reads identities' secrets: the sealing key.
pub const NEEDS: Needs = Needs { keys: Keys::Sealing, warm_provider: true, kubeconfigs: false };

pub async fn deps() -> Result<CloudDeps> {
    shared::context::cloud_deps(NEEDS).await
}

/// Works one message's body; `Err` says why it was not done, and whether it is worth another try.
pub async fn work(deps: &CloudDeps, body: &str) -> std::result::Result<(), Failure> {
    let item = WorkItem::parse(body).map_err(Failure::Unworkable)?;
    let (kind, id, converged) = match item {
        WorkItem::Slice(slice) => return sweep_slice(deps, &slice).await,
        WorkItem::Network { network_id } => {
            let span = tracing::info_span!("work", network_id = %network_id);
            let converged = tracing::Instrument::instrument(converge(deps, &network_id), span).await;
            ("network", network_id, converged)
        }
        WorkItem::Identity { identity_id } => {
            let span = tracing::info_span!("work", identity_id = %identity_id);
            let converged = tracing::Instrument::instrument(converge_identity(deps, &identity_id), span).await;
            ("identity", identity_id, converged)
        }
        WorkItem::Server { server_id, version } => {
            let span = tracing::info_span!("work", server_id = %server_id);
            let followed = tracing::Instrument::instrument(follow_up_server(deps, &server_id, version), span).await;
            let converged = followed.map(|f| match f {
                FollowedUp::Gone => Converged::Gone,
                _ => Converged::Settled(shared::domain::Stage::Provisioned),
            });
            ("server", server_id, converged)
        }
        WorkItem::SecurityGroup { security_group_id } => {
            let span = tracing::info_span!("work", security_group_id = %security_group_id);
            let converged =
                tracing::Instrument::instrument(converge_security_group(deps, &security_group_id), span).await;
            ("security group", security_group_id, converged)
        }
    };
    count(kind, converged.is_err());
    match converged {
        Ok(Converged::Gone) => {
            tracing::info!(kind, id = %id, "gone");
            Ok(())
        }
        Ok(Converged::Settled(stage)) => {
            tracing::info!(kind, id = %id, stage = stage.as_str(), "settled");
            Ok(())
        }
        Err(e) => Err(Failure::Retry(format!("{kind} {id}: {e}"))),
    }
}

/// One item worked, of `kind`, failed or not (the dashboard's work-queue panel).
fn count(kind: &str, failed: bool) {
    let metrics = [Metric::count("WorkItems", 1), Metric::count("WorkFailures", usize::from(failed))];
    shared::metrics::emit(&[("Function", "worker"), ("Kind", kind)], &metrics);
}

async fn sweep_slice(deps: &CloudDeps, slice: &shared::work::SweepSlice) -> std::result::Result<(), Failure> {
    let span = tracing::info_span!("work", sweep = %slice.sweep, slice = slice.slice, region_id = %slice.region);
    let done = tracing::Instrument::instrument(work_slice(deps, slice), span).await;
    count("slice", done.is_err());
    match done.map_err(Failure::Retry)? {
        SliceDone::Finished(report) => {
            tracing::info!(sweep = %slice.sweep, slice = slice.slice, report = ?report, "slice matched")
        }
        SliceDone::AlreadyFinished => {
            tracing::info!(sweep = %slice.sweep, slice = slice.slice, "slice finished already")
        }
        SliceDone::Stale => {
            tracing::info!(sweep = %slice.sweep, slice = slice.slice, "slice stale; the next sweep lists afresh")
        }
    }
    Ok(())
}

/// The work queue the runtime puts failed messages off on, and its dead-letter queue
/// (`WORK_QUEUE_URL`, `WORK_DEAD_LETTER_QUEUE_URL`).
pub fn runtime_queue() -> Result<Option<SqsQueue>> {
    let Ok(url) = std::env::var("WORK_QUEUE_URL") else { return Ok(None) };
    let sdk = shared::aws::Sdk::from_env()?;
    let client = sdk.sqs(std::env::var("SQS_ENDPOINT").ok().as_deref());
    Ok(Some(shared::context::sqs_queue_from_env(client, url)))
}

/// What becomes of a message once worked, on its `receives`-th receipt: true when it is done with
/// (worked, or moved to the dead-letter queue with its reason), false when it must come back
/// (put off for its backoff first).
pub async fn settle(
    queue: Option<&SqsQueue>,
    body: &str,
    receipt: &str,
    receives: u32,
    worked: std::result::Result<(), Failure>,
) -> bool {
    let Err(failure) = worked else { return true };
    match (failure.disposition(receives), queue) {
        (Disposition::DeadLetter(reason), Some(queue)) => match queue.dead_letter(body, &reason).await {
            Ok(()) => {
                tracing::warn!(reason, "work item moved to the dead-letter queue");
                true
            }
            Err(e) => {
                tracing::warn!(reason, error = %e, "dead-letter queue unavailable; the queue's redrive moves it");
                false
            }
        },
        (Disposition::Again(delay), Some(queue)) => {
            tracing::info!(why = failure.reason(), delay_s = delay.as_secs(), "work item put off");
            if let Err(e) = queue.retry_later(receipt, delay).await {
                tracing::info!(error = %e, "work item not put off; it comes back after the visibility timeout");
            }
            false
        }
        (_, None) => {
            tracing::warn!(why = failure.reason(), "work item failed");
            false
        }
    }
}
