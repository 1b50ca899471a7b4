//! Orphans at the provider: a project named `unikorn-identity-<id>`, tagged as this deployment's
//! (another deployment sharing the cloud has its own records), whose identity record is gone
//! holds nothing of ours any more (a record goes only after its teardown, and a project is made
//! only after its record), so whatever is in it was left by a run that raced a teardown or made an
//! object after the provider's answer was lost: its routers, subnets, networks, user and the project
//! itself are removed. One Keystone listing per region and run.

use super::provision::{Builds, Provisioned};
use crate::domain::provisioned::identity_object_name;
use crate::error::Result;
use crate::provider::{ProviderCredential, ProviderError};
use crate::usecase::identities::teardown::done;
use crate::usecase::Deps;

/// Every project the product names; the identity id follows the prefix.
const PREFIX: &str = "unikorn-identity-";

/// Sweeps a region's orphaned projects; answers how many were removed.
pub async fn sweep_region<S: Provisioned, P: Builds>(deps: &Deps<S, P>, region: &str) -> Result<usize> {
    let (domain, _) = deps.regions.domain_credential(region)?;
    let mut removed = 0;
    for (project, name) in deps.provider.list_projects(&domain, PREFIX, &deps.store.owner_tag()).await? {
        let identity = name.trim_start_matches(PREFIX);
        if deps.store.get_identity(identity).await?.is_some() {
            continue;
        }
        tracing::info!(project_id = %project, identity_id = %identity, "orphaned project: its identity record is gone");
        let cred = deps.regions.credential_in(region, Some(&project))?;
        empty_project(deps, &cred, None).await?;
        if let Some(user) = deps.provider.find_user(&domain, &identity_object_name(identity)).await? {
            done(deps.provider.delete_user(&domain, &user).await)?;
        }
        done(deps.provider.delete_project(&domain, &project).await)?;
        removed += 1;
    }
    Ok(removed)
}

/// Removes the routers (their interfaces first), subnets and networks of a project: all of them,
/// or (`named`) only those of that name (a v1 network's, in the project its identity's other
/// networks share).
pub(super) async fn empty_project<S: Provisioned, P: Builds>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    named: Option<&str>,
) -> Result<()> {
    let mut objects = match deps.provider.list_objects(cred).await {
        Ok(objects) => objects,
        // The region's user never took its role there: nothing can have been made in it.
        Err(ProviderError::Unauthorized(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if let Some(name) = named {
        for list in [&mut objects.routers, &mut objects.subnets, &mut objects.networks] {
            list.retain(|(_, n)| n == name);
        }
    }
    for (router, _) in &objects.routers {
        for (subnet, _) in &objects.subnets {
            done(deps.provider.remove_interface(cred, router, subnet).await)?;
        }
        done(deps.provider.delete_router(cred, router).await)?;
    }
    for (subnet, _) in &objects.subnets {
        done(deps.provider.delete_subnet(cred, subnet).await)?;
    }
    for (network, _) in &objects.networks {
        done(deps.provider.delete_network(cred, network).await)?;
    }
    Ok(())
}
