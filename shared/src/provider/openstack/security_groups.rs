//! Neutron security groups and their rules: the [`SecurityGroups`] port.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};

use super::client::OpenStackProvider;
use super::fabric::{gone_is_done, id_of};
use crate::domain::security_rules::{HeldRule, SecurityRule};
use crate::provider::security_groups::SecurityGroups;
use crate::provider::{ProviderCredential, Result};
use crate::text::percent_encode as encode;

/// Unikorn's description of the rules it makes.
const RULE_DESCRIPTION: &str = "unikorn managed security group rule";

fn held(rule: &Value) -> Option<HeldRule> {
    let port = |key: &str| rule[key].as_u64().and_then(|p| u16::try_from(p).ok());
    Some(HeldRule {
        id: rule["id"].as_str()?.to_owned(),
        direction: rule["direction"].as_str()?.to_owned(),
        protocol: rule["protocol"].as_str().map(str::to_owned),
        port_range_min: port("port_range_min"),
        port_range_max: port("port_range_max"),
        remote_ip_prefix: rule["remote_ip_prefix"].as_str().map(str::to_owned),
    })
}

#[async_trait]
impl SecurityGroups for OpenStackProvider {
    async fn find_security_group(&self, cred: &ProviderCredential, name: &str) -> Result<Option<String>> {
        let found = self.named(cred, "security-groups", name).await?;
        Ok(found.first().and_then(|g| g["id"].as_str()).map(str::to_owned))
    }

    async fn create_security_group(&self, cred: &ProviderCredential, name: &str) -> Result<String> {
        let body = json!({"security_group": {"name": name}});
        let made = self.neutron(cred, Method::POST, "/v2.0/security-groups", Some(&body), "security group").await?;
        id_of(&made, "security_group")
    }

    async fn delete_security_group(&self, cred: &ProviderCredential, id: &str) -> Result<()> {
        let path = format!("/v2.0/security-groups/{}", encode(id));
        gone_is_done(self.neutron(cred, Method::DELETE, &path, None, "security group").await)
    }

    async fn security_group_rules(&self, cred: &ProviderCredential, group_id: &str) -> Result<Vec<HeldRule>> {
        let path = format!("/v2.0/security-group-rules?security_group_id={}", encode(group_id));
        let listing = self.neutron(cred, Method::GET, &path, None, "security group rules").await?;
        Ok(listing["security_group_rules"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["security_group_id"].as_str() == Some(group_id))
            .filter_map(held)
            .collect())
    }

    async fn create_security_group_rule(
        &self,
        cred: &ProviderCredential,
        group_id: &str,
        rule: &SecurityRule,
    ) -> Result<String> {
        let mut wire = json!({"security_group_id": group_id, "direction": rule.direction.as_str(), "ethertype": "IPv4",
            "description": RULE_DESCRIPTION});
        if let Some(protocol) = rule.protocol.neutron() {
            wire["protocol"] = json!(protocol);
        }
        if let Some(ports) = rule.ports {
            wire["port_range_min"] = json!(ports.min);
            wire["port_range_max"] = json!(ports.max);
        }
        if let Some(prefix) = rule.prefix {
            wire["remote_ip_prefix"] = json!(prefix.to_string());
        }
        let body = json!({"security_group_rule": wire});
        let made =
            self.neutron(cred, Method::POST, "/v2.0/security-group-rules", Some(&body), "security group rule").await?;
        id_of(&made, "security_group_rule")
    }

    async fn delete_security_group_rule(&self, cred: &ProviderCredential, id: &str) -> Result<()> {
        let path = format!("/v2.0/security-group-rules/{}", encode(id));
        gone_is_done(self.neutron(cred, Method::DELETE, &path, None, "security group rule").await)
    }
}
