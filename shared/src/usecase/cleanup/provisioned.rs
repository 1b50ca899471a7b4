//! The cleanup passes over what the worker provisions: provisioned networks and v1 identities a
//! worker left unsettled, orphaned projects, networks marked deleting whose servers are gone, and
//! identities being deleted.

use std::time::Instant;

use super::{Maintained, Report, NETWORK_BATCH};
use crate::domain::NetworkRecord;
use crate::error::Result;
use crate::usecase::networks::provision::Builds;
use crate::usecase::{Converged, Deps};

/// A network marked deleting whose last server is gone is deleted (true); a provisioned one (v1)
/// is taken down first, here, rather than waiting for the worker.
pub(super) async fn finish_network<S: Maintained, P: Builds>(
    deps: &Deps<S, P>,
    network: &NetworkRecord,
) -> Result<bool> {
    if !network.is_provisioned_by_us() {
        let finished = deps.store.finish_network_deletion(network).await?;
        if finished {
            tracing::info!(network_id = %network.id, "last server gone: network deleted");
        }
        return Ok(finished);
    }
    if crate::usecase::networks::release(deps, network).await? != crate::usecase::networks::Release::Going {
        return Ok(false);
    }
    // Its teardown began (its servers are gone) and runs now; with servers left it stays marked,
    // which converge leaves as it is.
    Ok(crate::usecase::networks::converge(deps, &network.id).await? == Converged::Gone)
}

/// Each region's projects the product made whose identity record is gone are emptied and removed.
pub(super) async fn sweep_projects<S: Maintained, P: Builds>(deps: &Deps<S, P>, report: &mut Report) {
    for region in deps.regions.all().filter(|r| r.openstack.is_some()) {
        match crate::usecase::networks::sweep_region(deps, &region.id).await {
            Ok(removed) => report.orphan_projects_removed += removed,
            // A region whose Keystone is down, or whose user may not list projects: the next run tries again.
            Err(e) => report.failures.push(format!("region {} projects: {e}", region.id)),
        }
    }
}

/// Identities being deleted (v1's foreground delete): each network still under one is deleted or
/// marked again (a delete that stopped between its steps), and the identity goes with the last (a
/// provisioned one after its objects at the provider).
pub(super) async fn finish_identities<S: Maintained, P: Builds>(deps: &Deps<S, P>, report: &mut Report) -> Result<()> {
    for identity in deps.store.identities_being_deleted(NETWORK_BATCH).await? {
        if identity.lifecycle.is_some() {
            match crate::usecase::identities::converge_identity(deps, &identity.id).await {
                Ok(Converged::Gone) => report.identities_deleted += 1,
                Ok(_) => {}
                Err(e) => report.failures.push(format!("identity {}: {e}", identity.id)),
            }
            continue;
        }
        let networks = deps.store.list_networks(&crate::usecase::identities::networks_of(&identity)).await?;
        match crate::usecase::identities::finish(deps, &identity, &networks).await {
            Ok(true) => report.identities_deleted += 1,
            Ok(false) => {}
            Err(e) => report.failures.push(format!("identity {}: {e}", identity.id)),
        }
    }
    Ok(())
}

/// Provisioned networks, security groups and v1 identities whose stage began before the grace period and is not
/// settled: a worker died, its message was lost, or every attempt failed. Each is brought to what
/// its record says.
pub(super) async fn converge_networks<S: Maintained, P: Builds>(
    deps: &Deps<S, P>,
    deadline: Instant,
    report: &mut Report,
) -> Result<()> {
    let before = deps.clock.now() - deps.timing.grace;
    for network in deps.store.unsettled_networks(before, NETWORK_BATCH).await? {
        if Instant::now() >= deadline {
            break;
        }
        match crate::usecase::networks::converge(deps, &network.id).await {
            Ok(_) => report.networks_converged += 1,
            Err(e) => report.failures.push(format!("network {}: {e}", network.id)),
        }
    }
    for group in deps.store.unsettled_security_groups(before, NETWORK_BATCH).await? {
        if Instant::now() >= deadline {
            break;
        }
        match crate::usecase::security_groups::converge_security_group(deps, &group.id).await {
            Ok(_) => report.security_groups_converged += 1,
            Err(e) => report.failures.push(format!("security group {}: {e}", group.id)),
        }
    }
    for identity in deps.store.unsettled_identities(before, NETWORK_BATCH).await? {
        if Instant::now() >= deadline {
            break;
        }
        match crate::usecase::identities::converge_identity(deps, &identity.id).await {
            Ok(_) => report.identities_converged += 1,
            Err(e) => report.failures.push(format!("identity {}: {e}", identity.id)),
        }
    }
    Ok(())
}

/// How long the oldest intent a worker left unsettled has waited (networks, security groups and
/// identities: each kind's oldest is the first of its attention index).
pub(super) async fn oldest_unsettled<S: Maintained, P>(deps: &Deps<S, P>) -> Result<u64> {
    let now = deps.clock.now();
    let networks = deps.store.unsettled_networks(now, 1).await?;
    let groups = deps.store.unsettled_security_groups(now, 1).await?;
    let identities = deps.store.unsettled_identities(now, 1).await?;
    let since = networks
        .iter()
        .filter_map(|n| n.lifecycle.as_ref().map(|l| l.since))
        .chain(groups.iter().map(|g| g.lifecycle.since))
        .chain(identities.iter().filter_map(|i| i.lifecycle.as_ref().map(|l| l.since)))
        .min();
    Ok(since.map_or(0, |since| (now - since).num_seconds().max(0) as u64))
}
