//! What a record write means beyond the record: the state transition it publishes and the action
//! items it starts or completes. Computed from the record before and after ([`on_write`],
//! [`on_create`], [`on_remove`]) and written by the store in the same transaction as the record,
//! so a transition is never lost and never published for a write that did not happen.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::action::{ActionError, ActionRecord, ActionRef, Command};
use super::{PowerState, ProvisioningStatus, ServerRecord};

/// A server's state as events report it. A provisioned server is `running` or `stopped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerState {
    Provisioning,
    Running,
    Stopped,
    Error,
    Deprovisioning,
    Deleted,
}

impl ServerState {
    /// The state the record shows, `None` while a power change is in flight (`Pending`,
    /// `Stopping`): an intent is not a transition, the state it reaches is.
    pub fn of(record: &ServerRecord) -> Option<ServerState> {
        match record.provisioning_status {
            ProvisioningStatus::Deprovisioning => Some(ServerState::Deprovisioning),
            ProvisioningStatus::Error => Some(ServerState::Error),
            ProvisioningStatus::Provisioning | ProvisioningStatus::Unknown => Some(ServerState::Provisioning),
            ProvisioningStatus::Provisioned => match record.power_state {
                Some(PowerState::Running) => Some(ServerState::Running),
                Some(PowerState::Stopped) => Some(ServerState::Stopped),
                Some(PowerState::Pending | PowerState::Stopping) | None => None,
            },
        }
    }

    /// The last state published for the record (older records: what it shows).
    fn announced(record: &ServerRecord) -> Option<ServerState> {
        record.announced.or_else(|| ServerState::of(record))
    }
}

/// The transition `next` makes from what was last published for `base`: (previous, current), or
/// `None` when the state it shows is the one already published (or a power change is in flight).
pub fn transition(base: &ServerRecord, next: &ServerRecord) -> Option<(Option<ServerState>, ServerState)> {
    let previous = ServerState::announced(base);
    let current = ServerState::of(next)?;
    (previous != Some(current)).then_some((previous, current))
}

/// One observed transition, as published (the `detail` of a "Server State Change" event).
/// `eventId` is stable (the server's id and the record version the transition was written at),
/// so a consumer can drop the duplicates at-least-once delivery may bring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateEvent {
    pub event_id: String,
    pub server_id: String,
    pub organization_id: String,
    pub project_id: String,
    pub network_id: String,
    /// `null` when the server was just created.
    pub previous: Option<ServerState>,
    pub current: ServerState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<String>,
    /// Why the server went into error, when the action it is attributed to failed: that action's
    /// error code (`capacity`, `quota`, `provider_fault`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub time: DateTime<Utc>,
    /// Increases with every transition of the server: consumers can order by it.
    pub sequence: u64,
}

impl StateEvent {
    fn new(
        record: &ServerRecord,
        (previous, current): (Option<ServerState>, ServerState),
        sequence: u64,
        time: DateTime<Utc>,
        related: Option<&ActionRef>,
    ) -> Self {
        let failed = related.and_then(|a| a.error.as_ref()).filter(|_| current == ServerState::Error);
        StateEvent {
            event_id: format!("{}-{sequence}", record.id),
            server_id: record.id.clone(),
            organization_id: record.organization_id.clone(),
            project_id: record.project_id.clone(),
            network_id: record.network_id.clone(),
            previous,
            current,
            action_id: related.map(|a| a.id.clone()),
            reason: failed.map(|e| e.code.clone()),
            time,
            sequence,
        }
    }
}

/// What the store writes with a record change, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Effects {
    /// The transition to publish (an outbox item until it is published).
    pub event: Option<StateEvent>,
    /// Action items to write as they now stand (started, completed, or recorded done).
    pub actions: Vec<ActionRecord>,
    /// The security groups the write starts and stops naming, counted on each group in the same
    /// transaction: a group a server names is never deleted, and one being deleted gains no server.
    pub groups: GroupReferences,
}

impl Effects {
    pub fn is_empty(&self) -> bool {
        self.event.is_none() && self.actions.is_empty() && self.groups.is_empty()
    }
}

/// Security group ids (Unikorn's) a server write starts (`added`) and stops (`released`) naming.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupReferences {
    pub added: Vec<String>,
    pub released: Vec<String>,
}

impl GroupReferences {
    /// What changes from `base`'s groups to `next`'s (each id once, however often it is named).
    pub fn between(base: Option<&ServerRecord>, next: Option<&ServerRecord>) -> Self {
        let named = |r: Option<&ServerRecord>| -> std::collections::BTreeSet<String> {
            r.and_then(|r| r.networking.as_ref()).map(|n| n.groups().iter().cloned().collect()).unwrap_or_default()
        };
        let (before, after) = (named(base), named(next));
        GroupReferences {
            added: after.difference(&before).cloned().collect(),
            released: before.difference(&after).cloned().collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.released.is_empty()
    }
}

/// A new record: its creation (no previous state) and its first action.
pub fn on_create(record: &ServerRecord, now: DateTime<Utc>) -> Effects {
    let action = record.action.as_ref();
    Effects {
        event: Some(StateEvent::new(
            record,
            (None, ServerState::announced(record).unwrap_or(ServerState::Provisioning)),
            record.version,
            now,
            action,
        )),
        actions: action.map(|a| ActionRecord::of(record, a)).into_iter().collect(),
        groups: GroupReferences::between(None, Some(record)),
    }
}

/// `next` replaces `base`; `observed` is an action the platform recorded with this write (adopt,
/// provider change), which the transition is attributed to. A transition is published once: `next`
/// records it as announced.
pub fn on_write(
    base: &ServerRecord,
    next: &mut ServerRecord,
    now: DateTime<Utc>,
    observed: Option<ActionRef>,
) -> Effects {
    let next_state = transition(base, next);
    next.announced = next_state.map(|(_, current)| current).or(ServerState::announced(base));
    let next = &*next;
    let mut actions = Vec::new();
    let mut related: Option<&ActionRef> = None;
    match (&base.action, &next.action) {
        (Some(old), Some(new)) if old.id == new.id => {
            if old != new {
                actions.push(ActionRecord::of(next, new));
                related = Some(new);
            } else if new.is_running() {
                related = Some(new);
            }
        }
        (old, new) => {
            if let Some(old) = old.as_ref().filter(|a| a.is_running()) {
                let mut superseded = old.clone();
                let by = new.as_ref().map_or("another action", |n| n.command.as_str());
                superseded.finish(now, Err(ActionError::new("superseded", format!("superseded by {by}"))));
                actions.push(ActionRecord::of(base, &superseded));
            }
            if let Some(new) = new {
                actions.push(ActionRecord::of(next, new));
                related = Some(new);
            }
        }
    }
    if let Some(observed) = &observed {
        actions.push(ActionRecord::of(next, observed));
        related = Some(observed);
    }
    let event = next_state.map(|states| StateEvent::new(next, states, next.version, now, related));
    Effects { event, actions, groups: GroupReferences::between(Some(base), Some(next)) }
}

/// The record is removed: it is deleted. Its running action completes (a delete succeeds; anything
/// else fails with `outcome`, or because the server is gone); without one, the removal is recorded
/// as a provider change (the server vanished at the provider).
pub fn on_remove(record: &ServerRecord, now: DateTime<Utc>, outcome: Option<Result<(), ActionError>>) -> Effects {
    let action = match record.action.as_ref().filter(|a| a.is_running()) {
        Some(running) => {
            let mut done = running.clone();
            let gone = || Err(ActionError::new("server_gone", "the provider no longer has the server"));
            let outcome = match running.command {
                Command::DeleteServer => Ok(()),
                _ => outcome.unwrap_or_else(gone),
            };
            done.finish(now, outcome);
            done
        }
        None => ActionRef::done(Command::ProviderChange, super::action::PLATFORM_SUBJECT, now, Ok(())),
    };
    let sequence = record.version + 1;
    Effects {
        event: Some(StateEvent::new(
            record,
            (ServerState::announced(record), ServerState::Deleted),
            sequence,
            now,
            Some(&action),
        )),
        actions: vec![ActionRecord::of(record, &action)],
        groups: GroupReferences::between(Some(record), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::action::ActionStatus;
    use crate::domain::server::tests::record;

    fn now() -> DateTime<Utc> {
        "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap_or_default()
    }

    #[test]
    fn a_write_publishes_a_transition_only_when_the_state_changes() {
        let mut base = record();
        base.provisioning_status = ProvisioningStatus::Provisioned;
        base.power_state = Some(PowerState::Running);
        let mut next = base.clone();
        next.version = 2;
        next.private_ip = Some("10.0.0.9".into());
        assert!(on_write(&base, &mut next.clone(), now(), None).is_empty(), "no transition, no action");
        next.power_state = Some(PowerState::Stopping);
        assert!(on_write(&base, &mut next.clone(), now(), None).event.is_none(), "an intent is no transition");
        next.power_state = Some(PowerState::Stopped);
        let mut written = next.clone();
        let event = on_write(&base, &mut written, now(), None).event.unwrap_or_else(|| panic!("a transition"));
        assert_eq!((event.previous, event.current), (Some(ServerState::Running), ServerState::Stopped));
        assert_eq!((event.event_id.as_str(), event.sequence), ("s1-2", 2));
        // Starting again: the intent (Pending) publishes nothing; reaching Running does, from stopped.
        let mut starting = written.clone();
        starting.power_state = Some(PowerState::Pending);
        assert!(on_write(&written, &mut starting, now(), None).event.is_none());
        let mut running = starting.clone();
        running.power_state = Some(PowerState::Running);
        let event = on_write(&starting, &mut running, now(), None).event.map(|e| (e.previous, e.current));
        assert_eq!(event, Some((Some(ServerState::Stopped), ServerState::Running)));
    }

    #[test]
    fn a_new_action_supersedes_a_running_one_and_its_completion_is_written() {
        let mut base = record();
        base.action = Some(ActionRef::start(Command::StopServer, "alice", now()));
        let mut next = base.clone();
        next.action = Some(ActionRef::start(Command::DeleteServer, "bob", now()));
        next.provisioning_status = ProvisioningStatus::Deprovisioning;
        let effects = on_write(&base, &mut next, now(), None);
        let statuses: Vec<_> = effects.actions.iter().map(|a| (a.action.command, a.action.status)).collect();
        assert_eq!(
            statuses,
            [(Command::StopServer, ActionStatus::Error), (Command::DeleteServer, ActionStatus::Running)]
        );
        assert_eq!(effects.event.and_then(|e| e.action_id), next.action.as_ref().map(|a| a.id.clone()));

        let removed = on_remove(&next, now(), None);
        assert_eq!(removed.actions[0].action.status, ActionStatus::Success, "a delete completes on removal");
        assert_eq!(removed.event.map(|e| (e.current, e.sequence)), Some((ServerState::Deleted, next.version + 1)));
        let vanished = on_remove(&record(), now(), None);
        assert_eq!(vanished.actions[0].action.command, Command::ProviderChange);
    }
}
