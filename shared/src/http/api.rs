//! What differs between API versions at the edge: the [`View`] a route gives the use-cases (its
//! version, its path scope, its RBAC vocabulary) and the wire shapes of server bodies. Below the
//! edge every version runs the same use-cases; a new version adds its routes (`routes.rs`) and its
//! arms here.

use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;

use super::edge::{path_id, path_param, unknown_route};
use super::request::{json_body, list_params};
use super::response::json;
use super::routes::{Function, Route};
use crate::api::v1::networks::{NetworkRead, NetworkWrite};
use crate::api::v1::security_groups::{SecurityGroupRead, SecurityGroupWrite};
use crate::api::v1::servers::{ServerRead, ServerWrite};
use crate::api::v2::networks::{NetworkV2Create, NetworkV2Read};
use crate::api::v2::security_groups::{SecurityGroupV2Read, SecurityGroupV2Update};
use crate::api::v2::servers::{ServerV2Create, ServerV2Read, ServerV2Update};
use crate::domain::{
    ApiVersion, NetworkCreateInput, NetworkRecord, ReferenceId, SecurityGroupRecord, SecurityGroupUpdateInput,
    ServerCreateInput, ServerRecord, ServerUpdateInput,
};
use crate::error::{Error, Result};
use crate::rbac::{Operation, NETWORKS, NETWORKS_V1, SECURITY_GROUPS, SECURITY_GROUPS_V1};
use crate::usecase::list::ListParams;
use crate::usecase::{Context, PathScope, Rules, View};

/// A request as its route addresses it.
pub struct Api {
    pub route: &'static Route,
    pub view: View,
}

impl Api {
    /// The request context the use-cases take: the caller the authorizer vouched for, and this
    /// route's view.
    pub fn context(&self, req: &Request) -> Result<Context> {
        Ok(Context { caller: super::caller(req)?, view: self.view.clone() })
    }
}

/// The route API Gateway matched, which must be one of `function`'s (404 otherwise), and its view.
pub fn api(req: &Request, function: Function) -> Result<Api> {
    let route = Route::find(super::edge::route_key(req))
        .filter(|r| r.function == function)
        .ok_or_else(|| unknown_route(req))?;
    Ok(Api { route, view: view(req, route)? })
}

/// The view of every v2 route: flat, id-addressed.
pub fn v2_view() -> View {
    View {
        version: ApiVersion::V2,
        path: None,
        rules: Rules { networks: NETWORKS, security_groups: SECURITY_GROUPS, server_update: Operation::Update },
    }
}

fn view(req: &Request, route: &Route) -> Result<View> {
    let version = route.version;
    match version {
        ApiVersion::V2 => Ok(v2_view()),
        ApiVersion::V1 => {
            let named = |param: &str| route.path().contains(&format!("{{{param}}}"));
            Ok(View {
                version,
                path: Some(PathScope {
                    organization_id: path_reference(req, "organizationID")?,
                    project_id: named("projectID").then(|| path_reference(req, "projectID")).transpose()?,
                    identity_id: named("identityID").then(|| path_id(req, "identityID")).transpose()?,
                }),
                // Unikorn v1 checks `create` on a server update.
                rules: Rules {
                    networks: NETWORKS_V1,
                    security_groups: SECURITY_GROUPS_V1,
                    server_update: Operation::Create,
                },
            })
        }
        other => Err(Error::internal(format!("API {other} has no view"))),
    }
}

/// An organization or project id in the path: ids the identity service issues, not ours, so any
/// printable id (400 otherwise).
fn path_reference(req: &Request, name: &str) -> Result<String> {
    Ok(ReferenceId::parse(name, &path_param(req, name)?)?.0)
}

impl Api {
    pub fn version(&self) -> ApiVersion {
        self.route.version
    }

    /// A path parameter of this route: `organizationID`, `projectID` (printable ids), `regionID`
    /// (a region id) or a UUID.
    pub fn path(&self, req: &Request, name: &str) -> Result<String> {
        match name {
            "organizationID" | "projectID" => path_reference(req, name),
            "regionID" => super::regions::region_id(req),
            _ => path_id(req, name),
        }
    }

    pub fn server_create(&self, req: &Request) -> Result<ServerCreateInput> {
        match self.version() {
            ApiVersion::V1 => json_body::<ServerWrite>(req)?.parse_create(),
            ApiVersion::V2 => json_body::<ServerV2Create>(req)?.parse(),
            other => Err(Error::internal(format!("API {other} has no server body"))),
        }
    }

    pub fn server_update(&self, req: &Request) -> Result<ServerUpdateInput> {
        match self.version() {
            ApiVersion::V1 => json_body::<ServerWrite>(req)?.parse_update(),
            ApiVersion::V2 => json_body::<ServerV2Update>(req)?.parse(),
            other => Err(Error::internal(format!("API {other} has no server body"))),
        }
    }

    /// A server in this version's read shape.
    pub fn server_body(&self, record: &ServerRecord) -> Value {
        let body = match self.version() {
            ApiVersion::V1 => serde_json::to_value(ServerRead::from(record)),
            _ => serde_json::to_value(ServerV2Read::from(record)),
        };
        body.unwrap_or(Value::Null)
    }

    /// A server with its entity tag.
    pub fn server(&self, status: u16, record: &ServerRecord) -> Response<Body> {
        json(status, &self.server_body(record), &[("etag", record.etag())])
    }

    pub fn servers(&self, records: &[ServerRecord]) -> Value {
        Value::Array(records.iter().map(|r| self.server_body(r)).collect())
    }

    /// A network create in this version's body shape (v1's names its identity in the path).
    pub fn network_create(&self, req: &Request) -> Result<NetworkCreateInput> {
        match self.version() {
            ApiVersion::V1 => {
                let (org, project, identity) =
                    (self.path(req, "organizationID")?, self.path(req, "projectID")?, self.path(req, "identityID")?);
                json_body::<NetworkWrite>(req)?.parse(&org, &project, &identity)
            }
            ApiVersion::V2 => json_body::<NetworkV2Create>(req)?.parse(),
            other => Err(Error::internal(format!("API {other} has no network body"))),
        }
    }

    /// A v2 network update's body, parsed.
    pub fn network_update(&self, req: &Request) -> Result<crate::domain::NetworkUpdateInput> {
        json_body::<crate::api::v2::networks::NetworkV2Update>(req)?.parse()
    }

    /// A network in this version's read shape.
    pub fn network_body(&self, record: &NetworkRecord) -> Value {
        let body = match self.version() {
            ApiVersion::V1 => serde_json::to_value(NetworkRead::from(record)),
            _ => serde_json::to_value(NetworkV2Read::from(record)),
        };
        body.unwrap_or(Value::Null)
    }

    pub fn network(&self, status: u16, record: &NetworkRecord) -> Response<Body> {
        json(status, &self.network_body(record), &[])
    }

    pub fn networks(&self, records: &[NetworkRecord]) -> Response<Body> {
        json(200, &Value::Array(records.iter().map(|r| self.network_body(r)).collect()), &[])
    }

    /// A security group update in this version's body shape.
    pub fn security_group_update(&self, req: &Request) -> Result<SecurityGroupUpdateInput> {
        match self.version() {
            ApiVersion::V1 => json_body::<SecurityGroupWrite>(req)?.parse(),
            _ => json_body::<SecurityGroupV2Update>(req)?.parse(),
        }
    }

    pub fn security_group_body(&self, record: &SecurityGroupRecord) -> Value {
        let body = match self.version() {
            ApiVersion::V1 => serde_json::to_value(SecurityGroupRead::from(record)),
            _ => serde_json::to_value(SecurityGroupV2Read::from(record)),
        };
        body.unwrap_or(Value::Null)
    }

    pub fn security_group(&self, status: u16, record: &SecurityGroupRecord) -> Response<Body> {
        json(status, &self.security_group_body(record), &[])
    }

    pub fn security_groups(&self, records: &[SecurityGroupRecord]) -> Response<Body> {
        json(200, &Value::Array(records.iter().map(|r| self.security_group_body(r)).collect()), &[])
    }

    /// The list's query: v2 takes every filter; a path-scoped list takes the tag filter and the
    /// page (`limit`, `pageToken`) only, its scope being the path.
    pub fn list_params(&self, req: &Request) -> Result<ListParams> {
        if self.view.path.is_some() {
            let query = req.query_string_parameters();
            if let Some((key, _)) = query.iter().find(|(k, _)| !matches!(*k, "tag" | "limit" | "pageToken")) {
                return Err(Error::invalid(format!("{key}: unknown query parameter")));
            }
        }
        list_params(req)
    }
}
