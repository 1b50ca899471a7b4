//! Makes a group at Neutron in its network's project, as Unikorn's security-group controller
//! does: the project recorded first (the intent), the group found by name or made (its id recorded
//! as soon as Neutron answers), its rules brought to the record's by the domain's plan (the missing
//! made, the unasked removed, the unchanged untouched; a rule someone removed comes back). A
//! teardown removes the group (by recorded id, or by name), then the record.

use crate::crash;
use crate::domain::security_group::security_group_object_name;
use crate::domain::security_rules::plan_rules;
use crate::domain::{IdentityRecord, NetworkRecord, SecurityGroupRecord, Stage};
use crate::error::{Error, Result};
use crate::provider::{ProviderCredential, ProviderError, SecurityGroups};
use crate::store::{IdentityStore, NetworkStore, RecordQuery, SecurityGroupStore};
use crate::usecase::identities::provision::changed;
use crate::usecase::identities::teardown::done;
use crate::usecase::{Converged, Deps};

struct Run<'a, S, P> {
    deps: &'a Deps<S, P>,
    group: SecurityGroupRecord,
}

impl<S: SecurityGroupStore, P: SecurityGroups> Run<'_, S, P> {
    async fn save(&mut self, change: impl FnOnce(&mut SecurityGroupRecord)) -> Result<()> {
        let mut next = self.group.clone();
        change(&mut next);
        next.version = self.group.version + 1;
        self.deps.store.replace_security_group(&next, self.group.version).await.map_err(changed)?;
        self.group = next;
        Ok(())
    }

    async fn set_stage(&mut self, stage: Stage, reason: Option<String>) -> Result<()> {
        let now = self.deps.clock.now();
        let lifecycle = self.group.lifecycle.to(stage, reason, now);
        self.save(|g| g.lifecycle = lifecycle).await
    }

    async fn enact(&mut self, project: &str, fresh: bool) -> Result<()> {
        let deps = self.deps;
        let cred = deps.regions.credential_in(&self.group.region_id, Some(project))?;
        if self.group.objects.project_id.is_none() {
            let project = project.to_owned();
            self.save(|g| g.objects.project_id = Some(project)).await?;
        }
        let group = match self.group.objects.group_id.clone() {
            Some(g) => g,
            None => {
                let name = security_group_object_name(&self.group.id);
                let found = if fresh { None } else { deps.provider.find_security_group(&cred, &name).await? };
                let made = match found {
                    Some(g) => g,
                    None => deps.provider.create_security_group(&cred, &name).await?,
                };
                deps.crash.hit(crash::GROUP_AFTER_CREATE);
                self.save(|g| g.objects.group_id = Some(made.clone())).await?;
                made
            }
        };
        let held = deps.provider.security_group_rules(&cred, &group).await?;
        let plan = plan_rules(&held, &self.group.rules);
        for id in &plan.delete {
            deps.provider.delete_security_group_rule(&cred, id).await?;
        }
        for rule in &plan.create {
            match deps.provider.create_security_group_rule(&cred, &group, rule).await {
                // Made by an attempt whose answer was lost.
                Ok(_) | Err(ProviderError::Conflict { .. }) => {}
                // Someone removed the group at Neutron: the next run makes it again.
                Err(e @ ProviderError::NotFound { .. }) => {
                    self.save(|g| g.objects.group_id = None).await?;
                    return Err(e.into());
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// Where a group lives: its network (v2) or its identity resource (v1), as read now.
enum Home {
    Network(NetworkRecord),
    Identity(IdentityRecord),
}

impl Home {
    /// Its parent is being taken down, and takes its groups with it.
    fn closing(&self) -> bool {
        match self {
            Home::Network(n) => n.deleting_since.is_some(),
            Home::Identity(i) => i.deleting_since.is_some(),
        }
    }

    /// The project the parent's servers live in: a provisioned network's own (once made), the
    /// region's for a bound one, an identity's own (once made).
    fn project<S, P>(&self, deps: &Deps<S, P>) -> Result<Option<String>> {
        let network = match self {
            Home::Identity(i) => return Ok(i.objects.project_id.clone()),
            Home::Network(n) => n,
        };
        if network.is_provisioned_by_us() {
            return Ok(network.objects.project_id.clone());
        }
        match deps.regions.project_credential(&network.region_id)?.scope {
            crate::provider::CredentialScope::Project(p) => Ok(Some(p)),
            crate::provider::CredentialScope::Domain(_) => Ok(None),
        }
    }
}

async fn home_of<S: SecurityGroupStore + NetworkStore + IdentityStore, P>(
    deps: &Deps<S, P>,
    group: &SecurityGroupRecord,
) -> Result<Option<Home>> {
    Ok(match (&group.network_id, &group.parent_identity_id) {
        (Some(n), _) => deps.store.get_network(n).await?.map(Home::Network),
        (None, Some(i)) => deps.store.get_identity(i).await?.map(Home::Identity),
        (None, None) => None,
    })
}

/// Brings the group to what its record says: made with its rules, or removed. It waits for its
/// parent's project; a failure is recorded on it (`error`, with Neutron's reason) and answered,
/// so the worker's queue (or the cleanup function) runs it again.
pub async fn converge_security_group<S: SecurityGroupStore + NetworkStore + IdentityStore, P: SecurityGroups>(
    deps: &Deps<S, P>,
    id: &str,
) -> Result<Converged> {
    let Some(group) = deps.store.get_security_group(id).await? else { return Ok(Converged::Gone) };
    let home = match home_of(deps, &group).await? {
        Some(home) if !group.in_teardown() => home,
        // Being deleted, or its parent is gone (its teardown removed what it could find).
        other => return teardown(deps, group, other.as_ref()).await,
    };
    if home.closing() {
        return Ok(Converged::Settled(group.lifecycle.stage));
    }
    let Some(project) = home.project(deps)? else {
        tracing::info!(security_group_id = id, "security group waits for its project");
        return Ok(Converged::Settled(group.lifecycle.stage));
    };
    let fresh = group.lifecycle.stage == Stage::Pending;
    let stage = group.lifecycle.stage;
    let mut run = Run { deps, group };
    if stage != Stage::Provisioning {
        run.set_stage(Stage::Provisioning, None).await?;
    }
    match run.enact(&project, fresh).await {
        Ok(()) => {
            run.set_stage(Stage::Provisioned, None).await?;
            tracing::info!(security_group_id = id, "security group provisioned");
            Ok(Converged::Settled(Stage::Provisioned))
        }
        Err(e @ Error::PreconditionFailed(_)) => Err(e),
        Err(e) => {
            tracing::warn!(security_group_id = id, error = %e, "security group not enacted; it is retried");
            if let Err(write) = run.set_stage(Stage::Error, Some(e.public_description())).await {
                tracing::info!(security_group_id = id, error = %write, "error not recorded on the group");
            }
            Err(e)
        }
    }
}

/// Removes the group at Neutron (a port still using it holds it back: retried), then its record.
/// A v1 group some server still names waits (Unikorn's foreground delete) until none does.
async fn teardown<S: SecurityGroupStore, P: SecurityGroups>(
    deps: &Deps<S, P>,
    group: SecurityGroupRecord,
    home: Option<&Home>,
) -> Result<Converged> {
    if deps.store.security_group_server_count(&group.id).await?.unwrap_or(0) > 0 {
        tracing::info!(security_group_id = %group.id, "security group waits for its servers to let it go");
        return Ok(Converged::Settled(Stage::Deprovisioning));
    }
    // Recorded before the group was asked for: without it, nothing was made.
    let project = match &group.objects.project_id {
        Some(p) => Some(p.clone()),
        None => home.map(|h| h.project(deps)).transpose()?.flatten(),
    };
    if let Some(project) = &project {
        let cred = deps.regions.credential_in(&group.region_id, Some(project))?;
        remove_at_provider(deps, &cred, &group).await?;
    }
    deps.crash.hit(crash::GROUP_AFTER_DELETE);
    deps.store.remove_security_group(&group.id).await?;
    tracing::info!(security_group_id = %group.id, "security group removed at the provider and in the table");
    Ok(Converged::Gone)
}

async fn remove_at_provider<S, P: SecurityGroups>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    group: &SecurityGroupRecord,
) -> Result<()> {
    let id = match group.objects.group_id.clone() {
        Some(g) => Some(g),
        None => deps.provider.find_security_group(cred, &security_group_object_name(&group.id)).await?,
    };
    if let Some(id) = id {
        done(deps.provider.delete_security_group(cred, &id).await)?;
    }
    Ok(())
}

/// A parent's teardown takes its groups with it (`query`: a network's, or an identity's): each
/// removed at Neutron (in the parent's project, `cred`), then its record.
pub(crate) async fn remove_groups<S: SecurityGroupStore, P: SecurityGroups>(
    deps: &Deps<S, P>,
    query: &RecordQuery,
    cred: Option<&ProviderCredential>,
) -> Result<()> {
    for group in deps.store.list_security_groups(query).await? {
        if let Some(cred) = cred {
            remove_at_provider(deps, cred, &group).await?;
        }
        deps.store.remove_security_group(&group.id).await?;
    }
    Ok(())
}
