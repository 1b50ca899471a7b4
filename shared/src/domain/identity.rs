use super::record::resource_record;

resource_record! {
    /// An identity resource (v1): binds an organization's project in a region to the provider identity
    /// (credential) the operator configured for it. v1 networks, and the servers on them, live under one.
    pub struct IdentityRecord {
        pub region_id: String,
        /// The operator-configured provider identity it stands for; never shown to callers.
        pub provider_identity_id: String,
    }
}
