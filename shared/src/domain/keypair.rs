use serde::{Deserialize, Serialize};

/// The SSH key pair of a provider identity. The private half is sealed (see `sealing`) and only
/// opened for the `sshkey` endpoint.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityKeypair {
    pub identity_id: String,
    /// The Nova keypair name servers are created with.
    pub keypair_name: String,
    pub public_key: String,
    pub sealed_private_key: String,
    /// Whether Nova has the public half.
    pub registered: bool,
}

impl std::fmt::Debug for IdentityKeypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityKeypair")
            .field("identity_id", &self.identity_id)
            .field("keypair_name", &self.keypair_name)
            .field("registered", &self.registered)
            .finish_non_exhaustive()
    }
}
