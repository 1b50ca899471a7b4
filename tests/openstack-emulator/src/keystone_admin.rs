//! Keystone v3 administration as a region's user does it (domain-scoped): projects, users, role
//! assignments, and (as the user itself) application credentials. Names are unique per domain (409),
//! as Keystone's are; a project-scoped token may administer nothing.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::common::{authenticate, Ctx};
use crate::model::{AppCredential, TokenInfo, User};
use crate::state::Inner;

/// The roles Keystone's bootstrap makes (and the load balancer's), by name; their ids are `<name>-role`.
pub const ROLES: [&str; 5] = ["admin", "manager", "member", "reader", "load-balancer_member"];

/// A Keystone project.
#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub tags: Vec<String>,
}

fn keystone_error(status: u16, title: &str, message: impl Into<String>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, Json(json!({"error": {"code": status, "title": title, "message": message.into()}}))).into_response()
}

fn forbidden() -> Response {
    keystone_error(403, "Forbidden", "You are not authorized to perform the requested action.")
}

fn not_found(kind: &str, id: &str) -> Response {
    keystone_error(404, "Not Found", format!("Could not find {kind}: {id}."))
}

/// Runs `f` for a domain-scoped token (what administers projects and users), else 403.
fn admin<F>(ctx: &Ctx, headers: &HeaderMap, f: F) -> Response
where
    F: FnOnce(&mut Inner, &str) -> Response,
{
    let token = match authenticate(ctx, headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let Some(domain) = token.domain_id.clone() else { return forbidden() };
    let mut state = ctx.shared.lock();
    f(&mut state, &domain)
}

/// Keystone's exact `name` filter: no `name` asked, or this one.
fn named(query: &std::collections::HashMap<String, String>, name: &str) -> bool {
    query.get("name").is_none_or(|n| n == name)
}

fn project_json(p: &Project) -> Value {
    json!({"id": p.id, "name": p.name, "domain_id": p.domain_id, "tags": p.tags, "enabled": true,
        "is_domain": false, "parent_id": p.domain_id, "description": ""})
}

fn user_json(u: &User) -> Value {
    json!({"id": u.id, "name": u.name, "domain_id": u.domain_id, "enabled": true, "password_expires_at": null})
}

pub async fn create_project(State(ctx): State<Ctx>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    admin(&ctx, &headers, |state, domain| {
        let p = &body["project"];
        let (Some(name), Some(domain_id)) = (p["name"].as_str(), p["domain_id"].as_str()) else {
            return keystone_error(400, "Bad Request", "Invalid input for field 'project': name and domain_id");
        };
        if domain_id != domain {
            return forbidden();
        }
        if state.projects.values().any(|x| x.name == name && x.domain_id == domain_id) {
            return keystone_error(409, "Conflict", format!("Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : {name}."));
        }
        let tags = p["tags"].as_array().map(|t| t.iter().filter_map(Value::as_str).map(str::to_owned).collect());
        let project = Project {
            id: uuid::Uuid::new_v4().simple().to_string(),
            name: name.to_owned(),
            domain_id: domain_id.to_owned(),
            tags: tags.unwrap_or_default(),
        };
        let body = json!({"project": project_json(&project)});
        state.quotas.insert(project.id.clone(), crate::nova::DEFAULT_QUOTA);
        state.projects.insert(project.id.clone(), project);
        (StatusCode::CREATED, Json(body)).into_response()
    })
}

pub async fn list_projects(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    admin(&ctx, &headers, |state, domain| {
        let found: Vec<Value> = state
            .projects
            .values()
            .filter(|p| p.domain_id == domain && named(&query, &p.name))
            // Keystone's `tags`: every listed tag (comma-separated) must be on the project.
            .filter(|p| query.get("tags").is_none_or(|t| t.split(',').all(|t| p.tags.iter().any(|x| x == t))))
            .map(project_json)
            .collect();
        Json(json!({"projects": found})).into_response()
    })
}

pub async fn delete_project(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    admin(&ctx, &headers, |state, domain| {
        if state.projects.get(&id).is_none_or(|p| p.domain_id != domain) {
            return not_found("project", &id);
        }
        state.projects.remove(&id);
        state.assignments.retain(|(p, _, _)| *p != id);
        for user in state.users.values_mut() {
            user.projects.remove(&id);
        }
        StatusCode::NO_CONTENT.into_response()
    })
}

pub async fn create_user(State(ctx): State<Ctx>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    admin(&ctx, &headers, |state, domain| {
        let u = &body["user"];
        let (Some(name), Some(domain_id)) = (u["name"].as_str(), u["domain_id"].as_str()) else {
            return keystone_error(400, "Bad Request", "Invalid input for field 'user': name and domain_id");
        };
        if domain_id != domain {
            return forbidden();
        }
        if state.users.values().any(|x| x.name == name && x.domain_id == domain_id) {
            return keystone_error(409, "Conflict", format!("Conflict occurred attempting to store user - Duplicate entry found with name {name} at domain ID {domain_id}."));
        }
        let user = User {
            id: uuid::Uuid::new_v4().simple().to_string(),
            name: name.to_owned(),
            domain_id: domain_id.to_owned(),
            password: u["password"].as_str().unwrap_or_default().to_owned(),
            projects: Default::default(),
            domains: Default::default(),
        };
        let body = json!({"user": user_json(&user)});
        state.users.insert(user.id.clone(), user);
        (StatusCode::CREATED, Json(body)).into_response()
    })
}

pub async fn list_users(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    admin(&ctx, &headers, |state, domain| {
        let found: Vec<Value> =
            state.users.values().filter(|u| u.domain_id == domain && named(&query, &u.name)).map(user_json).collect();
        Json(json!({"users": found})).into_response()
    })
}

/// `PATCH /v3/users/{id}`: a new password (what a retried provisioning sets when it lost the old one).
pub async fn update_user(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    admin(&ctx, &headers, |state, domain| match state.users.get_mut(&id).filter(|u| u.domain_id == domain) {
        None => not_found("user", &id),
        Some(user) => {
            if let Some(password) = body["user"]["password"].as_str() {
                user.password = password.to_owned();
            }
            Json(json!({"user": user_json(user)})).into_response()
        }
    })
}

/// Deleting a user takes its application credentials and role assignments with it.
pub async fn delete_user(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    admin(&ctx, &headers, |state, domain| {
        if state.users.get(&id).is_none_or(|u| u.domain_id != domain) {
            return not_found("user", &id);
        }
        state.users.remove(&id);
        state.credentials.retain(|_, c| c.user_id != id);
        state.assignments.retain(|(_, u, _)| *u != id);
        StatusCode::NO_CONTENT.into_response()
    })
}

pub async fn list_roles(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Err(r) = authenticate(&ctx, &headers) {
        return r;
    }
    let roles: Vec<Value> = ROLES
        .iter()
        .filter(|r| query.get("name").is_none_or(|n| n == *r))
        .map(|r| json!({"id": format!("{r}-role"), "name": r, "domain_id": null}))
        .collect();
    Json(json!({"roles": roles})).into_response()
}

/// `PUT /v3/projects/{p}/users/{u}/roles/{r}`: the user may then scope tokens to the project.
pub async fn assign_role(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path((project, user, role)): Path<(String, String, String)>,
) -> Response {
    admin(&ctx, &headers, |state, domain| {
        if state.projects.get(&project).is_none_or(|p| p.domain_id != domain) {
            return not_found("project", &project);
        }
        if !ROLES.iter().any(|r| format!("{r}-role") == role) {
            return not_found("role", &role);
        }
        let Some(found) = state.users.get_mut(&user) else { return not_found("user", &user) };
        found.projects.insert(project.clone());
        state.assignments.insert((project, user, role));
        StatusCode::NO_CONTENT.into_response()
    })
}

/// The roles of a user on a project (the role names an application credential may carry).
fn roles_on(state: &Inner, project: &str, user: &str) -> Vec<String> {
    state
        .assignments
        .iter()
        .filter(|(p, u, _)| p == project && u == user)
        .map(|(_, _, r)| r.trim_end_matches("-role").to_owned())
        .collect()
}

/// `POST /v3/users/{u}/application_credentials`, as the user itself (project-scoped): the secret is
/// shown once; names are unique per user (409).
pub async fn create_application_credential(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(user): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let token: TokenInfo = match authenticate(&ctx, &headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if token.user_id != user || token.project_id.is_empty() {
        return forbidden();
    }
    let mut state = ctx.shared.lock();
    let c = &body["application_credential"];
    let Some(name) = c["name"].as_str() else {
        return keystone_error(400, "Bad Request", "Invalid input for field 'application_credential': name");
    };
    if state.credentials.values().any(|x| x.user_id == user && x.name == name) {
        return keystone_error(409, "Conflict", format!("Conflict occurred attempting to store application_credential - Duplicate entry found with name {name}."));
    }
    let held = roles_on(&state, &token.project_id, &user);
    let asked: Vec<String> = c["roles"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x["name"].as_str().map(str::to_owned)).collect())
        .unwrap_or_else(|| held.clone());
    if let Some(missing) = asked.iter().find(|r| !held.contains(r)) {
        return keystone_error(403, "Forbidden", format!("Role {missing} is not assigned to the user on the project."));
    }
    let credential = AppCredential {
        id: uuid::Uuid::new_v4().simple().to_string(),
        name: name.to_owned(),
        secret: uuid::Uuid::new_v4().simple().to_string(),
        user_id: user.clone(),
        project_id: token.project_id.clone(),
    };
    let roles: Vec<Value> = asked.iter().map(|r| json!({"id": format!("{r}-role"), "name": r})).collect();
    let body = json!({"application_credential": {"id": credential.id, "name": name, "secret": credential.secret,
        "project_id": credential.project_id, "user_id": user, "roles": roles, "unrestricted": false}});
    state.credentials.insert(credential.id.clone(), credential);
    (StatusCode::CREATED, Json(body)).into_response()
}

pub async fn list_application_credentials(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(user): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let token = match authenticate(&ctx, &headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if token.user_id != user {
        return forbidden();
    }
    let state = ctx.shared.lock();
    let found: Vec<Value> = state
        .credentials
        .values()
        .filter(|c| c.user_id == user && query.get("name").is_none_or(|n| *n == c.name))
        .map(|c| json!({"id": c.id, "name": c.name, "project_id": c.project_id, "user_id": c.user_id}))
        .collect();
    Json(json!({"application_credentials": found})).into_response()
}

pub async fn delete_application_credential(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path((user, id)): Path<(String, String)>,
) -> Response {
    let token = match authenticate(&ctx, &headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    // The user itself only, as Keystone's policy has it.
    if token.user_id != user {
        return forbidden();
    }
    let mut state = ctx.shared.lock();
    match state.credentials.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found("application credential", &id),
    }
}
