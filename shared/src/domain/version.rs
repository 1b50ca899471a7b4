use std::fmt;

use serde::{Deserialize, Serialize};

/// The API generation a record was created through. Routes of one generation never see another's
/// records (Unikorn's API-version label): the route that serves a request says which it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiVersion(pub u32);

impl ApiVersion {
    /// Path-scoped, identity-nested servers and networks (Unikorn's compatibility surface).
    pub const V1: ApiVersion = ApiVersion(1);
    /// Flat, id-addressed, network-linked servers.
    pub const V2: ApiVersion = ApiVersion(2);
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}
