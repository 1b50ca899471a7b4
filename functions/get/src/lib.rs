//! `get` Lambda: GET /api/v2/servers/{serverID}, GET /api/v1/.../servers/{serverID}.
//! The handler reads what API Gateway resolved (`routeKey`, `pathParameters`), calls the
//! use-case, and shapes the response; `main` builds [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::context::{CloudDeps, Keys, Needs};
use shared::error::Result;
use shared::http;
use shared::usecase;

pub async fn handle(deps: &CloudDeps, req: Request) -> Response<Body> {
    http::answer(&req, get(deps, &req)).await
}

async fn get(deps: &CloudDeps, req: &Request) -> Result<Response<Body>> {
    let api = http::api(req, http::Function::Get)?;
    let cx = api.context(req)?;
    http::no_query(req)?;
    let id = http::path_id(req, "serverID")?;
    Ok(api.server(200, &usecase::get_server(deps, &cx, &id).await?))
}

/// What this function needs at init: most requests answer from the table, so tokens wait for the first request that needs one.
pub const NEEDS: Needs = Needs { keys: Keys::None, warm_provider: false, kubeconfigs: false };

/// What this function runs on, built once per container before the first event.
pub async fn deps() -> Result<CloudDeps> {
    shared::context::cloud_deps(NEEDS).await
}
