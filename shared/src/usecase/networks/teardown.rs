//! Takes a network down in Unikorn's order: the routers' interfaces, the routers, the subnets, the
//! networks of its project (listed: whatever is there, recorded or not), the key pair its servers
//! booted with, its VLAN, its quota
//! allocation in identity; then its hidden
//! identity's application credential, user and project, found by recorded id or by name; then the
//! records. One already gone is done. The record stays (`deprovisioning`) until the last object
//! is gone, so a run stopped anywhere is finished by the next.

use super::provision::{open_password, user_credential, Builds, Converged, Provisioned};
use crate::crash;
use crate::domain::provisioned::identity_object_name;
use crate::domain::{IdentityRecord, NetworkRecord};
use crate::error::Result;
use crate::provider::{ProviderCredential, ProviderError};
use crate::usecase::Deps;

/// A delete whose object is already gone succeeded.
pub(super) fn done(result: crate::provider::Result<()>) -> Result<()> {
    match result {
        Ok(()) | Err(ProviderError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

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
    let name = identity_object_name(&network.identity_id);
    let user = match identity.as_ref().and_then(|i| i.objects.user_id.clone()) {
        Some(u) => Some(u),
        None => deps.provider.find_user(&domain, &name).await?,
    };
    if let Some(user) = user {
        // Revoked on its own first: Keystone's removal of a user's credentials with the user is a
        // bulk delete that leaves their role rows behind on a database without foreign keys.
        let as_user = match &identity {
            Some(i) => credential_of_user(deps, i, &domain.auth_url, &user)?,
            None => None,
        };
        if let Some((cred, credential)) = as_user {
            done(deps.provider.delete_application_credential(&cred, &user, &credential).await)?;
        }
        done(deps.provider.delete_user(&domain, &user).await)?;
    }
    if let Some(project) = &project {
        done(deps.provider.delete_project(&domain, project).await)?;
    }
    deps.crash.hit(crash::TEARDOWN_AFTER_PROVIDER);
    deps.store.remove_provisioned_network(&network).await?;
    tracing::info!(network_id = %network_id, "network and its identity removed at the provider and in the table");
    Ok(Converged::Gone)
}

/// The identity's own user's credential and its application credential's id, where both are
/// recorded: only the user itself may revoke its credential.
fn credential_of_user<S, P>(
    deps: &Deps<S, P>,
    identity: &IdentityRecord,
    auth_url: &str,
    user: &str,
) -> Result<Option<(ProviderCredential, String)>> {
    let objects = &identity.objects;
    let (Some(credential), Some(project)) = (&objects.application_credential_id, &objects.project_id) else {
        return Ok(None);
    };
    let Some(password) = open_password(deps, identity)? else { return Ok(None) };
    Ok(Some((user_credential(auth_url, user, password, project), credential.clone())))
}
