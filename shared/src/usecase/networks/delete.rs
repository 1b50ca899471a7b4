//! Deleting networks, as Unikorn's handlers do.
//!
//! v2: refused (403, Unikorn's words) while a server or a reference holds the network (a bound
//! one also while it has security groups). A bound
//! network goes at once; a provisioned one is taken down by the worker, reads showing
//! `deprovisioning` until its record is gone.
//!
//! v1 (Unikorn's foreground delete, also each network of a deleting identity): a network without
//! servers goes (a provisioned one through its teardown); one with servers is marked deleting (it
//! takes no new servers), the cleanup function deletes its servers, and the network goes after the
//! last one. A server protected from deletion refuses it (409, naming them) before anything is
//! written. Deleting one already being deleted changes nothing.

use super::{hand_over, load, WRITE_ATTEMPTS};
use crate::domain::{ApiVersion, NetworkRecord, Stage};
use crate::error::{Error, Result};
use crate::rbac::{Operation, Scope};
use crate::store::{
    NetworkDeletion, NetworkStore, ProvisionStore, RecordQuery, SecurityGroupStore, ServerStore, StoreError,
};
use crate::usecase::{Context, Deps};

/// Unikorn's answer to deleting a network servers or references hold.
fn in_use() -> Error {
    Error::forbidden("network is in use and cannot be deleted")
}

/// Where a network's delete left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Release {
    /// Its record is gone.
    Gone,
    /// Marked deleting, or being taken down: it goes later, by itself.
    Going,
    /// A server on it is protected from deletion: nothing was written.
    Protected,
}

pub async fn delete_network<S: NetworkStore + ProvisionStore + ServerStore + SecurityGroupStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
) -> Result<()> {
    let network = load(deps, cx, id, Operation::Delete).await?;
    if network.api_version == ApiVersion::V1 {
        return match release(deps, &network).await? {
            Release::Protected => Err(protected_servers(deps, &network).await),
            Release::Going => {
                tracing::info!(network_id = %id, "network deleting; its servers go first");
                Ok(())
            }
            Release::Gone => Ok(()),
        };
    }
    if network.lifecycle.is_none() {
        // A bound network's groups live in the region's project, which nothing takes down with it.
        if has_groups(deps, &network).await? {
            return Err(in_use());
        }
        return match deps.store.delete_network(&network).await {
            Err(StoreError::InUse(..)) => Err(in_use()),
            other => Ok(other?),
        };
    }
    start_teardown(deps, network, false).await.map(drop)
}

async fn has_groups<S: SecurityGroupStore, P>(deps: &Deps<S, P>, network: &NetworkRecord) -> Result<bool> {
    let query = crate::usecase::security_groups::groups_of(network);
    // One whose teardown began goes by itself (it finds its project recorded).
    Ok(deps.store.list_security_groups(&query).await?.iter().any(|g| !g.in_teardown()))
}

/// A v1 network's delete (see the module's notes).
pub(crate) async fn release<S: NetworkStore + ProvisionStore, P>(
    deps: &Deps<S, P>,
    network: &NetworkRecord,
) -> Result<Release> {
    if network.is_provisioned_by_us() {
        return start_teardown(deps, network.clone(), true).await;
    }
    match deps.store.delete_or_mark_network(network, deps.clock.now()).await {
        Ok(NetworkDeletion::Deleted) | Err(StoreError::Missing(..)) => Ok(Release::Gone),
        Ok(NetworkDeletion::Deleting) => Ok(Release::Going),
        Err(StoreError::Protected(..)) => Ok(Release::Protected),
        Err(e) => Err(e.into()),
    }
}

/// Starts a provisioned network's teardown (written over whatever step the worker wrote meanwhile)
/// and hands it to the worker. While servers (or, v2, references) hold it: v2 refuses (403);
/// `foreground` (v1) marks it deleting instead, for the cleanup function to delete its servers and
/// call this again.
async fn start_teardown<S: NetworkStore + ProvisionStore, P>(
    deps: &Deps<S, P>,
    mut network: NetworkRecord,
    foreground: bool,
) -> Result<Release> {
    let id = network.id.clone();
    for attempt in 0..WRITE_ATTEMPTS {
        if attempt > 0 {
            match super::reread(deps, &id, attempt).await {
                Ok(n) => network = n,
                Err(Error::NotFound(_)) => return Ok(Release::Gone),
                Err(e) => return Err(e),
            }
        }
        let Some(lifecycle) = &network.lifecycle else {
            return Err(Error::internal("a provisioned network lost its life cycle"));
        };
        if lifecycle.stage == Stage::Deprovisioning {
            return Ok(Release::Going);
        }
        let mut next = network.clone();
        next.lifecycle = Some(lifecycle.to(Stage::Deprovisioning, None, deps.clock.now()));
        next.version = network.version + 1;
        match deps.store.begin_network_teardown(&next, network.version).await {
            Ok(()) => {
                tracing::info!(network_id = %id, "network marked deprovisioning; the worker takes it down");
                hand_over(deps, &id).await;
                return Ok(Release::Going);
            }
            Err(StoreError::InUse(..)) if !foreground => return Err(in_use()),
            Err(StoreError::InUse(..)) => match deps.store.mark_network_deleting(&network, deps.clock.now()).await {
                Ok(()) => return Ok(Release::Going),
                Err(StoreError::Protected(..)) => return Ok(Release::Protected),
                Err(StoreError::Missing(..)) => return Ok(Release::Gone),
                Err(StoreError::Changed(..)) => continue,
                Err(e) => return Err(e.into()),
            },
            Err(StoreError::Missing(..)) => return Ok(Release::Gone),
            Err(StoreError::Changed(..)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(format!("network {id} kept changing: try again")))
}

/// The refusal of a network delete that would remove protected servers, naming them (at most 100).
async fn protected_servers<S: ServerStore, P>(deps: &Deps<S, P>, network: &NetworkRecord) -> Error {
    let query = RecordQuery {
        scopes: vec![Scope::Project(network.organization_id.clone(), network.project_id.clone())],
        network_ids: vec![network.id.clone()],
        limit: 1000,
        ..RecordQuery::default()
    };
    let names = match deps.store.list_servers(&query).await {
        Ok(page) => page
            .items
            .iter()
            .filter(|s| s.protection.delete)
            .take(100)
            .map(|s| format!("{} ({})", s.id, s.name))
            .collect::<Vec<_>>()
            .join(", "),
        Err(e) => format!("(they could not be listed: {e})"),
    };
    Error::conflict(format!(
        "network {} has servers protected from deletion: {names}; change their protection first",
        network.id
    ))
}
