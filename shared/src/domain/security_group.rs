//! Security groups (Unikorn's): a list of rules that belongs to a network (v2) or an identity
//! (v1), made at the provider as `securitygroup-<id>` in the project its servers live in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::record::resource_record;
use super::security_rules::SecurityRule;
use super::{Lifecycle, Stage};

/// Unikorn's name for a group at the provider.
pub fn security_group_object_name(id: &str) -> String {
    format!("securitygroup-{id}")
}

/// What the provider holds of a group, recorded as soon as it answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroupObjects {
    /// The project it is made in (its network's, or its identity's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

resource_record! {
    /// A security group: its rules, enacted at the provider in its network's (v1: its identity's)
    /// project by the worker, and the servers that name it.
    pub struct SecurityGroupRecord {
        pub region_id: String,
        /// The v2 network it belongs to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub network_id: Option<String>,
        /// The provider identity whose project it is made in (its network's, or its v1 identity).
        pub identity_id: String,
        /// The v1 identity resource it lives under.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parent_identity_id: Option<String>,
        pub rules: Vec<SecurityRule>,
        pub lifecycle: Lifecycle,
        #[serde(default)]
        pub objects: SecurityGroupObjects,
        /// Set when its delete began (kept beside the document in the table).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub deleting_since: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub modified_by: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub modified_time: Option<DateTime<Utc>>,
        /// Bumped by every write after the first; each write is conditional on the version it read.
        #[serde(default)]
        pub version: u64,
    }
}

impl SecurityGroupRecord {
    pub fn stage(&self) -> Stage {
        self.lifecycle.stage
    }

    /// Its teardown at the provider has begun.
    pub fn in_teardown(&self) -> bool {
        self.lifecycle.stage == Stage::Deprovisioning
    }

    /// Its delete began: marked (a v1 group waiting for its servers) or in teardown.
    pub fn is_being_deleted(&self) -> bool {
        self.deleting_since.is_some() || self.in_teardown()
    }
}
