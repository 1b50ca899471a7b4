use super::record::resource_record;

use super::{IdentityObjects, Lifecycle};

resource_record! {
    /// An identity: an organization's project in a region, at the provider. A v1 identity resource
    /// stands for the provider identity (credential) the operator configured for the region; each v2
    /// network has a hidden one of its own, which the product provisions (a project, a user and its
    /// application credential) and whose user its servers are made by.
    pub struct IdentityRecord {
        pub region_id: String,
        /// The provider identity it stands for; never shown to callers.
        pub provider_identity_id: String,
        /// A v2 network's own identity: listed nowhere, gone with its network.
        #[serde(default)]
        pub hidden: bool,
        /// A provisioned identity's life at the provider; `None` for one that stands for the region.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub lifecycle: Option<Lifecycle>,
        #[serde(default)]
        pub objects: IdentityObjects,
        #[serde(default)]
        pub version: u64,
        /// Set when a delete found networks under it (v1's foreground delete): it takes no new
        /// network, and goes once its last network is gone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub deleting_since: Option<chrono::DateTime<chrono::Utc>>,
    }
}
