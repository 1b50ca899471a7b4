//! `power` Lambda: POST /api/v2/servers/{serverID}/start, /stop, /softreboot, /hardreboot, and the
//! same under /api/v1/.../servers/{serverID}.
//! The handler reads what API Gateway resolved (`routeKey`, `pathParameters`), calls the
//! use-case, and shapes the response; `main` builds [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::context::{CloudDeps, Keys, Needs};
use shared::error::Result;
use shared::http;
use shared::usecase;

pub async fn handle(deps: &CloudDeps, req: Request) -> Response<Body> {
    http::answer(&req, power(deps, &req)).await
}

async fn power(deps: &CloudDeps, req: &Request) -> Result<Response<Body>> {
    let api = http::api(req, http::Function::Power)?;
    let action = api.route.power_action().ok_or_else(|| http::unknown_route(req))?;
    let cx = api.context(req)?;
    http::no_query(req)?;
    let id = http::path_id(req, "serverID")?;
    usecase::power(deps, &cx, &id, action).await?;
    Ok(http::empty(202))
}

/// What this function needs at init: every request calls the provider, so init takes the identities' tokens.
pub const NEEDS: Needs = Needs { keys: Keys::None, warm_provider: true, kubeconfigs: false };

/// What this function runs on, built once per container before the first event.
pub async fn deps() -> Result<CloudDeps> {
    shared::context::cloud_deps(NEEDS).await
}
