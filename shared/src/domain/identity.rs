use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ApiVersion, Description, ResourceName, Tags};

/// An identity resource (v1): binds an organization's project in a region to the provider identity
/// (credential) the operator configured for it. v1 networks, and the servers on them, live under one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityRecord {
    pub id: String,
    pub api_version: ApiVersion,
    pub name: ResourceName,
    pub description: Option<Description>,
    pub tags: Tags,
    pub organization_id: String,
    pub project_id: String,
    pub region_id: String,
    /// The operator-configured provider identity it stands for; never shown to callers.
    pub provider_identity_id: String,
    pub created_by: String,
    pub creation_time: DateTime<Utc>,
}
