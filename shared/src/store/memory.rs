//! An in-memory store with the same conditional semantics as the DynamoDB adapter, for unit tests
//! of the use-cases (no I/O). Not used by any function.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{
    ActionRecord, Effects, IdentityKeypair, IdentityRecord, NetworkRecord, PendingChange, ServerRecord, SshCaRecord,
    StateEvent, Tags,
};
use crate::rbac::Scope;
use crate::store::{
    ActionQuery, ActionStore, ClaimRef, IdempotencyStore, IdentityStore, KeyState, KeypairStore, Kind,
    MaintenanceStore, NetworkDeletion, NetworkStore, Page, RecordQuery, Result, ServerStore, SshCaStore, StoreError,
    StoredResponse,
};

struct Claim {
    server_id: String,
    check_at: Option<DateTime<Utc>>,
}

enum Key {
    Running { hash: String, until: DateTime<Utc> },
    Done { hash: String, response: StoredResponse },
}

#[derive(Default)]
struct Tables {
    networks: BTreeMap<String, (NetworkRecord, u64)>,
    /// Identities with the number of networks under them.
    identities: BTreeMap<String, (IdentityRecord, u64)>,
    servers: BTreeMap<String, ServerRecord>,
    claims: BTreeMap<(String, String), Claim>,
    keypairs: BTreeMap<String, IdentityKeypair>,
    /// CAs with the number of servers bound to them.
    cas: BTreeMap<String, (SshCaRecord, u64)>,
    cursor: (Option<String>, u64),
    keys: BTreeMap<String, Key>,
    /// Servers protected from deletion, per network.
    protected: BTreeMap<String, u64>,
    /// Actions by (server, action id).
    actions: BTreeMap<(String, String), ActionRecord>,
    /// Unpublished transitions by (time, server, sequence).
    outbox: BTreeMap<(DateTime<Utc>, String, u64), StateEvent>,
}

impl Tables {
    fn apply(&mut self, effects: &Effects) {
        if let Some(e) = &effects.event {
            self.outbox.insert((e.time, e.server_id.clone(), e.sequence), e.clone());
        }
        for a in &effects.actions {
            self.upsert_action(a);
        }
    }

    fn upsert_action(&mut self, action: &ActionRecord) {
        let key = (action.server_id.clone(), action.action.id.clone());
        let request_id = self.actions.get(&key).and_then(|a| a.provider_request_id.clone());
        let mut stored = action.clone();
        stored.provider_request_id = request_id.or(stored.provider_request_id);
        self.actions.insert(key, stored);
    }
}

#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Resource items: servers, claims and networks (not the key pair an identity gets with its
    /// first server).
    pub fn item_count(&self) -> usize {
        let t = self.tables();
        t.servers.len() + t.claims.len() + t.networks.len()
    }
}

fn in_scope(scope: &Scope, org: &str, project: &str) -> bool {
    match scope {
        Scope::Organization(o) => o == org,
        Scope::Project(o, p) => o == org && p == project,
    }
}

/// Whether `tags` holds every wanted (name, value) pair, as the tag filter asks.
fn carries(tags: &Tags, wanted: &[(String, String)]) -> bool {
    wanted.iter().all(|(name, value)| tags.0.iter().any(|t| &t.name == name && &t.value == value))
}

fn matches(q: &RecordQuery, s: &ServerRecord) -> bool {
    let any = |list: &[String], value: &String| list.is_empty() || list.contains(value);
    q.api_version.is_none_or(|v| v == s.api_version)
        && q.scopes.iter().any(|scope| in_scope(scope, &s.organization_id, &s.project_id))
        && any(&q.region_ids, &s.region_id)
        && any(&q.network_ids, &s.network_id)
        && any(&q.identity_ids, &s.identity_id)
        && q.parent_identity_id.as_ref().is_none_or(|p| s.parent_identity_id.as_ref() == Some(p))
        && carries(&s.tags, &q.tags)
        && q.after.as_ref().is_none_or(|after| &s.id > after)
}

#[async_trait]
impl ServerStore for MemoryStore {
    async fn create_server(
        &self,
        server: &ServerRecord,
        claim_check_at: DateTime<Utc>,
        effects: &Effects,
    ) -> Result<()> {
        let mut t = self.tables();
        let claim = (server.network_id.clone(), server.name.to_string());
        if t.claims.contains_key(&claim) {
            return Err(StoreError::NameTaken { network: server.network_id.clone(), name: server.name.to_string() });
        }
        if let Some(ca) = &server.ssh_certificate_authority_id {
            if !t.cas.contains_key(ca) {
                return Err(StoreError::Missing(Kind::SshCa, ca.clone()));
            }
        }
        match t.networks.get_mut(&server.network_id) {
            None => return Err(StoreError::Missing(Kind::Network, server.network_id.clone())),
            Some((n, _)) if n.deleting_since.is_some() => {
                return Err(StoreError::Closing(Kind::Network, server.network_id.clone()))
            }
            Some((_, count)) => *count += 1,
        }
        if let Some((_, count)) = server.ssh_certificate_authority_id.as_ref().and_then(|ca| t.cas.get_mut(ca)) {
            *count += 1;
        }
        t.claims.insert(claim, Claim { server_id: server.id.clone(), check_at: Some(claim_check_at) });
        t.servers.insert(server.id.clone(), server.clone());
        t.apply(effects);
        Ok(())
    }

    async fn get_server(&self, id: &str) -> Result<Option<ServerRecord>> {
        Ok(self.tables().servers.get(id).cloned())
    }

    async fn replace_server(&self, server: &ServerRecord, expected_version: u64, effects: &Effects) -> Result<()> {
        let mut t = self.tables();
        let rebuild = matches!(server.pending, Some(PendingChange::Rebuild { .. }));
        match t.servers.get(&server.id) {
            None => Err(StoreError::Missing(Kind::Server, server.id.clone())),
            Some(current) if current.version != expected_version => {
                Err(StoreError::Changed(Kind::Server, server.id.clone()))
            }
            Some(current)
                if (server.is_deleting() && current.protection.delete) || (rebuild && current.protection.rebuild) =>
            {
                Err(StoreError::Protected(Kind::Server, server.id.clone()))
            }
            Some(_) => {
                t.servers.insert(server.id.clone(), server.clone());
                t.apply(effects);
                Ok(())
            }
        }
    }

    async fn set_protection(&self, base: &ServerRecord, next: &ServerRecord) -> Result<()> {
        let mut t = self.tables();
        match t.servers.get(&next.id) {
            None => return Err(StoreError::Missing(Kind::Server, next.id.clone())),
            Some(current) if current.version != base.version => {
                return Err(StoreError::Changed(Kind::Server, next.id.clone()))
            }
            Some(_) => {}
        }
        let delta = i64::from(next.protection.delete) - i64::from(base.protection.delete);
        if delta > 0 && t.networks.get(&next.network_id).is_some_and(|(n, _)| n.deleting_since.is_some()) {
            return Err(StoreError::Closing(Kind::Network, next.network_id.clone()));
        }
        let count = t.protected.entry(next.network_id.clone()).or_default();
        *count = count.saturating_add_signed(delta);
        t.servers.insert(next.id.clone(), next.clone());
        Ok(())
    }

    async fn remove_server(&self, server: &ServerRecord, effects: &Effects) -> Result<bool> {
        let mut t = self.tables();
        match t.servers.get(&server.id) {
            None => return Ok(false),
            Some(current) if current.version != server.version => {
                return Err(StoreError::Changed(Kind::Server, server.id.clone()))
            }
            Some(_) => {}
        }
        t.servers.remove(&server.id);
        let claim = (server.network_id.clone(), server.name.to_string());
        if t.claims.get(&claim).is_some_and(|c| c.server_id == server.id) {
            t.claims.remove(&claim);
        }
        if let Some((_, count)) = t.networks.get_mut(&server.network_id) {
            *count = count.saturating_sub(1);
        }
        if let Some((_, count)) = server.ssh_certificate_authority_id.as_ref().and_then(|ca| t.cas.get_mut(ca)) {
            *count = count.saturating_sub(1);
        }
        if server.protection.delete {
            if let Some(count) = t.protected.get_mut(&server.network_id) {
                *count = count.saturating_sub(1);
            }
        }
        t.apply(effects);
        Ok(true)
    }

    async fn claim_holder(&self, network_id: &str, name: &str) -> Result<Option<String>> {
        Ok(self.tables().claims.get(&(network_id.to_owned(), name.to_owned())).map(|c| c.server_id.clone()))
    }

    async fn settle_claim(&self, claim: &ClaimRef, holder_exists: bool) -> Result<()> {
        let mut t = self.tables();
        let key = (claim.network_id.clone(), claim.name.clone());
        if t.claims.get(&key).is_none_or(|c| c.server_id != claim.server_id) {
            return Ok(());
        }
        if holder_exists {
            if let Some(c) = t.claims.get_mut(&key) {
                c.check_at = None;
            }
        } else {
            t.claims.remove(&key);
        }
        Ok(())
    }

    async fn list_servers(&self, q: &RecordQuery) -> Result<Page<ServerRecord>> {
        let t = self.tables();
        let mut items: Vec<ServerRecord> = t.servers.values().filter(|s| matches(q, s)).cloned().collect();
        let more = items.len() > q.limit;
        items.truncate(q.limit);
        let next = if more { items.last().map(|s| s.id.clone()) } else { None };
        Ok(Page { items, next })
    }

    async fn record_action(&self, action: &ActionRecord) -> Result<()> {
        self.tables().upsert_action(action);
        Ok(())
    }

    async fn note_request_id(&self, server_id: &str, action_id: &str, request_id: &str) -> Result<()> {
        match self.tables().actions.get_mut(&(server_id.to_owned(), action_id.to_owned())) {
            Some(a) => {
                a.provider_request_id = Some(request_id.to_owned());
                Ok(())
            }
            None => Err(StoreError::failed(format!("no action {action_id}"))),
        }
    }
}

#[async_trait]
impl NetworkStore for MemoryStore {
    async fn create_network(&self, network: &NetworkRecord) -> Result<()> {
        let mut t = self.tables();
        if t.networks.contains_key(&network.id) {
            return Err(StoreError::Exists(Kind::Network, network.id.clone()));
        }
        if let Some(parent) = &network.parent_identity_id {
            match t.identities.get_mut(parent) {
                Some((_, count)) => *count += 1,
                None => return Err(StoreError::Missing(Kind::Identity, parent.clone())),
            }
        }
        t.networks.insert(network.id.clone(), (network.clone(), 0));
        Ok(())
    }

    async fn get_network(&self, id: &str) -> Result<Option<NetworkRecord>> {
        Ok(self.tables().networks.get(id).map(|(n, _)| n.clone()))
    }

    async fn list_networks(&self, q: &RecordQuery) -> Result<Vec<NetworkRecord>> {
        let t = self.tables();
        Ok(t.networks
            .values()
            .map(|(n, _)| n)
            .filter(|n| q.api_version.is_none_or(|v| v == n.api_version))
            .filter(|n| q.parent_identity_id.as_ref().is_none_or(|p| n.parent_identity_id.as_ref() == Some(p)))
            .filter(|n| q.scopes.iter().any(|s| in_scope(s, &n.organization_id, &n.project_id)))
            .cloned()
            .collect())
    }

    async fn delete_network(&self, network: &NetworkRecord, now: DateTime<Utc>) -> Result<NetworkDeletion> {
        let mut t = self.tables();
        let id = network.id.as_str();
        let protected = t.protected.get(id).copied().unwrap_or(0);
        match t.networks.get_mut(id) {
            None => Err(StoreError::Missing(Kind::Network, id.to_owned())),
            Some(_) if protected > 0 => Err(StoreError::Protected(Kind::Network, id.to_owned())),
            Some((network, count)) if *count > 0 => {
                network.deleting_since.get_or_insert(now);
                Ok(NetworkDeletion::Deleting)
            }
            Some(_) => {
                t.remove_network(id);
                Ok(NetworkDeletion::Deleted)
            }
        }
    }

    async fn network_server_count(&self, id: &str) -> Result<Option<u64>> {
        Ok(self.tables().networks.get(id).map(|(_, count)| *count))
    }
}

impl Tables {
    /// Removes a network and uncounts it on its identity resource.
    fn remove_network(&mut self, id: &str) {
        let parent = self.networks.remove(id).and_then(|(n, _)| n.parent_identity_id);
        if let Some((_, count)) = parent.and_then(|p| self.identities.get_mut(&p)) {
            *count = count.saturating_sub(1);
        }
    }
}

#[async_trait]
impl IdentityStore for MemoryStore {
    async fn create_identity(&self, identity: &IdentityRecord) -> Result<()> {
        let mut t = self.tables();
        if t.identities.contains_key(&identity.id) {
            return Err(StoreError::Exists(Kind::Identity, identity.id.clone()));
        }
        t.identities.insert(identity.id.clone(), (identity.clone(), 0));
        Ok(())
    }

    async fn get_identity(&self, id: &str) -> Result<Option<IdentityRecord>> {
        Ok(self.tables().identities.get(id).map(|(i, _)| i.clone()))
    }

    async fn list_identities(&self, q: &RecordQuery) -> Result<Vec<IdentityRecord>> {
        let t = self.tables();
        Ok(t.identities
            .values()
            .map(|(i, _)| i)
            .filter(|i| q.api_version.is_none_or(|v| v == i.api_version))
            .filter(|i| q.scopes.iter().any(|s| in_scope(s, &i.organization_id, &i.project_id)))
            .cloned()
            .collect())
    }

    async fn delete_identity(&self, id: &str) -> Result<()> {
        let mut t = self.tables();
        match t.identities.get(id) {
            None => Err(StoreError::Missing(Kind::Identity, id.to_owned())),
            Some((_, count)) if *count > 0 => Err(StoreError::InUse(Kind::Identity, id.to_owned())),
            Some(_) => {
                t.identities.remove(id);
                Ok(())
            }
        }
    }
}

#[async_trait]
impl SshCaStore for MemoryStore {
    async fn create_ssh_ca(&self, ca: &SshCaRecord) -> Result<()> {
        let mut t = self.tables();
        if t.cas.contains_key(&ca.id) {
            return Err(StoreError::Exists(Kind::SshCa, ca.id.clone()));
        }
        t.cas.insert(ca.id.clone(), (ca.clone(), 0));
        Ok(())
    }

    async fn get_ssh_ca(&self, id: &str) -> Result<Option<SshCaRecord>> {
        Ok(self.tables().cas.get(id).map(|(ca, _)| ca.clone()))
    }

    async fn list_ssh_cas(&self, q: &RecordQuery) -> Result<Vec<SshCaRecord>> {
        let t = self.tables();
        Ok(t.cas
            .values()
            .map(|(ca, _)| ca)
            .filter(|ca| q.api_version.is_none_or(|v| v == ca.api_version))
            .filter(|ca| q.scopes.iter().any(|scope| in_scope(scope, &ca.organization_id, &ca.project_id)))
            .filter(|ca| carries(&ca.tags, &q.tags))
            .cloned()
            .collect())
    }

    async fn delete_ssh_ca(&self, id: &str) -> Result<()> {
        let mut t = self.tables();
        match t.cas.get(id) {
            None => Err(StoreError::Missing(Kind::SshCa, id.to_owned())),
            Some((_, count)) if *count > 0 => Err(StoreError::InUse(Kind::SshCa, id.to_owned())),
            Some(_) => {
                t.cas.remove(id);
                Ok(())
            }
        }
    }
}

#[async_trait]
impl KeypairStore for MemoryStore {
    async fn get_keypair(&self, identity_id: &str) -> Result<Option<IdentityKeypair>> {
        Ok(self.tables().keypairs.get(identity_id).cloned())
    }

    async fn create_keypair(&self, keypair: &IdentityKeypair) -> Result<()> {
        let mut t = self.tables();
        if t.keypairs.contains_key(&keypair.identity_id) {
            return Err(StoreError::Exists(Kind::Keypair, keypair.identity_id.clone()));
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
            None => Err(StoreError::Missing(Kind::Keypair, identity_id.to_owned())),
        }
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim_key(
        &self,
        key: &str,
        body_hash: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        _expires_at: DateTime<Utc>,
    ) -> Result<KeyState> {
        let mut t = self.tables();
        let state = match t.keys.get(key) {
            Some(Key::Running { hash, until: running_until }) if *running_until >= now => {
                KeyState::InProgress { body_hash: hash.clone(), until: *running_until }
            }
            Some(Key::Done { hash, response }) => {
                KeyState::Completed { body_hash: hash.clone(), response: response.clone() }
            }
            _ => KeyState::Claimed,
        };
        if state == KeyState::Claimed {
            t.keys.insert(key.to_owned(), Key::Running { hash: body_hash.to_owned(), until });
        }
        Ok(state)
    }

    async fn complete_key(&self, key: &str, body_hash: &str, response: &StoredResponse) -> Result<()> {
        let mut t = self.tables();
        if matches!(t.keys.get(key), Some(Key::Running { hash, .. }) if hash == body_hash) {
            t.keys.insert(key.to_owned(), Key::Done { hash: body_hash.to_owned(), response: response.clone() });
        }
        Ok(())
    }

    async fn release_key(&self, key: &str, body_hash: &str) -> Result<()> {
        let mut t = self.tables();
        if matches!(t.keys.get(key), Some(Key::Running { hash, .. }) if hash == body_hash) {
            t.keys.remove(key);
        }
        Ok(())
    }
}

#[async_trait]
impl ActionStore for MemoryStore {
    async fn get_action(&self, server_id: &str, action_id: &str) -> Result<Option<ActionRecord>> {
        Ok(self.tables().actions.get(&(server_id.to_owned(), action_id.to_owned())).cloned())
    }

    async fn list_actions(&self, server_id: &str, q: &ActionQuery) -> Result<Page<ActionRecord>> {
        let t = self.tables();
        let mut items: Vec<ActionRecord> = t
            .actions
            .values()
            .rev()
            .filter(|a| a.server_id == server_id)
            .filter(|a| q.after.as_ref().is_none_or(|after| &a.action.id < after))
            .filter(|a| q.status.is_none_or(|s| a.action.status == s))
            .cloned()
            .collect();
        let more = items.len() > q.limit;
        items.truncate(q.limit);
        let next = if more { items.last().map(|a| a.action.id.clone()) } else { None };
        Ok(Page { items, next })
    }
}

#[async_trait]
impl MaintenanceStore for MemoryStore {
    async fn unpublished_events(&self, limit: usize) -> Result<Vec<StateEvent>> {
        Ok(self.tables().outbox.values().take(limit).cloned().collect())
    }

    async fn mark_published(&self, event: &StateEvent) -> Result<()> {
        self.tables().outbox.remove(&(event.time, event.server_id.clone(), event.sequence));
        Ok(())
    }

    async fn networks_being_deleted(&self, limit: usize) -> Result<Vec<NetworkRecord>> {
        let t = self.tables();
        let mut found: Vec<NetworkRecord> =
            t.networks.values().map(|(n, _)| n).filter(|n| n.deleting_since.is_some()).cloned().collect();
        found.sort_by_key(|n| n.deleting_since);
        found.truncate(limit);
        Ok(found)
    }

    async fn finish_network_deletion(&self, network: &NetworkRecord) -> Result<bool> {
        let mut t = self.tables();
        match t.networks.get(&network.id) {
            Some((n, 0)) if n.deleting_since.is_some() => {
                t.remove_network(&network.id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn claims_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<ClaimRef>> {
        let t = self.tables();
        Ok(t.claims
            .iter()
            .filter(|(_, c)| c.check_at.is_some_and(|at| at <= now))
            .take(limit)
            .map(|((network_id, name), c)| ClaimRef {
                network_id: network_id.clone(),
                name: name.clone(),
                server_id: c.server_id.clone(),
            })
            .collect())
    }

    async fn cleanup_cursor(&self) -> Result<(Option<String>, u64)> {
        Ok(self.tables().cursor.clone())
    }

    async fn save_cleanup_cursor(&self, next_identity: Option<&str>, expected_version: u64) -> Result<()> {
        let mut t = self.tables();
        if t.cursor.1 != expected_version {
            return Err(StoreError::Changed(Kind::CleanupCursor, "cleanup".into()));
        }
        t.cursor = (next_identity.map(str::to_owned), expected_version + 1);
        Ok(())
    }
}
