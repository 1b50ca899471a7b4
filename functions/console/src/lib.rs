//! `console` Lambda: GET /api/v2/servers/{serverID}/consoleoutput, /consolesessions, /sshkey, and
//! /consoleoutput, /consolesessions under /api/v1/.../servers/{serverID}.
//! The handler reads what API Gateway resolved (`routeKey`, `pathParameters`), calls the
//! use-case, and shapes the response; `main` builds [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::context::{CloudDeps, Keys, Needs};
use shared::error::Result;
use shared::http;
use shared::usecase;

pub async fn handle(deps: &CloudDeps, req: Request) -> Response<Body> {
    http::answer(&req, route(deps, &req)).await
}

async fn route(deps: &CloudDeps, req: &Request) -> Result<Response<Body>> {
    let api = http::api(req, http::Function::Console)?;
    let cx = api.context(req)?;
    match api.route.action() {
        "consoleoutput" => {
            let id = http::path_id(req, "serverID")?;
            let length = http::console_length(req)?;
            let contents = usecase::console_output(deps, &cx, &id, length).await?;
            Ok(http::json(200, &serde_json::json!({ "contents": contents }), &[]))
        }
        "consolesessions" => {
            http::no_query(req)?;
            let id = http::path_id(req, "serverID")?;
            let url = usecase::console_session(deps, &cx, &id).await?;
            Ok(http::json(200, &serde_json::json!({ "url": url }), &[]))
        }
        "sshkey" => {
            http::no_query(req)?;
            let id = http::path_id(req, "serverID")?;
            let key = usecase::ssh_private_key(deps, &cx, &id).await?;
            // The one response that carries a secret: never cached on the way.
            Ok(http::json(200, &serde_json::json!({ "privateKey": key }), &[("cache-control", "no-store".to_owned())]))
        }
        _ => Err(http::unknown_route(req)),
    }
}

/// What this function needs at init: every request calls the provider, so init takes the identities' tokens.
pub const NEEDS: Needs = Needs { keys: Keys::Sealing, warm_provider: true, kubeconfigs: false };

/// What this function runs on, built once per container before the first event.
pub async fn deps() -> Result<CloudDeps> {
    shared::context::cloud_deps(NEEDS).await
}
