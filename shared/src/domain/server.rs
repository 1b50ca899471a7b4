use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Cidr, Description, ResourceName, Tags, UserData};

/// Records carrying this API-version label are served by the v2 routes; any other is a 404 there.
pub const API_VERSION_V2: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProvisioningStatus {
    Unknown,
    Provisioning,
    Provisioned,
    Deprovisioning,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Unknown,
    Healthy,
    Degraded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PowerState {
    Pending,
    Running,
    Stopping,
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Networking {
    pub security_groups: Option<Vec<String>>,
    pub public_ip: Option<bool>,
    pub allowed_source_addresses: Option<Vec<Cidr>>,
}

/// A server as stored. `version` increases with every write and is the ETag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerRecord {
    pub id: String,
    pub api_version: u32,
    pub name: ResourceName,
    pub description: Option<Description>,
    pub tags: Tags,
    pub organization_id: String,
    pub project_id: String,
    pub region_id: String,
    pub network_id: String,
    pub identity_id: String,
    pub flavor_id: String,
    pub image_id: String,
    /// The image's minimum disk when it was validated, so a flavor change can be checked without
    /// asking the provider about an unchanged image.
    pub image_min_disk_gib: u64,
    pub networking: Option<Networking>,
    pub user_data: Option<UserData>,
    pub ssh_certificate_authority_id: Option<String>,
    pub infrastructure_ref: Option<String>,
    pub created_by: String,
    pub creation_time: DateTime<Utc>,
    pub modified_by: Option<String>,
    pub modified_time: Option<DateTime<Utc>>,
    pub deletion_time: Option<DateTime<Utc>>,
    pub provisioning_status: ProvisioningStatus,
    pub health_status: HealthStatus,
    pub power_state: Option<PowerState>,
    pub provider_id: Option<String>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub mac_address: Option<String>,
    /// A resize was accepted by the provider and still needs its confirmation.
    #[serde(default)]
    pub resize_pending: bool,
    pub version: u64,
}

impl ServerRecord {
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }

    pub fn is_v2(&self) -> bool {
        self.api_version == API_VERSION_V2
    }

    pub fn is_deleting(&self) -> bool {
        self.provisioning_status == ProvisioningStatus::Deprovisioning
    }

    /// A state the provider is still moving, so a read should ask it.
    pub fn is_transitional(&self) -> bool {
        matches!(self.provisioning_status, ProvisioningStatus::Provisioning | ProvisioningStatus::Deprovisioning)
            || matches!(self.power_state, Some(PowerState::Pending | PowerState::Stopping))
    }

    /// Folds what the provider reports into the record (addresses, power, provisioning).
    pub fn observe(&mut self, server: &crate::provider::ProviderServer) {
        self.private_ip = server.private_ip.clone().or(self.private_ip.take());
        self.public_ip = server.public_ip.clone().or(self.public_ip.take());
        self.mac_address = server.mac_address.clone().or(self.mac_address.take());
        if self.is_deleting() {
            return;
        }
        let busy = server.task_state.is_some();
        match server.status.as_str() {
            "ACTIVE" if !busy => {
                self.provisioning_status = ProvisioningStatus::Provisioned;
                self.health_status = HealthStatus::Healthy;
                self.power_state = Some(PowerState::Running);
            }
            "SHUTOFF" if !busy => {
                self.provisioning_status = ProvisioningStatus::Provisioned;
                self.health_status = HealthStatus::Healthy;
                self.power_state = Some(PowerState::Stopped);
            }
            "ERROR" => {
                self.provisioning_status = ProvisioningStatus::Error;
                self.health_status = HealthStatus::Degraded;
            }
            "BUILD" => self.power_state = Some(PowerState::Pending),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ProviderServer;

    pub fn record() -> ServerRecord {
        ServerRecord {
            id: "s1".into(),
            api_version: API_VERSION_V2,
            name: ResourceName::parse("n", "web").unwrap_or_else(|e| panic!("{e}")),
            description: None,
            tags: Tags::default(),
            organization_id: "o".into(),
            project_id: "p".into(),
            region_id: "r".into(),
            network_id: "n".into(),
            identity_id: "i".into(),
            flavor_id: "f".into(),
            image_id: "img".into(),
            image_min_disk_gib: 1,
            networking: None,
            user_data: None,
            ssh_certificate_authority_id: None,
            infrastructure_ref: None,
            created_by: "alice".into(),
            creation_time: Utc::now(),
            modified_by: None,
            modified_time: None,
            deletion_time: None,
            provisioning_status: ProvisioningStatus::Provisioning,
            health_status: HealthStatus::Unknown,
            power_state: None,
            provider_id: Some("nova-1".into()),
            private_ip: None,
            public_ip: None,
            mac_address: None,
            resize_pending: false,
            version: 1,
        }
    }

    #[test]
    fn provider_observations_move_the_record() {
        let mut r = record();
        let mut seen =
            ProviderServer { status: "BUILD".into(), task_state: Some("spawning".into()), ..Default::default() };
        r.observe(&seen);
        assert_eq!(
            (r.provisioning_status, r.power_state),
            (ProvisioningStatus::Provisioning, Some(PowerState::Pending))
        );
        seen.status = "ACTIVE".into();
        seen.task_state = None;
        seen.private_ip = Some("10.0.0.5".into());
        r.observe(&seen);
        assert_eq!(
            (r.provisioning_status, r.power_state),
            (ProvisioningStatus::Provisioned, Some(PowerState::Running))
        );
        assert_eq!(r.private_ip.as_deref(), Some("10.0.0.5"));
        assert!(!r.is_transitional());
        r.provisioning_status = ProvisioningStatus::Deprovisioning;
        seen.status = "SHUTOFF".into();
        r.observe(&seen);
        assert_eq!(r.provisioning_status, ProvisioningStatus::Deprovisioning, "deletion is never undone by a read");
        assert_eq!(r.etag(), "\"1\"");
    }

    #[test]
    fn records_round_trip_through_json() {
        let r = record();
        let json = serde_json::to_string(&r).unwrap_or_default();
        let back: ServerRecord = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, r);
    }
}
