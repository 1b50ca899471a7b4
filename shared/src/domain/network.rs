use super::record::resource_record;
use chrono::{DateTime, Utc};

use super::NetworkAddressing;

resource_record! {
    /// A network servers attach to: it fixes their organization, project, region, and the provider
    /// identity (credential) and provider network they use.
    pub struct NetworkRecord {
        pub region_id: String,
        /// The provider identity (credential) its servers are created with.
        pub identity_id: String,
        /// The identity resource it lives under (v1 nests networks under identities).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parent_identity_id: Option<String>,
        pub provider_network_id: String,
        /// The prefix and DNS servers it declares (v1 networks state them).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub addressing: Option<NetworkAddressing>,
        /// Set when a delete found servers on it: no new servers, and it goes with its last server.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub deleting_since: Option<DateTime<Utc>>,
    }
}
