//! `protection` Lambda: GET/PUT /api/v2/servers/{serverID}/protection (an extension: deletion and
//! rebuild protection, never shown in server bodies).
//! The handler reads what API Gateway resolved (`routeKey`, `pathParameters`), calls the
//! use-case, and shapes the response; `main` builds [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::api::v2::extensions::ServerProtection;
use shared::context::StoreDeps;
use shared::error::Result;
use shared::http;
use shared::http::routes::{GET_PROTECTION, SET_PROTECTION};
use shared::http::Function;
use shared::usecase;

pub async fn handle(deps: &StoreDeps, req: Request) -> Response<Body> {
    http::answer(&req, route(deps, &req)).await
}

async fn route(deps: &StoreDeps, req: &Request) -> Result<Response<Body>> {
    let api = http::api(req, Function::Protection)?;
    let cx = api.context(req)?;
    http::no_query(req)?;
    let id = http::path_id(req, "serverID")?;
    let protection = match api.route.key {
        GET_PROTECTION => usecase::get_protection(deps, &cx, &id).await?,
        SET_PROTECTION => {
            let wanted = http::json_body::<ServerProtection>(req)?;
            usecase::set_protection(deps, &cx, &id, wanted.into()).await?.protection
        }
        _ => return Err(http::unknown_route(req)),
    };
    Ok(http::json(200, &ServerProtection::from(protection), &[]))
}

/// What this function runs on, built once per container before the first event.
pub async fn deps() -> Result<StoreDeps> {
    shared::context::store_deps().await
}
