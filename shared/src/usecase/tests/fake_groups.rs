//! The fake provider's security groups: by name, with their rules, as Neutron keeps them (no
//! default rules: the real tier's Neutron makes none).

use super::*;
use crate::domain::security_rules::{HeldRule, SecurityRule};
use crate::provider::SecurityGroups;

fn held(id: String, rule: &SecurityRule) -> HeldRule {
    HeldRule {
        id,
        direction: rule.direction.as_str().into(),
        protocol: rule.protocol.neutron().map(str::to_owned),
        port_range_min: rule.ports.map(|p| p.min),
        port_range_max: rule.ports.map(|p| p.max),
        remote_ip_prefix: rule.prefix.map(|p| p.to_string()),
    }
}

#[async_trait]
impl SecurityGroups for FakeProvider {
    async fn find_security_group(&self, _: &ProviderCredential, name: &str) -> ProviderResult<Option<String>> {
        self.with("find_security_group", |m| m.security_groups.get(name).map(|(id, _)| id.clone()))
    }

    async fn create_security_group(&self, _: &ProviderCredential, name: &str) -> ProviderResult<String> {
        self.with("create_security_group", |m| {
            let id = format!("sg-{}", m.security_groups.len() + 1);
            m.security_groups.insert(name.to_owned(), (id.clone(), Vec::new()));
            id
        })
    }

    async fn delete_security_group(&self, _: &ProviderCredential, id: &str) -> ProviderResult<()> {
        self.with("delete_security_group", |m| m.security_groups.retain(|_, (g, _)| g != id))
    }

    async fn security_group_rules(&self, _: &ProviderCredential, group: &str) -> ProviderResult<Vec<HeldRule>> {
        self.with("security_group_rules", |m| {
            m.security_groups.values().find(|(g, _)| g == group).map(|(_, r)| r.clone()).unwrap_or_default()
        })
    }

    async fn create_security_group_rule(
        &self,
        _: &ProviderCredential,
        group: &str,
        rule: &SecurityRule,
    ) -> ProviderResult<String> {
        let made = self.with("create_security_group_rule", |m| {
            let (_, rules) = m.security_groups.values_mut().find(|(g, _)| g == group)?;
            let id = format!("{group}-rule-{}", rules.len() + 1);
            rules.push(held(id.clone(), rule));
            Some(id)
        })?;
        made.ok_or_else(|| ProviderError::not_found(format!("security group {group}")))
    }

    async fn delete_security_group_rule(&self, _: &ProviderCredential, id: &str) -> ProviderResult<()> {
        self.with("delete_security_group_rule", |m| {
            for (_, rules) in m.security_groups.values_mut() {
                rules.retain(|r| r.id != id);
            }
        })
    }
}
