//! `delete` Lambda: DELETE /api/v2/servers/{serverID}, DELETE /api/v1/.../servers/{serverID}.
//! The handler reads what API Gateway resolved (`routeKey`, `pathParameters`), calls the
//! use-case, and shapes the response; `main` builds [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::context::{CloudDeps, Keys, Needs};
use shared::error::Result;
use shared::http;
use shared::usecase;

pub async fn handle(deps: &CloudDeps, req: Request) -> Response<Body> {
    http::answer(&req, delete(deps, &req)).await
}

async fn delete(deps: &CloudDeps, req: &Request) -> Result<Response<Body>> {
    let api = http::api(req, http::Function::Delete)?;
    let cx = api.context(req)?;
    http::no_query(req)?;
    let id = http::path_id(req, "serverID")?;
    usecase::delete_server(deps, &cx, &id).await?;
    Ok(http::empty(202))
}

/// What this function needs at init: every request calls the provider, so init takes the identities' tokens.
pub const NEEDS: Needs = Needs { keys: Keys::None, warm_provider: true, kubeconfigs: false };

/// What this function runs on, built once per container before the first event.
pub async fn deps() -> Result<CloudDeps> {
    shared::context::cloud_deps(NEEDS).await
}
