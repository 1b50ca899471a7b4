//! Glance: images.

use reqwest::Method;

use super::client::{OpenStackProvider, Service};
use super::convert::image_from_wire;
use super::wire::*;
use crate::provider::Result;
use crate::provider::{Image, ProviderCredential};
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
