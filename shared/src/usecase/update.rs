use super::catalog;
use super::intent::{self, Answer, Plan, Steps};
use super::security_groups::check_named;
use super::server_port::{self, PortGroups};
use super::steps::{actionable, check_disk, check_networking, offered_flavor, offered_image_and_flavor};
use super::Context;
use super::{load_server, translate, write_over, Deps};
use crate::crash;
use crate::domain::{ActionRef, Command, NetworkRecord, PendingChange, PowerState, ServerRecord, ServerUpdateInput};
use crate::error::{Error, Result};
use crate::provider::{Compute, Flavors, Images, Networking, ProviderCredential, ProviderError};
use crate::rbac::Caller;
use crate::store::{CatalogStore, NetworkStore, SecurityGroupStore, ServerStore, StoreError};

fn rebuild_protected(id: &str) -> Error {
    Error::conflict(format!(
        "server {id} is protected from rebuilds (its protection's rebuild is true): change its protection first"
    ))
}

/// What an update asks of the provider: nothing (metadata, networking, user data), a resize (a new
/// flavor) or a rebuild (a new image).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    None,
    Resize,
    Rebuild,
}

impl Change {
    fn of(record: &ServerRecord, input: &ServerUpdateInput) -> Result<Change> {
        let image_changed = input.image_id.as_str() != record.image_id;
        let flavor_changed = input.flavor_id.as_str() != record.flavor_id;
        match (image_changed, flavor_changed) {
            // Nova refuses a rebuild while a resize awaits confirmation, and the reverse.
            (true, true) => Err(Error::unprocessable("spec: change the flavor and the image in separate updates")),
            (true, false) => Ok(Change::Rebuild),
            (false, true) => Ok(Change::Resize),
            (false, false) => Ok(Change::None),
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Change::Rebuild => "rebuilt",
            _ => "resized",
        }
    }
}

/// The refusals that need no provider call: being deleted, a vanished network, a rename, a move,
/// a stale `If-Match`, a rebuild of a protected server, a change while the previous one is pending.
async fn check<S: NetworkStore, P>(
    deps: &Deps<S, P>,
    record: &ServerRecord,
    if_match: Option<&str>,
    input: &ServerUpdateInput,
) -> Result<(Change, NetworkRecord)> {
    let id = &record.id;
    if record.is_deleting() {
        return Err(Error::invalid("server is being deleted"));
    }
    let Some(network) = deps.store.get_network(&record.network_id).await? else {
        return Err(Error::not_found(format!("network {} of server {id} no longer exists", record.network_id)));
    };
    if input.metadata.name != record.name {
        return Err(Error::unprocessable(format!("metadata.name: a server cannot be renamed (it is {})", record.name)));
    }
    if input.network_id.as_ref().is_some_and(|n| n.as_str() != record.network_id) {
        let on = &record.network_id;
        return Err(Error::unprocessable(format!("a server cannot move to another network (it is on network {on})")));
    }
    if let Some(tag) = if_match {
        if tag.trim() != "*" && !tag.split(',').any(|t| t.trim() == record.etag()) {
            let current = record.etag();
            return Err(Error::PreconditionFailed(format!(
                "If-Match {tag} does not match the current version {current}"
            )));
        }
    }
    let change = Change::of(record, input)?;
    if change == Change::Rebuild && record.protection.rebuild {
        return Err(rebuild_protected(id));
    }
    if change != Change::None && record.pending.is_some() {
        return Err(Error::conflict(format!("server {id} is still applying its previous change: retry later")));
    }
    Ok((change, network))
}

/// The pending change and the image's minimum disk, checked against the region's catalogue (only
/// what changed).
async fn plan_change<S: CatalogStore, P: Images + Flavors>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    base: &ServerRecord,
    input: &ServerUpdateInput,
    change: Change,
) -> Result<(PendingChange, u64)> {
    let now = deps.clock.now();
    let place = (base.region_id.as_str(), base.organization_id.as_str());
    if change == Change::Rebuild {
        let (image, _) =
            offered_image_and_flavor(deps, place, input.image_id.as_str(), input.flavor_id.as_str()).await?;
        let previous_image_id = base.image_id.clone();
        let image_id = input.image_id.as_str().to_owned();
        return Ok((PendingChange::Rebuild { image_id, previous_image_id, since: now }, image.size_gib));
    }
    let flavor = offered_flavor(deps, place.0, input.flavor_id.as_str()).await?;
    check_disk(base.image_min_disk_gib, &flavor, &base.image_id)?;
    // Nova never shrinks a root disk: refused here, before anything is written or asked. The
    // current flavor may no longer be offered: then the provider says what it is.
    let offered = catalog::flavors(deps, place.0).await?;
    let current_disk = match offered.iter().find(|f| f.id == base.flavor_id) {
        Some(current) => Some(current.disk_gb),
        None => match deps.provider.get_flavor(cred, &base.flavor_id).await {
            Ok(current) => Some(current.disk_gib),
            // The current flavor gone from the provider: the provider decides.
            Err(ProviderError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        },
    };
    if let Some(current) = current_disk.filter(|current| flavor.disk_gb < *current) {
        return Err(Error::unprocessable(format!(
            "spec.flavorId: flavor {} has a {} GiB disk, smaller than the {current} GiB of the server's flavor {}: \
             the provider cannot shrink a disk",
            flavor.id, flavor.disk_gb, base.flavor_id
        )));
    }
    let pending = PendingChange::Resize {
        flavor_id: flavor.id.clone(),
        flavor_name: flavor.name.clone(),
        previous_flavor_id: base.flavor_id.clone(),
        since: now,
    };
    Ok((pending, base.image_min_disk_gib))
}

/// The record after the update: the new spec, and with a change the pending change, a transitional
/// power state and the started action.
fn next_record(
    base: &ServerRecord,
    input: ServerUpdateInput,
    planned: Option<(PendingChange, u64)>,
    change: Change,
    caller: &Caller,
    now: chrono::DateTime<chrono::Utc>,
) -> ServerRecord {
    let mut next = base.clone();
    if let Some((pending, min_disk)) = planned {
        next.pending = Some(pending);
        next.image_min_disk_gib = min_disk;
        next.power_state = Some(PowerState::Pending);
        let command = if change == Change::Rebuild { Command::Rebuild } else { Command::Resize };
        next.action = Some(ActionRef::start(command, &caller.subject, now));
    }
    next.description = input.metadata.description;
    next.tags = input.metadata.tags;
    next.flavor_id = input.flavor_id.as_str().to_owned();
    next.image_id = input.image_id.as_str().to_owned();
    next.networking = input.networking;
    next.user_data = input.user_data;
    next.modified_by = Some(caller.subject.clone());
    next.modified_time = Some(now);
    next
}

/// Replaces the mutable spec. The provider is asked only about what changed. A new flavor or image
/// is recorded as a pending change *before* the provider is asked to resize or rebuild, so a crash
/// or a lost answer leaves a record the cleanup function completes; a definite refusal undoes it.
pub async fn update_server<
    S: ServerStore + NetworkStore + CatalogStore + SecurityGroupStore,
    P: Compute + Images + Flavors + Networking,
>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
    if_match: Option<&str>,
    input: ServerUpdateInput,
) -> Result<ServerRecord> {
    let record = load_server(deps, cx, id, cx.view.rules.server_update).await?;
    let (change, network) = check(deps, &record, if_match, &input).await?;
    let networking_changed = input.networking != record.networking;
    let mut external = None;
    let mut groups = PortGroups::default();
    if networking_changed {
        external = check_networking(deps, &record.region_id, record.api_version, input.networking.as_ref()).await?;
        let kept = record.networking.as_ref().map(|n| n.groups().to_vec()).unwrap_or_default();
        let named = check_named(deps, cx, &network, input.networking.as_ref(), &kept).await?;
        groups = PortGroups::knowing(&named);
    }
    // A read may refresh the record on the way (re-versioning it): the write builds on that copy.
    let (base, provider) = if change == Change::None {
        (record, None)
    } else {
        let cred = super::server_credential(deps, &record)?;
        let planned = plan_change(deps, &cred, &record, &input, change).await?;
        let (base, pid) = actionable(deps, record, change.verb()).await?;
        (base, Some((cred, pid, planned)))
    };
    let planned = provider.as_ref().map(|(_, _, planned)| planned.clone());
    let next = next_record(&base, input.clone(), planned, change, &cx.caller, deps.clock.now());
    // No retry: the caller's If-Match (or the version it read) is the condition.
    let load = || async { Ok((base.clone(), ())) };
    let recorded = match intent::record(deps, 0, load, |_, _| Ok(Plan::Write(Box::new(next.clone())))).await? {
        Ok(recorded) => recorded,
        Err(e @ StoreError::Changed(..)) if if_match.is_none() => {
            return Err(Error::conflict(format!("{e}; read it again and retry")))
        }
        // Protected from rebuilds since it was read: the write's own condition refused it.
        Err(StoreError::Protected(..)) => return Err(rebuild_protected(id)),
        Err(e) => return Err(e.into()),
    };
    let updated = match provider {
        Some((cred, pid, _)) => change_at_provider(deps, &cred, &pid, &base, recorded.intent, &input, change).await?,
        None => recorded.intent,
    };
    if !networking_changed || updated.provider_id.is_none() {
        // Without a provider server yet, the create (or the cleanup function) makes the port from
        // the record as it now stands.
        return Ok(updated);
    }
    let cred = super::server_credential(deps, &updated)?;
    converge_networking(deps, &cred, updated, &base, (&network.provider_network_id, external, groups)).await
}

/// Asks the provider for the resize or rebuild recorded as `intent`.
async fn change_at_provider<S: ServerStore, P: Compute>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    pid: &str,
    base: &ServerRecord,
    intent: ServerRecord,
    input: &ServerUpdateInput,
    change: Change,
) -> Result<ServerRecord> {
    let id = &intent.id;
    let steps = Steps { after_intent: crash::UPDATE_AFTER_INTENT, after_provider: crash::UPDATE_AFTER_PROVIDER };
    let call = async {
        match change {
            Change::Rebuild => deps.provider.rebuild(cred, pid, input.image_id.as_str()).await,
            _ => deps.provider.resize(cred, pid, input.flavor_id.as_str()).await,
        }
        .map(|r| ((), r))
    };
    match intent::enact(deps, steps, &intent, call).await {
        Answer::Accepted(()) => Ok(intent),
        // The change is recorded and the provider may or may not have it: accepted, and the cleanup
        // function completes it (asking again if the provider never got it).
        Answer::Unknown(e) => {
            tracing::warn!(error = %e, "the provider did not confirm the change; the cleanup function completes it");
            Ok(intent)
        }
        Answer::Refused(e) => {
            let mut back = intent.clone();
            back.undo_pending();
            back.image_min_disk_gib = base.image_min_disk_gib;
            back.power_state = base.power_state;
            intent::undo(deps, &intent, back, &e).await;
            Err(translate(e, id, pid, change.verb()))
        }
    }
}

/// Makes the server's port and public address what the record (the intent, written) now asks
/// for, and records the addresses that result. No answer leaves the intent for the cleanup
/// function's networking pass; a refusal puts the previous networking back.
async fn converge_networking<S: ServerStore + SecurityGroupStore, P: Networking>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    intent: ServerRecord,
    base: &ServerRecord,
    (provider_network, external, mut groups): (&str, Option<String>, PortGroups),
) -> Result<ServerRecord> {
    let steps = Steps { after_intent: crash::UPDATE_NETWORK_AFTER_INTENT, after_provider: crash::NONE };
    let call = async {
        let on = (provider_network, &mut groups);
        let (port, receipt) = server_port::ensure_port((&*deps.store, &*deps.provider), cred, &intent, on).await?;
        deps.crash.hit(crash::UPDATE_NETWORK_AFTER_PORT);
        let public_ip = server_port::converge_public_ip(&*deps.provider, cred, &intent, &port.id, external).await?;
        Ok(((port, public_ip), receipt))
    };
    match intent::enact(deps, steps, &intent, call).await {
        Answer::Accepted((port, public_ip)) => {
            let mut next = intent.clone();
            next.private_ip = port.private_ip.or(next.private_ip);
            next.mac_address = port.mac_address.or(next.mac_address);
            next.public_ip = public_ip.map(|ip| ip.address);
            if next == intent {
                return Ok(intent);
            }
            match write_over(deps, &intent, next).await {
                Ok(next) => Ok(next),
                // Someone wrote meanwhile: their copy stands, and the next look records the addresses.
                Err(StoreError::Changed(..)) => Ok(deps.store.get_server(&intent.id).await?.unwrap_or(intent)),
                Err(e) => Err(e.into()),
            }
        }
        Answer::Unknown(e) => {
            tracing::warn!(error = %e, "the provider did not confirm the networking change; the cleanup function completes it");
            Ok(intent)
        }
        Answer::Refused(e) => {
            let mut back = intent.clone();
            back.networking = base.networking.clone();
            intent::undo(deps, &intent, back, &e).await;
            Err(match e {
                ProviderError::Conflict { detail, .. } | ProviderError::Rejected { detail, .. } => {
                    Error::unprocessable(format!("the provider refused the server's networking: {detail}"))
                }
                other => other.into(),
            })
        }
    }
}
