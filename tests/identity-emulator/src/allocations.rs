//! Identity's allocations (`POST .../projects/{projectID}/allocations`, `GET`/`DELETE .../{id}`):
//! slices of a project's quotas that in total never exceed them. A quota is set per project through
//! the control plane (`PUT /_emulator/quotas/{organizationID}/{projectID}` `{"networks": 2}`);
//! a project without one may allocate without limit. Identity's 403 on a quota exceeded, with its
//! words; the request's `X-Principal` is recorded.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::routes::error;
use crate::state::Received;
use crate::{Ctx, ALLOCATION, ALLOCATIONS};

/// One allocation as identity keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    pub id: String,
    pub organization_id: String,
    pub project_id: String,
    /// The owner's kind and id (`spec.kind`, `spec.id`).
    pub kind: String,
    pub resource_id: String,
    /// Committed amounts per quota kind.
    pub committed: BTreeMap<String, i64>,
}

fn record(ctx: &Ctx, headers: &HeaderMap, route: &str, path: String) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    ctx.shared.lock().log.requests.push(Received {
        route: route.into(),
        path,
        subject: None,
        principal: header("x-principal"),
        impersonate: false,
        client_certificate: header("unikorn-client-certificate").is_some(),
    });
}

fn read(a: &Allocation) -> Value {
    let allocations: Vec<Value> =
        a.committed.iter().map(|(kind, n)| json!({"kind": kind, "committed": n, "reserved": 0})).collect();
    json!({
        "metadata": {"id": a.id, "name": "undefined", "organizationId": a.organization_id, "projectId": a.project_id,
            "creationTime": "2026-01-01T00:00:00Z", "provisioningStatus": "provisioned", "healthStatus": "healthy"},
        "spec": {"kind": a.kind, "id": a.resource_id, "allocations": allocations},
    })
}

pub async fn create(
    State(ctx): State<Ctx>,
    Path((org, project)): Path<(String, String)>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    record(&ctx, &headers, ALLOCATIONS, format!("/api/v1/organizations/{org}/projects/{project}/allocations"));
    let Some(Json(body)) = body else { return error(400, "invalid_request", "request body is not JSON") };
    let spec = &body["spec"];
    let (Some(kind), Some(resource_id), Some(items)) =
        (spec["kind"].as_str(), spec["id"].as_str(), spec["allocations"].as_array())
    else {
        return error(400, "invalid_request", "allocation spec requires kind, id and allocations");
    };
    let mut committed = BTreeMap::new();
    for item in items {
        let (Some(k), Some(n)) = (item["kind"].as_str(), item["committed"].as_i64()) else {
            return error(400, "invalid_request", "an allocation requires kind and committed");
        };
        committed.insert(k.to_owned(), n);
    }
    let mut state = ctx.shared.lock();
    let quotas = state.quotas.get(&(org.clone(), project.clone())).cloned().unwrap_or_default();
    for (k, n) in &committed {
        let Some(limit) = quotas.get(k) else { continue };
        let used: i64 = state
            .allocations
            .values()
            .filter(|a| a.organization_id == org && a.project_id == project)
            .filter_map(|a| a.committed.get(k))
            .sum();
        if used + n > *limit {
            let message = format!("total {k} allocation of {} would exceed quota limit of {limit}", used + n);
            return error(403, "forbidden", &message);
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    let allocation = Allocation {
        id: id.clone(),
        organization_id: org,
        project_id: project,
        kind: kind.into(),
        resource_id: resource_id.into(),
        committed,
    };
    let answer = read(&allocation);
    state.allocations.insert(id, allocation);
    (StatusCode::CREATED, Json(answer)).into_response()
}

fn held(ctx: &Ctx, org: &str, project: &str, id: &str) -> Option<Allocation> {
    let state = ctx.shared.lock();
    state.allocations.get(id).filter(|a| a.organization_id == org && a.project_id == project).cloned()
}

pub async fn get(State(ctx): State<Ctx>, Path((org, project, id)): Path<(String, String, String)>) -> Response {
    match held(&ctx, &org, &project, &id) {
        Some(a) => Json(read(&a)).into_response(),
        None => error(404, "not_found", "resource not found"),
    }
}

pub async fn delete(
    State(ctx): State<Ctx>,
    Path((org, project, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    record(&ctx, &headers, ALLOCATION, format!("/api/v1/organizations/{org}/projects/{project}/allocations/{id}"));
    if held(&ctx, &org, &project, &id).is_none() {
        return error(404, "not_found", "resource not found");
    }
    ctx.shared.lock().allocations.remove(&id);
    StatusCode::ACCEPTED.into_response()
}

/// `PUT /_emulator/quotas/{organizationID}/{projectID}`: the project's quotas by kind.
pub async fn set_quotas(
    State(ctx): State<Ctx>,
    Path((org, project)): Path<(String, String)>,
    Json(quotas): Json<BTreeMap<String, i64>>,
) -> StatusCode {
    ctx.shared.lock().quotas.insert((org, project), quotas);
    StatusCode::NO_CONTENT
}
