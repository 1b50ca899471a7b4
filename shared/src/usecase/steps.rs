//! Steps several verbs take, in one place so no verb imports another: whether the provider can act
//! on a server, the image and flavor checks, the deletion mark, the refusals they share.

use super::catalog;
use super::refresh::{provider_id, refresh};
use super::{server_not_found, wrong_state, Deps};
use crate::domain::catalog::{OfferedFlavor, OfferedImage};
use crate::domain::{ActionRef, ApiVersion, Command, Networking, ProvisioningStatus, ServerRecord};
use crate::error::{Error, Result};
use crate::provider::{Compute, Flavors, ImageState, Images, Networking as Network};
use crate::store::{CatalogStore, ServerStore};

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

/// The networking a server asks for, checked before anything is written or created: a public IP
/// where the region offers no external network (its catalogue) is a 422 naming the field of the
/// route's version (the security groups it names are checked with the groups:
/// `security_groups::check_named`). Answers the external network a public IP comes from, when one
/// is asked for.
pub(crate) async fn check_networking<S: CatalogStore, P: Network>(
    deps: &Deps<S, P>,
    region: &str,
    version: ApiVersion,
    networking: Option<&Networking>,
) -> Result<Option<String>> {
    let Some(networking) = networking else { return Ok(None) };
    let v1 = version == ApiVersion::V1;
    if !networking.wants_public_ip() {
        return Ok(None);
    }
    match catalog::external_networks(deps, region).await?.first() {
        Some(external) => Ok(Some(external.id.clone())),
        None => {
            let field = if v1 { "spec.publicIPAllocation.enabled" } else { "spec.networking.publicIP" };
            Err(Error::unprocessable(format!(
                "{field}: region {region} offers no external network to allocate public addresses from"
            )))
        }
    }
}

/// The image and the flavor a server asks for, from the region's catalogue (no provider call while
/// it is fresh): both offered to the server's organization (422 naming the field otherwise), the
/// image ready, and the flavor's disk large enough for it.
pub(crate) async fn offered_image_and_flavor<S: CatalogStore, P: Images + Flavors>(
    deps: &Deps<S, P>,
    (region, organization): (&str, &str),
    image_id: &str,
    flavor_id: &str,
) -> Result<(OfferedImage, OfferedFlavor)> {
    let (image, flavor) =
        tokio::join!(offered_image(deps, (region, organization), image_id), offered_flavor(deps, region, flavor_id));
    let (image, flavor) = (image?, flavor?);
    check_disk(image.size_gib, &flavor, image_id)?;
    Ok((image, flavor))
}

/// An image the region offers the organization, ready to boot.
pub(crate) async fn offered_image<S: CatalogStore, P: Images>(
    deps: &Deps<S, P>,
    (region, organization): (&str, &str),
    image_id: &str,
) -> Result<OfferedImage> {
    let images = catalog::images(deps, region).await?;
    let image = images.iter().find(|i| i.id == image_id && i.offered_to(organization)).ok_or_else(|| {
        Error::unprocessable(format!("spec.imageId: region {region} offers no image {image_id} to this organization"))
    })?;
    if image.state != ImageState::Ready {
        let state = image.state.as_str();
        return Err(Error::unprocessable(format!(
            "spec.imageId: image {image_id} is {state}: only a ready image boots"
        )));
    }
    Ok(image.clone())
}

/// A flavor the region offers.
pub(crate) async fn offered_flavor<S: CatalogStore, P: Flavors>(
    deps: &Deps<S, P>,
    region: &str,
    flavor_id: &str,
) -> Result<OfferedFlavor> {
    let flavors = catalog::flavors(deps, region).await?;
    flavors
        .iter()
        .find(|f| f.id == flavor_id)
        .cloned()
        .ok_or_else(|| Error::unprocessable(format!("spec.flavorId: region {region} offers no flavor {flavor_id}")))
}

pub(crate) fn check_disk(min_disk_gib: u64, flavor: &OfferedFlavor, image_id: &str) -> Result<()> {
    if min_disk_gib > flavor.disk_gb {
        return Err(Error::unprocessable(format!(
            "spec.flavorId: image {image_id} needs a {min_disk_gib} GiB disk but flavor {} has {} GB",
            flavor.id, flavor.disk_gb
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
