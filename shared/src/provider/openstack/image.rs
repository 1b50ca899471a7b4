//! Glance: images.

use reqwest::Method;

use super::client::{OpenStackProvider, Service};
use super::convert::image_from_wire;
use super::wire::*;
use crate::error::{Error, Result};
use crate::provider::{Image, ImageFilter, ProviderCredential};
use crate::text::percent_encode as encode;

pub(super) async fn get_image(p: &OpenStackProvider, cred: &ProviderCredential, id: &str) -> Result<Image> {
    let what = format!("image {id}");
    let image: GlanceImage =
        p.json(cred, Service::Image, Method::GET, &format!("/v2/images/{}", encode(id)), None, &what).await?;
    Ok(image_from_wire(image))
}

pub(super) async fn list_images(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    filter: &ImageFilter,
) -> Result<Vec<Image>> {
    let mut query = vec![("limit".to_owned(), "200".to_owned())];
    for (key, value) in [("name", &filter.name), ("status", &filter.status), ("owner", &filter.owner)] {
        if let Some(v) = value {
            query.push((key.into(), v.clone()));
        }
    }
    query.extend(filter.tags.iter().map(|t| ("tag".to_owned(), t.clone())));
    let mut path =
        format!("/v2/images?{}", query.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&"));
    let mut images = Vec::new();
    // Glance pages with a `next` link; follow it to the end.
    for _ in 0..100 {
        let page: GlanceImageList = p.json(cred, Service::Image, Method::GET, &path, None, "image list").await?;
        images.extend(page.images.into_iter().map(image_from_wire));
        match page.next {
            Some(next) => path = next,
            None => return Ok(images),
        }
    }
    Err(Error::unavailable("the image list did not end after 100 pages"))
}
