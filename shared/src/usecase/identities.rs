//! Identity resources (v1): a project's binding, in one region, to the provider identity the
//! operator configured for it. v1 networks live under one, and their servers with them.

use super::Context;
use super::{Deps, Placed, View};
use crate::domain::{IdentityCreateInput, IdentityRecord};
use crate::error::{Error, Result};
use crate::rbac::{Operation, IDENTITIES};
use crate::store::{IdentityStore, RecordQuery, StoreError};

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

/// Refused while networks (and so servers) remain under it: Unikorn's route documents 400, not 409.
pub async fn delete_identity<S: IdentityStore, P>(deps: &Deps<S, P>, cx: &Context, id: &str) -> Result<()> {
    let read = deps.store.get_identity(id);
    let identity = cx.view.load(&cx.caller, (IDENTITIES, Operation::Delete), read, || not_found(id)).await?;
    super::admit(deps, &identity.organization_id).await?;
    deps.store.delete_identity(id).await.map_err(|e| match e {
        StoreError::InUse(..) => {
            Error::invalid(format!("identity {id} still has networks or servers: delete them first"))
        }
        other => other.into(),
    })
}
