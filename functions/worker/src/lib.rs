//! `worker` Lambda: fed by the work queue (SQS), it does what requests leave off their path: a
//! network's provisioning, update or teardown at the provider (`shared::usecase::networks::converge`).
//! Each message is one item; an item that fails is reported back (a partial batch failure), so SQS
//! offers it again after its visibility timeout and, after the queue's last attempt, moves it to
//! the dead-letter queue. The record, not the message, says what is left to do.

use shared::context::{CloudDeps, Keys, Needs};
use shared::error::Result;
use shared::usecase::networks::{converge, Converged};
use shared::work::WorkItem;

/// Provisioning makes and reads identities' secrets: the sealing key.
pub const NEEDS: Needs = Needs { keys: Keys::Sealing, warm_provider: true, kubeconfigs: false };

pub async fn deps() -> Result<CloudDeps> {
    shared::context::cloud_deps(NEEDS).await
}

/// Works one message's body; `Err` names why the message must be offered again (or, unreadable,
/// go to the dead-letter queue).
pub async fn work(deps: &CloudDeps, body: &str) -> std::result::Result<(), String> {
    match WorkItem::parse(body)? {
        WorkItem::Network { network_id } => {
            let span = tracing::info_span!("work", network_id = %network_id);
            let _entered = span.enter();
            match converge(deps, &network_id).await {
                Ok(Converged::Gone) => {
                    tracing::info!(network_id = %network_id, "network gone");
                    Ok(())
                }
                Ok(Converged::Settled(stage)) => {
                    tracing::info!(network_id = %network_id, stage = stage.as_str(), "network settled");
                    Ok(())
                }
                Err(e) => Err(format!("network {network_id}: {e}")),
            }
        }
    }
}
