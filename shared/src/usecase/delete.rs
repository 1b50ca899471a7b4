use super::intent::{self, Answer, Plan, Steps};
use super::refresh::{provider_id, refresh};
use super::steps::{deprovisioning, protected};
use super::Context;
use super::{load_server, Deps};
use crate::crash;
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
    let dying = match intent::record(deps, RETRIES, load, plan).await? {
        Ok(recorded) => recorded.intent,
        Err(e @ StoreError::Changed(..)) => return Err(Error::conflict(format!("{e}; retry the delete"))),
        Err(e) => return Err(e.into()),
    };
    let cred = deps.identities.credential(&dying.identity_id)?;
    deps.crash.hit(crash::DELETE_AFTER_MARK);
    if let Some(pid) = provider_id(deps, &dying).await? {
        // The crash point after the mark was passed above, whether or not the provider is asked.
        let steps = Steps { after_intent: crash::NONE, after_provider: crash::DELETE_AFTER_PROVIDER };
        let call = async { deps.provider.delete_server(&cred, &pid).await.map(|r| ((), r)) };
        match intent::enact(deps, steps, &dying, call).await {
            Answer::Accepted(()) | Answer::Refused(ProviderError::NotFound { .. }) => {}
            // The record stays deprovisioning: a retried delete, a read or the cleanup run re-issue it.
            Answer::Unknown(e) | Answer::Refused(e) => return Err(e.into()),
        }
    }
    refresh(deps, dying).await?;
    Ok(())
}
