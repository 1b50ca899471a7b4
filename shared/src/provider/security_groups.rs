//! The provider port of security groups: a group found again by the name the product gave it,
//! its rules listed as Neutron holds them and changed one at a time (the reconcile's plan is the
//! domain's: `domain::security_rules::plan_rules`).

use async_trait::async_trait;

use super::{ProviderCredential, Result};
use crate::domain::security_rules::{HeldRule, SecurityRule};

#[async_trait]
pub trait SecurityGroups: Send + Sync {
    /// The credential's project's group of that name.
    async fn find_security_group(&self, cred: &ProviderCredential, name: &str) -> Result<Option<String>>;
    /// Makes a group in the credential's project (the provider adds its default egress rules).
    async fn create_security_group(&self, cred: &ProviderCredential, name: &str) -> Result<String>;
    /// Deletes a group; one already gone is done; `Conflict` while a port uses it.
    async fn delete_security_group(&self, cred: &ProviderCredential, id: &str) -> Result<()>;
    /// Every rule of the group.
    async fn security_group_rules(&self, cred: &ProviderCredential, group_id: &str) -> Result<Vec<HeldRule>>;
    /// Adds a rule (IPv4); answers its id.
    async fn create_security_group_rule(
        &self,
        cred: &ProviderCredential,
        group_id: &str,
        rule: &SecurityRule,
    ) -> Result<String>;
    /// Deletes a rule; one already gone is done.
    async fn delete_security_group_rule(&self, cred: &ProviderCredential, id: &str) -> Result<()>;
}
