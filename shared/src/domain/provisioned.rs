//! What the product makes at the provider for a network (and the hidden identity each v2 network
//! gets), recorded step by step: each id is written as soon as the provider answers with it, and a
//! secret before the call that uses it, so a retry after any crash finds (by name) or reuses what
//! an earlier attempt made and never makes a second one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a provisioned resource is in its life, as Unikorn derives `provisioningStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Recorded; no worker has started on it.
    #[default]
    Pending,
    Provisioning,
    Provisioned,
    /// The last attempt failed (the reason says why); retried.
    Error,
    /// Being taken down; the record goes with the last provider object.
    Deprovisioning,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Pending => "pending",
            Stage::Provisioning => "provisioning",
            Stage::Provisioned => "provisioned",
            Stage::Error => "error",
            Stage::Deprovisioning => "deprovisioning",
        }
    }

    /// Work is left for a worker (or cleanup) to do.
    pub fn unsettled(self) -> bool {
        self != Stage::Provisioned
    }
}

/// A resource's stage, why it is there (an error's cause) and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lifecycle {
    pub stage: Stage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub since: DateTime<Utc>,
}

impl Lifecycle {
    pub fn pending(now: DateTime<Utc>) -> Lifecycle {
        Lifecycle { stage: Stage::Pending, reason: None, since: now }
    }

    /// `stage` from `now` (the time kept when the stage does not change, so an error retried
    /// keeps its age).
    pub fn to(&self, stage: Stage, reason: Option<String>, now: DateTime<Utc>) -> Lifecycle {
        let since = if stage == self.stage { self.since } else { now };
        Lifecycle { stage, reason, since }
    }
}

/// An identity's objects at the provider: a project, the region user's role there, raised quotas, a
/// user (its password sealed, written before the user is made), the user's roles, and an
/// application credential (its secret sealed); a v1 identity's also a server group and the key
/// pair `unikorn-openstack-provider` (the private half sealed in its key pair record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct IdentityObjects {
    pub project_id: Option<String>,
    /// The region's user holds its role in the project (what its project-scoped token needs).
    pub manager_role: bool,
    pub quotas: bool,
    pub user_id: Option<String>,
    pub sealed_password: Option<String>,
    pub user_roles: bool,
    pub application_credential_id: Option<String>,
    pub sealed_application_credential_secret: Option<String>,
    pub server_group_id: Option<String>,
    /// The identity's user holds the key pair (Nova key pairs belong to users).
    pub keypair: bool,
}

/// The Nova key pair name a v1 identity hands out (Unikorn's, one per identity user).
pub const IDENTITY_KEYPAIR_NAME: &str = "unikorn-openstack-provider";

/// A network's objects at the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct NetworkObjects {
    /// The project of its hidden identity, copied here once it exists (servers are made in it).
    pub project_id: Option<String>,
    /// The VLAN claimed for it in the region (claimed before the network is made).
    pub vlan_id: Option<u16>,
    pub network_id: Option<String>,
    pub subnet_id: Option<String>,
    pub router_id: Option<String>,
    pub interface: bool,
}

/// The provider's names for what the product makes, as Unikorn names them, so an operator who
/// knows Unikorn finds them.
pub fn identity_object_name(identity_id: &str) -> String {
    format!("unikorn-identity-{identity_id}")
}

pub fn network_object_name(network_id: &str) -> String {
    format!("network-{network_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_keeps_its_age_while_it_stays() {
        let t0 = DateTime::<Utc>::from_timestamp(0, 0).unwrap_or_default();
        let t1 = t0 + chrono::Duration::seconds(5);
        let error = Lifecycle::pending(t0).to(Stage::Error, Some("down".into()), t1);
        assert_eq!(error.since, t1);
        let again = error.to(Stage::Error, Some("still down".into()), t1 + chrono::Duration::seconds(9));
        assert_eq!((again.since, again.reason.as_deref()), (t1, Some("still down")));
        assert!(Stage::Error.unsettled() && !Stage::Provisioned.unsettled());
        assert_eq!(identity_object_name("a"), "unikorn-identity-a");
        assert_eq!(network_object_name("b"), "network-b");
    }
}
