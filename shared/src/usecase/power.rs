use super::intent::{self, Answer, Plan, Steps};
use super::steps::actionable;
use super::Context;
use super::{load_server, translate, Deps};
use crate::crash;
use crate::domain::{ActionRef, Command, PowerState};
use crate::error::{Error, Result};
use crate::provider::{Compute, Networking, PowerAction};
use crate::rbac::Operation;
use crate::store::{ServerStore, StoreError};

/// A concurrent write (a description update, a read recording what Nova reports) only means the
/// intent is written on a fresher copy: this many times.
const RETRIES: usize = 3;

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
/// then exactly one provider call. A definite refusal puts the previous state back; no answer
/// leaves the transitional state for the next read or cleanup run.
pub async fn power<S: ServerStore, P: Compute + Networking>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
    action: PowerAction,
) -> Result<()> {
    let transitional = match action {
        PowerAction::Stop => PowerState::Stopping,
        _ => PowerState::Pending,
    };
    let load = || async {
        let record = load_server(deps, cx, id, Operation::Update).await?;
        actionable(deps, record, action.verb()).await
    };
    let plan = |record: &crate::domain::ServerRecord, _: &String| {
        let mut intent = record.clone();
        intent.power_state = Some(transitional);
        intent.action = Some(ActionRef::start(command(action), &cx.caller.subject, deps.clock.now()));
        Ok(Plan::Write(Box::new(intent)))
    };
    let recorded = match intent::record(deps, RETRIES, load, plan).await? {
        Ok(recorded) => recorded,
        Err(e @ StoreError::Changed(..)) => return Err(Error::conflict(format!("{e}; retry"))),
        Err(e) => return Err(e.into()),
    };
    let cred = super::server_credential(deps, &recorded.intent)?;
    let steps = Steps { after_intent: crash::POWER_AFTER_INTENT, after_provider: crash::POWER_AFTER_PROVIDER };
    let call = async { deps.provider.power(&cred, &recorded.found, action).await.map(|r| ((), r)) };
    match intent::enact(deps, steps, &recorded.intent, call).await {
        Answer::Accepted(()) => Ok(()),
        Answer::Unknown(e) => Err(e.into()),
        Answer::Refused(e) => {
            let mut back = recorded.intent.clone();
            back.power_state = recorded.base.power_state;
            intent::undo(deps, &recorded.intent, back, &e).await;
            Err(translate(e, id, &recorded.found, action.verb()))
        }
    }
}
