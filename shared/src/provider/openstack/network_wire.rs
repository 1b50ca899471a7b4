//! Neutron v2.0 request and response bodies, as the official samples show them (fields this client
//! does not read are left out; serde ignores them).

use serde::{Deserialize, Serialize};

use super::wire::Link;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressPair {
    pub ip_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PortCreateRequest {
    pub port: PortCreate,
}

#[derive(Debug, Serialize)]
pub struct PortCreate {
    pub name: String,
    pub network_id: String,
    /// Absent: Neutron gives the port the project's default group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_groups: Option<Vec<String>>,
    /// Sent only when asked for: Neutron's policy lets only the network's owner (or an admin) set
    /// the attribute at all, so even an empty list refuses the port on another project's network.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_address_pairs: Vec<AddressPair>,
}

#[derive(Debug, Serialize)]
pub struct PortUpdateRequest {
    pub port: PortUpdate,
}

#[derive(Debug, Serialize)]
pub struct PortUpdate {
    pub security_groups: Vec<String>,
    pub allowed_address_pairs: Vec<AddressPair>,
}

#[derive(Debug, Deserialize)]
pub struct PortEnvelope {
    pub port: NeutronPort,
}

#[derive(Debug, Deserialize)]
pub struct PortsEnvelope {
    pub ports: Vec<NeutronPort>,
    /// Present when the page was full: the `next` link's marker is the page's last port.
    #[serde(default)]
    pub ports_links: Vec<Link>,
}

#[derive(Debug, Deserialize)]
pub struct FixedIp {
    pub ip_address: String,
}

#[derive(Debug, Deserialize)]
pub struct NeutronPort {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub network_id: String,
    #[serde(default)]
    pub device_id: String,
    #[serde(default)]
    pub fixed_ips: Vec<FixedIp>,
    #[serde(default)]
    pub mac_address: Option<String>,
    #[serde(default)]
    pub security_groups: Vec<String>,
    #[serde(default)]
    pub allowed_address_pairs: Vec<AddressPair>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub project_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FloatingIpCreateRequest {
    pub floatingip: FloatingIpCreate,
}

#[derive(Debug, Serialize)]
pub struct FloatingIpCreate {
    pub floating_network_id: String,
    pub port_id: String,
    pub description: String,
}

#[derive(Debug, Deserialize)]
pub struct FloatingIpEnvelope {
    pub floatingip: NeutronFloatingIp,
}

#[derive(Debug, Deserialize)]
pub struct FloatingIpsEnvelope {
    pub floatingips: Vec<NeutronFloatingIp>,
    #[serde(default)]
    pub floatingips_links: Vec<Link>,
}

#[derive(Debug, Deserialize)]
pub struct NeutronFloatingIp {
    pub id: String,
    pub floating_ip_address: String,
    #[serde(default)]
    pub port_id: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub project_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NetworksEnvelope {
    pub networks: Vec<NeutronNetwork>,
}

#[derive(Debug, Deserialize)]
pub struct NeutronNetwork {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct SecurityGroupsEnvelope {
    pub security_groups: Vec<NeutronSecurityGroup>,
}

#[derive(Debug, Deserialize)]
pub struct NeutronSecurityGroup {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub project_id: Option<String>,
}
