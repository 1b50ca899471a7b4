use super::create::{check_disk, get_flavor, validate_image_and_flavor};
use super::power::actionable;
use super::{load_server, translate, Deps};
use crate::api::servers::ServerUpdateInput;
use crate::domain::PowerState;
use crate::domain::ServerRecord;
use crate::error::{Error, Result};
use crate::rbac::{Caller, Operation};

/// Replaces the mutable spec. The provider is asked only about what changed.
pub async fn update_server(
    deps: &Deps,
    caller: &Caller,
    id: &str,
    if_match: Option<&str>,
    input: ServerUpdateInput,
) -> Result<ServerRecord> {
    let record = load_server(deps, caller, id, Operation::Update).await?;
    if record.is_deleting() {
        return Err(Error::invalid("server is being deleted"));
    }
    if deps.store.get_network(&record.network_id).await?.is_none() {
        return Err(Error::not_found(format!("network {} of server {id} no longer exists", record.network_id)));
    }
    if input.metadata.name != record.name {
        return Err(Error::unprocessable(format!("metadata.name: a server cannot be renamed (it is {})", record.name)));
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
    let mut min_disk = record.image_min_disk_gib;
    let mut provider_moving = false;
    // A read may refresh the record on the way (re-versioning it): later writes build on that copy.
    let mut base = record;
    if image_changed || flavor_changed {
        let cred = deps.identities.credential(&base.identity_id)?;
        if image_changed {
            let image =
                validate_image_and_flavor(deps, &cred, input.image_id.as_str(), input.flavor_id.as_str()).await?;
            min_disk = image.min_disk_gib;
        } else {
            let flavor = get_flavor(deps, &cred, input.flavor_id.as_str()).await?;
            check_disk(min_disk, &flavor, &base.image_id)?;
        }
        let verb = if image_changed { "rebuilt" } else { "resized" };
        let (fresh, pid) = actionable(deps, base, verb).await?;
        base = fresh;
        if image_changed {
            deps.provider.rebuild(&cred, &pid, input.image_id.as_str()).await.map_err(|e| translate(e, id, verb))?;
        } else {
            deps.provider.resize(&cred, &pid, input.flavor_id.as_str()).await.map_err(|e| translate(e, id, verb))?;
        }
        provider_moving = true;
    }
    let mut next = base.clone();
    if provider_moving {
        // Nova is now moving the server: reads reconcile it (and confirm a resize).
        next.resize_pending = flavor_changed;
        next.power_state = Some(PowerState::Pending);
    }
    next.description = input.metadata.description;
    next.tags = input.metadata.tags;
    next.flavor_id = input.flavor_id.as_str().to_owned();
    next.image_id = input.image_id.as_str().to_owned();
    next.image_min_disk_gib = min_disk;
    next.networking = input.networking;
    next.user_data = input.user_data;
    next.modified_by = Some(caller.subject.clone());
    next.modified_time = Some(deps.clock.now());
    next.version = base.version + 1;
    match deps.store.replace_server(&next, base.version).await {
        Ok(()) => Ok(next),
        Err(Error::PreconditionFailed(m)) if if_match.is_none() => {
            Err(Error::conflict(format!("{m}; read it again and retry")))
        }
        Err(e) => Err(e),
    }
}
