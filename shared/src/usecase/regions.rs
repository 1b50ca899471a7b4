//! Regions and what they offer (Unikorn's `pkg/handler/region`): the regions a caller sees, their
//! detail, flavors, images (global and an organization's own), external networks, and deleting an
//! organization's image. Each route checks Unikorn's RBAC endpoint on the path's organization,
//! then the region's visibility (404 for a region missing or hidden alike), then that it is an
//! OpenStack region where the route needs one (400).

use super::catalog;
use super::{Context, Deps};
use crate::domain::catalog::{OfferedFlavor, OfferedImage};
use crate::error::{Error, Result};
use crate::provider::networking::ExternalNetwork;
use crate::provider::{Flavors, ImageState, Images, Networking, ProviderError};
use crate::rbac::{Operation, EXTERNAL_NETWORKS, FLAVORS, IMAGES, REGIONS, REGION_DETAIL};
use crate::regions::Region;
use crate::store::CatalogStore;

/// What a kubernetes region's detail shows (Unikorn's `regionDetailKubernetes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubernetesDetail {
    pub kubeconfig: String,
    pub domain_name: Option<String>,
}

/// Every region the caller sees (`region:regions` read on the organization).
pub fn list_regions<'a, S, P>(deps: &'a Deps<S, P>, cx: &'a Context, organization: &str) -> Result<Vec<&'a Region>> {
    cx.caller.acl.require(organization, None, REGIONS, Operation::Read)?;
    Ok(deps.regions.visible_all(&cx.caller).collect())
}

/// A region's detail (`region:regions/detail` read): never a credential; a kubernetes region's
/// kubeconfig, as Unikorn shows it.
pub fn region_detail<'a, S, P>(
    deps: &'a Deps<S, P>,
    cx: &'a Context,
    organization: &str,
    region: &str,
) -> Result<(&'a Region, Option<KubernetesDetail>)> {
    cx.caller.acl.require(organization, None, REGION_DETAIL, Operation::Read)?;
    let region = deps.regions.visible(&cx.caller, region)?;
    let kubernetes = match &region.kubernetes {
        Some(k) => Some(KubernetesDetail {
            kubeconfig: deps.regions.kubeconfig(&region.id)?.to_owned(),
            domain_name: k.domain_name.clone(),
        }),
        None => None,
    };
    Ok((region, kubernetes))
}

/// The region's flavors (`region:flavors` read), in Unikorn's order.
pub async fn list_flavors<S: CatalogStore, P: Flavors>(
    deps: &Deps<S, P>,
    cx: &Context,
    organization: &str,
    region: &str,
) -> Result<std::sync::Arc<Vec<OfferedFlavor>>> {
    cx.caller.acl.require(organization, None, FLAVORS, Operation::Read)?;
    let (region, _) = deps.regions.openstack(&cx.caller, region)?;
    super::admit(deps, organization).await?;
    catalog::flavors(deps, &region.id).await
}

/// The region's images offered to the path's organization (`region:images` read): global ones and
/// its own, ready ones only, by name (Unikorn's v1 list).
pub async fn list_images<S: CatalogStore, P: Images>(
    deps: &Deps<S, P>,
    cx: &Context,
    organization: &str,
    region: &str,
) -> Result<Vec<OfferedImage>> {
    cx.caller.acl.require(organization, None, IMAGES, Operation::Read)?;
    let (region, _) = deps.regions.openstack(&cx.caller, region)?;
    super::admit(deps, organization).await?;
    let images = catalog::images(deps, &region.id).await?;
    Ok(by_name(images.iter().filter(|i| i.offered_to(organization) && i.state == ImageState::Ready)))
}

/// `scope` of the v2 image list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageScope {
    /// Only the organizations' own images.
    Owned,
    /// Global images and the organizations' own (the default).
    Available,
}

/// The v2 image list's filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageQuery {
    pub organization_ids: Vec<String>,
    pub scope: Option<ImageScope>,
    /// Empty: every state.
    pub states: Vec<ImageState>,
}

/// `GET /api/v2/regions/{regionID}/images`: no RBAC of its own; each organization asked for is
/// kept only where the caller may read `region:images` there (the others dropped silently, as
/// Unikorn drops them); none asked for or kept: global images only (none for `owned`).
pub async fn list_images_v2<S: CatalogStore, P: Images>(
    deps: &Deps<S, P>,
    cx: &Context,
    region: &str,
    query: &ImageQuery,
) -> Result<Vec<OfferedImage>> {
    let (region, _) = deps.regions.openstack(&cx.caller, region)?;
    let kept: Vec<&String> =
        query.organization_ids.iter().filter(|o| cx.caller.acl.allows(o, None, IMAGES, Operation::Read)).collect();
    for organization in &kept {
        super::admit(deps, organization).await?;
    }
    let images = catalog::images(deps, &region.id).await?;
    let owned = |i: &OfferedImage| i.organization.as_ref().is_some_and(|o| kept.contains(&o));
    let scoped = |i: &OfferedImage| match query.scope.unwrap_or(ImageScope::Available) {
        ImageScope::Owned => owned(i),
        ImageScope::Available => i.organization.is_none() || owned(i),
    };
    let stated = |i: &OfferedImage| query.states.is_empty() || query.states.contains(&i.state);
    Ok(by_name(images.iter().filter(|i| scoped(i) && stated(i))))
}

fn by_name<'a>(images: impl Iterator<Item = &'a OfferedImage>) -> Vec<OfferedImage> {
    let mut images: Vec<OfferedImage> = images.cloned().collect();
    images.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    images
}

/// Deletes one of the path organization's own images (`region:images` delete): another's, a global
/// one or an unknown one is 404; one in use is 409, and stays.
pub async fn delete_image<S: CatalogStore, P: Images>(
    deps: &Deps<S, P>,
    cx: &Context,
    organization: &str,
    region: &str,
    image_id: &str,
) -> Result<()> {
    cx.caller.acl.require(organization, None, IMAGES, Operation::Delete)?;
    let (region, _) = deps.regions.openstack(&cx.caller, region)?;
    let not_found = || Error::not_found(format!("no image found with id {image_id}"));
    let images = catalog::images(deps, &region.id).await?;
    let image = images.iter().find(|i| i.id == image_id).ok_or_else(not_found)?;
    if image.organization.as_deref() != Some(organization) {
        return Err(not_found());
    }
    super::admit(deps, organization).await?;
    let cred = super::credential(deps, &region.id)?;
    match deps.provider.delete_image(&cred, image_id).await {
        Ok(_) => {}
        Err(ProviderError::NotFound { .. }) => return Err(not_found()),
        Err(ProviderError::Conflict { .. }) => {
            return Err(Error::conflict(format!("image {image_id} is in use and cannot be deleted")))
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(image_id, "image deleted");
    catalog::images_changed(deps, &region.id).await;
    Ok(())
}

/// The region's external networks (`region:externalnetworks` read), as its selector narrows them.
pub async fn list_external_networks<S: CatalogStore, P: Networking>(
    deps: &Deps<S, P>,
    cx: &Context,
    organization: &str,
    region: &str,
) -> Result<std::sync::Arc<Vec<ExternalNetwork>>> {
    cx.caller.acl.require(organization, None, EXTERNAL_NETWORKS, Operation::Read)?;
    let (region, _) = deps.regions.openstack(&cx.caller, region)?;
    super::admit(deps, organization).await?;
    catalog::external_networks(deps, &region.id).await
}
