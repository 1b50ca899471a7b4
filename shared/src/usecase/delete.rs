use super::intent::{self, Answer, Plan, Steps};
use super::refresh::{provider_id, refresh};
use super::steps::{deprovisioning, protected};
use super::Context;
use super::{in_our_terms, load_server, translate, Deps};
use crate::crash;
use crate::domain::ProvisioningStatus;
use crate::error::{Error, Result};
use crate::provider::{Compute, Networking, ProviderError};
use crate::rbac::Operation;
use crate::store::{ServerStore, StoreError};

/// A concurrent write or a protection change means reading again, this many times.
const RETRIES: usize = 3;

/// Marks the server deprovisioning (the intent), asks the provider to delete it, and releases the
/// name only once the provider server is gone (now if it already is; otherwise on a later read or
/// cleanup run). Repeating a delete re-issues the provider call, so a failed attempt can be retried.
/// A server whose create is still reaching the provider keeps its record: the create carries the
/// delete out when it learns the provider id (or the cleanup function does).
pub async fn delete_server<S: ServerStore, P: Compute + Networking>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
) -> Result<()> {
    let load = || async { Ok((load_server(deps, cx, id, Operation::Delete).await?, ())) };
    let plan = |record: &crate::domain::ServerRecord, _: &()| {
        if record.is_deleting() {
            return Ok(Plan::Keep);
        }
        if record.protection.delete {
            return Err(protected(id));
        }
        Ok(Plan::Write(Box::new(deprovisioning(record, deps.clock.now(), &cx.caller.subject))))
    };
    let (base, dying) = match intent::record(deps, RETRIES, load, plan).await? {
        Ok(recorded) => (recorded.base, recorded.intent),
        Err(e @ StoreError::Changed(..)) => return Err(Error::conflict(format!("{e}; retry the delete"))),
        Err(e) => return Err(e.into()),
    };
    let cred = super::server_credential(deps, &dying)?;
    deps.crash.hit(crash::DELETE_AFTER_MARK);
    if let Some(pid) = provider_id(deps, &dying).await? {
        // The crash point after the mark was passed above, whether or not the provider is asked.
        let steps = Steps { after_intent: crash::NONE, after_provider: crash::DELETE_AFTER_PROVIDER };
        let call = async { deps.provider.delete_server(&cred, &pid).await.map(|r| ((), r)) };
        match intent::enact(deps, steps, &dying, call).await {
            Answer::Accepted(()) | Answer::Refused(ProviderError::NotFound { .. }) => {}
            // The record stays deprovisioning: a retried delete, a read or the cleanup run re-issue it.
            Answer::Unknown(e) => return Err(e.into()),
            // A definite refusal (a locked server, a policy): the server stays, so the intent is
            // undone, or the cleanup run would delete it after the caller was told it would not.
            Answer::Refused(e) => {
                let mut back = dying.clone();
                if base.is_deleting() {
                    // A repeated delete: the server exists, so it is provisioned, not going.
                    back.provisioning_status = ProvisioningStatus::Provisioned;
                    back.deletion_time = None;
                } else {
                    back.provisioning_status = base.provisioning_status;
                    back.deletion_time = base.deletion_time;
                    back.modified_by = base.modified_by.clone();
                    back.modified_time = base.modified_time;
                }
                intent::undo(deps, &dying, back, &e).await;
                return Err(match e {
                    ProviderError::Conflict { detail, .. } => Error::conflict(format!(
                        "server {id} cannot be deleted: the provider refused it: {}",
                        in_our_terms(detail, id, &pid)
                    )),
                    other => translate(other, id, &pid, "deleted"),
                });
            }
        }
    }
    refresh(deps, dying).await?;
    Ok(())
}
