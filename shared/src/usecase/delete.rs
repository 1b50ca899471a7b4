use super::refresh::{provider_id, refresh};
use super::{load_server, Deps};
use crate::domain::ProvisioningStatus;
use crate::error::{Error, Result};
use crate::rbac::{Caller, Operation};

/// Marks the server deprovisioning, asks the provider to delete it, and releases the name only
/// once the provider server is gone (now if it already is; otherwise on a later read or cleanup).
/// Repeating a delete re-issues the provider call, so a failed attempt can simply be retried.
pub async fn delete_server(deps: &Deps, caller: &Caller, id: &str) -> Result<()> {
    let record = load_server(deps, caller, id, Operation::Delete).await?;
    let mut dying = record.clone();
    if !record.is_deleting() {
        let now = deps.clock.now();
        dying.provisioning_status = ProvisioningStatus::Deprovisioning;
        dying.deletion_time = Some(now);
        dying.modified_by = Some(caller.subject.clone());
        dying.modified_time = Some(now);
        dying.version = record.version + 1;
        deps.store.replace_server(&dying, record.version).await.map_err(|e| match e {
            Error::PreconditionFailed(m) => Error::conflict(format!("{m}; retry the delete")),
            other => other,
        })?;
    }
    let cred = deps.identities.credential(&dying.identity_id)?;
    match provider_id(deps, &dying).await? {
        Some(pid) => match deps.provider.delete_server(&cred, &pid).await {
            Ok(()) | Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        },
        None => {
            deps.store.remove_server(&dying).await?;
            return Ok(());
        }
    }
    refresh(deps, dying).await?;
    Ok(())
}
