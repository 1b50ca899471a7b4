//! Keystone v3 administration (projects, users, roles, application credentials), the quota APIs of
//! Nova, Neutron and Cinder, and Nova's server groups: the [`Tenancy`] port.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};

use super::client::{OpenStackProvider, Service};
use crate::provider::tenancy::{AppCredential, ProjectSpec, QuotasRaised, Tenancy, UserSpec};
use crate::provider::{ProviderCredential, ProviderError, Result};
use crate::text::percent_encode as encode;

/// Every quota Unikorn lifts (v1.18.3 on): -1 is unlimited.
const NOVA_QUOTAS: [&str; 7] =
    ["instances", "cores", "ram", "key_pairs", "metadata_items", "server_groups", "server_group_members"];
const NEUTRON_QUOTAS: [&str; 9] = [
    "security_group",
    "security_group_rule",
    "floatingip",
    "network",
    "port",
    "rbac_policy",
    "router",
    "subnet",
    "subnetpool",
];
const CINDER_QUOTAS: [&str; 6] = ["volumes", "gigabytes", "snapshots", "backups", "backup_gigabytes", "groups"];

fn unlimited(names: &[&str]) -> Value {
    Value::Object(names.iter().map(|n| ((*n).to_owned(), json!(-1))).collect())
}

/// The domain a credential administers (projects and users are made there).
fn domain_of(cred: &ProviderCredential) -> Result<&str> {
    match &cred.scope {
        crate::provider::CredentialScope::Domain(d) => Ok(d),
        crate::provider::CredentialScope::Project(_) => {
            Err(ProviderError::failed("projects and users are administered with a domain-scoped credential"))
        }
    }
}

fn id_of(value: &Value, kind: &str) -> Result<String> {
    value[kind]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ProviderError::unavailable(format!("keystone answered a {kind} without an id")))
}

/// The id of the one item of `collection` named exactly `name` (Keystone's `name` filter is exact;
/// checked again here).
fn named(listing: &Value, collection: &str, name: &str) -> Option<String> {
    listing[collection]
        .as_array()?
        .iter()
        .find(|item| item["name"].as_str() == Some(name))
        .and_then(|item| item["id"].as_str().map(str::to_owned))
}

impl OpenStackProvider {
    async fn keystone(
        &self,
        cred: &ProviderCredential,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Value> {
        self.document(cred, Service::Identity, (method, path), body, what).await
    }
}

#[async_trait]
impl Tenancy for OpenStackProvider {
    async fn list_projects(&self, cred: &ProviderCredential, prefix: &str, tag: &str) -> Result<Vec<(String, String)>> {
        let domain = domain_of(cred)?;
        let path = format!("/projects?domain_id={}&tags={}", encode(domain), encode(tag));
        let listing = self.keystone(cred, Method::GET, &path, None, "projects").await?;
        let tagged = |p: &Value| p["tags"].as_array().is_some_and(|t| t.iter().any(|x| x.as_str() == Some(tag)));
        Ok(listing["projects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| tagged(p))
            .filter_map(|p| Some((p["id"].as_str()?.to_owned(), p["name"].as_str()?.to_owned())))
            .filter(|(_, name)| name.starts_with(prefix))
            .collect())
    }

    async fn find_project(&self, cred: &ProviderCredential, name: &str) -> Result<Option<String>> {
        let domain = domain_of(cred)?;
        let path = format!("/projects?name={}&domain_id={}", encode(name), encode(domain));
        let listing = self.keystone(cred, Method::GET, &path, None, "projects").await?;
        Ok(named(&listing, "projects", name))
    }

    async fn create_project(&self, cred: &ProviderCredential, spec: &ProjectSpec) -> Result<String> {
        let body = json!({"project": {"name": spec.name, "domain_id": spec.domain_id, "tags": spec.tags,
            "description": "unikorn managed identity project"}});
        let made = self.keystone(cred, Method::POST, "/projects", Some(&body), "project").await?;
        id_of(&made, "project")
    }

    async fn delete_project(&self, cred: &ProviderCredential, id: &str) -> Result<()> {
        self.keystone(cred, Method::DELETE, &format!("/projects/{}", encode(id)), None, "project").await.map(drop)
    }

    async fn role_ids(&self, cred: &ProviderCredential, names: &[String]) -> Result<Vec<String>> {
        let listing = self.keystone(cred, Method::GET, "/roles", None, "roles").await?;
        names
            .iter()
            .map(|name| named(&listing, "roles", name).ok_or_else(|| ProviderError::not_found(format!("role {name}"))))
            .collect()
    }

    async fn assign_role(
        &self,
        cred: &ProviderCredential,
        project_id: &str,
        user_id: &str,
        role_id: &str,
    ) -> Result<()> {
        let path = format!("/projects/{}/users/{}/roles/{}", encode(project_id), encode(user_id), encode(role_id));
        self.keystone(cred, Method::PUT, &path, None, "role assignment").await.map(drop)
    }

    async fn find_user(&self, cred: &ProviderCredential, name: &str) -> Result<Option<String>> {
        let domain = domain_of(cred)?;
        let path = format!("/users?name={}&domain_id={}", encode(name), encode(domain));
        let listing = self.keystone(cred, Method::GET, &path, None, "users").await?;
        Ok(named(&listing, "users", name))
    }

    async fn create_user(&self, cred: &ProviderCredential, spec: &UserSpec) -> Result<String> {
        let body = json!({"user": {"name": spec.name, "domain_id": spec.domain_id, "password": spec.password,
            "enabled": true}});
        let made = self.keystone(cred, Method::POST, "/users", Some(&body), "user").await?;
        id_of(&made, "user")
    }

    async fn set_password(&self, cred: &ProviderCredential, user_id: &str, password: &str) -> Result<()> {
        let body = json!({"user": {"password": password}});
        self.keystone(cred, Method::PATCH, &format!("/users/{}", encode(user_id)), Some(&body), "user").await.map(drop)
    }

    async fn delete_user(&self, cred: &ProviderCredential, id: &str) -> Result<()> {
        self.keystone(cred, Method::DELETE, &format!("/users/{}", encode(id)), None, "user").await.map(drop)
    }

    async fn create_application_credential(
        &self,
        user: &ProviderCredential,
        name: &str,
        roles: &[String],
    ) -> Result<AppCredential> {
        let base = format!("/users/{}/application_credentials", encode(&user.user_id));
        let roles: Vec<Value> = roles.iter().map(|r| json!({"name": r})).collect();
        let body = json!({"application_credential": {"name": name, "description": "IaaS lifecycle management",
            "roles": roles}});
        let made = match self.keystone(user, Method::POST, &base, Some(&body), "application credential").await {
            // One of that name exists (an attempt that did not record it): its secret is unknown,
            // so it is replaced.
            Err(ProviderError::Conflict { .. }) => {
                let path = format!("{base}?name={}", encode(name));
                let listing = self.keystone(user, Method::GET, &path, None, "application credentials").await?;
                if let Some(old) = named(&listing, "application_credentials", name) {
                    let path = format!("{base}/{}", encode(&old));
                    match self.keystone(user, Method::DELETE, &path, None, "application credential").await {
                        Ok(_) | Err(ProviderError::NotFound { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                self.keystone(user, Method::POST, &base, Some(&body), "application credential").await?
            }
            other => other?,
        };
        let secret = made["application_credential"]["secret"].as_str().map(str::to_owned).ok_or_else(|| {
            ProviderError::unavailable("keystone answered an application credential without its secret")
        })?;
        Ok(AppCredential { id: id_of(&made, "application_credential")?, secret })
    }

    async fn delete_application_credential(&self, cred: &ProviderCredential, user_id: &str, id: &str) -> Result<()> {
        let path = format!("/users/{}/application_credentials/{}", encode(user_id), encode(id));
        self.keystone(cred, Method::DELETE, &path, None, "application credential").await.map(drop)
    }

    async fn raise_quotas(&self, cred: &ProviderCredential, project_id: &str) -> Result<QuotasRaised> {
        let project = encode(project_id);
        let nova = json!({"quota_set": unlimited(&NOVA_QUOTAS)});
        let path = format!("/os-quota-sets/{project}");
        self.send(cred, Service::Compute, Method::PUT, &path, Some(&nova), "compute quotas").await?;
        let neutron = json!({"quota": unlimited(&NEUTRON_QUOTAS)});
        let path = format!("/v2.0/quotas/{project}");
        self.send(cred, Service::Network, Method::PUT, &path, Some(&neutron), "network quotas").await?;
        let block_storage = self.has_block_storage(cred).await?;
        if block_storage {
            let cinder = json!({"quota_set": unlimited(&CINDER_QUOTAS)});
            let path = format!("/os-quota-sets/{project}");
            self.send(cred, Service::Volume, Method::PUT, &path, Some(&cinder), "block storage quotas").await?;
        }
        Ok(QuotasRaised { compute: true, network: true, block_storage })
    }

    async fn find_server_group(&self, cred: &ProviderCredential, name: &str) -> Result<Option<String>> {
        let listing =
            self.document(cred, Service::Compute, (Method::GET, "/os-server-groups"), None, "server groups").await?;
        Ok(named(&listing, "server_groups", name))
    }

    async fn create_server_group(&self, cred: &ProviderCredential, name: &str, policy: &str) -> Result<String> {
        // Microversion 2.64 on: one `policy` (earlier: a `policies` list).
        let body = json!({"server_group": {"name": name, "policy": policy}});
        let made = self
            .document(cred, Service::Compute, (Method::POST, "/os-server-groups"), Some(&body), "server group")
            .await?;
        id_of(&made, "server_group")
    }

    async fn delete_server_group(&self, cred: &ProviderCredential, id: &str) -> Result<()> {
        let path = format!("/os-server-groups/{}", encode(id));
        self.send(cred, Service::Compute, Method::DELETE, &path, None, "server group").await.map(drop)
    }
}
