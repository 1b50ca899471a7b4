//! Networks: the project-scoped resource servers attach to.

use super::Deps;
use crate::api::networks::NetworkCreateInput;
use crate::domain::{NetworkRecord, API_VERSION_V2};
use crate::error::{Error, Result};
use crate::rbac::{Caller, Operation, NETWORKS};
use crate::store::{NetworkDeletion, NetworkStore};

fn not_found(id: &str) -> Error {
    Error::not_found(format!("no network found with id {id}"))
}

pub async fn create_network<S: NetworkStore, P>(
    deps: &Deps<S, P>,
    caller: &Caller,
    input: NetworkCreateInput,
) -> Result<NetworkRecord> {
    let (org, project, region) = (input.organization_id.as_str(), input.project_id.as_str(), input.region_id.as_str());
    caller.acl.require(org, Some(project), NETWORKS, Operation::Create)?;
    if !deps.identities.has_region(region) {
        return Err(Error::not_found(format!("no region found with id {region}")));
    }
    let identity = deps.identities.find(region, org, project).ok_or_else(|| {
        Error::unprocessable(format!("region {region} has no provider identity for project {project}"))
    })?;
    let record = NetworkRecord {
        id: deps.ids.new_id(),
        api_version: API_VERSION_V2,
        name: input.metadata.name,
        description: input.metadata.description,
        tags: input.metadata.tags,
        organization_id: org.to_owned(),
        project_id: project.to_owned(),
        region_id: region.to_owned(),
        identity_id: identity.id.clone(),
        provider_network_id: input.provider_network_id.as_str().to_owned(),
        created_by: caller.subject.clone(),
        creation_time: deps.clock.now(),
        deleting_since: None,
    };
    deps.store.create_network(&record).await?;
    Ok(record)
}

async fn load<S: NetworkStore, P>(
    deps: &Deps<S, P>,
    caller: &Caller,
    id: &str,
    op: Operation,
) -> Result<NetworkRecord> {
    let network =
        deps.store.get_network(id).await?.filter(|n| n.api_version == API_VERSION_V2).ok_or_else(|| not_found(id))?;
    super::authorize(caller, (&network.organization_id, &network.project_id), NETWORKS, op, not_found(id))?;
    Ok(network)
}

pub async fn get_network<S: NetworkStore, P>(deps: &Deps<S, P>, caller: &Caller, id: &str) -> Result<NetworkRecord> {
    load(deps, caller, id, Operation::Read).await
}

pub async fn list_networks<S: NetworkStore, P>(deps: &Deps<S, P>, caller: &Caller) -> Result<Vec<NetworkRecord>> {
    Ok(deps.store.list_networks(&caller.acl.scopes(NETWORKS, Operation::Read), API_VERSION_V2).await?)
}

/// Deletes the network at once when it has no servers. Otherwise it is marked deleting (it takes no
/// new servers), the cleanup function deletes its servers like any other, and the network goes
/// with the last one: Unikorn's owner-reference cascade.
pub async fn delete_network<S: NetworkStore, P>(
    deps: &Deps<S, P>,
    caller: &Caller,
    id: &str,
) -> Result<NetworkDeletion> {
    load(deps, caller, id, Operation::Delete).await?;
    let outcome = deps.store.delete_network(id, deps.clock.now()).await?;
    if outcome == NetworkDeletion::Deleting {
        tracing::info!(network_id = %id, "network marked deleting; its servers are deleted by the cleanup function");
    }
    Ok(outcome)
}
