//! Security groups as a test makes them: through the API (Unikorn's bodies), provisioned by the
//! worker, with the Neutron id their servers' ports carry read back from the emulator.

use serde_json::{json, Value};

use super::Stack;

/// A group: Unikorn's id (what servers name) and the Neutron group made for it.
#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub neutron_id: String,
}

/// SSH in from anywhere: a rule every test group can carry.
pub fn ssh_rules() -> Value {
    json!([{"direction": "ingress", "protocol": "tcp", "port": 22}])
}

impl Stack {
    /// A v2 group named `name` on `network`, once the worker has provisioned it.
    pub async fn security_group(&self, network: &str, name: &str) -> Group {
        let body = json!({"metadata": {"name": name}, "spec": {"networkId": network, "rules": ssh_rules()}});
        let created = self.call("POST", "/api/v2/securitygroups", Some(&self.admin()), Some(&body)).await;
        assert_eq!(created.status, 201, "group create: {}", created.body);
        let id = created.id();
        self.until_stage(&format!("/api/v2/securitygroups/{id}"), "provisioned").await;
        self.made_group(id)
    }

    /// A v1 group named `name` under the identity at `identity_path`, once provisioned.
    pub async fn v1_security_group(&self, identity_path: &str, name: &str) -> Group {
        let body = json!({"metadata": {"name": name}, "spec": {"rules": [
            {"direction": "ingress", "protocol": "tcp", "port": {"number": 22}, "cidr": "0.0.0.0/0"}]}});
        let path = format!("{identity_path}/securitygroups");
        let created = self.call("POST", &path, Some(&self.admin()), Some(&body)).await;
        assert_eq!(created.status, 201, "v1 group create: {}", created.body);
        let id = created.id();
        self.until_stage(&format!("{path}/{id}"), "provisioned").await;
        self.made_group(id)
    }

    fn made_group(&self, id: String) -> Group {
        let name = format!("securitygroup-{id}");
        let made = self.emulator.inventory().security_groups.into_iter().find(|g| g.1 == name);
        let neutron_id = made.map(|g| g.0).unwrap_or_else(|| panic!("no group {name} at Neutron"));
        Group { id, neutron_id }
    }

    /// The Neutron groups made for group `id` (named `securitygroup-<id>`), read from the
    /// emulator: each one's project and its ingress rules keyed as Unikorn keys them
    /// (`ingress,tcp,22-22,0.0.0.0/0`), sorted.
    pub fn at_neutron(&self, id: &str) -> Vec<(String, Vec<String>)> {
        let name = format!("securitygroup-{id}");
        let groups = self.emulator.inventory().security_groups.into_iter().filter(|g| g.1 == name);
        groups
            .map(|(_, _, project, rules)| {
                let ingress = rules.iter().filter(|r| r.direction == "ingress");
                let mut keys: Vec<String> = ingress
                    .map(|r| {
                        let ports = format!("{}-{}", r.port_range_min.unwrap_or(0), r.port_range_max.unwrap_or(0));
                        let prefix = r.remote_ip_prefix.clone().unwrap_or_else(|| "0.0.0.0/0".into());
                        let protocol = r.protocol.clone().unwrap_or_else(|| "any".into());
                        format!("{},{protocol},{ports},{prefix}", r.direction)
                    })
                    .collect();
                keys.sort();
                (project, keys)
            })
            .collect()
    }
}
