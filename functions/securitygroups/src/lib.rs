//! `securitygroups` Lambda: POST/GET /api/v2/securitygroups, GET/PUT/DELETE
//! /api/v2/securitygroups/{securityGroupID}. The handler reads what API Gateway resolved
//! (`routeKey`, `pathParameters`), calls the use-case, and shapes the response; the worker enacts
//! the rules at Neutron. `main` builds [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::api::v2::security_groups::{SecurityGroupV2Create, SecurityGroupV2Read, SecurityGroupV2Update};
use shared::context::StoreDeps;
use shared::error::Result;
use shared::http;
use shared::http::routes::{
    CREATE_SECURITY_GROUP, DELETE_SECURITY_GROUP, GET_SECURITY_GROUP, LIST_SECURITY_GROUPS, UPDATE_SECURITY_GROUP,
};
use shared::http::Function;
use shared::usecase::security_groups as groups;

pub async fn handle(deps: &StoreDeps, req: Request) -> Response<Body> {
    http::answer(&req, route(deps, &req)).await
}

async fn route(deps: &StoreDeps, req: &Request) -> Result<Response<Body>> {
    let api = http::api(req, Function::SecurityGroups)?;
    let cx = api.context(req)?;
    if api.route.key == LIST_SECURITY_GROUPS {
        let list = groups::list_security_groups(deps, &cx, &http::security_group_list_params(req)?).await?;
        return Ok(http::json(200, &list.iter().map(SecurityGroupV2Read::from).collect::<Vec<_>>(), &[]));
    }
    http::no_query(req)?;
    match api.route.key {
        CREATE_SECURITY_GROUP => {
            let input = http::json_body::<SecurityGroupV2Create>(req)?.parse()?;
            let group = groups::create_security_group(deps, &cx, input).await?;
            Ok(http::json(201, &SecurityGroupV2Read::from(&group), &[]))
        }
        GET_SECURITY_GROUP => {
            let id = http::path_id(req, "securityGroupID")?;
            Ok(http::json(200, &SecurityGroupV2Read::from(&groups::get_security_group(deps, &cx, &id).await?), &[]))
        }
        UPDATE_SECURITY_GROUP => {
            let id = http::path_id(req, "securityGroupID")?;
            let input = http::json_body::<SecurityGroupV2Update>(req)?.parse()?;
            let group = groups::update_security_group(deps, &cx, &id, input).await?;
            Ok(http::json(202, &SecurityGroupV2Read::from(&group), &[]))
        }
        DELETE_SECURITY_GROUP => {
            let id = http::path_id(req, "securityGroupID")?;
            groups::delete_security_group(deps, &cx, &id).await?;
            Ok(http::empty(202))
        }
        _ => Err(http::unknown_route(req)),
    }
}

/// What this function runs on, built once per container before the first event: the table and
/// the work queue.
pub async fn deps() -> Result<StoreDeps> {
    shared::context::store_deps().await
}
