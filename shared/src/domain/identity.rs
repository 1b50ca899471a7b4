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

/// A v1 identity's access to its project, opened.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenStackAccess {
    /// The region's Keystone endpoint.
    pub auth_url: String,
    pub application_credential_id: String,
    pub application_credential_secret: String,
    pub user_id: String,
    pub project_id: String,
    pub server_group_id: String,
    pub ssh_key_name: String,
    pub ssh_private_key: String,
}

impl std::fmt::Debug for OpenStackAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenStackAccess").field("project_id", &self.project_id).finish_non_exhaustive()
    }
}

/// An identity as its read shows it.
#[derive(Debug, Clone)]
pub struct IdentityView {
    pub record: IdentityRecord,
    /// Once provisioned (never for one that stands for the region).
    pub openstack: Option<OpenStackAccess>,
}
