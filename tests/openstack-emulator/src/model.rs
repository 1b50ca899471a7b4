//! The emulated cloud's resources and the server state machine (Nova's vm_state + task_state).

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct AppCredential {
    pub id: String,
    pub name: String,
    pub secret: String,
    pub user_id: String,
    pub project_id: String,
}

/// A Keystone user with a password and the projects and domains it holds a role in.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub password: String,
    pub projects: std::collections::BTreeSet<String>,
    pub domains: std::collections::BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// Empty for a domain-scoped token.
    pub project_id: String,
    pub user_id: String,
    /// The application credential it was issued for (empty for a password).
    pub credential_id: String,
    /// The domain a domain-scoped token is scoped to.
    pub domain_id: Option<String>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Flavor {
    pub id: String,
    pub name: String,
    pub vcpus: u32,
    pub ram: u64,
    pub disk: u64,
    #[serde(default)]
    pub extra_specs: BTreeMap<String, String>,
    /// `os-flavor-access:is_public`; a private flavor is seen only by the projects given access.
    #[serde(default = "yes")]
    pub is_public: bool,
    #[serde(default)]
    pub access: std::collections::BTreeSet<String>,
}

impl Flavor {
    /// Nova's flavor access: public, or private with access for the project.
    pub fn visible_to(&self, project: &str) -> bool {
        self.is_public || self.access.contains(project)
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
pub struct Image {
    #[serde(default = "new_id")]
    pub id: String,
    pub name: String,
    #[serde(default = "active")]
    pub status: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default = "public")]
    pub visibility: String,
    #[serde(default)]
    pub min_disk: u64,
    #[serde(default)]
    pub size: Option<u64>,
    /// The disk the image unpacks to (Glance's `virtual_size`).
    #[serde(default)]
    pub virtual_size: Option<u64>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    #[serde(default = "now")]
    pub created_at: String,
    #[serde(skip)]
    pub active_at: Option<Instant>,
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
fn active() -> String {
    "active".into()
}
fn public() -> String {
    "public".into()
}
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Built,
    /// The scheduler found no host: the server lands in ERROR without ever booting.
    NoValidHost,
    PoweredOn,
    PoweredOff,
    Rebooted,
    Snapshotted,
    Resized,
    Rebuilt,
    Deleted,
}

#[derive(Debug, Clone)]
pub struct Server {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub name: String,
    pub image_id: String,
    pub flavor: Flavor,
    pub old_flavor: Option<Flavor>,
    pub metadata: BTreeMap<String, String>,
    pub vm_state: &'static str,
    pub task_state: Option<&'static str>,
    pub power_state: u8,
    pub key_name: Option<String>,
    pub user_data: Option<String>,
    pub created: String,
    pub updated: String,
    pub pending: Option<(Instant, Transition)>,
    pub pending_image: Option<String>,
    pub console: Vec<String>,
    /// Creation order: Nova lists newest first.
    pub seq: u64,
    /// Nova's `fault` of a server in ERROR.
    pub fault: Option<String>,
}

impl Server {
    /// Nova's `_STATE_MAP`: the status a user sees from vm_state and task_state.
    pub fn status(&self) -> &'static str {
        match (self.vm_state, self.task_state) {
            ("active", Some("rebooting")) => "REBOOT",
            ("active", Some("rebooting_hard")) => "HARD_REBOOT",
            (_, Some("rebuilding")) => "REBUILD",
            ("active" | "stopped", Some("resize_prep")) => "RESIZE",
            ("active", _) => "ACTIVE",
            ("building", _) => "BUILD",
            ("stopped", _) => "SHUTOFF",
            ("resized", _) => "VERIFY_RESIZE",
            ("paused", _) => "PAUSED",
            ("suspended", _) => "SUSPENDED",
            ("shelved", _) => "SHELVED",
            ("shelved_offloaded", _) => "SHELVED_OFFLOADED",
            ("rescued", _) => "RESCUE",
            ("error", _) => "ERROR",
            ("deleted", _) => "DELETED",
            _ => "UNKNOWN",
        }
    }

    /// Forces a state, as an operator (or a hypervisor failure) would; any running task ends.
    pub fn apply_state(&mut self, vm_state: &str, fault: Option<&str>) {
        self.pending = None;
        self.task_state = None;
        self.updated = now_string();
        // Nova's power_state codes: 1 running, 3 paused, 4 shutdown, 7 suspended.
        let (state, power) = match vm_state {
            "active" => ("active", 1),
            "stopped" => ("stopped", 4),
            "paused" => ("paused", 3),
            "suspended" => ("suspended", 7),
            "shelved" => ("shelved", 4),
            "shelved_offloaded" => ("shelved_offloaded", 0),
            "rescued" => ("rescued", 1),
            _ => ("error", 0),
        };
        self.vm_state = state;
        self.power_state = power;
        self.fault = (state == "error").then(|| fault.unwrap_or("Unknown error").to_owned());
    }

    /// Applies a due transition: the state a finished task leaves behind.
    pub fn settle(&mut self, now: Instant) -> bool {
        let Some((due, transition)) = self.pending else {
            return false;
        };
        if due > now {
            return false;
        }
        self.pending = None;
        self.task_state = None;
        self.updated = now_string();
        match transition {
            Transition::Built | Transition::PoweredOn | Transition::Rebooted | Transition::Rebuilt => {
                self.vm_state = "active";
                self.power_state = 1;
                self.console.push(format!("[{}] {} reached state ACTIVE", self.updated, self.name));
            }
            Transition::PoweredOff => {
                self.vm_state = "stopped";
                self.power_state = 4;
                self.console.push(format!("[{}] reboot: Power down", self.updated));
            }
            Transition::Resized => self.vm_state = "resized",
            Transition::NoValidHost => {
                self.vm_state = "error";
                self.power_state = 0;
                self.fault = Some(crate::nova::NO_VALID_HOST.to_owned());
            }
            Transition::Snapshotted => {}
            Transition::Deleted => {
                self.vm_state = "deleted";
                return true;
            }
        }
        false
    }
}

fn now_string() -> String {
    now()
}
