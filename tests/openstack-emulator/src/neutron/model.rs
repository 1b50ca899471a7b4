//! Neutron's resources as the emulator keeps them: networks with one IPv4 subnet each, ports with
//! their fixed IP, MAC, security groups and allowed address pairs, floating IPs on external
//! networks, and security groups.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::model::now;

#[derive(Debug, Clone)]
pub struct Network {
    pub id: String,
    pub name: String,
    pub project_id: String,
    pub shared: bool,
    /// `router:external`: floating IPs are allocated from it.
    pub external: bool,
    pub subnet_id: String,
    pub tags: Vec<String>,
    /// The first two octets of the subnet's /16 (`10.0`); hosts are given in order from `.0.2`.
    pub prefix: String,
    pub next_host: u32,
    /// A subnet's allocation pool (first and last address as numbers): hosts are given from its start.
    pub pool: Option<(u32, u32)>,
    /// The VLAN segment of a provider network: physical network and segmentation id.
    pub segment: Option<(String, u16)>,
}

/// A subnet made through the API (the seeded networks' subnets are implied by their prefix).
#[derive(Debug, Clone)]
pub struct Subnet {
    pub id: String,
    pub name: String,
    pub network_id: String,
    pub project_id: String,
    pub cidr: String,
    pub gateway_ip: String,
    pub allocation_pools: Vec<(String, String)>,
    pub dns_nameservers: Vec<String>,
    pub host_routes: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Router {
    pub id: String,
    pub name: String,
    pub project_id: String,
    pub external_network_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressPair {
    pub ip_address: String,
    pub mac_address: String,
}

#[derive(Debug, Clone)]
pub struct Port {
    pub id: String,
    pub name: String,
    pub network_id: String,
    pub project_id: String,
    pub device_id: String,
    pub device_owner: String,
    pub mac_address: String,
    pub subnet_id: String,
    pub ip_address: String,
    pub security_groups: Vec<String>,
    pub allowed_address_pairs: Vec<AddressPair>,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
    pub revision_number: u64,
}

#[derive(Debug, Clone)]
pub struct FloatingIp {
    pub id: String,
    pub project_id: String,
    pub floating_network_id: String,
    pub floating_ip_address: String,
    pub port_id: Option<String>,
    pub fixed_ip_address: Option<String>,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
    pub revision_number: u64,
}

#[derive(Debug, Clone)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub project_id: String,
    pub description: String,
}

/// A security group rule: `None` protocol, ports or prefix mean any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroupRule {
    pub id: String,
    pub security_group_id: String,
    pub project_id: String,
    pub direction: String,
    pub ethertype: String,
    pub protocol: Option<String>,
    pub port_range_min: Option<u64>,
    pub port_range_max: Option<u64>,
    pub remote_ip_prefix: Option<String>,
}

impl SecurityGroupRule {
    /// What Neutron refuses twice (`SecurityGroupRuleExists`).
    pub fn same_as(&self, other: &SecurityGroupRule) -> bool {
        let shape = |r: &SecurityGroupRule| {
            (
                r.security_group_id.clone(),
                r.direction.clone(),
                r.ethertype.clone(),
                r.protocol.clone(),
                r.port_range_min,
                r.port_range_max,
                r.remote_ip_prefix.clone(),
            )
        };
        shape(self) == shape(other)
    }
}

/// Everything Neutron holds.
#[derive(Debug, Default)]
pub struct Net {
    pub networks: BTreeMap<String, Network>,
    pub ports: BTreeMap<String, Port>,
    pub floating_ips: BTreeMap<String, FloatingIp>,
    pub security_groups: BTreeMap<String, SecurityGroup>,
    pub security_group_rules: BTreeMap<String, SecurityGroupRule>,
    pub subnets: BTreeMap<String, Subnet>,
    pub routers: BTreeMap<String, Router>,
    /// Projects whose Neutron quotas were raised (`PUT /v2.0/quotas/{project}`).
    pub quotas_raised: std::collections::BTreeSet<String>,
    macs: u32,
}

/// What a new port is made of; the rest (id, address, MAC) Neutron allocates.
pub struct NewPort {
    pub name: String,
    pub network_id: String,
    pub project_id: String,
    pub device_id: String,
    pub device_owner: String,
    pub security_groups: Vec<String>,
    pub allowed_address_pairs: Vec<(String, Option<String>)>,
    pub description: String,
}

impl Net {
    pub fn visible_network(&self, project: &str, id: &str) -> Option<&Network> {
        self.networks.get(id).filter(|n| n.shared || n.external || n.project_id == project)
    }

    /// The project's default security group, made on first use as Neutron makes it.
    pub fn default_group(&mut self, project: &str) -> String {
        if let Some(group) = self.security_groups.values().find(|g| g.project_id == project && g.name == "default") {
            return group.id.clone();
        }
        self.add_group(project, "default", "Default security group")
    }

    /// Makes a group with Neutron's default egress rules (IPv4 and IPv6, any protocol, anywhere).
    pub fn add_group(&mut self, project: &str, name: &str, description: &str) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let group = SecurityGroup {
            id: id.clone(),
            name: name.into(),
            project_id: project.into(),
            description: description.into(),
        };
        self.security_groups.insert(id.clone(), group);
        for ethertype in ["IPv4", "IPv6"] {
            let rule = SecurityGroupRule {
                id: uuid::Uuid::new_v4().to_string(),
                security_group_id: id.clone(),
                project_id: project.into(),
                direction: "egress".into(),
                ethertype: ethertype.into(),
                protocol: None,
                port_range_min: None,
                port_range_max: None,
                remote_ip_prefix: None,
            };
            self.security_group_rules.insert(rule.id.clone(), rule);
        }
        id
    }

    /// A group of the project by id (or, for Nova's `security_groups`, by name).
    pub fn group(&self, project: &str, id_or_name: &str) -> Option<&SecurityGroup> {
        let mine = |g: &&SecurityGroup| g.project_id == project;
        self.security_groups
            .get(id_or_name)
            .filter(mine)
            .or_else(|| self.security_groups.values().filter(mine).find(|g| g.name == id_or_name))
    }

    fn next_mac(&mut self) -> String {
        self.macs += 1;
        let n = self.macs;
        format!("fa:16:3e:{:02x}:{:02x}:{:02x}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff)
    }

    /// Allocates the next host address of a network; None when the /16 is full.
    fn next_address(&mut self, network_id: &str) -> Option<(String, String)> {
        let network = self.networks.get_mut(network_id)?;
        let n = network.next_host;
        if let Some((start, end)) = network.pool {
            let address = start.checked_add(n).filter(|a| *a <= end)?;
            network.next_host += 1;
            return Some((network.subnet_id.clone(), std::net::Ipv4Addr::from(address).to_string()));
        }
        if n >= 250 * 256 {
            return None;
        }
        let address = format!("{}.{}.{}", network.prefix, n / 250, n % 250 + 2);
        network.next_host += 1;
        Some((network.subnet_id.clone(), address))
    }

    /// Creates a port (the caller checked the network and the groups); None when no address is left.
    pub fn create_port(&mut self, new: NewPort) -> Option<Port> {
        let (subnet_id, ip_address) = self.next_address(&new.network_id)?;
        let mac_address = self.next_mac();
        let pairs = new
            .allowed_address_pairs
            .into_iter()
            .map(|(ip, mac)| AddressPair { ip_address: ip, mac_address: mac.unwrap_or_else(|| mac_address.clone()) })
            .collect();
        let port = Port {
            id: uuid::Uuid::new_v4().to_string(),
            name: new.name,
            network_id: new.network_id,
            project_id: new.project_id,
            device_id: new.device_id,
            device_owner: new.device_owner,
            mac_address,
            subnet_id,
            ip_address,
            security_groups: new.security_groups,
            allowed_address_pairs: pairs,
            description: new.description,
            created_at: now(),
            updated_at: now(),
            revision_number: 1,
        };
        self.ports.insert(port.id.clone(), port.clone());
        Some(port)
    }

    /// Removes a port; a floating IP bound to it stays allocated, unbound (as Neutron does).
    pub fn delete_port(&mut self, id: &str) -> bool {
        let removed = self.ports.remove(id).is_some();
        for fip in self.floating_ips.values_mut().filter(|f| f.port_id.as_deref() == Some(id)) {
            fip.port_id = None;
            fip.fixed_ip_address = None;
            fip.updated_at = now();
        }
        removed
    }

    /// A server is gone: the ports Nova made for it go with it, the ones it was given are unbound.
    pub fn release_device(&mut self, device_id: &str) {
        let ports: Vec<(String, bool)> = self
            .ports
            .values()
            .filter(|p| p.device_id == device_id)
            .map(|p| (p.id.clone(), p.description == NOVA_MADE))
            .collect();
        for (id, nova_made) in ports {
            if nova_made {
                self.delete_port(&id);
            } else if let Some(port) = self.ports.get_mut(&id) {
                port.device_id.clear();
                port.device_owner.clear();
                port.updated_at = now();
                port.revision_number += 1;
            }
        }
    }

    /// The floating IP bound to a port, if any.
    pub fn floating_ip_of(&self, port_id: &str) -> Option<&FloatingIp> {
        self.floating_ips.values().find(|f| f.port_id.as_deref() == Some(port_id))
    }

    /// Allocates the next address of an external network as a floating IP.
    pub fn allocate_floating_ip(
        &mut self,
        project: &str,
        network_id: &str,
        port: Option<&Port>,
        description: String,
    ) -> Option<FloatingIp> {
        let (_, address) = self.next_address(network_id)?;
        let fip = FloatingIp {
            id: uuid::Uuid::new_v4().to_string(),
            project_id: project.into(),
            floating_network_id: network_id.into(),
            floating_ip_address: address,
            port_id: port.map(|p| p.id.clone()),
            fixed_ip_address: port.map(|p| p.ip_address.clone()),
            description,
            created_at: now(),
            updated_at: now(),
            revision_number: 1,
        };
        self.floating_ips.insert(fip.id.clone(), fip.clone());
        Some(fip)
    }
}

/// The description of the ports Nova makes itself for `networks: [{"uuid": ...}]` (deleted with
/// their server, unlike the ports a caller made).
pub const NOVA_MADE: &str = "created by nova for its server";

/// A network as Neutron shows it; a VLAN provider network with its `provider:` attributes (which
/// Neutron shows its admins and the project managers Unikorn's policy lets make them).
pub fn network_json(n: &Network) -> Value {
    let mut shown = network_base(n);
    if let Some((physnet, vlan)) = &n.segment {
        shown["provider:network_type"] = json!("vlan");
        shown["provider:physical_network"] = json!(physnet);
        shown["provider:segmentation_id"] = json!(vlan);
    }
    shown
}

fn network_base(n: &Network) -> Value {
    json!({
        "id": n.id, "name": n.name, "project_id": n.project_id, "tenant_id": n.project_id,
        "admin_state_up": true, "status": "ACTIVE", "shared": n.shared, "router:external": n.external,
        "subnets": if n.subnet_id.is_empty() { json!([]) } else { json!([n.subnet_id]) }, "mtu": 1500, "port_security_enabled": true, "availability_zones": ["nova"],
        "availability_zone_hints": [], "ipv4_address_scope": null, "ipv6_address_scope": null,
        "description": "", "revision_number": 1, "is_default": false,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "tags": n.tags,
    })
}

pub fn port_json(p: &Port) -> Value {
    let bound = !p.device_id.is_empty();
    json!({
        "id": p.id, "name": p.name, "network_id": p.network_id, "project_id": p.project_id,
        "tenant_id": p.project_id, "admin_state_up": true, "status": if bound { "ACTIVE" } else { "DOWN" },
        "mac_address": p.mac_address, "fixed_ips": [{"ip_address": p.ip_address, "subnet_id": p.subnet_id}],
        "device_id": p.device_id, "device_owner": p.device_owner, "security_groups": p.security_groups,
        "allowed_address_pairs": p.allowed_address_pairs.iter()
            .map(|a| json!({"ip_address": a.ip_address, "mac_address": a.mac_address})).collect::<Vec<_>>(),
        "port_security_enabled": true, "description": p.description, "tags": [],
        "extra_dhcp_opts": [], "ip_allocation": "immediate", "propagate_uplink_status": false,
        "revision_number": p.revision_number, "created_at": p.created_at, "updated_at": p.updated_at,
    })
}

pub fn floating_ip_json(f: &FloatingIp, port: Option<&Port>) -> Value {
    let details = port.map(|p| {
        json!({"status": if p.device_id.is_empty() { "DOWN" } else { "ACTIVE" }, "name": p.name,
               "admin_state_up": true, "network_id": p.network_id, "device_owner": p.device_owner,
               "mac_address": p.mac_address, "device_id": p.device_id})
    });
    json!({
        "id": f.id, "project_id": f.project_id, "tenant_id": f.project_id,
        "floating_network_id": f.floating_network_id, "floating_ip_address": f.floating_ip_address,
        "port_id": f.port_id, "fixed_ip_address": f.fixed_ip_address, "router_id": null,
        "status": if f.port_id.is_some() { "ACTIVE" } else { "DOWN" }, "description": f.description,
        "port_details": details, "port_forwardings": [], "tags": [], "qos_policy_id": null,
        "revision_number": f.revision_number, "created_at": f.created_at, "updated_at": f.updated_at,
    })
}

pub fn security_group_rule_json(r: &SecurityGroupRule) -> Value {
    json!({
        "id": r.id, "security_group_id": r.security_group_id, "project_id": r.project_id,
        "tenant_id": r.project_id, "direction": r.direction, "ethertype": r.ethertype, "protocol": r.protocol,
        "port_range_min": r.port_range_min, "port_range_max": r.port_range_max,
        "remote_ip_prefix": r.remote_ip_prefix, "remote_group_id": null, "remote_address_group_id": null,
        "normalized_cidr": r.remote_ip_prefix, "description": "", "belongs_to_default_sg": false,
        "revision_number": 0, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
    })
}

pub fn security_group_json(g: &SecurityGroup, rules: &BTreeMap<String, SecurityGroupRule>) -> Value {
    let rules: Vec<Value> =
        rules.values().filter(|r| r.security_group_id == g.id).map(security_group_rule_json).collect();
    json!({
        "id": g.id, "name": g.name, "project_id": g.project_id, "tenant_id": g.project_id,
        "description": g.description, "security_group_rules": rules, "stateful": true, "shared": false,
        "tags": [], "revision_number": 1, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
    })
}
