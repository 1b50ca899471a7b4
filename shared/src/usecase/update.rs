use super::create::{check_disk, get_flavor, validate_image_and_flavor};
use super::errors::action_error;
use super::power::actionable;
use super::{load_server, note_receipt, translate, write_over, Deps, View};
use crate::crash;
use crate::domain::{ActionRef, Command, PendingChange, PowerState, ServerRecord, ServerUpdateInput};
use crate::error::{Error, Result};
use crate::provider::{Compute, Flavors, Images, ProviderError};
use crate::rbac::Caller;
use crate::store::{NetworkStore, ServerStore, StoreError};

fn rebuild_protected(id: &str) -> Error {
    Error::conflict(format!(
        "server {id} is protected from rebuilds (its protection's rebuild is true): change its protection first"
    ))
}

/// Replaces the mutable spec. The provider is asked only about what changed. A new flavor or image
/// is recorded as a pending change *before* the provider is asked to resize or rebuild, so a crash
/// or a lost answer leaves a record the cleanup function completes; a definite refusal undoes it.
pub async fn update_server<S: ServerStore + NetworkStore, P: Compute + Images + Flavors>(
    deps: &Deps<S, P>,
    caller: &Caller,
    view: &View,
    id: &str,
    if_match: Option<&str>,
    input: ServerUpdateInput,
) -> Result<ServerRecord> {
    let record = load_server(deps, caller, view, id, view.rules.server_update).await?;
    if record.is_deleting() {
        return Err(Error::invalid("server is being deleted"));
    }
    if deps.store.get_network(&record.network_id).await?.is_none() {
        return Err(Error::not_found(format!("network {} of server {id} no longer exists", record.network_id)));
    }
    if input.metadata.name != record.name {
        return Err(Error::unprocessable(format!("metadata.name: a server cannot be renamed (it is {})", record.name)));
    }
    if input.network_id.as_ref().is_some_and(|n| n.as_str() != record.network_id) {
        return Err(Error::unprocessable(format!(
            "a server cannot move to another network (it is on network {})",
            record.network_id
        )));
    }
    if let Some(tag) = if_match {
        if tag.trim() != "*" && !tag.split(',').any(|t| t.trim() == record.etag()) {
            return Err(Error::PreconditionFailed(format!(
                "If-Match {tag} does not match the current version {}",
                record.etag()
            )));
        }
    }
    let image_changed = input.image_id.as_str() != record.image_id;
    let flavor_changed = input.flavor_id.as_str() != record.flavor_id;
    if image_changed && flavor_changed {
        // Nova refuses a rebuild while a resize awaits confirmation, and the reverse.
        return Err(Error::unprocessable("spec: change the flavor and the image in separate updates"));
    }
    if image_changed && record.protection.rebuild {
        return Err(rebuild_protected(id));
    }
    if (image_changed || flavor_changed) && record.pending.is_some() {
        return Err(Error::conflict(format!("server {id} is still applying its previous change: retry later")));
    }
    let mut min_disk = record.image_min_disk_gib;
    let mut pending = None;
    let mut provider = None;
    // A read may refresh the record on the way (re-versioning it): later writes build on that copy.
    let mut base = record;
    let now = deps.clock.now();
    if image_changed || flavor_changed {
        let cred = deps.identities.credential(&base.identity_id)?;
        if image_changed {
            let image =
                validate_image_and_flavor(deps, &cred, input.image_id.as_str(), input.flavor_id.as_str()).await?;
            min_disk = image.min_disk_gib;
            pending = Some(PendingChange::Rebuild {
                image_id: input.image_id.as_str().to_owned(),
                previous_image_id: base.image_id.clone(),
                since: now,
            });
        } else {
            let flavor = get_flavor(deps, &cred, input.flavor_id.as_str()).await?;
            check_disk(min_disk, &flavor, &base.image_id)?;
            pending = Some(PendingChange::Resize {
                flavor_id: flavor.id.clone(),
                flavor_name: flavor.name.clone(),
                previous_flavor_id: base.flavor_id.clone(),
                since: now,
            });
        }
        let verb = if image_changed { "rebuilt" } else { "resized" };
        let (fresh, pid) = actionable(deps, base, verb).await?;
        base = fresh;
        provider = Some((cred, pid, verb));
    }
    let mut next = base.clone();
    if pending.is_some() {
        next.pending = pending;
        next.power_state = Some(PowerState::Pending);
        let command = if image_changed { Command::Rebuild } else { Command::Resize };
        next.action = Some(ActionRef::start(command, &caller.subject, now));
    }
    next.description = input.metadata.description;
    next.tags = input.metadata.tags;
    next.flavor_id = input.flavor_id.as_str().to_owned();
    next.image_id = input.image_id.as_str().to_owned();
    next.image_min_disk_gib = min_disk;
    next.networking = input.networking;
    next.user_data = input.user_data;
    next.modified_by = Some(caller.subject.clone());
    next.modified_time = Some(now);
    let next = match write_over(deps, &base, next).await {
        Ok(next) => next,
        Err(e @ StoreError::Changed(..)) if if_match.is_none() => {
            return Err(Error::conflict(format!("{e}; read it again and retry")))
        }
        // Protected from rebuilds since it was read: the write's own condition refused it.
        Err(StoreError::Protected(..)) => return Err(rebuild_protected(id)),
        Err(e) => return Err(e.into()),
    };
    let Some((cred, pid, verb)) = provider else { return Ok(next) };
    deps.crash.hit(crash::UPDATE_AFTER_INTENT);
    let asked = if image_changed {
        deps.provider.rebuild(&cred, &pid, input.image_id.as_str()).await
    } else {
        deps.provider.resize(&cred, &pid, input.flavor_id.as_str()).await
    };
    match asked {
        Ok(receipt) => {
            deps.crash.hit(crash::UPDATE_AFTER_PROVIDER);
            note_receipt(deps, id, next.action.as_ref(), &receipt).await;
            Ok(next)
        }
        // The change is recorded and the provider may or may not have it: accepted, and the cleanup
        // function completes it (asking again if the provider never got it).
        Err(ProviderError::Unavailable(message)) => {
            tracing::warn!(error = %message, "the provider did not confirm the change; the cleanup function completes it");
            Ok(next)
        }
        Err(e) => {
            let mut back = next.clone();
            back.undo_pending();
            back.image_min_disk_gib = base.image_min_disk_gib;
            back.power_state = base.power_state;
            if let Some(a) = &mut back.action {
                a.finish(deps.clock.now(), Err(action_error(&e)));
            }
            if let Err(write) = write_over(deps, &next, back).await {
                tracing::warn!(error = %write, "could not undo a refused change; the cleanup function undoes it");
            }
            Err(translate(e, id, verb))
        }
    }
}
