//! The in-memory security groups.

use super::*;
use crate::domain::SecurityGroupRecord;
use crate::store::SecurityGroupStore;

fn changed(id: &str) -> StoreError {
    StoreError::Changed(Kind::SecurityGroup, id.to_owned())
}

impl Tables {
    /// The group stored at `expected` and not being deleted, with its server count.
    fn group_at(&mut self, id: &str, expected: u64) -> Result<&mut (SecurityGroupRecord, u64)> {
        match self.security_groups.get_mut(id) {
            None => Err(StoreError::Missing(Kind::SecurityGroup, id.to_owned())),
            Some((g, _)) if g.version != expected || g.deleting_since.is_some() => Err(changed(id)),
            Some(held) => Ok(held),
        }
    }
}

#[async_trait]
impl SecurityGroupStore for MemoryStore {
    async fn create_security_group(&self, group: &SecurityGroupRecord) -> Result<()> {
        let mut t = self.tables();
        if t.security_groups.contains_key(&group.id) {
            return Err(StoreError::Exists(Kind::SecurityGroup, group.id.clone()));
        }
        let (kind, parent) = match (&group.network_id, &group.parent_identity_id) {
            (Some(network), _) => (Kind::Network, network.clone()),
            (None, Some(identity)) => (Kind::Identity, identity.clone()),
            (None, None) => return Err(StoreError::failed("a security group belongs to a network or an identity")),
        };
        let deleting = match kind {
            Kind::Network => t.networks.get(&parent).map(|(n, _)| n.deleting_since.is_some()),
            _ => t.identities.get(&parent).map(|(i, _)| i.deleting_since.is_some()),
        };
        match deleting {
            None => Err(StoreError::Missing(kind, parent)),
            Some(true) => Err(StoreError::Closing(kind, parent)),
            Some(false) => {
                t.security_groups.insert(group.id.clone(), (group.clone(), 0));
                Ok(())
            }
        }
    }

    async fn get_security_group(&self, id: &str) -> Result<Option<SecurityGroupRecord>> {
        Ok(self.tables().security_groups.get(id).map(|(g, _)| g.clone()))
    }

    async fn list_security_groups(&self, query: &RecordQuery) -> Result<Vec<SecurityGroupRecord>> {
        let t = self.tables();
        Ok(t.security_groups
            .values()
            .map(|(g, _)| g)
            .filter(|g| query.scopes.iter().any(|s| in_scope(s, &g.organization_id, &g.project_id)))
            .filter(|g| query.api_version.is_none_or(|v| v == g.api_version))
            .filter(|g| query.parent_identity_id.is_none() || query.parent_identity_id == g.parent_identity_id)
            .filter(|g| {
                query.network_ids.is_empty() || g.network_id.as_ref().is_some_and(|n| query.network_ids.contains(n))
            })
            .cloned()
            .collect())
    }

    async fn replace_security_group(&self, next: &SecurityGroupRecord, expected_version: u64) -> Result<()> {
        let mut t = self.tables();
        let held = t.group_at(&next.id, expected_version)?;
        held.0 = SecurityGroupRecord { deleting_since: None, ..next.clone() };
        Ok(())
    }

    async fn begin_security_group_teardown(&self, next: &SecurityGroupRecord, expected_version: u64) -> Result<()> {
        let mut t = self.tables();
        let held = t.group_at(&next.id, expected_version)?;
        if held.1 > 0 {
            return Err(StoreError::InUse(Kind::SecurityGroup, next.id.clone()));
        }
        held.0 = SecurityGroupRecord { deleting_since: Some(Utc::now()), ..next.clone() };
        Ok(())
    }

    async fn mark_security_group_deleting(&self, next: &SecurityGroupRecord, expected_version: u64) -> Result<()> {
        let mut t = self.tables();
        let held = t.group_at(&next.id, expected_version)?;
        held.0 = SecurityGroupRecord { deleting_since: Some(Utc::now()), ..next.clone() };
        Ok(())
    }

    async fn security_group_server_count(&self, id: &str) -> Result<Option<u64>> {
        Ok(self.tables().security_groups.get(id).map(|(_, count)| *count))
    }

    async fn remove_security_group(&self, id: &str) -> Result<()> {
        self.tables().security_groups.remove(id);
        Ok(())
    }

    async fn unsettled_security_groups(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<SecurityGroupRecord>> {
        let t = self.tables();
        let mut found: Vec<SecurityGroupRecord> = t
            .security_groups
            .values()
            .map(|(g, _)| g)
            .filter(|g| g.lifecycle.stage.unsettled() && g.lifecycle.since <= before)
            .cloned()
            .collect();
        found.sort_by_key(|g| g.lifecycle.since);
        found.truncate(limit);
        Ok(found)
    }
}
