use super::record::resource_record;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Cidr, MacAddress, UserData};

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
    pub allowed_source_addresses: Option<Vec<AllowedSource>>,
}

impl Networking {
    /// The security group ids asked for (none: the provider project's default group).
    pub fn groups(&self) -> &[String] {
        self.security_groups.as_deref().unwrap_or_default()
    }

    pub fn sources(&self) -> &[AllowedSource] {
        self.allowed_source_addresses.as_deref().unwrap_or_default()
    }

    pub fn wants_public_ip(&self) -> bool {
        self.public_ip == Some(true)
    }
}

/// A source address the server may send from besides its own, and the MAC it may come from (the
/// server's own when absent: v2 has no way to name one, v1's allowed address pairs do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredSource", into = "StoredSource")]
pub struct AllowedSource {
    pub cidr: Cidr,
    pub mac_address: Option<MacAddress>,
}

impl From<Cidr> for AllowedSource {
    fn from(cidr: Cidr) -> Self {
        AllowedSource { cidr, mac_address: None }
    }
}

/// How a source is stored: the bare prefix records written before MACs were kept hold, or the pair.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum StoredSource {
    Prefix(Cidr),
    #[serde(rename_all = "camelCase")]
    Pair {
        cidr: Cidr,
        mac_address: MacAddress,
    },
}

impl From<StoredSource> for AllowedSource {
    fn from(s: StoredSource) -> Self {
        match s {
            StoredSource::Prefix(cidr) => AllowedSource { cidr, mac_address: None },
            StoredSource::Pair { cidr, mac_address } => AllowedSource { cidr, mac_address: Some(mac_address) },
        }
    }
}

impl From<AllowedSource> for StoredSource {
    fn from(s: AllowedSource) -> Self {
        match s.mac_address {
            None => StoredSource::Prefix(s.cidr),
            Some(mac_address) => StoredSource::Pair { cidr: s.cidr, mac_address },
        }
    }
}

/// A change the provider was (or is about to be) asked for, recorded before the call so that the
/// cleanup function can complete it if the function that asked crashed or lost its write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum PendingChange {
    /// A new flavor; the provider resizes, then waits for a confirmation.
    #[serde(rename_all = "camelCase")]
    Resize { flavor_id: String, flavor_name: String, previous_flavor_id: String, since: DateTime<Utc> },
    /// A new image; the provider reinstalls the server from it.
    #[serde(rename_all = "camelCase")]
    Rebuild { image_id: String, previous_image_id: String, since: DateTime<Utc> },
}

impl PendingChange {
    pub fn since(&self) -> DateTime<Utc> {
        match self {
            PendingChange::Resize { since, .. } | PendingChange::Rebuild { since, .. } => *since,
        }
    }
}

/// What a server is protected from: deletion (also by its network's cascade) and rebuilds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Protection {
    pub delete: bool,
    pub rebuild: bool,
}

/// How SSH access is set up at create (Unikorn v1.19's `spec.sshInjection`; absent in v1.16.6,
/// which always attaches the identity key pair).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SshInjection {
    /// Only the SSH certificate authority: no identity key pair.
    Ca,
    IdentityKeypair,
    None,
}

impl SshInjection {
    pub fn parse(field: &str, value: &str) -> crate::error::Result<Self> {
        match value {
            "ca" => Ok(SshInjection::Ca),
            "identityKeypair" => Ok(SshInjection::IdentityKeypair),
            "none" => Ok(SshInjection::None),
            other => Err(crate::error::Error::invalid(format!(
                "{field}: '{}' is not one of ca, identityKeypair, none",
                other.chars().take(64).collect::<String>()
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SshInjection::Ca => "ca",
            SshInjection::IdentityKeypair => "identityKeypair",
            SshInjection::None => "none",
        }
    }
}

resource_record! {
    /// A server as stored. `version` increases with every write and is the ETag.
    pub struct ServerRecord {
        pub region_id: String,
        pub network_id: String,
        /// The provider identity (credential) the server lives in.
        pub identity_id: String,
        /// The identity resource its network lives under (v1 nests servers under identities).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parent_identity_id: Option<String>,
        /// The provider project its objects live in: its network's own (a provisioned network's),
        /// or `None` for the region's project.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub provider_project_id: Option<String>,
        pub flavor_id: String,
        pub image_id: String,
        /// The image's minimum disk when it was validated, so a flavor change can be checked without
        /// asking the provider about an unchanged image.
        pub image_min_disk_gib: u64,
        pub networking: Option<Networking>,
        pub user_data: Option<UserData>,
        pub ssh_certificate_authority_id: Option<String>,
        /// Set when the create request chose it (`spec.sshInjection`).
        #[serde(default)]
        pub ssh_injection: Option<SshInjection>,
        pub infrastructure_ref: Option<String>,
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
        /// A resize or rebuild recorded before the provider was asked, until it is seen done.
        #[serde(default)]
        pub pending: Option<PendingChange>,
        /// The provider's explanation of its error state, kept while the server is in error.
        #[serde(default)]
        pub provider_fault: Option<String>,
        /// Whether the provider server ever booted (active, stopped, paused, ...). A server that
        /// never did may be placed again when the provider has no capacity; one that did, never.
        /// Records written before this field count as booted.
        #[serde(default = "booted_before")]
        pub booted: bool,
        /// How many times the platform has placed the server again for lack of capacity.
        #[serde(default)]
        pub reschedules: u8,
        /// What the server is protected from (not shown in server bodies: its own route shows it).
        #[serde(default)]
        pub protection: Protection,
        /// The action the record tracks: running until a write shows its target, then kept (finished)
        /// until the next one replaces it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub action: Option<super::ActionRef>,
        /// The state the last published transition reached (see `lifecycle::transition`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub announced: Option<super::ServerState>,
        /// The keyed create that made it (`Idempotency-Key`): a retry with the same key finds it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub request_key: Option<RequestKey>,
        pub version: u64,
    }
}

fn booted_before() -> bool {
    true
}

/// An `Idempotency-Key` as a record keeps it: digests of the caller's scoped key and of the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestKey {
    pub key: String,
    pub body: String,
}

impl ServerRecord {
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }

    pub fn is_deleting(&self) -> bool {
        self.provisioning_status == ProvisioningStatus::Deprovisioning
    }

    /// A state the provider is still moving, so a read should ask it.
    pub fn is_transitional(&self) -> bool {
        matches!(self.provisioning_status, ProvisioningStatus::Provisioning | ProvisioningStatus::Deprovisioning)
            || matches!(self.power_state, Some(PowerState::Pending | PowerState::Stopping))
            || self.pending.is_some()
    }

    /// Puts back what a pending change replaced.
    pub fn undo_pending(&mut self) {
        match self.pending.take() {
            Some(PendingChange::Resize { previous_flavor_id, .. }) => self.flavor_id = previous_flavor_id,
            Some(PendingChange::Rebuild { previous_image_id, .. }) => self.image_id = previous_image_id,
            None => {}
        }
    }

    /// Whether the server was given the identity key pair: asked for (`identityKeypair`), or by
    /// default unless an SSH certificate authority is bound (as Unikorn v1.16.6 boots it).
    pub fn has_identity_keypair(&self) -> bool {
        match self.ssh_injection {
            Some(SshInjection::Ca | SshInjection::None) => false,
            Some(SshInjection::IdentityKeypair) => true,
            None => self.ssh_certificate_authority_id.is_none(),
        }
    }

    /// Whether a create may still be reaching the provider: the record has no provider id yet and
    /// is younger than `grace` (longer than any function runs). Until then, not finding the
    /// provider server proves nothing.
    pub fn create_may_be_in_flight(&self, now: DateTime<Utc>, grace: chrono::Duration) -> bool {
        self.provider_id.is_none() && (now - self.creation_time < grace || self.rescheduling())
    }

    /// The platform gave up placing the server again (the provider refused it): in error, with no
    /// provider server.
    pub fn unplaced(&self) -> bool {
        self.provider_id.is_none() && self.reschedules > 0 && self.provisioning_status == ProvisioningStatus::Error
    }

    /// The platform is placing the server again (the provider had no capacity): until the
    /// attempt's create is seen, or its action ends, a missing provider server is expected.
    pub fn rescheduling(&self) -> bool {
        self.action.as_ref().is_some_and(|a| a.is_running() && a.command == super::Command::Reschedule)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::{ApiVersion, ResourceName, Tags};

    pub fn record() -> ServerRecord {
        ServerRecord {
            id: "s1".into(),
            api_version: ApiVersion::V2,
            name: ResourceName::parse("n", "web").unwrap_or_else(|e| panic!("{e}")),
            description: None,
            tags: Tags::default(),
            organization_id: "o".into(),
            project_id: "p".into(),
            region_id: "r".into(),
            network_id: "n".into(),
            identity_id: "i".into(),
            provider_project_id: None,
            parent_identity_id: None,
            flavor_id: "f".into(),
            image_id: "img".into(),
            image_min_disk_gib: 1,
            networking: None,
            user_data: None,
            ssh_certificate_authority_id: None,
            ssh_injection: None,
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
            pending: None,
            provider_fault: None,
            booted: true,
            reschedules: 0,
            protection: Protection::default(),
            action: None,
            announced: None,
            request_key: None,
            version: 1,
        }
    }

    #[test]
    fn records_round_trip_through_json() {
        let r = record();
        let json = serde_json::to_string(&r).unwrap_or_default();
        let back: ServerRecord = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, r);
    }
}
