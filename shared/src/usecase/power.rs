use super::refresh::{provider_id, refresh};
use super::{load_server, server_not_found, translate, Deps};
use crate::domain::{PowerState, ProvisioningStatus, ServerRecord};
use crate::error::{Error, Result};
use crate::provider::PowerAction;
use crate::rbac::{Caller, Operation};

/// A server the provider can act on: settled enough, with its provider id. No provider call is
/// made for a record that is being deleted; one still provisioning is re-read once.
pub(crate) async fn actionable(deps: &Deps, record: ServerRecord, verb: &str) -> Result<(ServerRecord, String)> {
    let id = record.id.clone();
    if record.is_deleting() {
        return Err(Error::conflict(format!("server {id} cannot be {verb}: it is being deleted")));
    }
    let record = if record.provisioning_status == ProvisioningStatus::Provisioning {
        refresh(deps, record).await?.ok_or_else(|| server_not_found(&id))?
    } else {
        record
    };
    if record.provisioning_status == ProvisioningStatus::Provisioning {
        return Err(Error::conflict(format!("server {id} cannot be {verb}: it is still being provisioned")));
    }
    let pid = provider_id(deps, &record).await?.ok_or_else(|| server_not_found(&id))?;
    Ok((record, pid))
}

/// start, stop, soft and hard reboot: one provider call, then the transitional power state.
pub async fn power(deps: &Deps, caller: &Caller, id: &str, action: PowerAction) -> Result<()> {
    let record = load_server(deps, caller, id, Operation::Update).await?;
    let (record, pid) = actionable(deps, record, action.verb()).await?;
    let cred = deps.identities.credential(&record.identity_id)?;
    deps.provider.power(&cred, &pid, action).await.map_err(|e| translate(e, id, action.verb()))?;
    let mut next = record.clone();
    next.power_state = Some(match action {
        PowerAction::Stop => PowerState::Stopping,
        _ => PowerState::Pending,
    });
    next.version = record.version + 1;
    if let Err(e) = deps.store.replace_server(&next, record.version).await {
        // The provider acted; the next read reconciles the power state.
        tracing::warn!(error = %e, "could not record the transitional power state");
    }
    Ok(())
}
