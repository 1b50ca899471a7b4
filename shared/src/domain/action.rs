//! Actions: what was asked of a server (or done to it by the platform), and how it ended.
//! A server record tracks at most one running action ([`ActionRef`]); it completes when a write of
//! the record shows the action's target state ([`settle`]), fails with the provider's fault, or
//! times out. Action items outlive their server (90 days).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{ApiVersion, PendingChange, PowerState, ProvisioningStatus, ServerRecord};

/// The subject of what the platform itself does (the cleanup function, or a read reconciling).
pub const PLATFORM_SUBJECT: &str = "cleanup";

/// How long an action is kept after it started or finished.
pub const ACTION_RETENTION_DAYS: i64 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    CreateServer,
    DeleteServer,
    StartServer,
    StopServer,
    SoftReboot,
    HardReboot,
    Resize,
    Rebuild,
    CreateImage,
    /// The platform found the provider server of a record whose create lost its answer.
    Adopt,
    /// The platform deleted a provider server that has no record.
    RemoveOrphan,
    /// The provider moved the server without an action of ours asking it to.
    ProviderChange,
    /// The provider had no capacity for a server that never booted: the platform deleted it and
    /// created it again.
    Reschedule,
}

impl Command {
    pub const ALL: [Command; 13] = [
        Command::CreateServer,
        Command::DeleteServer,
        Command::StartServer,
        Command::StopServer,
        Command::SoftReboot,
        Command::HardReboot,
        Command::Resize,
        Command::Rebuild,
        Command::CreateImage,
        Command::Adopt,
        Command::RemoveOrphan,
        Command::ProviderChange,
        Command::Reschedule,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Command::CreateServer => "create_server",
            Command::DeleteServer => "delete_server",
            Command::StartServer => "start_server",
            Command::StopServer => "stop_server",
            Command::SoftReboot => "soft_reboot",
            Command::HardReboot => "hard_reboot",
            Command::Resize => "resize",
            Command::Rebuild => "rebuild",
            Command::CreateImage => "create_image",
            Command::Adopt => "adopt",
            Command::RemoveOrphan => "remove_orphan",
            Command::ProviderChange => "provider_change",
            Command::Reschedule => "reschedule",
        }
    }

    pub fn parse(text: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionStatus {
    Running,
    Success,
    Error,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Running => "running",
            ActionStatus::Success => "success",
            ActionStatus::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<ActionStatus> {
        [ActionStatus::Running, ActionStatus::Success, ActionStatus::Error].into_iter().find(|s| s.as_str() == text)
    }
}

/// Why an action failed: a stable code and a message (the provider's own, where it gave one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionError {
    pub code: String,
    pub message: String,
}

impl ActionError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ActionError { code: code.to_owned(), message: message.into() }
    }

    /// The action's target was not reached in time.
    pub fn timeout(timeout: Duration) -> Self {
        ActionError::new("timeout", format!("the action did not complete within {} minutes", timeout.num_minutes()))
    }

    /// The server went into error; Nova's fault message, when it gave one. A fault for want of
    /// capacity is `capacity`, so clients can tell it from a broken image or host.
    pub fn fault(fault: Option<&str>) -> Self {
        let message = fault.unwrap_or("the provider put the server into error");
        let code = if is_capacity_fault(message) { CAPACITY } else { "provider_fault" };
        ActionError::new(code, message)
    }
}

/// The code of an action that failed because the provider had no capacity (no valid host).
pub const CAPACITY: &str = "capacity";
/// The code of an action that failed because the project's quota at the provider is exhausted.
pub const QUOTA: &str = "quota";

/// Whether a provider fault says there was no room for the server: Nova's scheduler ("No valid
/// host was found", "There are not enough hosts available") or its retries running out.
pub fn is_capacity_fault(fault: &str) -> bool {
    let fault = fault.to_ascii_lowercase();
    [
        "no valid host",
        "not enough hosts available",
        "insufficient compute resources",
        "exceeded maximum number of retries",
    ]
    .iter()
    .any(|marker| fault.contains(marker))
}

/// An action as a server record tracks it: everything but where it happened and the provider's
/// request id (stored on the action item itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionRef {
    pub id: String,
    pub command: Command,
    pub status: ActionStatus,
    pub started: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<DateTime<Utc>>,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ActionError>,
}

impl ActionRef {
    /// A new running action. Its id sorts by start time (a UUIDv7 of `now`), so a server's
    /// actions list newest first by id.
    pub fn start(command: Command, subject: &str, now: DateTime<Utc>) -> Self {
        ActionRef {
            id: action_id(now),
            command,
            status: ActionStatus::Running,
            started: now,
            finished: None,
            subject: subject.to_owned(),
            error: None,
        }
    }

    /// An action that is over as soon as it is recorded (what the platform observed or did).
    pub fn done(command: Command, subject: &str, now: DateTime<Utc>, outcome: Result<(), ActionError>) -> Self {
        let mut action = ActionRef::start(command, subject, now);
        action.finish(now, outcome);
        action
    }

    pub fn is_running(&self) -> bool {
        self.status == ActionStatus::Running
    }

    pub fn finish(&mut self, now: DateTime<Utc>, outcome: Result<(), ActionError>) {
        self.finished = Some(now);
        match outcome {
            Ok(()) => self.status = ActionStatus::Success,
            Err(e) => {
                self.status = ActionStatus::Error;
                self.error = Some(e);
            }
        }
    }
}

/// A UUIDv7 of `now`; ids minted in the same millisecond by this process still increase (one
/// shared counter), so a server's actions never list out of order.
fn action_id(now: DateTime<Utc>) -> String {
    static CONTEXT: std::sync::Mutex<uuid::ContextV7> = std::sync::Mutex::new(uuid::ContextV7::new());
    let seconds = u64::try_from(now.timestamp()).unwrap_or_default();
    let context = CONTEXT.lock().unwrap_or_else(|e| e.into_inner());
    let ts = uuid::Timestamp::from_unix(&*context, seconds, now.timestamp_subsec_nanos());
    uuid::Uuid::new_v7(ts).to_string()
}

/// An action as stored and shown: the tracked part, the server it is about and its scope (kept
/// after the server is gone), and the provider's request id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionRecord {
    pub server_id: String,
    pub organization_id: String,
    pub project_id: String,
    /// The API version of the server; `None` for a provider server that never had a record.
    pub api_version: Option<ApiVersion>,
    #[serde(flatten)]
    pub action: ActionRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_request_id: Option<String>,
}

impl ActionRecord {
    pub fn of(server: &ServerRecord, action: &ActionRef) -> Self {
        ActionRecord {
            server_id: server.id.clone(),
            organization_id: server.organization_id.clone(),
            project_id: server.project_id.clone(),
            api_version: Some(server.api_version),
            action: action.clone(),
            provider_request_id: None,
        }
    }

    /// When the item expires: 90 days after the action finished (or started, while it runs).
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.action.finished.unwrap_or(self.action.started) + Duration::days(ACTION_RETENTION_DAYS)
    }
}

/// Completes the running action of `next` when `next` shows its target state, fails it when the
/// server went into error or a refused change was undone, or after `timeout`. `base` is the record
/// `next` replaces. A delete completes when the record is removed, not here.
pub fn settle(base: &ServerRecord, next: &mut ServerRecord, now: DateTime<Utc>, timeout: Duration) {
    let state = (next.provisioning_status, next.power_state);
    let fault = || Err(ActionError::fault(next.provider_fault.as_deref()));
    let Some(action) = next.action.as_ref().filter(|a| a.is_running()) else { return };
    let provisioned = state.0 == ProvisioningStatus::Provisioned;
    let outcome = match action.command {
        _ if state.0 == ProvisioningStatus::Error && action.command != Command::DeleteServer => Some(fault()),
        Command::CreateServer | Command::Reschedule => provisioned.then_some(Ok(())),
        Command::StartServer | Command::SoftReboot | Command::HardReboot => {
            (provisioned && state.1 == Some(PowerState::Running)).then_some(Ok(()))
        }
        Command::StopServer => (provisioned && state.1 == Some(PowerState::Stopped)).then_some(Ok(())),
        Command::Resize | Command::Rebuild if next.pending.is_none() => Some(applied(base.pending.as_ref(), next)),
        _ => None,
    };
    let outcome = outcome.or_else(|| (now - action.started >= timeout).then(|| Err(ActionError::timeout(timeout))));
    if let (Some(outcome), Some(action)) = (outcome, next.action.as_mut()) {
        action.finish(now, outcome);
    }
}

/// Whether a pending change that is no longer pending was applied (or undone as refused).
fn applied(pending: Option<&PendingChange>, next: &ServerRecord) -> Result<(), ActionError> {
    let refused = || Err(ActionError::new("provider_refused", "the provider refused the change; it was undone"));
    match pending {
        Some(PendingChange::Resize { flavor_id, .. }) if *flavor_id != next.flavor_id => refused(),
        Some(PendingChange::Rebuild { image_id, .. }) if *image_id != next.image_id => refused(),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::server::tests::record;

    fn at(minutes: i64) -> DateTime<Utc> {
        "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap_or_default() + Duration::minutes(minutes)
    }

    fn running(command: Command) -> ServerRecord {
        let mut r = record();
        r.provisioning_status = ProvisioningStatus::Provisioned;
        r.power_state = Some(PowerState::Running);
        r.action = Some(ActionRef::start(command, "alice", at(0)));
        r
    }

    fn settled(base: &ServerRecord, next: &ServerRecord, minute: i64) -> ActionRef {
        let mut next = next.clone();
        settle(base, &mut next, at(minute), Duration::minutes(30));
        next.action.unwrap_or_else(|| panic!("the action stays on the record"))
    }

    #[test]
    fn actions_complete_when_the_record_shows_their_target() {
        let base = running(Command::StopServer);
        let mut next = base.clone();
        next.power_state = Some(PowerState::Stopping);
        assert_eq!(settled(&base, &next, 1).status, ActionStatus::Running, "still stopping");
        next.power_state = Some(PowerState::Stopped);
        let done = settled(&base, &next, 1);
        assert_eq!((done.status, done.finished), (ActionStatus::Success, Some(at(1))));

        let mut creating = running(Command::CreateServer);
        creating.provisioning_status = ProvisioningStatus::Provisioning;
        let mut failed = creating.clone();
        failed.provisioning_status = ProvisioningStatus::Error;
        failed.provider_fault = Some("No valid host was found.".into());
        let done = settled(&creating, &failed, 2);
        assert_eq!(done.status, ActionStatus::Error);
        // Issue 23: a fault for want of capacity says so.
        assert_eq!(done.error, Some(ActionError::new(CAPACITY, "No valid host was found.")));
        failed.provider_fault = Some("Build of instance aborted: image is corrupt".into());
        let done = settled(&creating, &failed, 2);
        assert_eq!(done.error.map(|e| e.code), Some("provider_fault".to_owned()));
    }

    #[test]
    fn a_refused_change_fails_its_action_and_silence_times_out() {
        let mut base = running(Command::Resize);
        base.flavor_id = "large".into();
        base.pending = Some(PendingChange::Resize {
            flavor_id: "large".into(),
            flavor_name: "large".into(),
            previous_flavor_id: "f".into(),
            since: at(0),
        });
        let mut undone = base.clone();
        undone.undo_pending();
        assert_eq!(settled(&base, &undone, 1).error.map(|e| e.code), Some("provider_refused".into()));
        let mut applied = base.clone();
        applied.pending = None;
        assert_eq!(settled(&base, &applied, 1).status, ActionStatus::Success);
        assert_eq!(settled(&base, &base, 29).status, ActionStatus::Running);
        assert_eq!(settled(&base, &base, 30).error.map(|e| e.code), Some("timeout".into()));
        let deleting = running(Command::DeleteServer);
        assert_eq!(settled(&deleting, &deleting, 5).status, ActionStatus::Running, "done when removed");
    }

    #[test]
    fn action_ids_sort_by_start_and_names_round_trip() {
        let (a, b) = (ActionRef::start(Command::Adopt, "x", at(0)), ActionRef::start(Command::Adopt, "x", at(1)));
        assert!(a.id < b.id);
        let same: Vec<String> = (0..50).map(|_| ActionRef::start(Command::Adopt, "x", at(2)).id).collect();
        assert!(same.windows(2).all(|w| w[0] < w[1]), "ids minted in one millisecond still increase");
        for c in Command::ALL {
            assert_eq!(Command::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).ok(), Some(serde_json::json!(c.as_str())));
        }
    }
}
