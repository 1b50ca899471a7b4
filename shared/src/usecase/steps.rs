//! Steps several verbs take, in one place so no verb imports another: whether the provider can act
//! on a server, the image and flavor checks, the deletion mark, the refusals they share.

use super::refresh::{provider_id, refresh};
use super::{server_not_found, wrong_state, Deps};
use crate::domain::{ActionRef, ApiVersion, Command, Networking, ProvisioningStatus, ServerRecord};
use crate::error::{Error, Result};
use crate::provider::{
    Compute, Flavor, Flavors, Image, Images, Networking as Network, ProviderCredential, ProviderError,
};
use crate::store::ServerStore;

/// A server the provider can act on: settled enough, with its provider id. No provider call is
/// made for a record that is being deleted; one still provisioning is re-read once.
pub(crate) async fn actionable<S: ServerStore, P: Compute + Network>(
    deps: &Deps<S, P>,
    record: ServerRecord,
    verb: &str,
) -> Result<(ServerRecord, String)> {
    let id = record.id.clone();
    if record.is_deleting() {
        return Err(wrong_state(verb));
    }
    let record = if record.provisioning_status == ProvisioningStatus::Provisioning {
        refresh(deps, record).await?.ok_or_else(|| server_not_found(&id))?
    } else {
        record
    };
    if record.provisioning_status == ProvisioningStatus::Provisioning {
        return Err(wrong_state(verb));
    }
    let pid = provider_id(deps, &record).await?.ok_or_else(|| server_not_found(&id))?;
    Ok((record, pid))
}

pub(crate) fn network_not_found(id: &str) -> Error {
    Error::not_found(format!("no network found with id {id}"))
}

/// The networking a server asks for, checked at the provider before anything is written or
/// created: a security group the project does not have, or a public IP where the cloud has no
/// external network, is a 422 naming the field of the route's version. Answers the external
/// network a public IP comes from, when one is asked for.
pub(crate) async fn check_networking<S, P: Network>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    version: ApiVersion,
    networking: Option<&Networking>,
) -> Result<Option<String>> {
    let Some(networking) = networking else { return Ok(None) };
    let v1 = version == ApiVersion::V1;
    if !networking.groups().is_empty() {
        let missing = deps.provider.missing_security_groups(cred, networking.groups()).await?;
        if !missing.is_empty() {
            let field = if v1 { "spec.securityGroups" } else { "spec.networking.securityGroups" };
            return Err(Error::unprocessable(format!(
                "{field}: no security group with id {} in the server's project at the provider",
                missing.join(", ")
            )));
        }
    }
    if !networking.wants_public_ip() {
        return Ok(None);
    }
    match deps.provider.external_network(cred).await? {
        Some(external) => Ok(Some(external)),
        None => {
            let field = if v1 { "spec.publicIPAllocation.enabled" } else { "spec.networking.publicIP" };
            Err(Error::unprocessable(format!(
                "{field}: the region's cloud has no external network to allocate public addresses from"
            )))
        }
    }
}

/// The image, checked to be active and to fit the flavor's disk (the flavor must exist).
pub(crate) async fn validate_image_and_flavor<S, P: Images + Flavors>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    image_id: &str,
    flavor_id: &str,
) -> Result<Image> {
    let image = deps.provider.get_image(cred, image_id).await.map_err(|e| match e {
        ProviderError::NotFound { .. } => Error::not_found(format!("no image found with id {image_id}")),
        other => other.into(),
    })?;
    if !image.is_ready() {
        return Err(Error::not_found(format!("image {image_id} is not ready ({:?})", image.state)));
    }
    let flavor = get_flavor(deps, cred, flavor_id).await?;
    check_disk(image.min_disk_gib, &flavor, image_id)?;
    Ok(image)
}

pub(crate) async fn get_flavor<S, P: Flavors>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    flavor_id: &str,
) -> Result<Flavor> {
    deps.provider.get_flavor(cred, flavor_id).await.map_err(|e| match e {
        ProviderError::NotFound { .. } => Error::not_found(format!("no flavor found with id {flavor_id}")),
        other => other.into(),
    })
}

pub(crate) fn check_disk(min_disk_gib: u64, flavor: &Flavor, image_id: &str) -> Result<()> {
    if min_disk_gib > flavor.disk_gib {
        return Err(Error::unprocessable(format!(
            "image {image_id} needs a {min_disk_gib} GiB disk but flavor {} has {} GiB",
            flavor.id, flavor.disk_gib
        )));
    }
    Ok(())
}

/// The record as the cleanup function (or a delete) marks it for deletion.
pub(crate) fn deprovisioning(record: &ServerRecord, now: chrono::DateTime<chrono::Utc>, by: &str) -> ServerRecord {
    let mut dying = record.clone();
    dying.provisioning_status = ProvisioningStatus::Deprovisioning;
    dying.deletion_time = Some(now);
    dying.modified_by = Some(by.to_owned());
    dying.modified_time = Some(now);
    dying.action = Some(ActionRef::start(Command::DeleteServer, by, now));
    dying
}

pub(crate) fn protected(id: &str) -> Error {
    Error::conflict(format!(
        "server {id} is protected from deletion (its protection's delete is true): change its protection first"
    ))
}
