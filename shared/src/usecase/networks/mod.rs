//! Networks: the project-scoped resource servers attach to, placed in a project and region (v2)
//! or under an identity resource (v1). A v2 network from Unikorn's body is provisioned at the
//! provider off the request path (`provision`, `teardown`, run by the worker function and
//! completed by cleanup); one that binds a provider network (the extension) is a record only.

mod delete;
pub(crate) mod provision;
mod references;
mod sweep;
mod teardown;

pub use super::Converged;
pub use delete::delete_network;
pub(crate) use delete::{release, Release};
pub use provision::converge;
pub use references::{add_reference, remove_reference};
pub use sweep::sweep_region;

use super::identities::load_identity;
use super::Context;
use super::Deps;
use crate::domain::provisioned::network_object_name;
use crate::domain::{
    IdentityRecord, Lifecycle, NetworkCreateInput, NetworkPlacement, NetworkRecord, NetworkSource, NetworkUpdateInput,
    Stage,
};
use crate::error::{Error, Result};
use crate::identity::allocations::{self, AllocationRequest};
use crate::rbac::Operation;
use crate::store::{IdentityStore, NetworkStore, ProvisionStore, RecordQuery, StoreError};
use crate::work::WorkItem;

fn not_found(id: &str) -> Error {
    Error::not_found(format!("no network found with id {id}"))
}

/// Where a new network goes: (organization, project, region, provider identity, identity resource).
struct Home {
    organization_id: String,
    project_id: String,
    region_id: String,
    provider_identity_id: String,
    parent_identity_id: Option<String>,
    /// The identity resource has a project of its own (one made before identities were
    /// provisioned stands for the region's).
    parent_provisioned: bool,
}

async fn home<S: IdentityStore, P>(deps: &Deps<S, P>, cx: &Context, placement: &NetworkPlacement) -> Result<Home> {
    let (org, project) = placement.project();
    cx.caller.acl.require(org, Some(project), cx.view.rules.networks, Operation::Create)?;
    super::admit(deps, org).await?;
    match placement {
        NetworkPlacement::Project { region_id, .. } => {
            let (region, _) = deps.regions.openstack(&cx.caller, region_id.as_str())?;
            Ok(Home {
                organization_id: org.to_owned(),
                project_id: project.to_owned(),
                region_id: region.id.clone(),
                // A bound network lives in its region's own project; a provisioned one gets its own.
                provider_identity_id: region.id.clone(),
                parent_identity_id: None,
                parent_provisioned: false,
            })
        }
        NetworkPlacement::Identity { identity_id, .. } => {
            let identity = load_identity(deps, &cx.view, identity_id.as_str()).await?;
            Ok(Home {
                organization_id: identity.organization_id,
                project_id: identity.project_id,
                region_id: identity.region_id,
                provider_identity_id: identity.provider_identity_id,
                parent_provisioned: identity.lifecycle.is_some(),
                parent_identity_id: Some(identity.id),
            })
        }
    }
}

/// Leaves the network to the worker. The record is the work: a message lost here only delays it
/// until the cleanup function finds the record unsettled.
pub(crate) async fn hand_over<S, P>(deps: &Deps<S, P>, network_id: &str) {
    let item = WorkItem::Network { network_id: network_id.to_owned() };
    if let Err(e) = deps.work.enqueue(&item).await {
        tracing::warn!(network_id, error = %e, "work not queued; the cleanup function takes the network up");
    }
}

pub async fn create_network<S: NetworkStore + IdentityStore + ProvisionStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    input: NetworkCreateInput,
) -> Result<NetworkRecord> {
    let home = home(deps, cx, &input.placement).await?;
    let now = deps.clock.now();
    let id = deps.ids.new_id();
    let (provider_network_id, addressing, lifecycle) = match input.source {
        NetworkSource::Bound { provider_network_id, addressing } => {
            (provider_network_id.as_str().to_owned(), addressing, None)
        }
        NetworkSource::Provisioned(addressing) => (String::new(), Some(addressing), Some(Lifecycle::pending(now))),
    };
    let provisioned = lifecycle.is_some();
    let identity_id = match &home.parent_identity_id {
        // v1: in its identity's project, beside the identity's other networks.
        Some(parent) if provisioned && home.parent_provisioned => parent.clone(),
        Some(parent) if provisioned => {
            return Err(Error::conflict(format!(
                "identity {parent} has no project of its own (it was made before identities were provisioned): \
                 bind a provider network with spec.providerNetworkId, or create a new identity"
            )))
        }
        // v2: a hidden identity of its own.
        None if provisioned => deps.ids.new_id(),
        _ => home.provider_identity_id,
    };
    let shared_project = home.parent_identity_id.is_some();
    let mut record = NetworkRecord {
        id,
        api_version: cx.view.version,
        name: input.metadata.name,
        description: input.metadata.description,
        tags: input.metadata.tags,
        organization_id: home.organization_id,
        project_id: home.project_id,
        region_id: home.region_id,
        identity_id,
        parent_identity_id: home.parent_identity_id,
        provider_network_id,
        addressing,
        created_by: cx.caller.subject.clone(),
        creation_time: now,
        deleting_since: None,
        lifecycle,
        objects: Default::default(),
        allocation_id: None,
        references: Default::default(),
        modified_by: None,
        modified_time: None,
        version: 0,
    };
    if !provisioned || shared_project {
        // v1 networks hold no quota allocation (Unikorn's make none).
        deps.store.create_network(&record).await?;
        if provisioned {
            hand_over(deps, &record.id).await;
        }
        return Ok(record);
    }
    // Identity's refusal (the project's quota) is the caller's answer, before anything is written.
    // Identity lists no allocations, so there is nothing to record an intent against: one whose
    // record is never written is freed here, and only a crash between the two leaves it counted.
    let allocation = allocation_of(&record);
    record.allocation_id = Some(deps.allocations.allocate(&allocation).await.map_err(allocations::told)?);
    if let Err(e) = deps.store.create_provisioned_network(&hidden_identity(&record), &record).await {
        if let Err(free) = free_allocation(deps, &record).await {
            tracing::error!(network_id = %record.id, allocation_id = ?record.allocation_id, error = %free,
                "the allocation of a network never recorded was not freed: it counts against its project's quota");
        }
        return Err(e.into());
    }
    tracing::info!(network_id = %record.id, name = %network_object_name(&record.id), "network recorded; the worker provisions it");
    hand_over(deps, &record.id).await;
    Ok(record)
}

/// The quota allocation a network holds in its organization and project.
pub(crate) fn allocation_of(network: &NetworkRecord) -> AllocationRequest {
    AllocationRequest::network(&network.organization_id, &network.project_id, &network.created_by, &network.id)
}

/// Frees the network's allocation, if it holds one (one identity no longer knows is free).
pub(crate) async fn free_allocation<S, P>(deps: &Deps<S, P>, network: &NetworkRecord) -> Result<()> {
    match &network.allocation_id {
        Some(id) => deps.allocations.free(&allocation_of(network), id).await.map_err(allocations::told),
        None => Ok(()),
    }
}

/// The identity a v2 network gets (Unikorn's `networkv2-service-principal`), in the same
/// organization, project and region.
fn hidden_identity(network: &NetworkRecord) -> IdentityRecord {
    IdentityRecord {
        id: network.identity_id.clone(),
        api_version: network.api_version,
        name: crate::domain::ResourceName::service_principal(),
        description: None,
        tags: Default::default(),
        organization_id: network.organization_id.clone(),
        project_id: network.project_id.clone(),
        created_by: network.created_by.clone(),
        creation_time: network.creation_time,
        region_id: network.region_id.clone(),
        provider_identity_id: network.identity_id.clone(),
        hidden: true,
        lifecycle: Some(Lifecycle::pending(network.creation_time)),
        objects: Default::default(),
        version: 0,
        deleting_since: None,
    }
}

async fn load<S: NetworkStore, P>(deps: &Deps<S, P>, cx: &Context, id: &str, op: Operation) -> Result<NetworkRecord> {
    let read = deps.store.get_network(id);
    let network = cx.view.load(&cx.caller, (cx.view.rules.networks, op), read, || not_found(id)).await?;
    super::admit(deps, &network.organization_id).await?;
    Ok(network)
}

pub async fn get_network<S: NetworkStore, P>(deps: &Deps<S, P>, cx: &Context, id: &str) -> Result<NetworkRecord> {
    load(deps, cx, id, Operation::Read).await
}

/// The v2 list's filters (Unikorn's): organizations and projects narrow the scopes read, regions
/// are any-of, tags must all match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkListParams {
    pub organization_ids: Vec<String>,
    pub project_ids: Vec<String>,
    pub region_ids: Vec<String>,
    pub tags: Vec<(String, String)>,
}

/// Every network the caller may read in the view's scope (see [`View::list_scopes`]), filtered.
pub async fn list_networks<S: NetworkStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    params: &NetworkListParams,
) -> Result<Vec<NetworkRecord>> {
    let filters = (params.organization_ids.as_slice(), params.project_ids.as_slice());
    let scopes = cx.view.list_scopes(&cx.caller, cx.view.rules.networks, filters)?;
    super::admit_scopes(deps, &scopes).await?;
    if scopes.is_empty() {
        return Ok(Vec::new());
    }
    let query = RecordQuery {
        scopes,
        api_version: Some(cx.view.version),
        parent_identity_id: cx.view.path.as_ref().and_then(|p| p.identity_id.clone()),
        ..RecordQuery::default()
    };
    let mut networks = deps.store.list_networks(&query).await?;
    networks.retain(|n| params.region_ids.is_empty() || params.region_ids.contains(&n.region_id));
    networks.retain(|n| n.tags.has_all(&params.tags));
    Ok(networks)
}

/// Replaces name, description, tags, nameservers and routes (the prefix and region are fixed);
/// the worker brings the subnet along. Unikorn's later rule: the caller needs `update`.
pub async fn update_network<S: NetworkStore + ProvisionStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
    input: NetworkUpdateInput,
) -> Result<NetworkRecord> {
    let mut network = load(deps, cx, id, Operation::Update).await?;
    for attempt in 0..WRITE_ATTEMPTS {
        if attempt > 0 {
            network = reread(deps, id, attempt).await?;
        }
        let next = updated(deps, cx, &network, &input)?;
        match deps.store.replace_network(&next, network.version).await {
            Ok(()) => {
                if next.is_provisioned_by_us() {
                    hand_over(deps, id).await;
                }
                return Ok(next);
            }
            // The worker wrote a step meanwhile: the change is made over what it wrote.
            Err(StoreError::Changed(..)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(format!("network {id} kept changing: read it and try again")))
}

/// A write over a record the worker is changing step by step is tried this many times.
const WRITE_ATTEMPTS: u32 = 8;

/// The record again after a concurrent write, a little later each time.
pub(super) async fn reread<S: NetworkStore, P>(deps: &Deps<S, P>, id: &str, attempt: u32) -> Result<NetworkRecord> {
    tokio::time::sleep(std::time::Duration::from_millis(20 * u64::from(attempt))).await;
    deps.store.get_network(id).await?.ok_or_else(|| not_found(id))
}

/// The record an update makes of `network`.
fn updated<S, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    network: &NetworkRecord,
    input: &NetworkUpdateInput,
) -> Result<NetworkRecord> {
    if network.stage() == Stage::Deprovisioning {
        return Err(Error::invalid("network is being deleted"));
    }
    let now = deps.clock.now();
    let mut next = network.clone();
    next.name = input.metadata.name.clone();
    next.description = input.metadata.description.clone();
    next.tags = input.metadata.tags.clone();
    next.modified_by = Some(cx.caller.subject.clone());
    next.modified_time = Some(now);
    next.version = network.version + 1;
    match next.addressing.as_mut().filter(|_| network.is_provisioned_by_us()) {
        Some(addressing) => {
            addressing.dns_nameservers = input.dns_nameservers.clone();
            addressing.routes = input.routes.clone();
            if let Some(lifecycle) = &network.lifecycle {
                // The subnet has work left until it serves this version.
                let stage = if lifecycle.stage == Stage::Provisioned { Stage::Provisioning } else { lifecycle.stage };
                next.lifecycle = Some(lifecycle.to(stage, lifecycle.reason.clone(), now));
            }
        }
        None if input.dns_nameservers.is_empty() && input.routes.is_empty() => {}
        None => {
            return Err(Error::invalid(
                "spec.dnsNameservers: a bound provider network keeps its own nameservers and routes",
            ))
        }
    }
    Ok(next)
}
