//! Making one record agree with what the provider reports. The decision is a pure function
//! ([`plan`]) so every rule is unit-tested without I/O; [`apply`] carries it out with conditional
//! writes only. Both the read path (`get`, actions) and the cleanup function's sync use it, so a
//! server converges the same way whoever looks at it first.

use chrono::{DateTime, Utc};

use super::server_port;
use super::{note_receipt, remove_record, write_observed, Deps, Timing, MAX_RESCHEDULES};
use crate::domain::action::settle;
use crate::domain::lifecycle::transition;
use crate::domain::{
    is_capacity_fault, ActionError, ActionRef, Command, HealthStatus, PendingChange, PowerState, ProvisioningStatus,
    ServerRecord, ServerState, CAPACITY, PLATFORM_SUBJECT,
};
use crate::error::Result;
use crate::provider::{Compute, Networking};
use crate::provider::{ProviderCredential, ProviderError, ProviderServer, ServerPhase};
use crate::store::{ServerStore, StoreError};

/// A provider call the record needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// The record is being deleted but the provider server is not: (re-)issue the delete.
    Delete(String),
    /// A resize waits for its confirmation.
    ConfirmResize(String),
    /// A recorded resize or rebuild never reached the provider (or was lost): ask again.
    Reissue(String, PendingChange),
}

/// What becomes of the record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    Unchanged,
    Write(Box<ServerRecord>),
    /// The server is gone for good: record, name claim and network count go.
    Remove,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub step: Option<Step>,
    pub outcome: Outcome,
    /// What the platform records as done with the write: an adoption, or a provider change no
    /// action of ours asked for.
    pub observed: Option<ActionRef>,
}

/// Decides what one record needs. `observed` is the provider's server, or `None` when the provider
/// has confirmed that it has none for this record.
pub(crate) fn plan(
    record: &ServerRecord,
    observed: Option<&ProviderServer>,
    now: DateTime<Utc>,
    timing: Timing,
) -> Plan {
    let grace = timing.grace;
    let keep = |step| Plan { step, outcome: Outcome::Unchanged, observed: None };
    let Some(server) = observed else {
        // Not finding the server proves nothing while its create may still be reaching the provider.
        // A placement the provider refused (its quota) is kept in error with the reason, until
        // its owner deletes it.
        if record.create_may_be_in_flight(now, grace) || record.unplaced() {
            return keep(None);
        }
        return Plan { step: None, outcome: Outcome::Remove, observed: None };
    };
    let mut next = record.clone();
    observe(&mut next, server);
    let mut step = None;
    if record.is_deleting() {
        if server.phase != ServerPhase::Deleting {
            step = Some(Step::Delete(server.id.clone()));
        }
    } else if let Some(pending) = &record.pending {
        let idle = matches!(server.phase, ServerPhase::Active | ServerPhase::Stopped) && !server.busy;
        let overdue = now - pending.since() >= grace;
        match pending {
            PendingChange::Resize { flavor_name, .. } => match server.phase {
                ServerPhase::ResizeAwaitingConfirmation => step = Some(Step::ConfirmResize(server.id.clone())),
                _ if idle && server.flavor_name.as_deref() == Some(flavor_name.as_str()) => next.pending = None,
                _ if idle && overdue => step = Some(Step::Reissue(server.id.clone(), pending.clone())),
                ServerPhase::Error => next.pending = None,
                _ => {}
            },
            PendingChange::Rebuild { image_id, .. } => match server.phase {
                _ if idle && server.image_id.as_deref() == Some(image_id.as_str()) => next.pending = None,
                _ if idle && overdue => step = Some(Step::Reissue(server.id.clone(), pending.clone())),
                ServerPhase::Error => next.pending = None,
                _ => {}
            },
        }
    }
    hold_for_reschedule(record, &mut next, server, now);
    let explained = record.action.as_ref().is_some_and(ActionRef::is_running);
    settle(record, &mut next, now, timing.action_timeout);
    let observed = if record.provider_id.is_none() && next.provider_id.is_some() {
        Some(ActionRef::done(Command::Adopt, PLATFORM_SUBJECT, now, Ok(())))
    } else if let Some((_, current)) = transition(record, &next).filter(|_| !explained) {
        let outcome = match current {
            ServerState::Error => Err(ActionError::fault(next.provider_fault.as_deref())),
            _ => Ok(()),
        };
        Some(ActionRef::done(Command::ProviderChange, PLATFORM_SUBJECT, now, outcome))
    } else {
        None
    };
    let outcome = if next == *record { Outcome::Unchanged } else { Outcome::Write(Box::new(next)) };
    Plan { step, outcome, observed }
}

/// A server that never booted and landed in error for want of capacity, with attempts left, is
/// not in error: it waits (provisioning, its fault shown) for the cleanup function to place it
/// again ([`reschedule_due`]); the attempt that failed ends `capacity`. After the last attempt the
/// observation stands, and the action fails `capacity` with the provider's reason.
fn hold_for_reschedule(record: &ServerRecord, next: &mut ServerRecord, server: &ProviderServer, now: DateTime<Utc>) {
    let fault = server.fault.as_deref().unwrap_or_default();
    let placeable = !record.booted && !record.is_deleting() && server.phase == ServerPhase::Error;
    if !placeable || !is_capacity_fault(fault) || record.reschedules >= MAX_RESCHEDULES {
        return;
    }
    next.provisioning_status = ProvisioningStatus::Provisioning;
    next.health_status = record.health_status;
    next.power_state = Some(PowerState::Pending);
    if let Some(action) = next.action.as_mut().filter(|a| a.is_running()) {
        action.finish(now, Err(ActionError::new(CAPACITY, fault)));
    }
}

/// Whether the cleanup function should place this server again now: it never booted, its last
/// attempt failed for want of capacity, attempts are left, and the backoff (doubling with each
/// attempt made) has passed since that failure.
pub(crate) fn reschedule_due(record: &ServerRecord, now: DateTime<Utc>, timing: Timing) -> bool {
    let Some(failed) = record.action.as_ref().filter(|a| a.error.as_ref().is_some_and(|e| e.code == CAPACITY)) else {
        return false;
    };
    let waited = timing.reschedule_backoff * 2i32.pow(u32::from(record.reschedules));
    !record.booted
        && record.provider_id.is_some()
        && record.provisioning_status == ProvisioningStatus::Provisioning
        && record.reschedules < MAX_RESCHEDULES
        && failed.finished.is_some_and(|at| now - at >= waited)
}

/// Carries out a plan: the provider call first, then the record write (conditional on the version
/// the plan was made from). Answers the record as it now stands, `None` when it is gone. A record
/// that changed meanwhile is answered as read again: whoever changed it decides.
pub(crate) async fn apply<S: ServerStore, P: Compute + Networking>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    record: &ServerRecord,
    plan: Plan,
) -> Result<Option<ServerRecord>> {
    let mut outcome = plan.outcome;
    if let Some(step) = plan.step {
        let mut next = match outcome {
            Outcome::Write(next) => next,
            _ => Box::new(record.clone()),
        };
        run_step(deps, cred, &mut next, step).await;
        // A confirmed resize or an undone change may complete the action in this same write.
        settle(record, &mut next, deps.clock.now(), deps.timing.action_timeout);
        outcome = if *next == *record { Outcome::Unchanged } else { Outcome::Write(next) };
    }
    match outcome {
        Outcome::Unchanged => Ok(Some(record.clone())),
        Outcome::Write(next) => match write_observed(deps, record, *next, plan.observed).await {
            Ok(next) => Ok(Some(next)),
            Err(StoreError::Changed(..)) => Ok(deps.store.get_server(&record.id).await?),
            Err(StoreError::Missing(..)) => Ok(None),
            Err(e) => Err(e.into()),
        },
        Outcome::Remove => {
            // The server is gone: its public address and port go before the record, so a failure
            // here leaves the record, and the next look releases them again.
            if let Err(e) = server_port::release(&*deps.provider, cred, &record.id).await {
                tracing::warn!(server_id = %record.id, error = %e, "the server's port is not released yet; the next look retries");
                return Ok(Some(record.clone()));
            }
            remove(deps, record).await
        }
    }
}

async fn remove<S: ServerStore, P>(deps: &Deps<S, P>, record: &ServerRecord) -> Result<Option<ServerRecord>> {
    match remove_record(deps, record, None).await {
        Ok(_) => {
            tracing::info!(server_id = %record.id, "the provider has no server for this record: record and name released");
            Ok(None)
        }
        Err(StoreError::Changed(..)) => Ok(deps.store.get_server(&record.id).await?),
        Err(e) => Err(e.into()),
    }
}

/// One provider call; its failure leaves the record for the next look (the cleanup function runs
/// every minute), except a change the provider refuses for good, which is undone in the record.
async fn run_step<S: ServerStore, P: Compute>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    next: &mut ServerRecord,
    step: Step,
) {
    let id = next.id.clone();
    let result = match &step {
        Step::Delete(pid) => match deps.provider.delete_server(cred, pid).await {
            Err(ProviderError::NotFound { .. }) => Ok(Default::default()),
            other => other,
        },
        Step::ConfirmResize(pid) => deps.provider.confirm_resize(cred, pid).await,
        Step::Reissue(pid, PendingChange::Resize { flavor_id, .. }) => deps.provider.resize(cred, pid, flavor_id).await,
        Step::Reissue(pid, PendingChange::Rebuild { image_id, .. }) => deps.provider.rebuild(cred, pid, image_id).await,
    };
    if let Ok(receipt) = &result {
        note_receipt(deps, &id, next.action.as_ref().filter(|a| a.is_running()), receipt).await;
    }
    match (result, step) {
        (Ok(_), Step::ConfirmResize(_)) => next.pending = None,
        (Ok(_), Step::Reissue(..)) => {
            tracing::info!(server_id = %id, "a recorded change had not reached the provider: asked again");
            if let Some(pending) = &mut next.pending {
                restart(pending, deps.clock.now());
            }
        }
        (Ok(_), Step::Delete(_)) => tracing::info!(server_id = %id, "provider delete (re-)issued"),
        // The plan only asks again of an idle server, so a conflict too is a refusal.
        (
            Err(e @ (ProviderError::Rejected { .. } | ProviderError::NotFound { .. } | ProviderError::Conflict { .. })),
            Step::Reissue(..),
        ) => {
            tracing::error!(server_id = %id, error = %e, "the provider refuses a recorded change: it is undone");
            next.undo_pending();
        }
        (Err(e), _) => tracing::warn!(server_id = %id, error = %e, "provider call failed; the next look retries"),
    }
}

fn restart(pending: &mut PendingChange, now: DateTime<Utc>) {
    match pending {
        PendingChange::Resize { since, .. } | PendingChange::Rebuild { since, .. } => *since = now,
    }
}

/// Folds what the provider reports into the record (addresses, power, provisioning, fault): the
/// one place the provider's view of a server becomes the record's.
pub(crate) fn observe(record: &mut ServerRecord, server: &ProviderServer) {
    if !server.id.is_empty() {
        record.provider_id = Some(server.id.clone());
    }
    record.private_ip = server.private_ip.clone().or(record.private_ip.take());
    record.public_ip = server.public_ip.clone().or(record.public_ip.take());
    record.mac_address = server.mac_address.clone().or(record.mac_address.take());
    if record.is_deleting() {
        return;
    }
    let booted =
        matches!(server.phase, ServerPhase::Active | ServerPhase::Stopped | ServerPhase::Held | ServerPhase::Rescued);
    record.booted |= booted && !server.busy;
    match server.phase {
        ServerPhase::Active | ServerPhase::Stopped if !server.busy => {
            record.provisioning_status = ProvisioningStatus::Provisioned;
            record.health_status = HealthStatus::Healthy;
            record.provider_fault = None;
            record.power_state =
                Some(if server.phase == ServerPhase::Active { PowerState::Running } else { PowerState::Stopped });
        }
        ServerPhase::Held | ServerPhase::Rescued if !server.busy => {
            record.provisioning_status = ProvisioningStatus::Provisioned;
            record.health_status = HealthStatus::Degraded;
            record.provider_fault = server.fault.clone();
            let running = server.phase == ServerPhase::Rescued;
            record.power_state = Some(if running { PowerState::Running } else { PowerState::Stopped });
        }
        ServerPhase::Error => {
            record.provisioning_status = ProvisioningStatus::Error;
            record.health_status = HealthStatus::Degraded;
            record.provider_fault = server.fault.clone().or(record.provider_fault.take());
            // Never scheduled or never booted (no valid host): it is not starting any more.
            if record.power_state == Some(PowerState::Pending) {
                record.power_state = Some(PowerState::Stopped);
            }
        }
        ServerPhase::Building => record.power_state = Some(PowerState::Pending),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{PowerState, ProvisioningStatus};
    use chrono::Duration;

    fn record() -> ServerRecord {
        let mut r: ServerRecord = serde_json::from_value(serde_json::json!({
            "id": "s1", "apiVersion": 2, "name": "web", "description": null, "tags": [],
            "organizationId": "o", "projectId": "p", "regionId": "r", "networkId": "n", "identityId": "i",
            "flavorId": "small", "imageId": "img-1", "imageMinDiskGib": 1, "networking": null, "userData": null,
            "sshCertificateAuthorityId": null, "infrastructureRef": null, "createdBy": "a",
            "creationTime": "2026-01-01T00:00:00Z", "modifiedBy": null, "modifiedTime": null, "deletionTime": null,
            "provisioningStatus": "provisioned", "healthStatus": "healthy", "powerState": "Running",
            "providerId": "nova-1", "privateIp": null, "publicIp": null, "macAddress": null, "version": 3
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        r.provider_id = Some("nova-1".into());
        r
    }

    fn server(phase: ServerPhase) -> ProviderServer {
        ProviderServer {
            id: "nova-1".into(),
            phase,
            flavor_name: Some("small".into()),
            image_id: Some("img-1".into()),
            ..ProviderServer::default()
        }
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap_or_default() + Duration::minutes(minutes)
    }

    const GRACE: i64 = 5;

    fn timing() -> Timing {
        Timing {
            grace: Duration::minutes(GRACE),
            action_timeout: Duration::minutes(30),
            reschedule_backoff: Duration::minutes(1),
            ..Timing::default()
        }
    }

    fn decide(r: &ServerRecord, s: Option<&ProviderServer>, minute: i64) -> Plan {
        plan(r, s, at(minute), timing())
    }

    #[test]
    fn an_observed_change_is_written_and_an_unchanged_record_is_not() {
        let r = record();
        assert_eq!(decide(&r, Some(&server(ServerPhase::Active)), 60).outcome, Outcome::Unchanged);
        let Outcome::Write(next) = decide(&r, Some(&server(ServerPhase::Stopped)), 60).outcome else {
            panic!("a stopped server must be written")
        };
        assert_eq!(next.power_state, Some(PowerState::Stopped));
    }

    #[test]
    fn a_missing_provider_server_removes_the_record_unless_its_create_may_still_land() {
        let mut r = record();
        assert_eq!(decide(&r, None, 60).outcome, Outcome::Remove, "vanished at the provider");
        r.provider_id = None;
        r.provisioning_status = ProvisioningStatus::Provisioning;
        assert_eq!(decide(&r, None, GRACE - 1).outcome, Outcome::Unchanged, "the create may be in flight");
        assert_eq!(decide(&r, None, GRACE).outcome, Outcome::Remove, "stuck past the grace period");
        r.provisioning_status = ProvisioningStatus::Deprovisioning;
        assert_eq!(decide(&r, None, 1).outcome, Outcome::Unchanged, "deleted during its create: wait for it");
    }

    #[test]
    fn a_found_server_is_adopted() {
        let mut r = record();
        r.provider_id = None;
        r.provisioning_status = ProvisioningStatus::Provisioning;
        let Outcome::Write(next) = decide(&r, Some(&server(ServerPhase::Active)), 60).outcome else { panic!("adopt") };
        assert_eq!(
            (next.provider_id.as_deref(), next.provisioning_status),
            (Some("nova-1"), ProvisioningStatus::Provisioned)
        );
    }

    #[test]
    fn deletions_are_reissued_until_the_provider_is_deleting() {
        let mut r = record();
        r.provisioning_status = ProvisioningStatus::Deprovisioning;
        assert_eq!(decide(&r, Some(&server(ServerPhase::Active)), 1).step, Some(Step::Delete("nova-1".into())));
        assert_eq!(decide(&r, Some(&server(ServerPhase::Deleting)), 1).step, None);
        assert_eq!(decide(&r, None, 60).outcome, Outcome::Remove);
    }

    #[test]
    fn pending_changes_are_confirmed_completed_or_reissued() {
        let mut r = record();
        r.flavor_id = "large".into();
        r.pending = Some(PendingChange::Resize {
            flavor_id: "large".into(),
            flavor_name: "large".into(),
            previous_flavor_id: "small".into(),
            since: at(0),
        });
        assert_eq!(
            decide(&r, Some(&server(ServerPhase::ResizeAwaitingConfirmation)), 1).step,
            Some(Step::ConfirmResize("nova-1".into()))
        );
        assert_eq!(decide(&r, Some(&server(ServerPhase::Resizing)), 60).step, None, "the provider is on it");
        assert_eq!(decide(&r, Some(&server(ServerPhase::Active)), 1).step, None, "just asked: wait");
        assert!(matches!(decide(&r, Some(&server(ServerPhase::Active)), GRACE).step, Some(Step::Reissue(..))));
        let mut done = server(ServerPhase::Active);
        done.flavor_name = Some("large".into());
        let Outcome::Write(next) = decide(&r, Some(&done), 1).outcome else { panic!("done") };
        assert_eq!(next.pending, None);
        let mut undone = r.clone();
        undone.undo_pending();
        assert_eq!((undone.flavor_id.as_str(), undone.pending), ("small", None));
    }

    #[test]
    fn provider_observations_move_the_record() {
        let mut r = record();
        r.provisioning_status = ProvisioningStatus::Provisioning;
        r.power_state = None;
        let mut seen = ProviderServer { phase: ServerPhase::Building, busy: true, ..Default::default() };
        observe(&mut r, &seen);
        assert_eq!(
            (r.provisioning_status, r.power_state),
            (ProvisioningStatus::Provisioning, Some(PowerState::Pending))
        );
        seen.phase = ServerPhase::Active;
        seen.busy = false;
        seen.private_ip = Some("10.0.0.5".into());
        observe(&mut r, &seen);
        assert_eq!(
            (r.provisioning_status, r.power_state),
            (ProvisioningStatus::Provisioned, Some(PowerState::Running))
        );
        assert_eq!(r.private_ip.as_deref(), Some("10.0.0.5"));
        assert!(!r.is_transitional());
        seen.phase = ServerPhase::Error;
        seen.fault = Some("No valid host was found.".into());
        observe(&mut r, &seen);
        assert_eq!((r.provisioning_status, r.health_status), (ProvisioningStatus::Error, HealthStatus::Degraded));
        assert_eq!(r.provider_fault.as_deref(), Some("No valid host was found."), "the provider's reason is kept");
        r.provisioning_status = ProvisioningStatus::Deprovisioning;
        seen.phase = ServerPhase::Stopped;
        observe(&mut r, &seen);
        assert_eq!(r.provisioning_status, ProvisioningStatus::Deprovisioning, "deletion is never undone by a read");
        assert_eq!(r.etag(), format!("\"{}\"", r.version), "observing changes no version");
    }

    /// Regression (found against real Nova): states set at the provider outside the mapped set
    /// (paused, suspended, shelved, rescue) left the record running and healthy for ever, and a
    /// server that never booted stayed `Pending`.
    #[test]
    fn held_rescued_and_never_booted_servers_are_reflected() {
        let mut r = record();
        r.power_state = Some(PowerState::Running);
        let held = ProviderServer {
            phase: ServerPhase::Held,
            fault: Some("the server is paused at the provider".into()),
            ..Default::default()
        };
        observe(&mut r, &held);
        assert_eq!((r.power_state, r.health_status), (Some(PowerState::Stopped), HealthStatus::Degraded));
        assert_eq!(r.provider_fault.as_deref(), Some("the server is paused at the provider"));
        let rescued = ProviderServer { phase: ServerPhase::Rescued, ..held.clone() };
        observe(&mut r, &rescued);
        assert_eq!((r.power_state, r.health_status), (Some(PowerState::Running), HealthStatus::Degraded));
        observe(&mut r, &ProviderServer { phase: ServerPhase::Active, ..Default::default() });
        assert_eq!(
            (r.power_state, r.health_status, r.provider_fault.as_deref()),
            (Some(PowerState::Running), HealthStatus::Healthy, None)
        );

        let mut never = record();
        never.power_state = Some(PowerState::Pending);
        let failed = ProviderServer {
            phase: ServerPhase::Error,
            fault: Some("No valid host was found.".into()),
            ..Default::default()
        };
        observe(&mut never, &failed);
        assert_eq!(
            (never.provisioning_status, never.power_state),
            (ProvisioningStatus::Error, Some(PowerState::Stopped))
        );
    }

    /// Issue 23: a server that lands in ERROR for want of capacity before it ever booted is held
    /// for another placement (at most three, with a doubling backoff), then in error `capacity`;
    /// one that booted once is never placed again.
    #[test]
    fn no_valid_host_before_the_first_boot_is_placed_again_a_bounded_number_of_times() {
        let mut r = record();
        r.booted = false;
        r.provisioning_status = ProvisioningStatus::Provisioning;
        r.power_state = Some(PowerState::Pending);
        r.action = Some(ActionRef::start(Command::CreateServer, "u", at(0)));
        let failed = ProviderServer {
            phase: ServerPhase::Error,
            fault: Some("No valid host was found. There are not enough hosts available.".into()),
            ..server(ServerPhase::Error)
        };
        let Outcome::Write(held) = decide(&r, Some(&failed), 1).outcome else { panic!("the failure is recorded") };
        assert_eq!(
            (held.provisioning_status, held.power_state),
            (ProvisioningStatus::Provisioning, Some(PowerState::Pending))
        );
        let action = held.action.clone().unwrap_or_else(|| panic!("action"));
        assert_eq!(action.error.map(|e| e.code), Some(CAPACITY.to_owned()), "the attempt ended for want of capacity");
        assert!(held.provider_fault.as_deref().is_some_and(|f| f.starts_with("No valid host")), "the reason is shown");
        assert_eq!(decide(&held, Some(&failed), 2).outcome, Outcome::Unchanged, "one record per failure");
        assert!(!reschedule_due(&held, at(1), timing()), "not before the backoff");
        assert!(reschedule_due(&held, at(2), timing()));
        let mut second = (*held).clone();
        second.reschedules = 2;
        assert!(!reschedule_due(&second, at(4), timing()), "the backoff doubles: four minutes after two attempts");
        assert!(reschedule_due(&second, at(5), timing()));

        let mut last = r.clone();
        last.reschedules = MAX_RESCHEDULES;
        last.action = Some(ActionRef::start(Command::Reschedule, PLATFORM_SUBJECT, at(0)));
        let Outcome::Write(given_up) = decide(&last, Some(&failed), 1).outcome else { panic!("written") };
        assert_eq!(given_up.provisioning_status, ProvisioningStatus::Error, "no attempts left");
        assert_eq!(given_up.action.clone().and_then(|a| a.error).map(|e| e.code), Some(CAPACITY.to_owned()));
        assert!(!reschedule_due(&given_up, at(60), timing()));

        let mut booted = r.clone();
        booted.booted = true;
        let Outcome::Write(broken) = decide(&booted, Some(&failed), 1).outcome else { panic!("written") };
        assert_eq!(broken.provisioning_status, ProvisioningStatus::Error, "a server that booted is never placed again");
        assert!(!reschedule_due(&broken, at(60), timing()));
    }

    #[test]
    fn booting_once_is_remembered() {
        let mut r = record();
        r.booted = false;
        observe(&mut r, &ProviderServer { phase: ServerPhase::Building, busy: true, ..Default::default() });
        assert!(!r.booted);
        observe(&mut r, &server(ServerPhase::Active));
        assert!(r.booted);
        observe(&mut r, &ProviderServer { phase: ServerPhase::Error, ..Default::default() });
        assert!(r.booted, "an error later does not undo it");
    }
}
