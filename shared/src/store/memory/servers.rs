//! The in-memory server store: records, name claims and protection counts.

use super::*;

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
        t.check_groups(effects)?;
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

    async fn get_servers(&self, ids: &[String]) -> Result<Vec<ServerRecord>> {
        let t = self.tables();
        Ok(ids.iter().filter_map(|id| t.servers.get(id).cloned()).collect())
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
                t.check_groups(effects)?;
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

    async fn list_region_servers(
        &self,
        region_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<ServerRecord>> {
        let t = self.tables();
        let mut items: Vec<ServerRecord> = t
            .servers
            .values()
            .filter(|s| s.region_id == region_id && after.is_none_or(|a| s.id.as_str() > a))
            .cloned()
            .collect();
        items.sort_by(|a, b| a.id.cmp(&b.id));
        let more = items.len() > limit;
        items.truncate(limit);
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
