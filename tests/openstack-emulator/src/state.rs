//! Shared emulator state: resources, delays, injected faults, request counters and a request log.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use emulator_support::{Effect, HasEffect, Log};
use serde::{Deserialize, Serialize};

use crate::model::{AppCredential, Flavor, Image, Server, TokenInfo};

/// Timing of the state machine; all zero means every task finishes at once.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Delays {
    pub build_ms: u64,
    pub action_ms: u64,
    pub image_ms: u64,
    pub delete_ms: u64,
    pub token_ttl_s: i64,
}

impl Default for Delays {
    fn default() -> Self {
        Delays { build_ms: 0, action_ms: 0, image_ms: 0, delete_ms: 0, token_ttl_s: 3600 }
    }
}

/// A fault served to the next `count` requests matching `method` and `path` (`*` matches any run
/// of characters; method `*` matches any method).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    pub method: String,
    pub path: String,
    #[serde(flatten)]
    pub effect: Effect,
}

impl Fault {
    /// The next matching request is answered `status`, in the service's error format.
    pub fn status(method: &str, path: &str, status: u16) -> Fault {
        Fault { method: method.into(), path: path.into(), effect: Effect::status(status) }
    }

    /// The next matching request is answered 429 with `Retry-After: seconds`, as a rate-limiting
    /// service (or a proxy in front of it) answers.
    pub fn throttled(method: &str, path: &str, seconds: u64) -> Fault {
        let effect = emulator_support::Effect { retry_after: Some(seconds), ..Effect::status(429) };
        Fault { method: method.into(), path: path.into(), effect }
    }

    /// The next matching request is processed `ms` late (its client may have given up by then).
    pub fn delay(method: &str, path: &str, ms: u64) -> Fault {
        Fault { method: method.into(), path: path.into(), effect: Effect::delay(ms) }
    }

    /// Every matching request, not only the next, until the faults are cleared.
    pub fn forever(mut self) -> Fault {
        self.effect.count = u32::MAX;
        self
    }

    /// The next matching request is processed and its answer lost with the connection.
    pub fn dropped(method: &str, path: &str) -> Fault {
        Fault { method: method.into(), path: path.into(), effect: Effect::dropped() }
    }
}

impl HasEffect for Fault {
    fn effect_mut(&mut self) -> &mut Effect {
        &mut self.effect
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub body: Option<serde_json::Value>,
}

#[derive(Default)]
pub struct Inner {
    pub credentials: BTreeMap<String, AppCredential>,
    /// Keystone users with passwords (the region's user), by id.
    pub users: BTreeMap<String, crate::model::User>,
    /// Keystone projects made through the API (the seeded ones are implied by their users' roles).
    pub projects: BTreeMap<String, crate::keystone_admin::Project>,
    /// Role assignments made through the API: (project, user, role id).
    pub assignments: std::collections::BTreeSet<(String, String, String)>,
    pub tokens: HashMap<String, TokenInfo>,
    pub flavors: BTreeMap<String, Flavor>,
    pub images: BTreeMap<String, Image>,
    pub servers: BTreeMap<String, Server>,
    pub keypairs: BTreeMap<(String, String), (String, String)>,
    pub server_groups: BTreeMap<String, ServerGroup>,
    /// Neutron's networks, ports, floating IPs and security groups.
    pub net: crate::neutron::model::Net,
    pub delays: Delays,
    /// Faults waiting, requests counted per route key, and the request log.
    pub log: Log<Fault, RecordedRequest>,
    pub seq: u64,
    /// Compute quotas per project (none: unlimited).
    pub quotas: BTreeMap<String, crate::nova::ComputeQuota>,
    /// The next this many creates find no valid host.
    pub no_valid_host: u32,
}

impl Inner {
    /// The token is a cloud admin's: its user holds `admin` on its project (Nova's and Neutron's
    /// default policy for listing every project's objects).
    pub fn is_admin(&self, token: &TokenInfo) -> bool {
        self.assignments.contains(&(token.project_id.clone(), token.user_id.clone(), "admin-role".to_owned()))
    }

    /// Finishes every task whose time has come.
    pub fn settle(&mut self) {
        let now = Instant::now();
        let mut gone = Vec::new();
        for (id, server) in self.servers.iter_mut() {
            if server.settle(now) {
                gone.push(id.clone());
            }
        }
        for id in gone {
            self.servers.remove(&id);
            self.net.release_device(&id);
        }
        for image in self.images.values_mut() {
            if image.active_at.is_some_and(|at| at <= now) {
                image.active_at = None;
                image.status = "active".into();
            }
        }
    }

    /// Forces a server's state behind its owner's back (`"active"`, `"stopped"`, `"error"` with a
    /// fault message); false when there is no such server.
    pub fn set_server_state(&mut self, id: &str, vm_state: &str, fault: Option<&str>) -> bool {
        self.settle();
        match self.servers.get_mut(id) {
            Some(server) => {
                server.apply_state(vm_state, fault);
                true
            }
            None => false,
        }
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub fn due(&self, ms: u64) -> Instant {
        Instant::now() + Duration::from_millis(ms)
    }

    /// Expires every issued token (the next call with one is a 401).
    pub fn expire_tokens(&mut self) {
        let past = chrono::Utc::now() - chrono::Duration::seconds(1);
        for token in self.tokens.values_mut() {
            token.expires_at = past;
        }
    }

    /// Takes one use of the first fault matching this request.
    pub fn take_fault(&mut self, method: &str, path: &str) -> Option<Fault> {
        self.log.take_fault(|f| (f.method == "*" || f.method.eq_ignore_ascii_case(method)) && glob(&f.path, path))
    }
}

#[derive(Clone, Default)]
pub struct Shared(Arc<Mutex<Inner>>);

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // The emulator is test infrastructure: a poisoned lock still holds usable state.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `*` matches any run of characters (including `/`).
pub fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((prefix, rest)) => {
            let Some(tail) = text.strip_prefix(prefix) else {
                return false;
            };
            (0..=tail.len()).filter(|i| tail.is_char_boundary(*i)).any(|i| glob(rest, &tail[i..]))
        }
    }
}

/// A Nova server group, in the project of the token that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerGroup {
    pub name: String,
    pub policy: String,
    pub project_id: String,
    pub user_id: String,
}

/// Collapses resource ids in a path so counters group by route: `/compute/v2.1/servers/{id}/action`.
pub fn route_key(method: &str, path: &str) -> String {
    let mut out = Vec::new();
    let mut previous = "";
    for segment in path.split('/') {
        let is_id = matches!(
            previous,
            "servers"
                | "images"
                | "flavors"
                | "os-keypairs"
                | "os-server-groups"
                | "application-credentials"
                | "ports"
                | "floatingips"
                | "networks"
                | "security-groups"
        ) && !matches!(segment, "detail" | "");
        out.push(if is_id { "{id}" } else { segment });
        previous = segment;
    }
    format!("{} {}", method, out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_route_keys() {
        assert!(glob("/compute/v2.1/servers*", "/compute/v2.1/servers/abc/action"));
        assert!(glob("*/action", "/compute/v2.1/servers/abc/action"));
        assert!(!glob("/image/*", "/compute/v2.1/servers"));
        assert_eq!(route_key("POST", "/compute/v2.1/servers/abc/action"), "POST /compute/v2.1/servers/{id}/action");
        assert_eq!(route_key("GET", "/compute/v2.1/servers/detail"), "GET /compute/v2.1/servers/detail");
    }
}
