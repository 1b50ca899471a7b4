//! The in-memory provisioned networks, references and VLAN claims.

use super::*;
use crate::store::{ProvisionStore, VlanStore};

fn at(stored: Option<&(NetworkRecord, u64)>, id: &str, expected: u64) -> Result<()> {
    match stored {
        None => Err(StoreError::Missing(Kind::Network, id.to_owned())),
        Some((n, _)) if n.version != expected => Err(StoreError::Changed(Kind::Network, id.to_owned())),
        Some(_) => Ok(()),
    }
}

#[async_trait]
impl ProvisionStore for MemoryStore {
    fn owner_tag(&self) -> String {
        "region-servers=memory".into()
    }

    async fn create_provisioned_network(&self, identity: &IdentityRecord, network: &NetworkRecord) -> Result<()> {
        let mut t = self.tables();
        if t.networks.contains_key(&network.id) {
            return Err(StoreError::Exists(Kind::Network, network.id.clone()));
        }
        if t.identities.contains_key(&identity.id) {
            return Err(StoreError::Exists(Kind::Identity, identity.id.clone()));
        }
        t.identities.insert(identity.id.clone(), (identity.clone(), 0));
        t.networks.insert(network.id.clone(), (network.clone(), 0));
        Ok(())
    }

    async fn replace_network(&self, next: &NetworkRecord, expected_version: u64) -> Result<()> {
        let mut t = self.tables();
        at(t.networks.get(&next.id), &next.id, expected_version)?;
        // Never over a deletion's mark: the provisioning that read it before is done.
        if t.networks.get(&next.id).is_some_and(|(n, _)| n.deleting_since.is_some()) {
            return Err(StoreError::Changed(Kind::Network, next.id.clone()));
        }
        if let Some((stored, _)) = t.networks.get_mut(&next.id) {
            let (references, deleting) = (stored.references.clone(), stored.deleting_since);
            *stored = NetworkRecord { references, deleting_since: deleting, ..next.clone() };
        }
        Ok(())
    }

    async fn begin_network_teardown(&self, next: &NetworkRecord, expected_version: u64) -> Result<()> {
        let mut t = self.tables();
        at(t.networks.get(&next.id), &next.id, expected_version)?;
        if let Some((stored, count)) = t.networks.get_mut(&next.id) {
            if *count > 0 || !stored.references.is_empty() {
                return Err(StoreError::InUse(Kind::Network, next.id.clone()));
            }
            let deleting = stored.deleting_since.or(Some(Utc::now()));
            *stored = NetworkRecord { references: Default::default(), deleting_since: deleting, ..next.clone() };
        }
        Ok(())
    }

    async fn replace_identity(&self, next: &IdentityRecord, expected_version: u64) -> Result<()> {
        let mut t = self.tables();
        match t.identities.get_mut(&next.id) {
            None => Err(StoreError::Missing(Kind::Identity, next.id.clone())),
            Some((i, _)) if i.version != expected_version => Err(StoreError::Changed(Kind::Identity, next.id.clone())),
            // A provisioning write never lands over a delete that started meanwhile.
            Some((i, _)) if !next.hidden && next.deleting_since.is_none() && i.deleting_since.is_some() => {
                Err(StoreError::Changed(Kind::Identity, next.id.clone()))
            }
            Some((i, _)) => {
                let deleting = i.deleting_since;
                *i = IdentityRecord { deleting_since: deleting, ..next.clone() };
                Ok(())
            }
        }
    }

    async fn remove_provisioned_network(&self, network: &NetworkRecord) -> Result<()> {
        let mut t = self.tables();
        t.networks.remove(&network.id);
        t.identities.remove(&network.identity_id);
        t.keypairs.remove(&network.identity_id);
        Ok(())
    }

    async fn unsettled_networks(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<NetworkRecord>> {
        let t = self.tables();
        let mut found: Vec<NetworkRecord> = t
            .networks
            .values()
            .map(|(n, _)| n)
            // A network marked deleting waits for its servers under its deletion's key instead.
            .filter(|n| n.deleting_since.is_none() || n.in_teardown())
            .filter(|n| n.lifecycle.as_ref().is_some_and(|l| l.stage.unsettled() && l.since <= before))
            .cloned()
            .collect();
        found.sort_by_key(|n| n.lifecycle.as_ref().map(|l| l.since));
        found.truncate(limit);
        Ok(found)
    }

    async fn unsettled_identities(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<IdentityRecord>> {
        let t = self.tables();
        let mut found: Vec<IdentityRecord> = t
            .identities
            .values()
            .map(|(i, _)| i)
            .filter(|i| !i.hidden && i.deleting_since.is_none())
            .filter(|i| i.lifecycle.as_ref().is_some_and(|l| l.stage.unsettled() && l.since <= before))
            .cloned()
            .collect();
        found.sort_by_key(|i| i.lifecycle.as_ref().map(|l| l.since));
        found.truncate(limit);
        Ok(found)
    }

    async fn add_reference(&self, network_id: &str, reference: &str) -> Result<()> {
        let mut t = self.tables();
        match t.networks.get_mut(network_id) {
            None => Err(StoreError::Missing(Kind::Network, network_id.to_owned())),
            Some((n, _)) if n.deleting_since.is_some() => {
                Err(StoreError::Closing(Kind::Network, network_id.to_owned()))
            }
            Some((n, _)) => {
                n.references.insert(reference.to_owned());
                Ok(())
            }
        }
    }

    async fn remove_reference(&self, network_id: &str, reference: &str) -> Result<()> {
        match self.tables().networks.get_mut(network_id) {
            None => Err(StoreError::Missing(Kind::Network, network_id.to_owned())),
            Some((n, _)) => {
                n.references.remove(reference);
                Ok(())
            }
        }
    }
}

#[async_trait]
impl VlanStore for MemoryStore {
    async fn claim_vlan(
        &self,
        region_id: &str,
        physical_network: &str,
        ranges: &[(u16, u16)],
        network_id: &str,
    ) -> Result<Option<u16>> {
        let mut t = self.tables();
        let key = |v: u16| (region_id.to_owned(), physical_network.to_owned(), v);
        if let Some(((_, _, held), _)) =
            t.vlans.iter().find(|((r, p, _), n)| r == region_id && p == physical_network && *n == network_id)
        {
            return Ok(Some(*held));
        }
        let free = ranges.iter().flat_map(|(a, b)| *a..=*b).find(|v| !t.vlans.contains_key(&key(*v)));
        if let Some(v) = free {
            t.vlans.insert(key(v), network_id.to_owned());
        }
        Ok(free)
    }

    async fn release_vlan(&self, region_id: &str, physical_network: &str, vlan: u16, network_id: &str) -> Result<()> {
        let mut t = self.tables();
        let key = (region_id.to_owned(), physical_network.to_owned(), vlan);
        if t.vlans.get(&key).map(String::as_str) == Some(network_id) {
            t.vlans.remove(&key);
        }
        Ok(())
    }
}
