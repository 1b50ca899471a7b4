//! Identity resources (v1): a project's binding, in one region, to the provider identity the
//! operator configured for it. v1 networks live under one, and their servers with them.

use super::Context;
use super::{Deps, Placed, View};
use crate::domain::{IdentityCreateInput, IdentityRecord};
use crate::error::{Error, Result};
use crate::rbac::Scope;
use crate::rbac::{Operation, IDENTITIES};
use crate::store::{IdentityStore, NetworkStore, RecordQuery, ServerStore, StoreError};

fn not_found(id: &str) -> Error {
    Error::not_found(format!("no identity found with id {id}"))
}

/// An identity in a region the caller sees (404 otherwise, as Unikorn's region check answers), which
/// must be an OpenStack region (400).
pub async fn create_identity<S: IdentityStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    input: IdentityCreateInput,
) -> Result<IdentityRecord> {
    let (org, project, region) = (input.organization_id.as_str(), input.project_id.as_str(), input.region_id.as_str());
    cx.caller.acl.require(org, Some(project), IDENTITIES, Operation::Create)?;
    super::admit(deps, org).await?;
    // Unikorn's checks: an unknown or hidden region is 404, another kind of region 400.
    let (region, _) = deps.regions.openstack(&cx.caller, region)?;
    let record = IdentityRecord {
        id: deps.ids.new_id(),
        api_version: cx.view.version,
        name: input.metadata.name,
        description: input.metadata.description,
        tags: input.metadata.tags,
        organization_id: org.to_owned(),
        project_id: project.to_owned(),
        region_id: region.id.clone(),
        // The region's own project, for now.
        provider_identity_id: region.id.clone(),
        hidden: false,
        lifecycle: None,
        objects: Default::default(),
        version: 0,
        deleting_since: None,
        created_by: cx.caller.subject.clone(),
        creation_time: deps.clock.now(),
    };
    deps.store.create_identity(&record).await?;
    Ok(record)
}

/// An identity the view shows (404 otherwise); no permission check: callers check their own.
pub(crate) async fn load_identity<S: IdentityStore, P>(
    deps: &Deps<S, P>,
    view: &View,
    id: &str,
) -> Result<IdentityRecord> {
    deps.store.get_identity(id).await?.filter(|i| view.shows(i.placement())).ok_or_else(|| not_found(id))
}

pub async fn get_identity<S: IdentityStore, P>(deps: &Deps<S, P>, cx: &Context, id: &str) -> Result<IdentityRecord> {
    let read = deps.store.get_identity(id);
    let identity = cx.view.load(&cx.caller, (IDENTITIES, Operation::Read), read, || not_found(id)).await?;
    super::admit(deps, &identity.organization_id).await?;
    Ok(identity)
}

/// The identities of the path's project or organization the caller may read (see [`View::list_scopes`]).
pub async fn list_identities<S: IdentityStore, P>(deps: &Deps<S, P>, cx: &Context) -> Result<Vec<IdentityRecord>> {
    let scopes = cx.view.list_scopes(&cx.caller, IDENTITIES, (&[], &[]))?;
    super::admit_scopes(deps, &scopes).await?;
    let query = RecordQuery { scopes, api_version: Some(cx.view.version), ..RecordQuery::default() };
    Ok(deps.store.list_identities(&query).await?)
}

/// Unikorn's foreground delete (uni-compute's cluster teardown relies on it): 202, the identity
/// takes no new network, each network under it goes (at once without servers; otherwise marked
/// deleting, its servers deleted by the cleanup function, the network with its last server), and the
/// identity goes with its last network. A server protected from deletion under it refuses the
/// whole delete (409, naming it) before anything is marked.
pub async fn delete_identity<S: IdentityStore + NetworkStore + ServerStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
) -> Result<()> {
    let read = deps.store.get_identity(id);
    let identity = cx.view.load(&cx.caller, (IDENTITIES, Operation::Delete), read, || not_found(id)).await?;
    super::admit(deps, &identity.organization_id).await?;
    let scope = Scope::Project(identity.organization_id.clone(), identity.project_id.clone());
    let networks =
        RecordQuery { scopes: vec![scope.clone()], parent_identity_id: Some(id.to_owned()), ..RecordQuery::default() };
    let networks = deps.store.list_networks(&networks).await?;
    let servers = RecordQuery {
        scopes: vec![scope],
        parent_identity_id: Some(id.to_owned()),
        limit: 1000,
        ..RecordQuery::default()
    };
    let protected: Vec<String> = deps
        .store
        .list_servers(&servers)
        .await?
        .items
        .iter()
        .filter(|s| s.protection.delete)
        .take(100)
        .map(|s| format!("{} ({})", s.id, s.name))
        .collect();
    if !protected.is_empty() {
        return Err(Error::conflict(format!(
            "identity {id} has servers protected from deletion: {}; change their protection first",
            protected.join(", ")
        )));
    }
    deps.store.close_identity(id, deps.clock.now()).await?;
    finish(deps, &identity, &networks).await.map(drop)
}

/// Deletes or marks each network of a deleting identity, then the identity if none is left (true
/// when it is gone); what cannot go yet is left to the cleanup function, which calls this again.
pub(crate) async fn finish<S: IdentityStore + NetworkStore, P>(
    deps: &Deps<S, P>,
    identity: &IdentityRecord,
    networks: &[crate::domain::NetworkRecord],
) -> Result<bool> {
    for network in networks {
        match deps.store.delete_or_mark_network(network, deps.clock.now()).await {
            Ok(_) | Err(StoreError::Missing(..)) => {}
            // A server was protected meanwhile: its network waits; the identity with it.
            Err(StoreError::Protected(..)) => {
                tracing::info!(network_id = %network.id, "a protected server holds the network of a deleting identity")
            }
            Err(e) => return Err(e.into()),
        }
    }
    match deps.store.delete_identity(&identity.id).await {
        Ok(()) | Err(StoreError::Missing(..)) => {
            tracing::info!(identity_id = %identity.id, "identity deleted");
            Ok(true)
        }
        Err(StoreError::InUse(..)) => {
            tracing::info!(identity_id = %identity.id, "identity marked deleting; it goes with its last network");
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}
