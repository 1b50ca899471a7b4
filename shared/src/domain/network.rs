use super::record::resource_record;
use chrono::{DateTime, Utc};

use super::{Lifecycle, NetworkAddressing, NetworkObjects, Stage};

/// The most references (other services' locks) one network holds.
pub const MAX_REFERENCES: usize = 100;

resource_record! {
    /// A network servers attach to: it fixes their organization, project, region, and the provider
    /// identity (credential) and provider network they use. A provisioned network (Unikorn's) is
    /// made at the provider by the product, in the project of a hidden identity of its own; a bound
    /// one (the binding extension) names a provider network the operator made.
    pub struct NetworkRecord {
        pub region_id: String,
        /// The provider identity (credential) its servers are created with: the hidden identity of
        /// a provisioned network, the region (its own project) for a bound one.
        pub identity_id: String,
        /// The identity resource it lives under (v1 nests networks under identities).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parent_identity_id: Option<String>,
        /// The provider network servers attach to (a provisioned network's once it is made).
        pub provider_network_id: String,
        /// The prefix, DNS servers and routes it declares.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub addressing: Option<NetworkAddressing>,
        /// Set when a delete found servers on it: no new servers, and it goes with its last server.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub deleting_since: Option<DateTime<Utc>>,
        /// A provisioned network's life at the provider; `None` for a bound network.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub lifecycle: Option<Lifecycle>,
        #[serde(default)]
        pub objects: NetworkObjects,
        /// The quota allocation identity made for it (a v2 network's `networks` count), freed when
        /// it goes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub allocation_id: Option<String>,
        /// Other services' locks on it (Unikorn's references): it is not deleted while any remain.
        #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
        pub references: std::collections::BTreeSet<String>,
        /// Who last changed it, and when.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub modified_by: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub modified_time: Option<DateTime<Utc>>,
        /// Bumped by every write after the first; each write is conditional on the version it read.
        #[serde(default)]
        pub version: u64,
    }
}

impl NetworkRecord {
    /// Where it is in its life: a bound network is provisioned from the start.
    pub fn stage(&self) -> Stage {
        // Marked deleting (a v1 network waiting for its servers to go) reads as going already.
        match &self.lifecycle {
            _ if self.deleting_since.is_some() => Stage::Deprovisioning,
            Some(l) => l.stage,
            None => Stage::Provisioned,
        }
    }

    pub fn is_provisioned_by_us(&self) -> bool {
        self.lifecycle.is_some()
    }

    /// Its teardown at the provider has begun (a provisioned network).
    pub fn in_teardown(&self) -> bool {
        self.lifecycle.as_ref().is_some_and(|l| l.stage == Stage::Deprovisioning)
    }
}
