//! An in-memory store with the same conditional semantics as the DynamoDB adapter, for unit tests
//! of the use-cases (no I/O). Not used by any function.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::domain::{IdentityKeypair, NetworkRecord, ServerRecord, API_VERSION_V2};
use crate::error::{Error, Result};
use crate::rbac::Scope;
use crate::store::{Page, ServerQuery, Store};

#[derive(Default)]
struct Tables {
    networks: BTreeMap<String, (NetworkRecord, u64)>,
    servers: BTreeMap<String, ServerRecord>,
    claims: BTreeMap<(String, String), String>,
    keypairs: BTreeMap<String, IdentityKeypair>,
}

#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every stored item: servers, claims, networks and key pairs.
    pub fn item_count(&self) -> usize {
        let t = self.tables();
        t.servers.len() + t.claims.len() + t.networks.len() + t.keypairs.len()
    }
}

fn in_scope(scope: &Scope, org: &str, project: &str) -> bool {
    match scope {
        Scope::Organization(o) => o == org,
        Scope::Project(o, p) => o == org && p == project,
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn create_network(&self, network: &NetworkRecord) -> Result<()> {
        let mut t = self.tables();
        if t.networks.contains_key(&network.id) {
            return Err(Error::conflict(format!("network {} already exists", network.id)));
        }
        t.networks.insert(network.id.clone(), (network.clone(), 0));
        Ok(())
    }

    async fn get_network(&self, id: &str) -> Result<Option<NetworkRecord>> {
        Ok(self.tables().networks.get(id).map(|(n, _)| n.clone()))
    }

    async fn list_networks(&self, scopes: &[Scope]) -> Result<Vec<NetworkRecord>> {
        let t = self.tables();
        Ok(t.networks
            .values()
            .map(|(n, _)| n)
            .filter(|n| n.api_version == API_VERSION_V2)
            .filter(|n| scopes.iter().any(|s| in_scope(s, &n.organization_id, &n.project_id)))
            .cloned()
            .collect())
    }

    async fn delete_network(&self, id: &str) -> Result<()> {
        let mut t = self.tables();
        match t.networks.get(id) {
            None => Err(Error::not_found(format!("no network found with id {id}"))),
            Some((_, count)) if *count > 0 => Err(Error::conflict(format!("network {id} still has servers"))),
            Some(_) => {
                t.networks.remove(id);
                Ok(())
            }
        }
    }

    async fn create_server(&self, server: &ServerRecord) -> Result<()> {
        let mut t = self.tables();
        let claim = (server.network_id.clone(), server.name.to_string());
        if t.claims.contains_key(&claim) {
            return Err(Error::conflict(format!("a server named {} already exists", server.name)));
        }
        let Some((_, count)) = t.networks.get_mut(&server.network_id) else {
            return Err(Error::not_found(format!("no network found with id {}", server.network_id)));
        };
        *count += 1;
        t.claims.insert(claim, server.id.clone());
        t.servers.insert(server.id.clone(), server.clone());
        Ok(())
    }

    async fn get_server(&self, id: &str) -> Result<Option<ServerRecord>> {
        Ok(self.tables().servers.get(id).cloned())
    }

    async fn replace_server(&self, server: &ServerRecord, expected_version: u64) -> Result<()> {
        let mut t = self.tables();
        match t.servers.get(&server.id) {
            None => Err(Error::not_found(format!("no server found with id {}", server.id))),
            Some(current) if current.version != expected_version => {
                Err(Error::PreconditionFailed(format!("server {} was modified by another request", server.id)))
            }
            Some(_) => {
                t.servers.insert(server.id.clone(), server.clone());
                Ok(())
            }
        }
    }

    async fn remove_server(&self, server: &ServerRecord) -> Result<()> {
        let mut t = self.tables();
        t.servers.remove(&server.id);
        let claim = (server.network_id.clone(), server.name.to_string());
        if t.claims.get(&claim) == Some(&server.id) {
            t.claims.remove(&claim);
        }
        if let Some((_, count)) = t.networks.get_mut(&server.network_id) {
            *count = count.saturating_sub(1);
        }
        Ok(())
    }

    async fn claim_holder(&self, network_id: &str, name: &str) -> Result<Option<String>> {
        Ok(self.tables().claims.get(&(network_id.to_owned(), name.to_owned())).cloned())
    }

    async fn list_servers(&self, q: &ServerQuery) -> Result<Page<ServerRecord>> {
        let t = self.tables();
        let mut items: Vec<ServerRecord> = t
            .servers
            .values()
            .filter(|s| s.is_v2())
            .filter(|s| q.scopes.iter().any(|scope| in_scope(scope, &s.organization_id, &s.project_id)))
            .filter(|s| q.region_ids.is_empty() || q.region_ids.contains(&s.region_id))
            .filter(|s| q.network_ids.is_empty() || q.network_ids.contains(&s.network_id))
            .filter(|s| q.after.as_ref().is_none_or(|after| &s.id > after))
            .cloned()
            .collect();
        let more = items.len() > q.limit;
        items.truncate(q.limit);
        Ok(Page { items, more })
    }

    async fn get_keypair(&self, identity_id: &str) -> Result<Option<IdentityKeypair>> {
        Ok(self.tables().keypairs.get(identity_id).cloned())
    }

    async fn create_keypair(&self, keypair: &IdentityKeypair) -> Result<()> {
        let mut t = self.tables();
        if t.keypairs.contains_key(&keypair.identity_id) {
            return Err(Error::conflict(format!("identity {} already has a key pair", keypair.identity_id)));
        }
        t.keypairs.insert(keypair.identity_id.clone(), keypair.clone());
        Ok(())
    }

    async fn mark_keypair_registered(&self, identity_id: &str) -> Result<()> {
        match self.tables().keypairs.get_mut(identity_id) {
            Some(k) => {
                k.registered = true;
                Ok(())
            }
            None => Err(Error::internal(format!("identity {identity_id} has no key pair to mark"))),
        }
    }
}
