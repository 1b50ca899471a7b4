use super::cleanup::deprovisioning;
use super::refresh::{provider_id, refresh};
use super::{load_server, note_receipt, write_over, Deps, View};
use crate::crash;
use crate::error::{Error, Result};
use crate::provider::{Compute, ProviderError};
use crate::rbac::{Caller, Operation};
use crate::store::{ServerStore, StoreError};

pub(crate) fn protected(id: &str) -> Error {
    Error::conflict(format!(
        "server {id} is protected from deletion (its protection's delete is true): change its protection first"
    ))
}

/// Marks the server deprovisioning (the intent), asks the provider to delete it, and releases the
/// name only once the provider server is gone (now if it already is; otherwise on a later read or
/// cleanup run). Repeating a delete re-issues the provider call, so a failed attempt can be retried.
/// A server whose create is still reaching the provider keeps its record: the create carries the
/// delete out when it learns the provider id (or the cleanup function does).
pub async fn delete_server<S: ServerStore, P: Compute>(
    deps: &Deps<S, P>,
    caller: &Caller,
    view: &View,
    id: &str,
) -> Result<()> {
    let mut attempts = 0;
    let dying = loop {
        let record = load_server(deps, caller, view, id, Operation::Delete).await?;
        if record.is_deleting() {
            break record;
        }
        if record.protection.delete {
            return Err(protected(id));
        }
        match write_over(deps, &record, deprovisioning(&record, deps.clock.now(), &caller.subject)).await {
            Ok(dying) => break dying,
            // Protected since it was read (the write's own condition): read again, and refuse.
            Err(StoreError::Protected(..)) if attempts < 3 => attempts += 1,
            // Written meanwhile (an update, a read recording the provider's state): mark the fresh copy.
            Err(StoreError::Changed(..)) if attempts < 3 => attempts += 1,
            Err(e @ StoreError::Changed(..)) => return Err(Error::conflict(format!("{e}; retry the delete"))),
            Err(e) => return Err(e.into()),
        }
    };
    deps.crash.hit(crash::DELETE_AFTER_MARK);
    let cred = deps.identities.credential(&dying.identity_id)?;
    if let Some(pid) = provider_id(deps, &dying).await? {
        match deps.provider.delete_server(&cred, &pid).await {
            Ok(receipt) => note_receipt(deps, id, dying.action.as_ref(), &receipt).await,
            Err(ProviderError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        deps.crash.hit(crash::DELETE_AFTER_PROVIDER);
    }
    refresh(deps, dying).await?;
    Ok(())
}
