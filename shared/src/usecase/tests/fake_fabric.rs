//! The fake provider's identities and networks: projects, users, roles, application credentials,
//! networks, subnets, routers and interfaces in memory, found by name as the real ones are.

use std::collections::BTreeMap;

use super::*;
use crate::provider::fabric::{Fabric, FabricNetwork, FabricObjects, Segment, SubnetOptions, SubnetSpec};
use crate::provider::tenancy::{AppCredential, ProjectSpec, QuotasRaised, Tenancy, UserSpec};

/// What the fake cloud holds, by kind: name -> id (and, for subnets, what they serve).
#[derive(Default, Debug, Clone, PartialEq)]
pub(super) struct Made {
    pub projects: BTreeMap<String, String>,
    pub users: BTreeMap<String, String>,
    pub credentials: BTreeMap<String, String>,
    pub networks: BTreeMap<String, FabricNetwork>,
    pub subnets: BTreeMap<String, (String, SubnetOptions)>,
    pub routers: BTreeMap<String, String>,
    /// (router, subnet)
    pub interfaces: Vec<(String, String)>,
    pub server_groups: BTreeMap<String, String>,
    /// Security groups by name: their id and rules.
    pub security_groups: BTreeMap<String, (String, Vec<crate::domain::security_rules::HeldRule>)>,
}

impl Made {
    pub fn is_empty(&self) -> bool {
        self.projects.is_empty()
            && self.users.is_empty()
            && self.networks.is_empty()
            && self.subnets.is_empty()
            && self.routers.is_empty()
            && self.interfaces.is_empty()
            && self.server_groups.is_empty()
            && self.security_groups.is_empty()
    }
}

impl FakeProvider {
    pub(super) fn made(&self) -> Made {
        self.made.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(super) fn with<T>(&self, call: &str, f: impl FnOnce(&mut Made) -> T) -> ProviderResult<T> {
        self.call(call)?;
        Ok(f(&mut self.made.lock().unwrap_or_else(|e| e.into_inner())))
    }
}

fn remove_by_id<V>(map: &mut BTreeMap<String, V>, id: &str, id_of: impl Fn(&V) -> &str) -> bool {
    let key = map.iter().find(|(_, v)| id_of(v) == id).map(|(k, _)| k.clone());
    key.is_some_and(|k| map.remove(&k).is_some())
}

#[async_trait]
impl Tenancy for FakeProvider {
    async fn list_projects(
        &self,
        _: &ProviderCredential,
        prefix: &str,
        _: &str,
    ) -> ProviderResult<Vec<(String, String)>> {
        self.with("list_projects", |m| {
            m.projects.iter().filter(|(n, _)| n.starts_with(prefix)).map(|(n, id)| (id.clone(), n.clone())).collect()
        })
    }
    async fn find_project(&self, _: &ProviderCredential, name: &str) -> ProviderResult<Option<String>> {
        self.with("find_project", |m| m.projects.get(name).cloned())
    }
    async fn create_project(&self, _: &ProviderCredential, spec: &ProjectSpec) -> ProviderResult<String> {
        self.with("create_project", |m| {
            let id = format!("project-{}", m.projects.len() + 1);
            m.projects.insert(spec.name.clone(), id.clone());
            id
        })
    }
    async fn delete_project(&self, _: &ProviderCredential, id: &str) -> ProviderResult<()> {
        let removed = self.with("delete_project", |m| remove_by_id(&mut m.projects, id, String::as_str))?;
        removed.then_some(()).ok_or_else(|| ProviderError::not_found(format!("project {id}")))
    }
    async fn find_server_group(&self, _: &ProviderCredential, name: &str) -> ProviderResult<Option<String>> {
        self.with("find_server_group", |m| m.server_groups.get(name).cloned())
    }
    async fn create_server_group(&self, _: &ProviderCredential, name: &str, _: &str) -> ProviderResult<String> {
        self.with("create_server_group", |m| {
            let id = format!("group-{}", m.server_groups.len() + 1);
            m.server_groups.insert(name.to_owned(), id.clone());
            id
        })
    }
    async fn delete_server_group(&self, _: &ProviderCredential, id: &str) -> ProviderResult<()> {
        let removed = self.with("delete_server_group", |m| remove_by_id(&mut m.server_groups, id, String::as_str))?;
        removed.then_some(()).ok_or_else(|| ProviderError::not_found(format!("server group {id}")))
    }
    async fn role_ids(&self, _: &ProviderCredential, names: &[String]) -> ProviderResult<Vec<String>> {
        self.with("role_ids", |_| names.iter().map(|n| format!("{n}-role")).collect())
    }
    async fn assign_role(&self, _: &ProviderCredential, _: &str, _: &str, _: &str) -> ProviderResult<()> {
        self.call("assign_role")
    }
    async fn find_user(&self, _: &ProviderCredential, name: &str) -> ProviderResult<Option<String>> {
        self.with("find_user", |m| m.users.get(name).cloned())
    }
    async fn create_user(&self, _: &ProviderCredential, spec: &UserSpec) -> ProviderResult<String> {
        self.with("create_user", |m| {
            let id = format!("user-{}", m.users.len() + 1);
            m.users.insert(spec.name.clone(), id.clone());
            id
        })
    }
    async fn set_password(&self, _: &ProviderCredential, _: &str, _: &str) -> ProviderResult<()> {
        self.call("set_password")
    }
    async fn delete_user(&self, _: &ProviderCredential, id: &str) -> ProviderResult<()> {
        self.with("delete_user", |m| {
            remove_by_id(&mut m.users, id, String::as_str);
            m.credentials.clear();
        })
    }
    async fn create_application_credential(
        &self,
        _: &ProviderCredential,
        name: &str,
        _: &[String],
    ) -> ProviderResult<AppCredential> {
        self.with("create_application_credential", |m| {
            let id = format!("cred-{}", m.credentials.len() + 1);
            m.credentials.insert(name.to_owned(), id.clone());
            AppCredential { id, secret: "secret".into() }
        })
    }
    async fn delete_application_credential(&self, _: &ProviderCredential, _: &str, id: &str) -> ProviderResult<()> {
        self.with("delete_application_credential", |m| {
            m.credentials.retain(|_, c| c != id);
        })
    }
    async fn raise_quotas(&self, _: &ProviderCredential, _: &str) -> ProviderResult<QuotasRaised> {
        self.with("raise_quotas", |_| QuotasRaised { compute: true, network: true, block_storage: false })
    }
}

#[async_trait]
impl Fabric for FakeProvider {
    async fn list_objects(&self, _: &ProviderCredential) -> ProviderResult<FabricObjects> {
        self.with("list_objects", |m| FabricObjects {
            networks: m.networks.iter().map(|(n, x)| (x.id.clone(), n.clone())).collect(),
            subnets: m.subnets.iter().map(|(n, (id, _))| (id.clone(), n.clone())).collect(),
            routers: m.routers.iter().map(|(n, id)| (id.clone(), n.clone())).collect(),
        })
    }
    async fn find_network(&self, _: &ProviderCredential, name: &str) -> ProviderResult<Option<FabricNetwork>> {
        self.with("find_network", |m| m.networks.get(name).cloned())
    }
    async fn create_network(
        &self,
        _: &ProviderCredential,
        name: &str,
        segment: Option<&Segment>,
    ) -> ProviderResult<FabricNetwork> {
        self.with("create_network", |m| {
            let made =
                FabricNetwork { id: format!("neutron-{}", m.networks.len() + 1), vlan_id: segment.map(|s| s.vlan_id) };
            m.networks.insert(name.to_owned(), made.clone());
            made
        })
    }
    async fn delete_network(&self, _: &ProviderCredential, id: &str) -> ProviderResult<()> {
        self.with("delete_network", |m| {
            remove_by_id(&mut m.networks, id, |n| n.id.as_str());
        })
    }
    async fn find_subnet(&self, _: &ProviderCredential, name: &str) -> ProviderResult<Option<(String, SubnetOptions)>> {
        self.with("find_subnet", |m| m.subnets.get(name).cloned())
    }
    async fn create_subnet(&self, _: &ProviderCredential, spec: &SubnetSpec) -> ProviderResult<String> {
        self.with("create_subnet", |m| {
            let id = format!("subnet-{}", m.subnets.len() + 1);
            let serves =
                SubnetOptions { dns_nameservers: spec.dns_nameservers.clone(), host_routes: spec.host_routes.clone() };
            m.subnets.insert(spec.name.clone(), (id.clone(), serves));
            id
        })
    }
    async fn update_subnet(&self, _: &ProviderCredential, id: &str, options: &SubnetOptions) -> ProviderResult<()> {
        self.with("update_subnet", |m| {
            for (sid, serves) in m.subnets.values_mut() {
                if sid == id {
                    *serves = options.clone();
                }
            }
        })
    }
    async fn delete_subnet(&self, _: &ProviderCredential, id: &str) -> ProviderResult<()> {
        self.with("delete_subnet", |m| {
            remove_by_id(&mut m.subnets, id, |(s, _)| s.as_str());
        })
    }
    async fn find_router(&self, _: &ProviderCredential, name: &str) -> ProviderResult<Option<String>> {
        self.with("find_router", |m| m.routers.get(name).cloned())
    }
    async fn create_router(&self, _: &ProviderCredential, name: &str, _: &str) -> ProviderResult<String> {
        self.with("create_router", |m| {
            let id = format!("router-{}", m.routers.len() + 1);
            m.routers.insert(name.to_owned(), id.clone());
            id
        })
    }
    async fn delete_router(&self, _: &ProviderCredential, id: &str) -> ProviderResult<()> {
        self.with("delete_router", |m| {
            remove_by_id(&mut m.routers, id, String::as_str);
        })
    }
    async fn has_interface(&self, _: &ProviderCredential, router: &str, subnet: &str) -> ProviderResult<bool> {
        self.with("has_interface", |m| m.interfaces.iter().any(|(r, s)| r == router && s == subnet))
    }
    async fn add_interface(&self, _: &ProviderCredential, router: &str, subnet: &str) -> ProviderResult<()> {
        self.with("add_interface", |m| m.interfaces.push((router.to_owned(), subnet.to_owned())))
    }
    async fn remove_interface(&self, _: &ProviderCredential, router: &str, subnet: &str) -> ProviderResult<()> {
        let removed = self.with("remove_interface", |m| {
            let before = m.interfaces.len();
            m.interfaces.retain(|(r, s)| !(r == router && s == subnet));
            before != m.interfaces.len()
        })?;
        removed.then_some(()).ok_or_else(|| ProviderError::not_found(format!("interface of {router}")))
    }
}
