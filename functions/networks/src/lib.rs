//! `networks` Lambda: POST/GET /api/v2/networks, GET/PUT/DELETE /api/v2/networks/{networkID},
//! PUT/DELETE /api/v2/networks/{networkID}/references/{reference}; and v1's
//! identities (POST/GET .../projects/{projectID}/identities, GET/DELETE .../identities/{identityID})
//! and networks (POST/GET .../identities/{identityID}/networks, GET/DELETE .../networks/{networkID}),
//! and the organization-wide v1 identity and network lists.
//! Versions differ only in body shapes, which `http::Api` chooses (as for servers).
//! The handler reads what API Gateway resolved (`routeKey`, `pathParameters`), calls the
//! use-case, and shapes the response; `main` builds [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::api::v1::identities::{IdentityRead, IdentityWrite};
use shared::context::StoreDeps;
use shared::error::Result;
use shared::http;
use shared::http::routes::*;
use shared::http::Function;
use shared::usecase::Context;
use shared::usecase::{identities, networks};

pub async fn handle(deps: &StoreDeps, req: Request) -> Response<Body> {
    http::answer(&req, route(deps, &req)).await
}

async fn route(deps: &StoreDeps, req: &Request) -> Result<Response<Body>> {
    let api = http::api(req, Function::Networks)?;
    let cx = api.context(req)?;
    if api.route.key == LIST_NETWORKS {
        let params = http::network_list_params(req)?;
        return Ok(api.networks(&networks::list_networks(deps, &cx, &params).await?));
    }
    http::no_query(req)?;
    match api.route.key {
        CREATE_NETWORK | CREATE_NETWORK_V1 => {
            let record = networks::create_network(deps, &cx, api.network_create(req)?).await?;
            Ok(api.network(201, &record))
        }
        LIST_NETWORKS_V1 | LIST_ORGANIZATION_NETWORKS_V1 => {
            Ok(api.networks(&networks::list_networks(deps, &cx, &Default::default()).await?))
        }
        UPDATE_NETWORK => {
            let id = http::path_id(req, "networkID")?;
            let input = api.network_update(req)?;
            Ok(api.network(202, &networks::update_network(deps, &cx, &id, input).await?))
        }
        ADD_NETWORK_REFERENCE | REMOVE_NETWORK_REFERENCE => {
            let id = http::path_id(req, "networkID")?;
            let reference = http::path_text(req, "reference")?;
            if api.route.key == ADD_NETWORK_REFERENCE {
                networks::add_reference(deps, &cx, (&id, &reference)).await?;
                return Ok(http::empty_uncached(201));
            }
            networks::remove_reference(deps, &cx, (&id, &reference)).await?;
            Ok(http::empty_uncached(204))
        }
        GET_NETWORK | GET_NETWORK_V1 => {
            let id = http::path_id(req, "networkID")?;
            Ok(api.network(200, &networks::get_network(deps, &cx, &id).await?))
        }
        DELETE_NETWORK | DELETE_NETWORK_V1 => {
            let id = http::path_id(req, "networkID")?;
            networks::delete_network(deps, &cx, &id).await?;
            Ok(http::empty(202))
        }
        _ => identity_route(deps, req, &api, &cx).await,
    }
}

/// The v1 identity routes (identities live beside the networks under them).
async fn identity_route(deps: &StoreDeps, req: &Request, api: &http::Api, cx: &Context) -> Result<Response<Body>> {
    match api.route.key {
        CREATE_IDENTITY_V1 => {
            let (org, project) = (api.path(req, "organizationID")?, api.path(req, "projectID")?);
            let input = http::json_body::<IdentityWrite>(req)?.parse(&org, &project)?;
            let record = identities::create_identity(deps, cx, input).await?;
            let view = shared::domain::IdentityView { record, openstack: None };
            Ok(http::json(201, &IdentityRead::from(&view), &[]))
        }
        LIST_IDENTITIES_V1 | LIST_ORGANIZATION_IDENTITIES_V1 => {
            let list = identities::list_identities(deps, cx).await?;
            Ok(http::json(200, &list.iter().map(IdentityRead::from).collect::<Vec<_>>(), &[]))
        }
        GET_IDENTITY_V1 => {
            let id = http::path_id(req, "identityID")?;
            Ok(http::json(200, &IdentityRead::from(&identities::get_identity(deps, cx, &id).await?), &[]))
        }
        DELETE_IDENTITY_V1 => {
            let id = http::path_id(req, "identityID")?;
            identities::delete_identity(deps, cx, &id).await?;
            Ok(http::empty(202))
        }
        _ => Err(http::unknown_route(req)),
    }
}

/// What this function runs on, built once per container before the first event: the table,
/// identity for the networks' quota allocations, and the key that opens what a v1 identity's read
/// hands out.
pub async fn deps() -> Result<StoreDeps> {
    let sdk = shared::aws::Sdk::from_env()?;
    let mut deps = shared::context::store_deps_on(shared::context::store_from_env(&sdk)?).await?;
    deps.allocations = shared::context::allocations_from_env(&sdk).await?;
    deps.sealer = Some(std::sync::Arc::new(shared::context::sealer_from_env(&sdk).await?));
    Ok(deps)
}
