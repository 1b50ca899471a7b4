//! The in-memory idempotency keys, actions, outbox and maintenance cursor.

use super::*;

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim_key(&self, claim: &KeyClaim<'_>) -> Result<KeyState> {
        let KeyClaim { key, body_hash, now, until, .. } = *claim;
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

    async fn identities_being_deleted(&self, limit: usize) -> Result<Vec<IdentityRecord>> {
        let t = self.tables();
        let mut found: Vec<IdentityRecord> =
            t.identities.values().map(|(i, _)| i).filter(|i| i.deleting_since.is_some()).cloned().collect();
        found.sort_by_key(|i| i.deleting_since);
        found.truncate(limit);
        Ok(found)
    }

    async fn networks_being_deleted(&self, limit: usize) -> Result<Vec<NetworkRecord>> {
        let t = self.tables();
        let mut found: Vec<NetworkRecord> = t
            .networks
            .values()
            .map(|(n, _)| n)
            .filter(|n| n.deleting_since.is_some() && !n.in_teardown())
            .cloned()
            .collect();
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
