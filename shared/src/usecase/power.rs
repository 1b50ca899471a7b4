use super::errors::action_error;
use super::refresh::{provider_id, refresh};
use super::{load_server, note_receipt, server_not_found, translate, write_over, wrong_state, Deps, View};
use crate::crash;
use crate::domain::{ActionRef, Command, PowerState, ProvisioningStatus, ServerRecord};
use crate::error::{Error, Result};
use crate::provider::PowerAction;
use crate::provider::{Compute, ProviderError};
use crate::rbac::{Caller, Operation};
use crate::store::{ServerStore, StoreError};

/// A server the provider can act on: settled enough, with its provider id. No provider call is
/// made for a record that is being deleted; one still provisioning is re-read once.
pub(crate) async fn actionable<S: ServerStore, P: Compute>(
    deps: &Deps<S, P>,
    record: ServerRecord,
    verb: &str,
) -> Result<(ServerRecord, String)> {
    let id = record.id.clone();
    if record.is_deleting() {
        return Err(wrong_state(verb));
    }
    let record = if record.provisioning_status == ProvisioningStatus::Provisioning {
        refresh(deps, record).await?.ok_or_else(|| server_not_found(&id))?
    } else {
        record
    };
    if record.provisioning_status == ProvisioningStatus::Provisioning {
        return Err(wrong_state(verb));
    }
    let pid = provider_id(deps, &record).await?.ok_or_else(|| server_not_found(&id))?;
    Ok((record, pid))
}

fn command(action: PowerAction) -> Command {
    match action {
        PowerAction::Start => Command::StartServer,
        PowerAction::Stop => Command::StopServer,
        PowerAction::SoftReboot => Command::SoftReboot,
        PowerAction::HardReboot => Command::HardReboot,
    }
}

/// start, stop, soft and hard reboot: the transitional power state is recorded first (so a crash
/// after the provider acted still leaves a state that reads and the cleanup function reconcile),
/// then exactly one provider call. A definite refusal puts the previous state back.
pub async fn power<S: ServerStore, P: Compute>(
    deps: &Deps<S, P>,
    caller: &Caller,
    view: &View,
    id: &str,
    action: PowerAction,
) -> Result<()> {
    let transitional = match action {
        PowerAction::Stop => PowerState::Stopping,
        _ => PowerState::Pending,
    };
    // A concurrent write (a description update, a read recording what Nova reports) only means
    // the intent is written on a fresher copy.
    let mut attempts = 0;
    let (record, pid, intent) = loop {
        let record = load_server(deps, caller, view, id, Operation::Update).await?;
        let (record, pid) = actionable(deps, record, action.verb()).await?;
        let mut intent = record.clone();
        intent.power_state = Some(transitional);
        intent.action = Some(ActionRef::start(command(action), &caller.subject, deps.clock.now()));
        match write_over(deps, &record, intent).await {
            Ok(intent) => break (record, pid, intent),
            Err(StoreError::Changed(..)) if attempts < 3 => attempts += 1,
            Err(e @ StoreError::Changed(..)) => return Err(Error::conflict(format!("{e}; retry"))),
            Err(e) => return Err(e.into()),
        }
    };
    let cred = deps.identities.credential(&record.identity_id)?;
    deps.crash.hit(crash::POWER_AFTER_INTENT);
    match deps.provider.power(&cred, &pid, action).await {
        Ok(receipt) => {
            deps.crash.hit(crash::POWER_AFTER_PROVIDER);
            note_receipt(deps, id, intent.action.as_ref(), &receipt).await;
            Ok(())
        }
        // Whether the provider acted is unknown: the transitional state stays, and the next read or
        // cleanup run records what the provider reports.
        Err(e @ ProviderError::Unavailable(_)) => Err(e.into()),
        Err(e) => {
            let mut back = intent.clone();
            back.power_state = record.power_state;
            if let Some(a) = &mut back.action {
                a.finish(deps.clock.now(), Err(action_error(&e)));
            }
            if let Err(write) = write_over(deps, &intent, back).await {
                // The action stays running: it completes or times out when the state is next observed.
                tracing::info!(error = %write, "power state not restored; the next read or cleanup run reconciles it");
            }
            Err(translate(e, id, action.verb()))
        }
    }
}
