//! Security groups (Unikorn's): a list of rules that belongs to a network (v2) or an identity
//! resource (v1), made at Neutron in the project the servers live in as `securitygroup-<id>` by the
//! worker (`provision`), changed when the rules change, and removed by its delete or its parent's
//! teardown (a bound network is not deleted while it has groups). Servers name them (`servers`).

mod provision;
mod servers;

pub use provision::converge_security_group;
pub(crate) use provision::remove_groups;
pub(crate) use servers::check_named;

use super::{Context, Deps};
use crate::domain::{
    ApiVersion, Lifecycle, SecurityGroupCreateInput, SecurityGroupRecord, SecurityGroupUpdateInput, Stage,
};
use crate::error::{Error, Result};
use crate::rbac::Operation;
use crate::store::{IdentityStore, NetworkStore, RecordQuery, SecurityGroupStore, StoreError};
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

/// The query of every group under a v1 identity resource.
pub(crate) fn groups_under(identity: &crate::domain::IdentityRecord) -> RecordQuery {
    RecordQuery {
        scopes: vec![crate::rbac::Scope::Project(identity.organization_id.clone(), identity.project_id.clone())],
        parent_identity_id: Some(identity.id.clone()),
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

/// Where a new group lives: a v2 network, or a v1 identity resource.
enum Parent<'a> {
    Network(&'a crate::domain::NetworkRecord),
    Identity(&'a crate::domain::IdentityRecord),
}

/// On a network the caller may read (404/403 as its read answers) and create groups in: made in
/// the network's project (a bound network's: the region's own, where its servers live).
pub async fn create_security_group<S: NetworkStore + SecurityGroupStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    input: SecurityGroupCreateInput,
) -> Result<SecurityGroupRecord> {
    let network = super::networks::get_network(deps, cx, input.network_id.as_str()).await?;
    let spec = SecurityGroupUpdateInput { metadata: input.metadata, rules: input.rules };
    record_new(deps, cx, Parent::Network(&network), spec).await
}

/// v1: under the path's identity (404 unless the path shows it), made in the identity's project
/// once it is provisioned. An identity made before identities were provisioned has no project
/// to make it in: 409.
pub async fn create_v1_security_group<S: IdentityStore + SecurityGroupStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    identity_id: &str,
    input: SecurityGroupUpdateInput,
) -> Result<SecurityGroupRecord> {
    cx.view.check_path(&cx.caller, cx.view.rules.security_groups, Operation::Create)?;
    let identity = super::identities::load_identity(deps, &cx.view, identity_id).await?;
    super::admit(deps, &identity.organization_id).await?;
    if identity.lifecycle.is_none() {
        return Err(Error::conflict(format!(
            "identity {identity_id} has no project of its own (it was made before identities were provisioned): \
             create a new identity for security groups"
        )));
    }
    record_new(deps, cx, Parent::Identity(&identity), input).await
}

/// Writes a new group (`pending`) where `parent` says, once the caller may create groups there,
/// and leaves it to the worker.
async fn record_new<S: SecurityGroupStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    parent: Parent<'_>,
    input: SecurityGroupUpdateInput,
) -> Result<SecurityGroupRecord> {
    let (org, project, region, identity) = match parent {
        Parent::Network(n) => (&n.organization_id, &n.project_id, &n.region_id, &n.identity_id),
        Parent::Identity(i) => (&i.organization_id, &i.project_id, &i.region_id, &i.id),
    };
    cx.caller.acl.require(org, Some(project), cx.view.rules.security_groups, Operation::Create)?;
    let now = deps.clock.now();
    let record = SecurityGroupRecord {
        id: deps.ids.new_id(),
        api_version: cx.view.version,
        name: input.metadata.name,
        description: input.metadata.description,
        tags: input.metadata.tags,
        organization_id: org.clone(),
        project_id: project.clone(),
        created_by: cx.caller.subject.clone(),
        creation_time: now,
        region_id: region.clone(),
        network_id: match parent {
            Parent::Network(n) => Some(n.id.clone()),
            Parent::Identity(_) => None,
        },
        identity_id: identity.clone(),
        parent_identity_id: match parent {
            Parent::Network(_) => None,
            Parent::Identity(i) => Some(i.id.clone()),
        },
        rules: input.rules,
        lifecycle: Lifecycle::pending(now),
        objects: Default::default(),
        deleting_since: None,
        modified_by: None,
        modified_time: None,
        version: 0,
    };
    deps.store.create_security_group(&record).await?;
    tracing::info!(security_group_id = %record.id, "security group recorded; the worker makes it");
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
    let group = cx.view.load(&cx.caller, (cx.view.rules.security_groups, op), read, || not_found(id)).await?;
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
    let scopes = cx.view.list_scopes(&cx.caller, cx.view.rules.security_groups, filters)?;
    super::admit_scopes(deps, &scopes).await?;
    if scopes.is_empty() {
        return Ok(Vec::new());
    }
    // v1's organization list shows every version's groups (Unikorn's does).
    let api_version = (cx.view.version != ApiVersion::V1).then_some(cx.view.version);
    let query = RecordQuery { scopes, api_version, network_ids: params.network_ids.clone(), ..RecordQuery::default() };
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
        if group.is_being_deleted() {
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

/// v2: refused (403, Unikorn's words) while a server names it; otherwise 202, `deprovisioning`,
/// and the worker removes it at Neutron, then its record. v1 (Unikorn's foreground delete): 202
/// whether or not a server names it; marked deleting, it gains no server and is removed once none
/// names it. Deleting one being deleted changes nothing.
pub async fn delete_security_group<S: SecurityGroupStore, P>(deps: &Deps<S, P>, cx: &Context, id: &str) -> Result<()> {
    let mut group = load(deps, cx, id, Operation::Delete).await?;
    let foreground = group.api_version == ApiVersion::V1;
    for attempt in 0..WRITE_ATTEMPTS {
        if attempt > 0 {
            match deps.store.get_security_group(id).await? {
                Some(g) => group = g,
                None => return Ok(()),
            }
        }
        if group.is_being_deleted() {
            return Ok(());
        }
        let mut next = group.clone();
        next.lifecycle = group.lifecycle.to(Stage::Deprovisioning, None, deps.clock.now());
        next.version = group.version + 1;
        let written = match foreground {
            true => deps.store.mark_security_group_deleting(&next, group.version).await,
            false => deps.store.begin_security_group_teardown(&next, group.version).await,
        };
        match written {
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
