//! Security groups (Unikorn's v2): a list of rules that belongs to a network, made at Neutron in
//! the project the network's servers live in as `securitygroup-<id>` by the worker (`provision`),
//! changed when the rules change, and removed by its delete or its network's teardown (a bound
//! network is not deleted while it has groups).

mod provision;

pub use provision::converge_security_group;
pub(crate) use provision::remove_groups_of;

use super::{Context, Deps};
use crate::domain::{Lifecycle, SecurityGroupCreateInput, SecurityGroupRecord, SecurityGroupUpdateInput, Stage};
use crate::error::{Error, Result};
use crate::rbac::{Operation, SECURITY_GROUPS};
use crate::store::{NetworkStore, RecordQuery, SecurityGroupStore, StoreError};
use crate::work::WorkItem;

fn not_found(id: &str) -> Error {
    Error::not_found(format!("no security group found with id {id}"))
}

/// Unikorn's answer to deleting a group servers use.
fn in_use() -> Error {
    Error::forbidden("security group is in use and cannot be deleted")
}

/// The query of every group on a network.
pub(crate) fn groups_of(network: &crate::domain::NetworkRecord) -> RecordQuery {
    RecordQuery {
        scopes: vec![crate::rbac::Scope::Project(network.organization_id.clone(), network.project_id.clone())],
        network_ids: vec![network.id.clone()],
        ..RecordQuery::default()
    }
}

/// A write over a record the worker is changing step by step is tried this many times.
const WRITE_ATTEMPTS: u32 = 8;

/// Leaves the group to the worker. The record is the work: a message lost here only delays it
/// until the cleanup function finds the record unsettled.
pub(crate) async fn hand_over<S, P>(deps: &Deps<S, P>, id: &str) {
    let item = WorkItem::SecurityGroup { security_group_id: id.to_owned() };
    if let Err(e) = deps.work.enqueue(&item).await {
        tracing::warn!(security_group_id = id, error = %e, "work not queued; the cleanup function takes the group up");
    }
}

/// On a network the caller may read (404/403 as its read answers) and create groups in: made in
/// the network's project (a bound network's: the region's own, where its servers live).
pub async fn create_security_group<S: NetworkStore + SecurityGroupStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    input: SecurityGroupCreateInput,
) -> Result<SecurityGroupRecord> {
    let network = super::networks::get_network(deps, cx, input.network_id.as_str()).await?;
    let (org, project) = (network.organization_id.clone(), network.project_id.clone());
    cx.caller.acl.require(&org, Some(&project), SECURITY_GROUPS, Operation::Create)?;
    let now = deps.clock.now();
    let record = SecurityGroupRecord {
        id: deps.ids.new_id(),
        api_version: cx.view.version,
        name: input.metadata.name,
        description: input.metadata.description,
        tags: input.metadata.tags,
        organization_id: org,
        project_id: project,
        created_by: cx.caller.subject.clone(),
        creation_time: now,
        region_id: network.region_id.clone(),
        network_id: Some(network.id.clone()),
        identity_id: network.identity_id.clone(),
        parent_identity_id: None,
        rules: input.rules,
        lifecycle: Lifecycle::pending(now),
        objects: Default::default(),
        deleting_since: None,
        modified_by: None,
        modified_time: None,
        version: 0,
    };
    deps.store.create_security_group(&record).await?;
    tracing::info!(security_group_id = %record.id, network_id = %network.id, "security group recorded; the worker makes it");
    hand_over(deps, &record.id).await;
    Ok(record)
}

async fn load<S: SecurityGroupStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
    op: Operation,
) -> Result<SecurityGroupRecord> {
    let read = deps.store.get_security_group(id);
    let group = cx.view.load(&cx.caller, (SECURITY_GROUPS, op), read, || not_found(id)).await?;
    super::admit(deps, &group.organization_id).await?;
    Ok(group)
}

pub async fn get_security_group<S: SecurityGroupStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
) -> Result<SecurityGroupRecord> {
    load(deps, cx, id, Operation::Read).await
}

/// The v2 list's filters (Unikorn's): organizations and projects narrow the scopes read, regions
/// and networks are any-of, tags must all match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityGroupListParams {
    pub organization_ids: Vec<String>,
    pub project_ids: Vec<String>,
    pub region_ids: Vec<String>,
    pub network_ids: Vec<String>,
    pub tags: Vec<(String, String)>,
}

pub async fn list_security_groups<S: SecurityGroupStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    params: &SecurityGroupListParams,
) -> Result<Vec<SecurityGroupRecord>> {
    let filters = (params.organization_ids.as_slice(), params.project_ids.as_slice());
    let scopes = cx.view.list_scopes(&cx.caller, SECURITY_GROUPS, filters)?;
    super::admit_scopes(deps, &scopes).await?;
    if scopes.is_empty() {
        return Ok(Vec::new());
    }
    let query = RecordQuery {
        scopes,
        api_version: Some(cx.view.version),
        network_ids: params.network_ids.clone(),
        ..RecordQuery::default()
    };
    let mut groups = deps.store.list_security_groups(&query).await?;
    groups.retain(|g| params.region_ids.is_empty() || params.region_ids.contains(&g.region_id));
    groups.retain(|g| g.tags.has_all(&params.tags));
    Ok(groups)
}

/// Replaces metadata and rules (the rules as a whole); the worker brings Neutron along. The
/// caller needs `update` (Unikorn checks `delete` here).
pub async fn update_security_group<S: NetworkStore + SecurityGroupStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
    input: SecurityGroupUpdateInput,
) -> Result<SecurityGroupRecord> {
    let mut group = load(deps, cx, id, Operation::Update).await?;
    for attempt in 0..WRITE_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20 * u64::from(attempt))).await;
            group = deps.store.get_security_group(id).await?.ok_or_else(|| not_found(id))?;
        }
        if group.deleting_since.is_some() || group.in_teardown() {
            return Err(Error::invalid("security group is being deleted"));
        }
        if let Some(network) = &group.network_id {
            deps.store
                .get_network(network)
                .await?
                .ok_or_else(|| Error::not_found(format!("no network found with id {network}")))?;
        }
        let now = deps.clock.now();
        let mut next = group.clone();
        next.name = input.metadata.name.clone();
        next.description = input.metadata.description.clone();
        next.tags = input.metadata.tags.clone();
        next.rules = input.rules.clone();
        next.modified_by = Some(cx.caller.subject.clone());
        next.modified_time = Some(now);
        next.version = group.version + 1;
        // The rules have work left at Neutron until the worker has enacted this version.
        let stage =
            if group.lifecycle.stage == Stage::Provisioned { Stage::Provisioning } else { group.lifecycle.stage };
        next.lifecycle = group.lifecycle.to(stage, group.lifecycle.reason.clone(), now);
        match deps.store.replace_security_group(&next, group.version).await {
            Ok(()) => {
                hand_over(deps, id).await;
                return Ok(next);
            }
            Err(StoreError::Changed(..)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(format!("security group {id} kept changing: read it and try again")))
}

/// Refused (403, Unikorn's words) while a server names it; otherwise 202, `deprovisioning`, and
/// the worker removes it at Neutron, then its record. Deleting one being deleted changes nothing.
pub async fn delete_security_group<S: SecurityGroupStore, P>(deps: &Deps<S, P>, cx: &Context, id: &str) -> Result<()> {
    let mut group = load(deps, cx, id, Operation::Delete).await?;
    for attempt in 0..WRITE_ATTEMPTS {
        if attempt > 0 {
            match deps.store.get_security_group(id).await? {
                Some(g) => group = g,
                None => return Ok(()),
            }
        }
        if group.deleting_since.is_some() || group.in_teardown() {
            return Ok(());
        }
        let mut next = group.clone();
        next.lifecycle = group.lifecycle.to(Stage::Deprovisioning, None, deps.clock.now());
        next.version = group.version + 1;
        match deps.store.begin_security_group_teardown(&next, group.version).await {
            Ok(()) => {
                tracing::info!(security_group_id = id, "security group deprovisioning; the worker removes it");
                hand_over(deps, id).await;
                return Ok(());
            }
            Err(StoreError::InUse(..)) => return Err(in_use()),
            Err(StoreError::Changed(..)) => continue,
            Err(StoreError::Missing(..)) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(format!("security group {id} kept changing: try again")))
}
