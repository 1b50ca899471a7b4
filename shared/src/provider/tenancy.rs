//! The provider port of identities: a project of the product's own per identity, its user and the
//! roles they hold there, an application credential, raised quotas. The region's credential makes
//! them (domain scope for projects and users, the identity's project for quotas); the identity's
//! user makes its own application credential.

use async_trait::async_trait;

use super::{ProviderCredential, Result};

/// A new project: its name (the product's, so it is found again by it), domain and tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSpec {
    pub name: String,
    pub domain_id: String,
    pub tags: Vec<String>,
}

/// A new user: its name, domain and password.
#[derive(Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub name: String,
    pub domain_id: String,
    pub password: String,
}

impl std::fmt::Debug for UserSpec {
    // The password must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserSpec").field("name", &self.name).field("domain_id", &self.domain_id).finish_non_exhaustive()
    }
}

/// An application credential as made: its secret is shown once.
#[derive(Clone, PartialEq, Eq)]
pub struct AppCredential {
    pub id: String,
    pub secret: String,
}

impl std::fmt::Debug for AppCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCredential").field("id", &self.id).finish_non_exhaustive()
    }
}

/// Which services' quotas were raised (a cloud without block storage has none to raise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuotasRaised {
    pub compute: bool,
    pub network: bool,
    pub block_storage: bool,
}

#[async_trait]
pub trait Tenancy: Send + Sync {
    /// Every project of the credential's domain whose name starts with `prefix` and that carries
    /// the tag `tag`: (id, name).
    async fn list_projects(&self, cred: &ProviderCredential, prefix: &str, tag: &str) -> Result<Vec<(String, String)>>;
    /// The project of that name in the credential's domain, if one exists.
    async fn find_project(&self, cred: &ProviderCredential, name: &str) -> Result<Option<String>>;
    async fn create_project(&self, cred: &ProviderCredential, spec: &ProjectSpec) -> Result<String>;
    async fn delete_project(&self, cred: &ProviderCredential, id: &str) -> Result<()>;
    /// The ids of roles by name; a name the provider does not know is `NotFound`.
    async fn role_ids(&self, cred: &ProviderCredential, names: &[String]) -> Result<Vec<String>>;
    async fn assign_role(
        &self,
        cred: &ProviderCredential,
        project_id: &str,
        user_id: &str,
        role_id: &str,
    ) -> Result<()>;
    async fn find_user(&self, cred: &ProviderCredential, name: &str) -> Result<Option<String>>;
    async fn create_user(&self, cred: &ProviderCredential, spec: &UserSpec) -> Result<String>;
    /// Sets a user's password (a provisioning that lost track of the one it made sets its own).
    async fn set_password(&self, cred: &ProviderCredential, user_id: &str, password: &str) -> Result<()>;
    /// Removes a user, with its application credentials and role assignments.
    async fn delete_user(&self, cred: &ProviderCredential, id: &str) -> Result<()>;
    /// As the user itself (its credential, scoped to its project): a new application credential
    /// with the given roles; an earlier one of the same name is replaced (its secret is unknown).
    async fn create_application_credential(
        &self,
        user: &ProviderCredential,
        name: &str,
        roles: &[String],
    ) -> Result<AppCredential>;
    /// Revokes a user's application credential (as the user itself: Keystone lets no one else).
    async fn delete_application_credential(&self, cred: &ProviderCredential, user_id: &str, id: &str) -> Result<()>;
    /// Raises the project's quotas as far as each service allows, for every service the catalog has.
    async fn raise_quotas(&self, cred: &ProviderCredential, project_id: &str) -> Result<QuotasRaised>;
    /// Nova server groups of the credential's project (a v1 identity's, handed to its consumer).
    async fn find_server_group(&self, cred: &ProviderCredential, name: &str) -> Result<Option<String>>;
    async fn create_server_group(&self, cred: &ProviderCredential, name: &str, policy: &str) -> Result<String>;
    async fn delete_server_group(&self, cred: &ProviderCredential, id: &str) -> Result<()>;
}
