//! Takes a network down in Unikorn's order: the router's interface, the router, the subnet, the
//! network (and anything else left in its project), its VLAN; then its hidden identity's user (with
//! its application credential) and project; then the records. Each object is found by its recorded id or, where an attempt made it
//! without recording it, by name; one already gone is done. The record stays (`deprovisioning`)
//! until the last object is gone, so a run stopped anywhere is finished by the next.

use super::provision::{Builds, Converged, Provisioned};
use crate::crash;
use crate::domain::provisioned::{identity_object_name, network_object_name};
use crate::domain::NetworkRecord;
use crate::error::{Error, Result};
use crate::provider::ProviderError;
use crate::usecase::Deps;

/// A delete whose object is already gone succeeded.
fn done(result: crate::provider::Result<()>) -> Result<()> {
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
    if let Some(project) = &project {
        take_down_network(deps, &network, project).await?;
        // Anything else in the project (a duplicate a timed-out create made late): the project is
        // the network's alone, and Keystone removes no Neutron object with it.
        let cred = deps.regions.credential_in(&network.region_id, Some(project))?;
        super::sweep::empty_project(deps, &cred).await?;
    }
    if let Some(v) = network.objects.vlan_id {
        if let Some(physnet) = deps.regions.openstack_of(&network.region_id).and_then(|o| o.provider_networks.clone()) {
            deps.store.release_vlan(&network.region_id, &physnet.physical_network, v, &network.id).await?;
        }
    }
    let name = identity_object_name(&network.identity_id);
    let user = match identity.as_ref().and_then(|i| i.objects.user_id.clone()) {
        Some(u) => Some(u),
        None => deps.provider.find_user(&domain, &name).await?,
    };
    if let Some(user) = user {
        // Revoked on its own first: Keystone's removal of a user's credentials with the user is a
        // bulk delete that leaves their role rows behind on a database without foreign keys.
        if let Some(as_user) = identity.as_ref().and_then(|i| credential_of_user(deps, i, &domain.auth_url, &user)) {
            let (cred, credential) = as_user?;
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

/// The identity's own user's credential (its sealed password opened) and its application
/// credential's id, where both are recorded: only the user itself may revoke its credential.
fn credential_of_user<S, P>(
    deps: &Deps<S, P>,
    identity: &crate::domain::IdentityRecord,
    auth_url: &str,
    user: &str,
) -> Option<Result<(crate::provider::ProviderCredential, String)>> {
    let objects = &identity.objects;
    let (sealed, credential, project) =
        (objects.sealed_password.as_ref()?, objects.application_credential_id.clone()?, objects.project_id.clone()?);
    Some((|| {
        let opened = deps.sealer()?.open(sealed, &format!("identity:{}", identity.id))?;
        let password =
            String::from_utf8(opened).map_err(|_| Error::internal("an identity's sealed password is not text"))?;
        let cred = crate::provider::ProviderCredential {
            auth_url: auth_url.to_owned(),
            user_id: user.to_owned(),
            password,
            scope: crate::provider::CredentialScope::Project(project),
        };
        Ok((cred, credential))
    })())
}

async fn take_down_network<S: Provisioned, P: Builds>(
    deps: &Deps<S, P>,
    network: &NetworkRecord,
    project: &str,
) -> Result<()> {
    let cred = deps.regions.credential_in(&network.region_id, Some(project))?;
    let name = network_object_name(&network.id);
    let objects = &network.objects;
    let router = match &objects.router_id {
        Some(r) => Some(r.clone()),
        None => deps.provider.find_router(&cred, &name).await?,
    };
    let subnet = match &objects.subnet_id {
        Some(s) => Some(s.clone()),
        None => deps.provider.find_subnet(&cred, &name).await?.map(|(id, _)| id),
    };
    if let (Some(router), Some(subnet)) = (&router, &subnet) {
        done(deps.provider.remove_interface(&cred, router, subnet).await)?;
    }
    if let Some(router) = &router {
        done(deps.provider.delete_router(&cred, router).await)?;
    }
    if let Some(subnet) = &subnet {
        done(deps.provider.delete_subnet(&cred, subnet).await)?;
    }
    let provider_network = match &objects.network_id {
        Some(n) => Some(n.clone()),
        None => deps.provider.find_network(&cred, &name).await?.map(|n| n.id),
    };
    if let Some(id) = provider_network {
        match deps.provider.delete_network(&cred, &id).await {
            Ok(()) | Err(ProviderError::NotFound { .. }) => {}
            // Ports left on it (a server's, being deleted): the next run tries again.
            Err(ProviderError::Conflict { detail, .. }) => {
                return Err(Error::unavailable(format!("network {} still has ports: {detail}", network.id)))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
