//! `snapshot` Lambda: POST /api/v2/servers/{serverID}/snapshot.
//! The handler reads what API Gateway resolved (`routeKey`, `pathParameters`), calls the
//! use-case, and shapes the response; `main` builds [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::api::v2::images::{Image, SnapshotCreate};
use shared::context::{CloudDeps, Keys, Needs};
use shared::error::Result;
use shared::http;
use shared::usecase;

pub async fn handle(deps: &CloudDeps, req: Request) -> Response<Body> {
    http::answer(&req, snapshot(deps, &req)).await
}

async fn snapshot(deps: &CloudDeps, req: &Request) -> Result<Response<Body>> {
    let api = http::api(req, http::Function::Snapshot)?;
    let cx = api.context(req)?;
    http::no_query(req)?;
    let id = http::path_id(req, "serverID")?;
    let key = http::idempotency_key(req)?;
    let input = http::json_body::<SnapshotCreate>(req)?.parse()?;
    let operation = format!("snapshot#{id}");
    let request_key = key.as_ref().map(|k| http::request_key(&cx.caller, &operation, k, req));
    http::idempotent(deps, &cx.caller, &operation, key.as_ref(), req, || async {
        let image = usecase::snapshot(deps, &cx, &id, input, request_key).await?;
        Ok((201, Image::from(&image), None))
    })
    .await
}

/// What this function needs at init: every request calls the provider, so init takes the identities' tokens.
pub const NEEDS: Needs = Needs { keys: Keys::None, warm_provider: true, kubeconfigs: false };

/// What this function runs on, built once per container before the first event.
pub async fn deps() -> Result<CloudDeps> {
    shared::context::cloud_deps(NEEDS).await
}
