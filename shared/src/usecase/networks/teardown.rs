//! Takes a network down in Unikorn's order: the key pair its servers booted with; the routers'
//! interfaces, the routers, the subnets, the networks of its project (listed: whatever is there,
//! recorded or not); its VLAN, its quota allocation in identity; then its hidden identity's
//! objects (`identities::teardown`); then the records. One already gone is done. The record stays (`deprovisioning`) until the last object
//! is gone, so a run stopped anywhere is finished by the next.

use super::provision::{Builds, Provisioned};
use crate::crash;
use crate::domain::provisioned::identity_object_name;
use crate::domain::NetworkRecord;
use crate::error::Result;
use crate::usecase::identities::teardown::{done, remove_objects};
use crate::usecase::{Converged, Deps};

pub(super) async fn run<S: Provisioned, P: Builds>(deps: &Deps<S, P>, network: NetworkRecord) -> Result<Converged> {
    let network_id = network.id.clone();
    let identity = deps.store.get_identity(&network.identity_id).await?;
    let project = identity.as_ref().and_then(|i| i.objects.project_id.clone());
    let (domain, _) = deps.regions.domain_credential(&network.region_id)?;
    let project = match project {
        Some(p) => Some(p),
        // Made by an attempt that did not record it, or never made.
        None => deps.provider.find_project(&domain, &identity_object_name(&network.identity_id)).await?,
    };
    // The key pair its servers booted with belongs to the region's user, not to the project:
    // Keystone's removal of the project leaves it.
    if let Some(keypair) = deps.store.get_keypair(&network.identity_id).await?.filter(|k| k.registered) {
        let cred = deps.regions.credential_in(&network.region_id, project.as_deref())?;
        done(deps.provider.delete_keypair(&cred, &keypair.keypair_name).await)?;
    }
    if let Some(project) = &project {
        // Everything Neutron holds in the project, listed rather than taken from the record: the
        // project is the network's alone, so a duplicate a timed-out create made late, or what a
        // run made without recording it, goes too (Keystone removes no Neutron object with it).
        let cred = deps.regions.credential_in(&network.region_id, Some(project))?;
        super::sweep::empty_project(deps, &cred).await?;
    }
    if let Some(v) = network.objects.vlan_id {
        if let Some(physnet) = deps.regions.openstack_of(&network.region_id).and_then(|o| o.provider_networks.clone()) {
            deps.store.release_vlan(&network.region_id, &physnet.physical_network, v, &network.id).await?;
        }
    }
    super::free_allocation(deps, &network).await?;
    let objects = (network.region_id.as_str(), network.identity_id.as_str());
    remove_objects(deps, objects, identity.as_ref(), project.as_deref()).await?;
    deps.crash.hit(crash::TEARDOWN_AFTER_PROVIDER);
    deps.store.remove_provisioned_network(&network).await?;
    tracing::info!(network_id = %network_id, "network and its identity removed at the provider and in the table");
    Ok(Converged::Gone)
}
