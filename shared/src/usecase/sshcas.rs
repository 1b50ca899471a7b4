//! SSH certificate authorities: project-scoped trust anchors that servers can be created with.

use super::Context;
use super::Deps;
use crate::domain::{SshCaCreateInput, SshCaRecord};
use crate::error::{Error, Result};
use crate::rbac::{Operation, SSH_CAS};
use crate::store::{RecordQuery, SshCaStore, StoreError};

pub(crate) fn ca_not_found(id: &str) -> Error {
    Error::not_found(format!("no SSH certificate authority found with id {id}"))
}

pub async fn create<S: SshCaStore, P>(deps: &Deps<S, P>, cx: &Context, input: SshCaCreateInput) -> Result<SshCaRecord> {
    let (org, project) = (input.organization_id.as_str(), input.project_id.as_str());
    cx.caller.acl.require(org, Some(project), SSH_CAS, Operation::Create)?;
    super::admit(deps, org).await?;
    let record = SshCaRecord {
        id: deps.ids.new_id(),
        api_version: cx.view.version,
        name: input.metadata.name,
        description: input.metadata.description,
        tags: input.metadata.tags,
        organization_id: org.to_owned(),
        project_id: project.to_owned(),
        public_key: input.public_key,
        created_by: cx.caller.subject.clone(),
        creation_time: deps.clock.now(),
    };
    deps.store.create_ssh_ca(&record).await?;
    Ok(record)
}

/// A CA the view shows and the caller may read (404 otherwise), with `op` checked on its project (403).
pub(crate) async fn load<S: SshCaStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
    op: Operation,
) -> Result<SshCaRecord> {
    let read = deps.store.get_ssh_ca(id);
    let ca = cx.view.load(&cx.caller, (SSH_CAS, op), read, || ca_not_found(id)).await?;
    super::admit(deps, &ca.organization_id).await?;
    Ok(ca)
}

pub async fn get<S: SshCaStore, P>(deps: &Deps<S, P>, cx: &Context, id: &str) -> Result<SshCaRecord> {
    load(deps, cx, id, Operation::Read).await
}

/// Filters as Unikorn's list: `organizationID`, `projectID`, `tag` (every pair); sorted by id.
pub struct CaListParams {
    pub organization_ids: Vec<String>,
    pub project_ids: Vec<String>,
    pub tags: Vec<(String, String)>,
}

pub async fn list<S: SshCaStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    params: &CaListParams,
) -> Result<Vec<SshCaRecord>> {
    let scopes = cx.view.list_scopes(&cx.caller, SSH_CAS, (&params.organization_ids, &params.project_ids))?;
    super::admit_scopes(deps, &scopes).await?;
    if scopes.is_empty() {
        return Ok(Vec::new());
    }
    let query =
        RecordQuery { scopes, api_version: Some(cx.view.version), tags: params.tags.clone(), ..RecordQuery::default() };
    Ok(deps.store.list_ssh_cas(&query).await?)
}

/// Refused while a server references it, with Unikorn's 403 and wording; the store's count makes
/// that check and the delete one conditional write.
pub async fn delete<S: SshCaStore, P>(deps: &Deps<S, P>, cx: &Context, id: &str) -> Result<()> {
    load(deps, cx, id, Operation::Delete).await?;
    deps.store.delete_ssh_ca(id).await.map_err(|e| match e {
        StoreError::InUse(..) => Error::forbidden("SSH certificate authority is in use and cannot be deleted"),
        other => other.into(),
    })
}
