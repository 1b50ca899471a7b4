//! `update` Lambda: PUT /api/v2/servers/{serverID}, PUT /api/v1/.../servers/{serverID}.
//! The handler reads what API Gateway resolved (`routeKey`, `pathParameters`), calls the
//! use-case, and shapes the response; `main` builds [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::context::{CloudDeps, Keys, Needs};
use shared::error::Result;
use shared::http;
use shared::usecase;

pub async fn handle(deps: &CloudDeps, req: Request) -> Response<Body> {
    http::answer(&req, update(deps, &req)).await
}

async fn update(deps: &CloudDeps, req: &Request) -> Result<Response<Body>> {
    let api = http::api(req, http::Function::Update)?;
    let cx = api.context(req)?;
    http::no_query(req)?;
    let id = http::path_id(req, "serverID")?;
    let condition = http::if_match(req)?;
    let input = api.server_update(req)?;
    Ok(api.server(202, &usecase::update_server(deps, &cx, &id, condition, input).await?))
}

/// What this function needs at init: most requests answer from the table, so tokens wait for the first request that needs one.
pub const NEEDS: Needs = Needs { keys: Keys::None, warm_provider: false, kubeconfigs: false };

/// What this function runs on, built once per container before the first event.
pub async fn deps() -> Result<CloudDeps> {
    shared::context::cloud_deps(NEEDS).await
}
