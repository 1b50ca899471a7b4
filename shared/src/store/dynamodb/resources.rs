//! Networks, identities, SSH certificate authorities and key pairs.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use chrono::{DateTime, Utc};

use super::items::*;
use crate::domain::{IdentityKeypair, IdentityRecord, NetworkRecord, SshCaRecord};
use crate::store::{
    IdentityStore, KeypairStore, Kind, NetworkDeletion, NetworkStore, RecordQuery, Result, SshCaStore, StoreError,
};

use super::errors::{build, is_condition_failure, sdk_error};
use super::transactions::*;
use super::DynamoStore;

impl DynamoStore {
    /// Deletes `key` if `condition` holds and nothing is counted on it (`serverCount` on a network
    /// or SSH CA, `networkCount` on an identity); false when either does not hold.
    pub(super) async fn delete_if_unused(&self, key: Item, condition: &str, counter: &str, what: &str) -> Result<bool> {
        self.delete_if(key, &unused(condition, counter), HashMap::from([(":zero".to_owned(), n(0))]), what).await
    }

    /// Deletes the item of `key` if nothing is counted on it: `Missing` when it is gone, `InUse`
    /// while something is still counted (SSH CAs count servers, identities count networks).
    pub(super) async fn delete_unused(
        &self,
        key: Item,
        counter: &str,
        (kind, id): (Kind, &str),
        what: &str,
    ) -> Result<()> {
        if self.delete_if_unused(key.clone(), "attribute_exists(PK)", counter, what).await? {
            return Ok(());
        }
        match self.get(key, what).await? {
            Some(_) => Err(StoreError::InUse(kind, id.to_owned())),
            None => Err(StoreError::Missing(kind, id.to_owned())),
        }
    }

    /// Deletes a network if `condition` holds and no server is counted on it, uncounting it on its
    /// identity resource in the same transaction; false when the network's conditions do not hold.
    pub(super) async fn remove_network(&self, network: &NetworkRecord, condition: &str, what: &str) -> Result<bool> {
        let Some(parent) = &network.parent_identity_id else {
            return self.delete_if_unused(network_key(&network.id), condition, "serverCount", what).await;
        };
        let delete = build(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(network_key(&network.id)))
                .condition_expression(unused(condition, "serverCount"))
                .expression_attribute_values(":zero", n(0))
                .build(),
        )?;
        let tx = Transaction::new("remove network")
            .with("network", TransactWriteItem::builder().delete(delete).build())
            .with("identity", self.counter(identity_key(parent), "networkCount", -1, "attribute_exists(PK)")?);
        match self.transact(tx).await? {
            Ok(()) => Ok(true),
            Err(cancelled) if cancelled.failed("network").is_some() => Ok(false),
            // The identity is gone (it cannot be, while counted): the network goes all the same.
            Err(_) => self.delete_if_unused(network_key(&network.id), condition, "serverCount", what).await,
        }
    }
}

impl DynamoStore {
    /// Marks a network deleting (keeping an earlier mark) and puts it on the deletion's attention
    /// key, unless a server on it is protected (`Protected`). `expected`: a provisioned network's
    /// version (`Changed` if it moved on), whose key moves from its provisioning's to the deletion's.
    async fn mark_deleting(&self, id: &str, now: DateTime<Utc>, expected: Option<u64>) -> Result<()> {
        let mut condition = unused("attribute_exists(PK)", "protectedCount");
        let mut update = "SET deletingSince = if_not_exists(deletingSince, :now), GSI3PK = :attention, \
                          GSI3SK = if_not_exists(GSI3SK, :sk)"
            .to_owned();
        let mut values = HashMap::from([
            (":now".to_owned(), s(now.to_rfc3339())),
            (":attention".to_owned(), s(ATTENTION)),
            (":sk".to_owned(), s(format!("NETWORK#{}#{id}", sortable(now)))),
            (":zero".to_owned(), n(0)),
        ]);
        if let Some(version) = expected {
            condition.push_str(" AND version = :expected");
            update = update.replace("if_not_exists(GSI3SK, :sk)", ":sk");
            values.insert(":expected".into(), n(version));
        }
        let refused = self.update_if(network_key(id), (&update, &condition), values, "mark network deleting").await?;
        Err(match refused {
            None => return Ok(()),
            Some(None) => StoreError::Missing(Kind::Network, id.to_owned()),
            Some(Some(item)) if expected.is_some_and(|v| number_attr(&item, "version").unwrap_or(0) != v) => {
                StoreError::Changed(Kind::Network, id.to_owned())
            }
            Some(Some(_)) => StoreError::Protected(Kind::Network, id.to_owned()),
        })
    }
}

#[async_trait]
impl NetworkStore for DynamoStore {
    async fn create_network(&self, network: &NetworkRecord) -> Result<()> {
        let Some(parent) = &network.parent_identity_id else {
            let exists = || StoreError::Exists(Kind::Network, network.id.clone());
            return self.put_new(DynamoStore::new_network_item(network)?, "create network", exists).await;
        };
        let tx = Transaction::new("create network")
            .with("network", self.put(DynamoStore::new_network_item(network)?, "attribute_not_exists(PK)")?)
            .with(
                "identity",
                self.counter(
                    identity_key(parent),
                    "networkCount",
                    1,
                    "attribute_exists(PK) AND attribute_not_exists(deletingSince)",
                )?,
            );
        match self.transact(tx).await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed("network").is_some() => {
                Err(StoreError::Exists(Kind::Network, network.id.clone()))
            }
            Err(cancelled) if cancelled.failed("identity").is_some_and(|r| r.existed) => {
                Err(StoreError::Closing(Kind::Identity, parent.clone()))
            }
            Err(_) => Err(StoreError::Missing(Kind::Identity, parent.clone())),
        }
    }

    async fn get_network(&self, id: &str) -> Result<Option<NetworkRecord>> {
        self.get(network_key(id), "get network").await?.as_ref().map(network_from_item).transpose()
    }

    async fn list_networks(&self, query: &RecordQuery) -> Result<Vec<NetworkRecord>> {
        self.every_in_scopes("NETWORK", query, network_from_item, |n| &n.id).await
    }

    async fn delete_network(&self, network: &NetworkRecord) -> Result<()> {
        let condition = "attribute_exists(PK) AND attribute_not_exists(refs)";
        if self.remove_network(network, condition, "delete network").await? {
            return Ok(());
        }
        match self.get(network_key(&network.id), "get network").await? {
            Some(_) => Err(StoreError::InUse(Kind::Network, network.id.clone())),
            None => Err(StoreError::Missing(Kind::Network, network.id.clone())),
        }
    }

    async fn delete_or_mark_network(&self, network: &NetworkRecord, now: DateTime<Utc>) -> Result<NetworkDeletion> {
        let id = network.id.as_str();
        if self.remove_network(network, "attribute_exists(PK)", "delete network").await? {
            return Ok(NetworkDeletion::Deleted);
        }
        // Servers remain (or it is gone): mark it, keeping the first mark of an earlier delete.
        self.mark_deleting(id, now, None).await.map(|()| NetworkDeletion::Deleting)
    }

    async fn mark_network_deleting(&self, network: &NetworkRecord, now: DateTime<Utc>) -> Result<()> {
        self.mark_deleting(&network.id, now, Some(network.version)).await
    }

    async fn network_server_count(&self, id: &str) -> Result<Option<u64>> {
        Ok(self.get(network_key(id), "get network").await?.map(|item| number_attr(&item, "serverCount").unwrap_or(0)))
    }
}

#[async_trait]
impl IdentityStore for DynamoStore {
    async fn create_identity(&self, identity: &IdentityRecord) -> Result<()> {
        let exists = || StoreError::Exists(Kind::Identity, identity.id.clone());
        let mut item = identity_item(identity)?;
        if let Some(key) = super::provisioned::unsettled_identity_key(identity) {
            item.insert(GSI3PK.into(), s(ATTENTION));
            item.insert(GSI3SK.into(), s(key));
        }
        self.put_new(item, "create identity", exists).await
    }

    async fn get_identity(&self, id: &str) -> Result<Option<IdentityRecord>> {
        self.get(identity_key(id), "get identity").await?.as_ref().map(identity_from_item).transpose()
    }

    async fn list_identities(&self, query: &RecordQuery) -> Result<Vec<IdentityRecord>> {
        self.every_in_scopes("IDENTITY", query, identity_from_item, |i: &IdentityRecord| &i.id).await
    }

    async fn close_identity(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(identity_key(id)))
            .update_expression(
                "SET deletingSince = if_not_exists(deletingSince, :now), GSI3PK = :attention, GSI3SK = :sk",
            )
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .expression_attribute_values(":attention", s(ATTENTION))
            .expression_attribute_values(":sk", s(format!("IDENTITY#{}#{id}", sortable(now))))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::Missing(Kind::Identity, id.to_owned())),
            Err(e) => Err(sdk_error("mark identity deleting", e)),
        }
    }

    async fn delete_identity(&self, id: &str) -> Result<()> {
        self.delete_unused(identity_key(id), "networkCount", (Kind::Identity, id), "delete identity").await
    }
}

#[async_trait]
impl SshCaStore for DynamoStore {
    async fn create_ssh_ca(&self, ca: &SshCaRecord) -> Result<()> {
        self.put_new(ssh_ca_item(ca)?, "create SSH certificate authority", || {
            StoreError::Exists(Kind::SshCa, ca.id.clone())
        })
        .await
    }

    async fn get_ssh_ca(&self, id: &str) -> Result<Option<SshCaRecord>> {
        self.get(ssh_ca_key(id), "get SSH certificate authority").await?.as_ref().map(from_item).transpose()
    }

    async fn list_ssh_cas(&self, query: &RecordQuery) -> Result<Vec<SshCaRecord>> {
        self.every_in_scopes("SSHCA", query, from_item, |ca: &SshCaRecord| &ca.id).await
    }

    async fn delete_ssh_ca(&self, id: &str) -> Result<()> {
        self.delete_unused(ssh_ca_key(id), "serverCount", (Kind::SshCa, id), "delete SSH certificate authority").await
    }
}

#[async_trait]
impl KeypairStore for DynamoStore {
    async fn get_keypair(&self, identity_id: &str) -> Result<Option<IdentityKeypair>> {
        self.get(keypair_key(identity_id), "get keypair").await?.as_ref().map(from_item).transpose()
    }

    async fn create_keypair(&self, keypair: &IdentityKeypair) -> Result<()> {
        self.put_new(keypair_item(keypair)?, "create keypair", || {
            StoreError::Exists(Kind::Keypair, keypair.identity_id.clone())
        })
        .await
    }

    async fn mark_keypair_registered(&self, identity_id: &str) -> Result<()> {
        let Some(mut keypair) = self.get_keypair(identity_id).await? else {
            return Err(StoreError::Missing(Kind::Keypair, identity_id.to_owned()));
        };
        keypair.registered = true;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(keypair_item(&keypair)?))
            .condition_expression("attribute_exists(PK)")
            .send()
            .await
            .map_err(|e| sdk_error("mark keypair", e))?;
        Ok(())
    }

    async fn delete_keypair_record(&self, identity_id: &str) -> Result<()> {
        let deleted =
            self.client.delete_item().table_name(&self.table).set_key(Some(keypair_key(identity_id))).send().await;
        deleted.map(drop).map_err(|e| sdk_error("delete keypair", e))
    }
}
