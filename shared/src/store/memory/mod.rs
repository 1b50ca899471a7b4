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
mod bookkeeping;
mod buckets;
mod catalog;
mod provisioned;
mod resources;
mod security_groups;
mod servers;
mod sweeps;

use crate::store::{
    ActionQuery, ActionStore, ClaimRef, IdempotencyStore, IdentityStore, KeyClaim, KeyState, KeypairStore, Kind,
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
    /// Security groups with the number of servers naming them.
    security_groups: BTreeMap<String, (crate::domain::SecurityGroupRecord, u64)>,
    cursor: (Option<String>, u64),
    /// Planned sweeps, and slice leases by (sweep, slice).
    sweeps: BTreeMap<String, crate::store::SweepSummary>,
    latest_sweep: Option<String>,
    slices: BTreeMap<(String, u32), sweeps::Slice>,
    keys: BTreeMap<String, Key>,
    /// Servers protected from deletion, per network.
    protected: BTreeMap<String, u64>,
    /// Actions by (server, action id).
    actions: BTreeMap<(String, String), ActionRecord>,
    /// Unpublished transitions by (time, server, sequence).
    outbox: BTreeMap<(DateTime<Utc>, String, u64), StateEvent>,
    /// Fair-use buckets' arrival times, organizations' own limits, and (writes, reads) received.
    buckets: std::collections::HashMap<crate::fairuse::BucketKey, crate::fairuse::Level>,
    overrides: BTreeMap<String, crate::fairuse::Overrides>,
    bucket_calls: (u64, u64),
    /// VLANs held: (region, physical network, VLAN) -> network.
    vlans: BTreeMap<(String, String, u16), String>,
    /// Regions' catalogue copies.
    catalog: BTreeMap<(String, crate::store::CatalogKind), crate::store::CatalogCopy>,
}

impl Tables {
    fn apply(&mut self, effects: &Effects) {
        if let Some(e) = &effects.event {
            self.outbox.insert((e.time, e.server_id.clone(), e.sequence), e.clone());
        }
        for a in &effects.actions {
            self.upsert_action(a);
        }
        for id in &effects.groups.added {
            if let Some((_, count)) = self.security_groups.get_mut(id) {
                *count += 1;
            }
        }
        for id in &effects.groups.released {
            if let Some((_, count)) = self.security_groups.get_mut(id) {
                *count = count.saturating_sub(1);
            }
        }
    }

    /// A write that starts naming a group needs the group, not being deleted (as DynamoDB's
    /// condition on its count).
    fn check_groups(&self, effects: &Effects) -> Result<()> {
        for id in &effects.groups.added {
            match self.security_groups.get(id) {
                None => return Err(StoreError::Missing(Kind::SecurityGroup, id.clone())),
                Some((g, _)) if g.deleting_since.is_some() => {
                    return Err(StoreError::Closing(Kind::SecurityGroup, id.clone()))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn upsert_action(&mut self, action: &ActionRecord) {
        let key = (action.server_id.clone(), action.action.id.clone());
        let request_id = self.actions.get(&key).and_then(|a| a.provider_request_id.clone());
        let mut stored = action.clone();
        stored.provider_request_id = request_id.or(stored.provider_request_id);
        self.actions.insert(key, stored);
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
