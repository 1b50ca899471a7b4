use super::Context;
use super::Deps;
use crate::domain::ServerRecord;
use crate::error::Result;
use crate::rbac::SERVERS;
use crate::store::{Page, RecordQuery, ServerStore};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    pub organization_ids: Vec<String>,
    pub project_ids: Vec<String>,
    pub region_ids: Vec<String>,
    pub network_ids: Vec<String>,
    /// `tag=name=value` filters: a server must carry every pair.
    pub tags: Vec<(String, String)>,
    pub limit: usize,
    pub after: Option<String>,
}

/// Store pages one list request may read per scope: a page costs a bounded number of Queries
/// however selective its filters are (a short page with a `Link` continues the search).
pub const MAX_READS_PER_PAGE: usize = 8;

/// Servers in projects where the caller holds `region:servers` read, of the view's version; one
/// index query per scope. A path narrows them to its organization (a caller who may read nothing
/// there is 403), project (403 without read there) and identity.
pub async fn list_servers<S: ServerStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    params: &ListParams,
) -> Result<Page<ServerRecord>> {
    let scopes = cx.view.list_scopes(&cx.caller, SERVERS, (&params.organization_ids, &params.project_ids))?;
    super::admit_scopes(deps, &scopes).await?;
    if scopes.is_empty() {
        return Ok(Page { items: Vec::new(), next: None });
    }
    let query = RecordQuery {
        scopes,
        api_version: Some(cx.view.version),
        parent_identity_id: cx.view.path.as_ref().and_then(|p| p.identity_id.clone()),
        identity_ids: Vec::new(),
        region_ids: params.region_ids.clone(),
        network_ids: params.network_ids.clone(),
        tags: params.tags.clone(),
        after: params.after.clone(),
        limit: params.limit,
        max_reads: Some(MAX_READS_PER_PAGE),
    };
    Ok(deps.store.list_servers(&query).await?)
}
