//! What Nova checks before it schedules a server, as real Nova does: the project's quota
//! (instances, cores, ram: 403 "Quota exceeded for ...", its wording), and whether a host is left
//! (a control-plane switch makes the next creates land in ERROR with "No valid host was found").

use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::common::nova_fault;
use crate::model::Flavor;
use crate::state::Inner;

/// Nova's fault message when the scheduler finds no host, as real Nova words it when Placement has
/// no candidate (an empty reason after the sentence; the filter scheduler's path adds "There are
/// not enough hosts available.").
pub const NO_VALID_HOST: &str = "No valid host was found. ";

/// A project's compute quota; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeQuota {
    #[serde(default)]
    pub instances: Option<u64>,
    #[serde(default)]
    pub cores: Option<u64>,
    #[serde(default)]
    pub ram: Option<u64>,
}

/// Refuses a boot the project's quota has no room for, with real Nova's 403 body.
pub(super) fn check_quota(state: &Inner, project: &str, flavor: &Flavor) -> Result<(), Response> {
    let Some(quota) = state.quotas.get(project) else { return Ok(()) };
    let mine = state.servers.values().filter(|s| s.project_id == project && s.vm_state != "deleted");
    let (instances, cores, ram) =
        mine.fold((0u64, 0u64, 0u64), |(i, c, r), s| (i + 1, c + u64::from(s.flavor.vcpus), r + s.flavor.ram));
    let asks = [
        ("instances", quota.instances, 1, instances),
        ("cores", quota.cores, u64::from(flavor.vcpus), cores),
        ("ram", quota.ram, flavor.ram, ram),
    ];
    let over: Vec<_> = asks.iter().filter(|(_, limit, req, used)| limit.is_some_and(|l| used + req > l)).collect();
    let Some((_, limit, req, used)) = over.first() else { return Ok(()) };
    let names: Vec<&str> = over.iter().map(|(name, ..)| *name).collect();
    let names = names.join(", ");
    let limit = limit.unwrap_or_default();
    Err(nova_fault(
        403,
        format!("Quota exceeded for {names}: Requested {req}, but already used {used} of {limit} {names}"),
    ))
}

/// Whether the scheduler finds a host for the next server (the switch counts down).
pub(super) fn host_found(state: &mut Inner) -> bool {
    if state.no_valid_host == 0 {
        return true;
    }
    state.no_valid_host -= 1;
    false
}

/// Nova's default quota, which a project made through Keystone starts with (`[quota]` defaults).
pub const DEFAULT_QUOTA: ComputeQuota = ComputeQuota { instances: Some(10), cores: Some(20), ram: Some(51200) };

/// `PUT /os-quota-sets/{project}` `{"quota_set": {...}}`: -1 is unlimited, as Nova reads it.
pub async fn update_quota_set(
    axum::extract::State(ctx): axum::extract::State<crate::common::Ctx>,
    headers: axum::http::HeaderMap,
    axum::extract::Path(project): axum::extract::Path<String>,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> Response {
    use axum::response::IntoResponse;
    if let Err(r) = crate::common::authenticate(&ctx, &headers) {
        return r;
    }
    let set = &body["quota_set"];
    if !set.is_object() {
        return nova_fault(400, "Invalid input for field/attribute quota_set.");
    }
    let mut state = ctx.shared.lock();
    let mut quota = state.quotas.get(&project).copied().unwrap_or_default();
    let limit = |v: &serde_json::Value| v.as_i64().map(|n| u64::try_from(n).ok());
    if let Some(n) = limit(&set["instances"]) {
        quota.instances = n;
    }
    if let Some(n) = limit(&set["cores"]) {
        quota.cores = n;
    }
    if let Some(n) = limit(&set["ram"]) {
        quota.ram = n;
    }
    state.quotas.insert(project, quota);
    let shown = |v: Option<u64>| v.map_or(-1, |n| n as i64);
    axum::Json(serde_json::json!({"quota_set": {"instances": shown(quota.instances), "cores": shown(quota.cores),
        "ram": shown(quota.ram)}}))
    .into_response()
}
