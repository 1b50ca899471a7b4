//! Identity resources (v1): a project's own identity in one region, provisioned at the provider by
//! the worker as Unikorn's identity controller does (a project, a user, its roles, an application
//! credential, a server group and a key pair, which its read hands out in `spec.openstack`). v1
//! networks live under one, and their servers with them.

pub mod access;
pub(crate) mod provision;
pub(crate) mod teardown;

use super::networks::Release;
use super::Context;
use super::{Converged, Deps, Placed, View};
use crate::domain::IdentityView;
use crate::domain::{IdentityCreateInput, IdentityRecord, Lifecycle, Stage};
use crate::error::{Error, Result};
use crate::rbac::Scope;
use crate::rbac::{Operation, IDENTITIES};
use crate::store::{IdentityStore, KeypairStore, NetworkStore, ProvisionStore, RecordQuery, ServerStore, StoreError};
use crate::work::WorkItem;
use provision::{IdentityRun, IdentityStores, Provides};

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
        // Its servers (on networks that bind a provider network) live in the region's own project;
        // its own project is what it hands out.
        provider_identity_id: region.id.clone(),
        hidden: false,
        lifecycle: Some(Lifecycle::pending(deps.clock.now())),
        objects: Default::default(),
        version: 0,
        deleting_since: None,
        created_by: cx.caller.subject.clone(),
        creation_time: deps.clock.now(),
    };
    deps.store.create_identity(&record).await?;
    hand_over(deps, &record.id).await;
    Ok(record)
}

/// Leaves the identity to the worker. The record is the work: a message lost here only delays it
/// until the cleanup function finds the record unsettled.
pub(crate) async fn hand_over<S, P>(deps: &Deps<S, P>, identity_id: &str) {
    let item = WorkItem::Identity { identity_id: identity_id.to_owned() };
    if let Err(e) = deps.work.enqueue(&item).await {
        tracing::warn!(identity_id, error = %e, "work not queued; the cleanup function takes the identity up");
    }
}

/// Brings a v1 identity to what its record says: provisioned, or (being deleted) taken down once
/// the networks under it are gone. A failure is recorded on it (`error`, with the provider's
/// reason) and answered, so the worker's queue (or the cleanup function) runs it again.
pub async fn converge_identity<S: IdentityStores + NetworkStore, P: Provides>(
    deps: &Deps<S, P>,
    identity_id: &str,
) -> Result<Converged> {
    let Some(identity) = deps.store.get_identity(identity_id).await? else { return Ok(Converged::Gone) };
    // A hidden identity is its network's to converge; one without a life stands for the region.
    let Some(lifecycle) = identity.lifecycle.clone().filter(|_| !identity.hidden) else {
        return Ok(Converged::Settled(Stage::Provisioned));
    };
    if identity.deleting_since.is_some() {
        return teardown::retire(deps, identity).await;
    }
    let now = deps.clock.now();
    let fresh = lifecycle.stage == Stage::Pending;
    let mut run = IdentityRun { deps, identity, fresh };
    if lifecycle.stage != Stage::Provisioning {
        run.save(|i| i.lifecycle = Some(lifecycle.to(Stage::Provisioning, None, now))).await?;
    }
    match run.provision().await {
        Ok(()) => {
            tracing::info!(identity_id, "identity provisioned");
            hand_over_networks(deps, &run.identity).await?;
            hand_over_groups(deps, &run.identity).await?;
            Ok(Converged::Settled(Stage::Provisioned))
        }
        Err(e @ Error::PreconditionFailed(_)) => Err(e),
        Err(e) => {
            let reason = e.public_description();
            tracing::warn!(identity_id, error = %e, "identity provisioning failed; it is retried");
            let failed = run.identity.lifecycle.clone().map(|l| l.to(Stage::Error, Some(reason), deps.clock.now()));
            if let Err(write) = run.save(|i| i.lifecycle = failed).await {
                tracing::info!(identity_id, error = %write, "error not recorded on the identity");
            }
            Err(e)
        }
    }
}

/// The networks made under an identity while it was provisioned, which wait for it, go to the worker.
async fn hand_over_networks<S: NetworkStore, P>(deps: &Deps<S, P>, identity: &IdentityRecord) -> Result<()> {
    for network in deps.store.list_networks(&networks_of(identity)).await? {
        if network.lifecycle.as_ref().is_some_and(|l| l.stage.unsettled()) && network.deleting_since.is_none() {
            super::networks::hand_over(deps, &network.id).await;
        }
    }
    Ok(())
}

/// The security groups made under an identity while it was provisioned, which wait for it, go to
/// the worker.
async fn hand_over_groups<S: crate::store::SecurityGroupStore, P>(
    deps: &Deps<S, P>,
    identity: &IdentityRecord,
) -> Result<()> {
    for group in deps.store.list_security_groups(&super::security_groups::groups_under(identity)).await? {
        if group.lifecycle.stage.unsettled() && group.deleting_since.is_none() {
            super::security_groups::hand_over(deps, &group.id).await;
        }
    }
    Ok(())
}

/// The query of every network under an identity.
pub(crate) fn networks_of(identity: &IdentityRecord) -> RecordQuery {
    let scope = Scope::Project(identity.organization_id.clone(), identity.project_id.clone());
    RecordQuery { scopes: vec![scope], parent_identity_id: Some(identity.id.clone()), ..RecordQuery::default() }
}

/// An identity the view shows (404 otherwise); no permission check: callers check their own.
pub(crate) async fn load_identity<S: IdentityStore, P>(
    deps: &Deps<S, P>,
    view: &View,
    id: &str,
) -> Result<IdentityRecord> {
    deps.store.get_identity(id).await?.filter(|i| view.shows(i.placement())).ok_or_else(|| not_found(id))
}

pub async fn get_identity<S: IdentityStore + KeypairStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
) -> Result<IdentityView> {
    let read = deps.store.get_identity(id);
    let identity = cx.view.load(&cx.caller, (IDENTITIES, Operation::Read), read, || not_found(id)).await?;
    super::admit(deps, &identity.organization_id).await?;
    access::view(deps, identity).await
}

/// The identities of the path's project or organization the caller may read (see [`View::list_scopes`]).
pub async fn list_identities<S: IdentityStore + KeypairStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
) -> Result<Vec<IdentityView>> {
    let scopes = cx.view.list_scopes(&cx.caller, IDENTITIES, (&[], &[]))?;
    super::admit_scopes(deps, &scopes).await?;
    let query = RecordQuery { scopes, api_version: Some(cx.view.version), ..RecordQuery::default() };
    let mut views = Vec::new();
    for identity in deps.store.list_identities(&query).await? {
        views.push(access::view(deps, identity).await?);
    }
    Ok(views)
}

/// Unikorn's foreground delete (uni-compute's cluster teardown relies on it): 202, the identity
/// takes no new network, each network under it goes (at once without servers; otherwise marked
/// deleting, its servers deleted by the cleanup function, the network with its last server), and the
/// identity goes with its last network. A server protected from deletion under it refuses the
/// whole delete (409, naming it) before anything is marked.
pub async fn delete_identity<S: IdentityStore + NetworkStore + ProvisionStore + ServerStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
) -> Result<()> {
    let read = deps.store.get_identity(id);
    let identity = cx.view.load(&cx.caller, (IDENTITIES, Operation::Delete), read, || not_found(id)).await?;
    super::admit(deps, &identity.organization_id).await?;
    let scope = Scope::Project(identity.organization_id.clone(), identity.project_id.clone());
    let networks = deps.store.list_networks(&networks_of(&identity)).await?;
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
    if identity.lifecycle.is_some() {
        // Its objects at the provider go after its networks, by the worker.
        release_networks(deps, &networks).await?;
        hand_over(deps, id).await;
        return Ok(());
    }
    finish(deps, &identity, &networks).await.map(drop)
}

/// Deletes, marks or starts taking down each network of a deleting identity (see
/// [`networks::release`](super::networks::release)); true when none is left.
pub(crate) async fn release_networks<S: NetworkStore + ProvisionStore, P>(
    deps: &Deps<S, P>,
    networks: &[crate::domain::NetworkRecord],
) -> Result<bool> {
    let mut left = false;
    for network in networks {
        match super::networks::release(deps, network).await? {
            Release::Gone => {}
            Release::Going => left = true,
            // A server was protected meanwhile: its network waits; the identity with it.
            Release::Protected => {
                tracing::info!(network_id = %network.id, "a protected server holds the network of a deleting identity");
                left = true;
            }
        }
    }
    Ok(!left)
}

/// Deletes or marks each network of a deleting identity, then the identity if none is left (true
/// when it is gone); what cannot go yet is left to the cleanup function, which calls this again.
pub(crate) async fn finish<S: IdentityStore + NetworkStore + ProvisionStore, P>(
    deps: &Deps<S, P>,
    identity: &IdentityRecord,
    networks: &[crate::domain::NetworkRecord],
) -> Result<bool> {
    release_networks(deps, networks).await?;
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
