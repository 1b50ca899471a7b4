//! Takes a network down in Unikorn's order.
//!
//! A v2 network: the key pair its servers booted with; its security groups; the routers' interfaces, the routers, the
//! subnets, the networks of its project (listed: whatever is there, recorded or not); its VLAN,
//! its quota allocation in identity; then its hidden identity's objects (`identities::teardown`);
//! then the records.
//!
//! A v1 network lives in its identity's project beside the identity's other networks: only its own
//! router, subnet and network go (found by its name, recorded or not), then its VLAN and record; the
//! identity, its project and key pair stay until the identity is deleted.
//!
//! One already gone is done. The record stays (`deprovisioning`) until the last object is gone, so
//! a run stopped anywhere is finished by the next.

use super::provision::{Builds, Provisioned};
use crate::crash;
use crate::domain::provisioned::{identity_object_name, network_object_name};
use crate::domain::NetworkRecord;
use crate::error::Result;
use crate::store::StoreError;
use crate::usecase::identities::teardown::{remove_objects, remove_region_keypair};
use crate::usecase::{Converged, Deps};

pub(super) async fn run<S: Provisioned, P: Builds>(deps: &Deps<S, P>, network: NetworkRecord) -> Result<Converged> {
    if let Some(parent) = network.parent_identity_id.clone() {
        return leave_identity(deps, network, &parent).await;
    }
    let network_id = network.id.clone();
    let identity = deps.store.get_identity(&network.identity_id).await?;
    let project = identity.as_ref().and_then(|i| i.objects.project_id.clone());
    let (domain, _) = deps.regions.domain_credential(&network.region_id)?;
    let project = match project {
        Some(p) => Some(p),
        // Made by an attempt that did not record it, or never made.
        None => deps.provider.find_project(&domain, &identity_object_name(&network.identity_id)).await?,
    };
    remove_region_keypair(deps, (&network.region_id, &network.identity_id), project.as_deref()).await?;
    let cred = project.as_deref().map(|p| deps.regions.credential_in(&network.region_id, Some(p))).transpose()?;
    // Its security groups go with it (Keystone removes no Neutron object with the project).
    let groups = crate::usecase::security_groups::groups_of(&network);
    crate::usecase::security_groups::remove_groups(deps, &groups, cred.as_ref()).await?;
    if let Some(cred) = &cred {
        // Everything Neutron holds in the project, listed rather than taken from the record: the
        // project is the network's alone, so a duplicate a timed-out create made late, or what a
        // run made without recording it, goes too (Keystone removes no Neutron object with it).
        super::sweep::empty_project(deps, cred, None).await?;
    }
    release_vlan(deps, &network).await?;
    super::free_allocation(deps, &network).await?;
    let objects = (network.region_id.as_str(), network.identity_id.as_str());
    remove_objects(deps, objects, identity.as_ref(), project.as_deref()).await?;
    deps.crash.hit(crash::TEARDOWN_AFTER_PROVIDER);
    deps.store.remove_provisioned_network(&network).await?;
    tracing::info!(network_id = %network_id, "network and its identity removed at the provider and in the table");
    Ok(Converged::Gone)
}

/// A v1 network's teardown; its identity, if it is being deleted, is handed over after it (it
/// goes after its last network).
async fn leave_identity<S: Provisioned, P: Builds>(
    deps: &Deps<S, P>,
    network: NetworkRecord,
    identity_id: &str,
) -> Result<Converged> {
    // Recorded before anything was made in it: without it, nothing was.
    if let Some(project) = &network.objects.project_id {
        let cred = deps.regions.credential_in(&network.region_id, Some(project))?;
        super::sweep::empty_project(deps, &cred, Some(&network_object_name(&network.id))).await?;
    }
    release_vlan(deps, &network).await?;
    deps.crash.hit(crash::TEARDOWN_AFTER_PROVIDER);
    match deps.store.delete_network(&network).await {
        Ok(()) | Err(StoreError::Missing(..)) => {}
        Err(e) => return Err(e.into()),
    }
    tracing::info!(network_id = %network.id, "network removed at the provider and in the table");
    if deps.store.get_identity(identity_id).await?.is_some_and(|i| i.deleting_since.is_some()) {
        crate::usecase::identities::hand_over(deps, identity_id).await;
    }
    Ok(Converged::Gone)
}

/// Frees the network's VLAN, if it holds one.
async fn release_vlan<S: Provisioned, P: Builds>(deps: &Deps<S, P>, network: &NetworkRecord) -> Result<()> {
    let Some(vlan) = network.objects.vlan_id else { return Ok(()) };
    if let Some(physnet) = deps.regions.openstack_of(&network.region_id).and_then(|o| o.provider_networks.clone()) {
        deps.store.release_vlan(&network.region_id, &physnet.physical_network, vlan, &network.id).await?;
    }
    Ok(())
}
