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
