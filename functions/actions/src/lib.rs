//! `actions` Lambda: GET /api/v2/servers/{serverID}/actions (newest first, paginated with `Link`,
//! filter `status`) and GET /api/v2/servers/{serverID}/actions/{actionID} (an extension); and
//! API Gateway's `$default` route: 405 or 404 for requests no route matches (`http::fallback`).
//! The handler reads what API Gateway resolved (`routeKey`, `pathParameters`), calls the
//! use-case, and shapes the response; `main` builds [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::api::v2::extensions::ServerAction;
use shared::context::StoreDeps;
use shared::error::Result;
use shared::http;
use shared::http::routes::{DEFAULT_ROUTE, GET_ACTION, LIST_ACTIONS};
use shared::http::Function;
use shared::usecase::actions;

pub async fn handle(deps: &StoreDeps, req: Request) -> Response<Body> {
    if http::route_key(&req) == DEFAULT_ROUTE {
        return http::answer(&req, async { Ok(http::fallback(&req)) }).await;
    }
    http::answer(&req, route(deps, &req)).await
}

async fn route(deps: &StoreDeps, req: &Request) -> Result<Response<Body>> {
    let api = http::api(req, Function::Actions)?;
    let cx = api.context(req)?;
    let id = http::path_id(req, "serverID")?;
    match api.route.key {
        LIST_ACTIONS => {
            let params = http::action_list_params(req)?;
            let page = actions::list_actions(deps, &cx, &id, params).await?;
            let body: Vec<ServerAction> = page.items.iter().map(ServerAction::from).collect();
            Ok(http::json(200, &body, &http::list_link(req, page.next.as_deref())))
        }
        GET_ACTION => {
            http::no_query(req)?;
            let action_id = http::path_id(req, "actionID")?;
            let action = actions::get_action(deps, &cx, &id, &action_id).await?;
            Ok(http::json(200, &ServerAction::from(&action), &[]))
        }
        _ => Err(http::unknown_route(req)),
    }
}

/// What this function runs on, built once per container before the first event.
pub async fn deps() -> Result<StoreDeps> {
    shared::context::store_deps().await
}
