//! `regions` Lambda: the regions and what they offer, as Unikorn's region service serves them:
//! GET /api/v1/organizations/{organizationID}/regions, .../regions/{regionID}/detail, /flavors,
//! /images, DELETE .../images/{imageID}, /externalnetworks; GET /api/v2/regions/{regionID}/images;
//! and GET /api/version. Flavors, images and external networks come from the region's catalogue
//! (this container's copy, the table's, or the provider's), so a warm read calls no provider.
//! The handler reads what API Gateway resolved (`routeKey`, `pathParameters`), calls the
//! use-case, and shapes the response; `main` builds [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::api::v1::regions::{ExternalNetwork, Flavor, RegionDetailRead, RegionRead, ServiceVersion};
use shared::api::v2::images::Image;
use shared::context::{CloudDeps, Keys, Needs};
use shared::error::Result;
use shared::http;
use shared::http::regions::{image_query, CACHEABLE, NO_CACHE};
use shared::http::routes::*;
use shared::http::Function;
use shared::usecase::regions;

pub async fn handle(deps: &CloudDeps, req: Request) -> Response<Body> {
    http::answer(&req, route(deps, &req)).await
}

fn header((name, value): (&'static str, &str)) -> [(&'static str, String); 1] {
    [(name, value.to_owned())]
}

async fn route(deps: &CloudDeps, req: &Request) -> Result<Response<Body>> {
    let api = http::api(req, Function::Regions)?;
    let cx = api.context(req)?;
    match api.route.key {
        GET_VERSION => {
            http::no_query(req)?;
            Ok(http::json(200, &ServiceVersion::of_this_build(), &header(NO_CACHE)))
        }
        LIST_IMAGES_V2 => {
            let query = image_query(req)?;
            let images = regions::list_images_v2(deps, &cx, &api.path(req, "regionID")?, &query).await?;
            Ok(http::json(200, &images.iter().map(Image::from).collect::<Vec<_>>(), &header(NO_CACHE)))
        }
        _ => organization_route(deps, req, &api, &cx).await,
    }
}

/// The v1 routes under `/api/v1/organizations/{organizationID}`.
async fn organization_route(
    deps: &CloudDeps,
    req: &Request,
    api: &http::Api,
    cx: &shared::usecase::Context,
) -> Result<Response<Body>> {
    http::no_query(req)?;
    let org = api.path(req, "organizationID")?;
    let region_id = || api.path(req, "regionID");
    match api.route.key {
        LIST_REGIONS => {
            let list = regions::list_regions(deps, cx, &org)?;
            Ok(http::json(200, &list.into_iter().map(RegionRead::from).collect::<Vec<_>>(), &header(NO_CACHE)))
        }
        GET_REGION_DETAIL => {
            let (region, kubernetes) = regions::region_detail(deps, cx, &org, &region_id()?)?;
            Ok(http::json(200, &RegionDetailRead::new(region, kubernetes), &header(NO_CACHE)))
        }
        LIST_FLAVORS => {
            let flavors = regions::list_flavors(deps, cx, &org, &region_id()?).await?;
            Ok(http::json(200, &flavors.iter().map(Flavor::from).collect::<Vec<_>>(), &header(CACHEABLE)))
        }
        LIST_IMAGES => {
            let images = regions::list_images(deps, cx, &org, &region_id()?).await?;
            Ok(http::json(200, &images.iter().map(Image::from).collect::<Vec<_>>(), &header(CACHEABLE)))
        }
        DELETE_IMAGE => {
            let image = api.path(req, "imageID")?;
            regions::delete_image(deps, cx, &org, &region_id()?, &image).await?;
            Ok(http::empty(202))
        }
        LIST_EXTERNAL_NETWORKS => {
            let networks = regions::list_external_networks(deps, cx, &org, &region_id()?).await?;
            Ok(http::json(200, &networks.iter().map(ExternalNetwork::from).collect::<Vec<_>>(), &header(CACHEABLE)))
        }
        _ => Err(http::unknown_route(req)),
    }
}

/// What this function needs at init: most reads answer from a catalogue copy, so tokens wait for
/// the first request that needs the provider; Kubernetes regions' kubeconfigs for their detail.
pub const NEEDS: Needs = Needs { keys: Keys::None, warm_provider: false, kubeconfigs: true };

/// What this function runs on, built once per container before the first event.
pub async fn deps() -> Result<CloudDeps> {
    shared::context::cloud_deps(NEEDS).await
}
