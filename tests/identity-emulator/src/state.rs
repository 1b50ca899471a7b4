//! What the emulated identity knows: tokens and their userinfo, each subject's ACL, the system
//! accounts (by client certificate), injected faults, counters and the requests it received.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use emulator_support::{Effect, HasEffect, Log};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A token identity issued, and who it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenGrant {
    /// The bearer token; generated when absent.
    #[serde(default)]
    pub token: Option<String>,
    pub sub: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default = "user")]
    pub acctype: String,
    #[serde(default)]
    pub org_ids: Vec<String>,
    /// The subject's ACL (`global`, `organizations`), replacing any it had.
    #[serde(default)]
    pub acl: Option<Value>,
}

fn user() -> String {
    "user".into()
}

/// One injected fault: the next `count` requests to `route` (`discovery`, `userinfo`, `acl`,
/// `allocations`, or `*`)
/// answer `status`, wait `delayMs` first, or lose their connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    pub route: String,
    #[serde(flatten)]
    pub effect: Effect,
}

impl Fault {
    pub fn status(route: &str, status: u16) -> Fault {
        Fault { route: route.into(), effect: Effect::status(status) }
    }
    pub fn delay(route: &str, delay_ms: u64) -> Fault {
        Fault { route: route.into(), effect: Effect::delay(delay_ms) }
    }
    pub fn dropped(route: &str) -> Fault {
        Fault { route: route.into(), effect: Effect::dropped() }
    }
    pub fn times(mut self, count: u32) -> Fault {
        self.effect.count = count;
        self
    }
}

impl HasEffect for Fault {
    fn effect_mut(&mut self) -> &mut Effect {
        &mut self.effect
    }
}

/// What a request carried that a test may ask about (never the token itself).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    pub route: String,
    pub path: String,
    pub subject: Option<String>,
    pub principal: Option<String>,
    pub impersonate: bool,
    pub client_certificate: bool,
}

#[derive(Default)]
pub struct State {
    pub tokens: HashMap<String, TokenGrant>,
    pub acls: HashMap<String, Value>,
    /// System accounts by their client certificate (PEM, whitespace removed): common name and ACL.
    pub systems: HashMap<String, (String, Value)>,
    /// Allocations by id, and each project's quotas by kind (organization, project).
    pub allocations: HashMap<String, crate::allocations::Allocation>,
    pub quotas: HashMap<(String, String), std::collections::BTreeMap<String, i64>>,
    /// Faults waiting, requests counted per route, and what each request carried.
    pub log: Log<Fault, Received>,
}

impl State {
    /// The fault a request to `route` meets, if any (spent as it is met).
    pub fn take_fault(&mut self, route: &str) -> Option<Fault> {
        self.log.take_fault(|f| f.route == route || f.route == "*")
    }
}

pub fn certificate_key(pem: &str) -> String {
    pem.chars().filter(|c| !c.is_whitespace()).collect()
}

#[derive(Clone, Default)]
pub struct Shared(Arc<Mutex<State>>);

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
