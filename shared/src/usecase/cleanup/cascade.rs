//! Step 1 of a pass: the servers of networks marked deleting are marked deprovisioning and deleted
//! at the provider (the mark is the intent; sync re-issues a delete that failed).

use std::time::Instant;

use super::{Maintained, Report, NETWORK_BATCH, RECORD_PAGE};
use crate::crash;
use crate::domain::{NetworkRecord, ServerRecord, PLATFORM_SUBJECT};
use crate::error::Result;
use crate::provider::{Compute, Networking, ProviderError};
use crate::rbac::Scope;
use crate::store::{RecordQuery, ServerStore, StoreError};
use crate::usecase::intent::{Answer, Plan, Steps};
use crate::usecase::steps::deprovisioning;
use crate::usecase::{intent, server_credential, Deps};

pub(super) async fn cascade<S: Maintained, P: Compute + Networking>(
    deps: &Deps<S, P>,
    deadline: Instant,
    report: &mut Report,
) -> Result<Vec<NetworkRecord>> {
    let networks = deps.store.networks_being_deleted(NETWORK_BATCH).await?;
    report.networks_cascading = networks.len();
    for network in &networks {
        let query = RecordQuery {
            scopes: vec![Scope::Project(network.organization_id.clone(), network.project_id.clone())],
            network_ids: vec![network.id.clone()],
            limit: RECORD_PAGE,
            ..RecordQuery::default()
        };
        for record in all_records(deps, query).await? {
            if Instant::now() >= deadline {
                break;
            }
            match cascade_one(deps, &record).await {
                Ok(true) => {
                    report.servers_marked_deleting += 1;
                    tracing::info!(server_id = %record.id, network_id = %network.id, "deleting a server of a deleted network");
                }
                Ok(false) => {}
                Err(e) => report.failures.push(e),
            }
        }
    }
    Ok(networks)
}

/// Marks one server of a deleted network deprovisioning and asks the provider to delete it (the
/// intent pattern; the mark is the intent, and sync re-issues a delete that failed). True when it
/// was marked now; an error names what the next run retries.
async fn cascade_one<S: ServerStore, P: Compute + Networking>(
    deps: &Deps<S, P>,
    record: &ServerRecord,
) -> Result<bool, String> {
    // Already being deleted: sync re-issues its delete.
    if record.is_deleting() {
        return Ok(false);
    }
    let load = || async { Ok((record.clone(), ())) };
    let plan =
        |r: &ServerRecord, _: &()| Ok(Plan::Write(Box::new(deprovisioning(r, deps.clock.now(), PLATFORM_SUBJECT))));
    let dying = match intent::record(deps, 0, load, plan).await {
        Ok(Ok(recorded)) => recorded.intent,
        // Changed or gone meanwhile: the next run looks again.
        Ok(Err(StoreError::Changed(..) | StoreError::Missing(..))) => return Ok(false),
        Ok(Err(e)) => return Err(format!("server {}: {e}", record.id)),
        Err(e) => return Err(format!("server {}: {e}", record.id)),
    };
    let Some(pid) = &dying.provider_id else { return Ok(true) };
    let cred = server_credential(deps, &dying).map_err(|e| format!("delete server {}: {e}", record.id))?;
    let steps = Steps { after_intent: crash::NONE, after_provider: crash::NONE };
    let call = async { deps.provider.delete_server(&cred, pid).await.map(|r| ((), r)) };
    match intent::enact(deps, steps, &dying, call).await {
        Answer::Accepted(()) | Answer::Refused(ProviderError::NotFound { .. }) => Ok(true),
        Answer::Unknown(e) | Answer::Refused(e) => Err(format!("delete server {}: {e}", record.id)),
    }
}

/// Every record a query matches, page by page.
async fn all_records<S: Maintained, P: Compute + Networking>(
    deps: &Deps<S, P>,
    mut query: RecordQuery,
) -> Result<Vec<ServerRecord>> {
    let mut all = Vec::new();
    loop {
        let page = deps.store.list_servers(&query).await?;
        all.extend(page.items);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(all),
        }
    }
}
