//! Takes an identity down at the provider, in Unikorn's order: as its own user, the key pair and
//! server group it handed out (a v1 identity's) and its application credential; then its user and
//! project, found by recorded id or by name. One already gone is done. A v2 network's teardown
//! calls [`remove_objects`] for its hidden identity; a v1 identity is [`retire`]d once the networks
//! under it are gone.

use super::provision::{open_password, user_credential, IdentityStores, Provides};
use super::release_networks;
use crate::domain::provisioned::{identity_object_name, IDENTITY_KEYPAIR_NAME};
use crate::domain::IdentityRecord;
use crate::error::Result;
use crate::provider::{ProviderCredential, ProviderError};
use crate::store::{NetworkStore, StoreError};
use crate::usecase::security_groups::{groups_under, remove_groups};
use crate::usecase::{Converged, Deps};

/// A delete whose object is already gone succeeded.
pub(crate) fn done(result: crate::provider::Result<()>) -> Result<()> {
    match result {
        Ok(()) | Err(ProviderError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Removes the identity's objects at the provider (`identity`: its record, where it still exists;
/// `project`: its project, recorded or found).
pub(crate) async fn remove_objects<S: IdentityStores, P: Provides>(
    deps: &Deps<S, P>,
    (region, identity_id): (&str, &str),
    identity: Option<&IdentityRecord>,
    project: Option<&str>,
) -> Result<()> {
    let (domain, _) = deps.regions.domain_credential(region)?;
    let name = identity_object_name(identity_id);
    let user = match identity.and_then(|i| i.objects.user_id.clone()) {
        Some(u) => Some(u),
        None => deps.provider.find_user(&domain, &name).await?,
    };
    if let Some(user) = user {
        let own = match identity {
            Some(i) => own_credential(deps, i, &domain.auth_url, &user)?.map(|c| (i, c)),
            None => None,
        };
        if let Some((identity, as_user)) = own {
            let objects = &identity.objects;
            if objects.keypair {
                done(deps.provider.delete_keypair(&as_user, IDENTITY_KEYPAIR_NAME).await)?;
            }
            if let Some(group) = &objects.server_group_id {
                done(deps.provider.delete_server_group(&as_user, group).await)?;
            }
            // Revoked on its own first: Keystone's removal of a user's credentials with the user
            // is a bulk delete that leaves their role rows behind on a database without foreign keys.
            if let Some(credential) = &objects.application_credential_id {
                done(deps.provider.delete_application_credential(&as_user, &user, credential).await)?;
            }
        }
        done(deps.provider.delete_user(&domain, &user).await)?;
    }
    if let Some(project) = project {
        done(deps.provider.delete_project(&domain, project).await)?;
    }
    Ok(())
}

/// Deletes the key pair the identity's servers booted with (`unikorn-<identity>`, registered as
/// the region's user, with `project` its scope, where the servers were), and its record's
/// registration: it belongs to the user, so Keystone's removal of the project leaves it.
pub(crate) async fn remove_region_keypair<S: IdentityStores, P: Provides>(
    deps: &Deps<S, P>,
    (region, identity_id): (&str, &str),
    project: Option<&str>,
) -> Result<()> {
    if let Some(keypair) = deps.store.get_keypair(identity_id).await?.filter(|k| k.registered) {
        let cred = deps.regions.credential_in(region, project)?;
        done(deps.provider.delete_keypair(&cred, &keypair.keypair_name).await)?;
    }
    Ok(())
}

/// The identity's own user, by its password, in its project, where both are recorded.
fn own_credential<S, P>(
    deps: &Deps<S, P>,
    identity: &IdentityRecord,
    auth_url: &str,
    user: &str,
) -> Result<Option<ProviderCredential>> {
    let Some(project) = &identity.objects.project_id else { return Ok(None) };
    let Some(password) = open_password(deps, identity)? else { return Ok(None) };
    Ok(Some(user_credential(auth_url, user, password, project)))
}

/// A v1 identity being deleted: the networks under it go first (each deleted, or marked to go
/// with its last server); once none is left, its objects at the provider, then its records.
pub(crate) async fn retire<S: IdentityStores + NetworkStore, P: Provides>(
    deps: &Deps<S, P>,
    identity: IdentityRecord,
) -> Result<Converged> {
    let networks = deps.store.list_networks(&super::networks_of(&identity)).await?;
    if !release_networks(deps, &networks).await? {
        return Ok(Converged::Settled(crate::domain::Stage::Deprovisioning));
    }
    let project = match identity.objects.project_id.clone() {
        Some(p) => Some(p),
        None => {
            let (domain, _) = deps.regions.domain_credential(&identity.region_id)?;
            deps.provider.find_project(&domain, &identity_object_name(&identity.id)).await?
        }
    };
    // Its security groups, in its project, before the project goes.
    let cred = project.as_deref().map(|p| deps.regions.credential_in(&identity.region_id, Some(p))).transpose()?;
    remove_groups(deps, &groups_under(&identity), cred.as_ref()).await?;
    let objects = (identity.region_id.as_str(), identity.id.as_str());
    remove_region_keypair(deps, objects, project.as_deref()).await?;
    remove_objects(deps, objects, Some(&identity), project.as_deref()).await?;
    deps.store.delete_keypair_record(&identity.id).await?;
    match deps.store.delete_identity(&identity.id).await {
        Ok(()) | Err(StoreError::Missing(..)) => {
            tracing::info!(identity_id = %identity.id, "identity removed at the provider and in the table");
            Ok(Converged::Gone)
        }
        // A network was made under it meanwhile (before its delete was recorded): next run.
        Err(StoreError::InUse(..)) => Ok(Converged::Settled(crate::domain::Stage::Deprovisioning)),
        Err(e) => Err(e.into()),
    }
}
