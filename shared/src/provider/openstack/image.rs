//! Glance: images.

use reqwest::Method;

use super::client::{OpenStackProvider, Service};
use super::convert::image_from_wire;
use super::wire::*;
use crate::provider::Result;
use crate::provider::{Image, ImageListing, ProviderCredential, Receipt};
use crate::text::percent_encode as encode;

pub(super) async fn get_image(p: &OpenStackProvider, cred: &ProviderCredential, id: &str) -> Result<Image> {
    let what = format!("image {id}");
    let image: GlanceImage =
        p.json(cred, Service::Image, Method::GET, &format!("/v2/images/{}", encode(id)), None, &what).await?;
    Ok(image_from_wire(image))
}

/// Glance filters a listing on any image property given as a query parameter.
pub(super) async fn find_image(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    property: &str,
    value: &str,
) -> Result<Option<Image>> {
    let path = format!("/v2/images?{}={}&limit=1", encode(property), encode(value));
    let what = format!("images with {property}");
    let list: GlanceImageList = p.json(cred, Service::Image, Method::GET, &path, None, &what).await?;
    Ok(list.images.into_iter().next().map(image_from_wire))
}

/// Every image the listing asks for, following Glance's `next` links.
pub(super) async fn list_images(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    listing: &ImageListing<'_>,
) -> Result<Vec<Image>> {
    let mut all = Vec::new();
    let visibility = if listing.public { "public" } else { "private" };
    let mut path = format!("/v2/images?visibility={visibility}&limit=500");
    if let Some((property, value)) = listing.property {
        path.push_str(&format!("&{}={}", encode(property), encode(value)));
    }
    loop {
        let page: GlanceImageList = p.json(cred, Service::Image, Method::GET, &path, None, "image list").await?;
        all.extend(page.images.into_iter().map(image_from_wire));
        match page.next {
            // Glance's link is the path from its root (`/v2/images?...&marker=...`).
            Some(next) if next.starts_with("/v2/images") => path = next,
            _ => return Ok(all),
        }
    }
}

pub(super) async fn delete_image(p: &OpenStackProvider, cred: &ProviderCredential, id: &str) -> Result<Receipt> {
    let what = format!("image {id}");
    Ok(p.send(cred, Service::Image, Method::DELETE, &format!("/v2/images/{}", encode(id)), None, &what).await?.1)
}

/// A JSON patch replacing `visibility` (Glance's `application/openstack-images-v2.1-json-patch`).
pub(super) async fn publish_image(p: &OpenStackProvider, cred: &ProviderCredential, id: &str) -> Result<Receipt> {
    let what = format!("image {id}");
    let patch = serde_json::json!([{"op": "replace", "path": "/visibility", "value": "public"}]);
    let path = format!("/v2/images/{}", encode(id));
    Ok(p.send_patch(cred, Service::Image, &path, &patch, "application/openstack-images-v2.1-json-patch", &what)
        .await?
        .1)
}
