//! `securitygroups` Lambda: POST/GET /api/v2/securitygroups, GET/PUT/DELETE
//! /api/v2/securitygroups/{securityGroupID}; v1's POST .../identities/{identityID}/securitygroups,
//! GET/PUT/DELETE .../securitygroups/{securityGroupID} and the organization's list. The handler
//! reads what API Gateway resolved (`routeKey`, `pathParameters`), calls the use-case, and shapes
//! the response in the route's version; the worker enacts the rules at Neutron. `main` builds
//! [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::api::v1::security_groups::SecurityGroupWrite;
use shared::api::v2::security_groups::SecurityGroupV2Create;
use shared::context::StoreDeps;
use shared::error::Result;
use shared::http;
use shared::http::routes::*;
use shared::http::Function;
use shared::usecase::security_groups as groups;

pub async fn handle(deps: &StoreDeps, req: Request) -> Response<Body> {
    http::answer(&req, route(deps, &req)).await
}

async fn route(deps: &StoreDeps, req: &Request) -> Result<Response<Body>> {
    let api = http::api(req, Function::SecurityGroups)?;
    let cx = api.context(req)?;
    if matches!(api.route.key, LIST_SECURITY_GROUPS | LIST_SECURITY_GROUPS_V1) {
        let params = http::security_group_list_params(req, api.version())?;
        let list = groups::list_security_groups(deps, &cx, &params).await?;
        return Ok(api.security_groups(&list));
    }
    http::no_query(req)?;
    match api.route.key {
        CREATE_SECURITY_GROUP => {
            let input = http::json_body::<SecurityGroupV2Create>(req)?.parse()?;
            let group = groups::create_security_group(deps, &cx, input).await?;
            Ok(api.security_group(201, &group))
        }
        CREATE_SECURITY_GROUP_V1 => {
            let identity = http::path_id(req, "identityID")?;
            let input = http::json_body::<SecurityGroupWrite>(req)?.parse()?;
            let group = groups::create_v1_security_group(deps, &cx, &identity, input).await?;
            Ok(api.security_group(201, &group))
        }
        GET_SECURITY_GROUP | GET_SECURITY_GROUP_V1 => {
            let id = http::path_id(req, "securityGroupID")?;
            Ok(api.security_group(200, &groups::get_security_group(deps, &cx, &id).await?))
        }
        UPDATE_SECURITY_GROUP | UPDATE_SECURITY_GROUP_V1 => {
            let id = http::path_id(req, "securityGroupID")?;
            let group = groups::update_security_group(deps, &cx, &id, api.security_group_update(req)?).await?;
            Ok(api.security_group(202, &group))
        }
        DELETE_SECURITY_GROUP | DELETE_SECURITY_GROUP_V1 => {
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
