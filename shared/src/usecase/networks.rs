//! Networks: the project-scoped resource servers attach to, placed in a project and region (v2)
//! or under an identity resource (v1).

use super::identities::load_identity;
use super::Context;
use super::Deps;
use crate::domain::{NetworkCreateInput, NetworkPlacement, NetworkRecord};
use crate::error::{Error, Result};
use crate::rbac::Operation;
use crate::rbac::Scope;
use crate::store::{IdentityStore, NetworkDeletion, NetworkStore, RecordQuery, ServerStore, StoreError};

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
                // Every network lives in its region's own project for now.
                provider_identity_id: region.id.clone(),
                parent_identity_id: None,
            })
        }
        NetworkPlacement::Identity { identity_id, .. } => {
            let identity = load_identity(deps, &cx.view, identity_id.as_str()).await?;
            Ok(Home {
                organization_id: identity.organization_id,
                project_id: identity.project_id,
                region_id: identity.region_id,
                provider_identity_id: identity.provider_identity_id,
                parent_identity_id: Some(identity.id),
            })
        }
    }
}

pub async fn create_network<S: NetworkStore + IdentityStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    input: NetworkCreateInput,
) -> Result<NetworkRecord> {
    let home = home(deps, cx, &input.placement).await?;
    let record = NetworkRecord {
        id: deps.ids.new_id(),
        api_version: cx.view.version,
        name: input.metadata.name,
        description: input.metadata.description,
        tags: input.metadata.tags,
        organization_id: home.organization_id,
        project_id: home.project_id,
        region_id: home.region_id,
        identity_id: home.provider_identity_id,
        parent_identity_id: home.parent_identity_id,
        provider_network_id: input.provider_network_id.as_str().to_owned(),
        addressing: input.addressing,
        created_by: cx.caller.subject.clone(),
        creation_time: deps.clock.now(),
        deleting_since: None,
    };
    deps.store.create_network(&record).await?;
    Ok(record)
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

/// Every network the caller may read in the view's scope (see [`View::list_scopes`]).
pub async fn list_networks<S: NetworkStore, P>(deps: &Deps<S, P>, cx: &Context) -> Result<Vec<NetworkRecord>> {
    let scopes = cx.view.list_scopes(&cx.caller, cx.view.rules.networks, (&[], &[]))?;
    super::admit_scopes(deps, &scopes).await?;
    let query = RecordQuery {
        scopes,
        api_version: Some(cx.view.version),
        parent_identity_id: cx.view.path.as_ref().and_then(|p| p.identity_id.clone()),
        ..RecordQuery::default()
    };
    Ok(deps.store.list_networks(&query).await?)
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

/// Deletes the network at once when it has no servers. Otherwise it is marked deleting (it takes no
/// new servers), the cleanup function deletes its servers like any other, and the network goes
/// with the last one: Unikorn's owner-reference cascade. A network with a server protected from
/// deletion is refused (409, naming them) before anything is deleted: the store's write is
/// conditional on no protected server being counted on it.
pub async fn delete_network<S: NetworkStore + ServerStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
) -> Result<NetworkDeletion> {
    let network = load(deps, cx, id, Operation::Delete).await?;
    let outcome = match deps.store.delete_network(&network, deps.clock.now()).await {
        Err(StoreError::Protected(..)) => return Err(protected_servers(deps, &network).await),
        other => other?,
    };
    if outcome == NetworkDeletion::Deleting {
        tracing::info!(network_id = %id, "network marked deleting; its servers are deleted by the cleanup function");
    }
    Ok(outcome)
}
