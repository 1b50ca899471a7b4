//! `list` Lambda: GET /api/v2/servers.
//! The handler reads what API Gateway resolved (`routeKey`, `pathParameters`), calls the
//! use-case, and shapes the response; `main` builds [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::api::servers::ServerV2Read;
use shared::context::StoreDeps;
use shared::error::Result;
use shared::http;
use shared::usecase;

pub async fn handle(deps: &StoreDeps, req: Request) -> Response<Body> {
    http::answer(&req, list(deps, &req)).await
}

async fn list(deps: &StoreDeps, req: &Request) -> Result<Response<Body>> {
    http::expect_route(req, http::routes::LIST_SERVERS)?;
    let caller = http::caller(req, deps.clock.now().timestamp())?;
    let params = http::list_params(req)?;
    let page = usecase::list_servers(deps, &caller, &params).await?;
    let body: Vec<ServerV2Read> = page.items.iter().map(ServerV2Read::from).collect();
    Ok(http::json(200, &body, &http::list_link(req, page.next.as_deref())))
}

/// What this function runs on, built once per container before the first event.
pub async fn deps() -> Result<StoreDeps> {
    shared::context::store_deps().await
}
