//! `worker` Lambda: fed by the work queue (SQS), it does what requests leave off their path: a
//! network's provisioning, update or teardown at the provider (`shared::usecase::networks::converge`),
//! a v1 identity's provisioning or teardown (`shared::usecase::identities::converge_identity`), a
//! security group's rules at Neutron or its removal (`shared::usecase::security_groups`), a server
//! intent followed up once its writer has ended (`shared::usecase::follow_up`).
//! Each message is one item; an item that fails is reported back (a partial batch failure), so SQS
//! offers it again after its visibility timeout and, after the queue's last attempt, moves it to
//! the dead-letter queue. The record, not the message, says what is left to do.

use shared::context::{CloudDeps, Keys, Needs};
use shared::error::Result;
use shared::metrics::Metric;
use shared::usecase::follow_up::{follow_up_server, FollowedUp};
use shared::usecase::identities::converge_identity;
use shared::usecase::networks::converge;
use shared::usecase::security_groups::converge_security_group;
use shared::usecase::Converged;
use shared::work::WorkItem;

/// Provisioning makes and reads identities' secrets: the sealing key.
pub const NEEDS: Needs = Needs { keys: Keys::Sealing, warm_provider: true, kubeconfigs: false };

pub async fn deps() -> Result<CloudDeps> {
    shared::context::cloud_deps(NEEDS).await
}

/// Works one message's body; `Err` names why the message must be offered again (or, unreadable,
/// go to the dead-letter queue).
pub async fn work(deps: &CloudDeps, body: &str) -> std::result::Result<(), String> {
    let (kind, id, converged) = match WorkItem::parse(body)? {
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
    let failed = usize::from(converged.is_err());
    let metrics = [Metric::count("WorkItems", 1), Metric::count("WorkFailures", failed)];
    shared::metrics::emit(&[("Function", "worker"), ("Kind", kind)], &metrics);
    match converged {
        Ok(Converged::Gone) => {
            tracing::info!(kind, id = %id, "gone");
            Ok(())
        }
        Ok(Converged::Settled(stage)) => {
            tracing::info!(kind, id = %id, stage = stage.as_str(), "settled");
            Ok(())
        }
        Err(e) => Err(format!("{kind} {id}: {e}")),
    }
}
