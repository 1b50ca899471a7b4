//! `list` Lambda: GET /api/v2/servers, GET /api/v1/organizations/{organizationID}/servers,
//! GET /api/v1/.../identities/{identityID}/servers.
//! The handler reads what API Gateway resolved (`routeKey`, `pathParameters`), calls the
//! use-case, and shapes the response; `main` builds [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::context::StoreDeps;
use shared::error::Result;
use shared::http;
use shared::usecase;

pub async fn handle(deps: &StoreDeps, req: Request) -> Response<Body> {
    http::answer(&req, list(deps, &req)).await
}

async fn list(deps: &StoreDeps, req: &Request) -> Result<Response<Body>> {
    let api = http::api(req, http::Function::List)?;
    let cx = api.context(req)?;
    let params = api.list_params(req)?;
    let page = usecase::list_servers(deps, &cx, &params).await?;
    Ok(http::json(200, &api.servers(&page.items), &http::list_link(req, page.next.as_deref())))
}

/// What this function runs on, built once per container before the first event.
pub async fn deps() -> Result<StoreDeps> {
    shared::context::store_deps().await
}
