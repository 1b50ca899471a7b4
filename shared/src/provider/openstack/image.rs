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
