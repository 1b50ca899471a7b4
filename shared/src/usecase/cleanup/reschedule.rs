//! Placing again a server the provider had no capacity for before it ever booted (Nova's "No
//! valid host was found"): the attempt is recorded first (a `reschedule` action, the provider id
//! cleared, the count raised), then the failed provider server is deleted and the server created
//! again on its own port, as its create asked. At most `MAX_RESCHEDULES` attempts, with a
//! doubling backoff ([`reschedule_due`]); what the next look sees decides the rest (booted:
//! running; no valid host again: another attempt or, after the last, error `capacity`). A refusal
//! (the project's quota) ends it at once: error, the action failed `quota`.

use super::super::create::provider_request;
use super::super::outcomes::action_error;
use super::super::reconcile::reschedule_due;
use super::super::{note_receipt, server_port, write_over, Deps};
use super::Report;
use crate::domain::{ActionRef, Command, HealthStatus, PowerState, ProvisioningStatus, ServerRecord, PLATFORM_SUBJECT};
use crate::provider::{Attach, Compute, Networking, ProviderCredential, ProviderError};
use crate::store::{KeypairStore, NetworkStore, SecurityGroupStore, ServerStore, SshCaStore, StoreError};

/// Places `record` again if it is due (see [`reschedule_due`]), or finishes an attempt whose create
/// did not happen (the function stopped between the record and the provider).
pub(super) async fn reschedule<S, P>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    record: &ServerRecord,
    report: &mut Report,
) where
    S: ServerStore + NetworkStore + KeypairStore + SshCaStore + SecurityGroupStore,
    P: Compute + Networking,
{
    let now = deps.clock.now();
    let resume = record.rescheduling()
        && record.provider_id.is_none()
        && record.action.as_ref().is_some_and(|a| now - a.started >= deps.timing.grace);
    if !resume && !reschedule_due(record, now, deps.timing) {
        return;
    }
    let intent = if resume {
        record.clone()
    } else {
        let mut next = record.clone();
        next.provider_id = None;
        next.reschedules += 1;
        next.power_state = Some(PowerState::Pending);
        next.action = Some(ActionRef::start(Command::Reschedule, PLATFORM_SUBJECT, now));
        match write_over(deps, record, next).await {
            Ok(intent) => intent,
            // Someone else moved the record (a delete, a read that saw it boot): they decide.
            Err(StoreError::Changed(..) | StoreError::Missing(..)) => return,
            Err(e) => return report.failures.push(format!("server {}: reschedule: {e}", record.id)),
        }
    };
    tracing::info!(server_id = %record.id, attempt = intent.reschedules, "no capacity at the provider: placing the server again");
    if let Some(pid) = &record.provider_id {
        match deps.provider.delete_server(cred, pid).await {
            Ok(_) | Err(ProviderError::NotFound { .. }) => {}
            // The failed server stays: the next look adopts it (its metadata names the record),
            // sees it failed, and the next attempt deletes it.
            Err(e) => return report.failures.push(format!("server {}: delete before reschedule: {e}", record.id)),
        }
    }
    match create_again(deps, cred, &intent).await {
        Ok(provider_id) => {
            let mut next = intent.clone();
            next.provider_id = Some(provider_id);
            match write_over(deps, &intent, next).await {
                Ok(_) => report.servers_rescheduled += 1,
                // The next look adopts it by its metadata.
                Err(e) => tracing::info!(server_id = %record.id, error = %e, "rescheduled server not recorded yet"),
            }
        }
        Err(e @ ProviderError::Unavailable(_)) => {
            tracing::warn!(server_id = %record.id, error = %e, "reschedule outcome unknown; the next look adopts or resumes it");
        }
        Err(refused) => give_up(deps, &intent, &refused, report).await,
    }
}

/// Boots the server again on its port, as its create did.
async fn create_again<S, P>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    record: &ServerRecord,
) -> Result<String, ProviderError>
where
    S: ServerStore + NetworkStore + KeypairStore + SshCaStore + SecurityGroupStore,
    P: Compute + Networking,
{
    let store = |e: StoreError| ProviderError::unavailable(format!("the table did not answer ({e})"));
    let network = deps.store.get_network(&record.network_id).await.map_err(store)?;
    let network = network.ok_or_else(|| ProviderError::failed(format!("network {} is gone", record.network_id)))?;
    let key_name = match record.has_identity_keypair() {
        true => deps.store.get_keypair(&record.identity_id).await.map_err(store)?.map(|k| k.keypair_name),
        false => None,
    };
    let ca = match &record.ssh_certificate_authority_id {
        Some(id) => deps.store.get_ssh_ca(id).await.map_err(store)?,
        None => None,
    };
    let mut request =
        provider_request(record, key_name, ca.as_ref()).map_err(|e| ProviderError::failed(e.to_string()))?;
    let on = (network.provider_network_id.as_str(), &mut server_port::PortGroups::default());
    let (port, _) = server_port::ensure_port((&*deps.store, &*deps.provider), cred, record, on).await?;
    request.attach = Attach::Port(port.id);
    let (provider_id, receipt) = deps.provider.create_server(cred, &request).await?;
    note_receipt(deps, &record.id, record.action.as_ref(), &receipt).await;
    Ok(provider_id)
}

/// The provider refused the new attempt (its quota, most often): the server is in error with the
/// provider's reason, and the attempt's action failed with it.
async fn give_up<S: ServerStore, P>(
    deps: &Deps<S, P>,
    intent: &ServerRecord,
    refused: &ProviderError,
    report: &mut Report,
) {
    let why = action_error(refused);
    let mut next = intent.clone();
    next.provisioning_status = ProvisioningStatus::Error;
    next.health_status = HealthStatus::Degraded;
    next.power_state = Some(PowerState::Stopped);
    next.provider_fault = Some(why.message.clone());
    if let Some(action) = next.action.as_mut() {
        action.finish(deps.clock.now(), Err(why));
    }
    tracing::warn!(server_id = %intent.id, error = %refused, "the provider refused to place the server again");
    if let Err(e) = write_over(deps, intent, next).await {
        report.failures.push(format!("server {}: reschedule refused, not recorded: {e}", intent.id));
    }
}
