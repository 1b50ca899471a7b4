//! The in-memory networks, identities, SSH CAs and identity key pairs.

use super::*;

#[async_trait]
impl NetworkStore for MemoryStore {
    async fn create_network(&self, network: &NetworkRecord) -> Result<()> {
        let mut t = self.tables();
        if t.networks.contains_key(&network.id) {
            return Err(StoreError::Exists(Kind::Network, network.id.clone()));
        }
        if let Some(parent) = &network.parent_identity_id {
            match t.identities.get_mut(parent) {
                Some((i, _)) if i.deleting_since.is_some() => {
                    return Err(StoreError::Closing(Kind::Identity, parent.clone()))
                }
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

    async fn delete_network(&self, network: &NetworkRecord) -> Result<()> {
        let mut t = self.tables();
        let id = network.id.as_str();
        match t.networks.get(id) {
            None => Err(StoreError::Missing(Kind::Network, id.to_owned())),
            Some((n, count)) if *count > 0 || !n.references.is_empty() => {
                Err(StoreError::InUse(Kind::Network, id.to_owned()))
            }
            Some(_) => {
                t.remove_network(id);
                Ok(())
            }
        }
    }

    async fn delete_or_mark_network(&self, network: &NetworkRecord, now: DateTime<Utc>) -> Result<NetworkDeletion> {
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

    async fn mark_network_deleting(&self, network: &NetworkRecord, now: DateTime<Utc>) -> Result<()> {
        let mut t = self.tables();
        let id = network.id.as_str();
        let protected = t.protected.get(id).copied().unwrap_or(0);
        match t.networks.get_mut(id) {
            None => Err(StoreError::Missing(Kind::Network, id.to_owned())),
            Some((n, _)) if n.version != network.version => Err(StoreError::Changed(Kind::Network, id.to_owned())),
            Some(_) if protected > 0 => Err(StoreError::Protected(Kind::Network, id.to_owned())),
            Some((n, _)) => {
                n.deleting_since.get_or_insert(now);
                Ok(())
            }
        }
    }

    async fn network_server_count(&self, id: &str) -> Result<Option<u64>> {
        Ok(self.tables().networks.get(id).map(|(_, count)| *count))
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

    async fn close_identity(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        match self.tables().identities.get_mut(id) {
            None => Err(StoreError::Missing(Kind::Identity, id.to_owned())),
            Some((i, _)) => {
                i.deleting_since.get_or_insert(now);
                Ok(())
            }
        }
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

    async fn delete_keypair_record(&self, identity_id: &str) -> Result<()> {
        self.tables().keypairs.remove(identity_id);
        Ok(())
    }
}
