//! `networks` Lambda: POST/GET /api/v2/networks, GET/DELETE /api/v2/networks/{networkID}.
//! The handler reads what API Gateway resolved (`routeKey`, `pathParameters`), calls the
//! use-case, and shapes the response; `main` builds [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::api::networks::{NetworkV2Create, NetworkV2Read};
use shared::context::StoreDeps;
use shared::error::Result;
use shared::http;
use shared::http::routes::{CREATE_NETWORK, DELETE_NETWORK, GET_NETWORK, LIST_NETWORKS};
use shared::usecase::networks;

pub async fn handle(deps: &StoreDeps, req: Request) -> Response<Body> {
    http::answer(&req, route(deps, &req)).await
}

async fn route(deps: &StoreDeps, req: &Request) -> Result<Response<Body>> {
    let caller = http::caller(req, deps.clock.now().timestamp())?;
    http::no_query(req)?;
    match http::route_key(req) {
        CREATE_NETWORK => {
            let input = http::json_body::<NetworkV2Create>(req)?.parse()?;
            let record = networks::create_network(deps, &caller, input).await?;
            Ok(http::json(201, &NetworkV2Read::from(&record), &[]))
        }
        LIST_NETWORKS => {
            let list = networks::list_networks(deps, &caller).await?;
            Ok(http::json(200, &list.iter().map(NetworkV2Read::from).collect::<Vec<_>>(), &[]))
        }
        GET_NETWORK => {
            let id = http::path_id(req, "networkID")?;
            Ok(http::json(200, &NetworkV2Read::from(&networks::get_network(deps, &caller, &id).await?), &[]))
        }
        DELETE_NETWORK => {
            let id = http::path_id(req, "networkID")?;
            networks::delete_network(deps, &caller, &id).await?;
            Ok(http::empty(202))
        }
        _ => Err(http::unknown_route(req)),
    }
}

/// What this function runs on, built once per container before the first event.
pub async fn deps() -> Result<StoreDeps> {
    shared::context::store_deps().await
}
