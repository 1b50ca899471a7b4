//! Provisioned networks, their hidden identities, references and VLAN claims.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};
use chrono::{DateTime, Utc};

use super::errors::{build, is_condition_failure, sdk_error};
use super::items::*;
use super::transactions::Transaction;
use super::DynamoStore;
use crate::domain::{IdentityRecord, NetworkRecord};
use crate::store::{Kind, ProvisionStore, Result, StoreError, VlanStore};

/// The attention index's sort key of a network with work left (its stage's start, so the oldest
/// comes first), or `None` once it is provisioned.
pub fn unsettled_key(n: &NetworkRecord) -> Option<String> {
    let lifecycle = n.lifecycle.as_ref().filter(|l| l.stage.unsettled())?;
    Some(format!("PROVISION#{}#{}", sortable(lifecycle.since), n.id))
}

/// The attention index's sort key of a v1 identity whose provisioning has work left (a hidden
/// identity is its network's; one being deleted is under its deletion's key).
pub fn unsettled_identity_key(i: &IdentityRecord) -> Option<String> {
    if i.hidden || i.deleting_since.is_some() {
        return None;
    }
    let lifecycle = i.lifecycle.as_ref().filter(|l| l.stage.unsettled())?;
    Some(format!("IDPROVISION#{}#{}", sortable(lifecycle.since), i.id))
}

fn vlan_key(region: &str, physnet: &str, vlan: u16) -> Item {
    HashMap::from([(PK.into(), s(format!("VLAN#{region}#{physnet}"))), (SK.into(), s(format!("{vlan:04}")))])
}

impl DynamoStore {
    /// Writes `doc` and `version` over a record at `expected` (with `extra` conditions and
    /// updates); a failed condition reads as `Changed` (or `Missing`, or what `refused` makes of
    /// the item found).
    pub(super) async fn rewrite(
        &self,
        key: Item,
        (doc_text, version, expected): (String, u64, u64),
        (extra_set, extra_condition): (&str, &str),
        mut values: HashMap<String, AttributeValue>,
        refused_by: impl Fn(&Item) -> Option<StoreError>,
        (kind, id): (Kind, &str),
    ) -> Result<()> {
        values.insert(":doc".into(), s(doc_text));
        values.insert(":version".into(), n(version));
        values.insert(":expected".into(), n(expected));
        let condition = format!("attribute_exists(PK) AND (version = :expected OR (attribute_not_exists(version) AND :expected = :zero)){extra_condition}");
        values.entry(":zero".into()).or_insert_with(|| n(0));
        let update = format!("SET doc = :doc, version = :version{extra_set}");
        let refused = self.update_if(key, (&update, &condition), values, "replace record").await?;
        Err(match refused {
            None => return Ok(()),
            Some(None) => StoreError::Missing(kind, id.to_owned()),
            Some(Some(item)) if number_attr(&item, "version").unwrap_or(0) != expected => {
                StoreError::Changed(kind, id.to_owned())
            }
            Some(Some(item)) => refused_by(&item).unwrap_or_else(|| StoreError::Changed(kind, id.to_owned())),
        })
    }

    fn network_doc(n: &NetworkRecord) -> Result<String> {
        let mut stored = n.clone();
        // Kept beside the document (conditions read them there).
        stored.references.clear();
        stored.deleting_since = None;
        serde_json::to_string(&stored).map_err(|e| StoreError::failed(format!("cannot encode record: {e}")))
    }

    /// A new network's item: its document as [`Self::rewrite`] keeps it, and on the attention
    /// index while it has work left (a provisioned one is written `pending`).
    pub(super) fn new_network_item(network: &NetworkRecord) -> Result<Item> {
        let mut item = network_item(network)?;
        item.insert("doc".into(), s(DynamoStore::network_doc(network)?));
        item.insert("version".into(), n(network.version));
        if let Some(key) = unsettled_key(network) {
            item.insert(GSI3PK.into(), s(ATTENTION));
            item.insert(GSI3SK.into(), s(key));
        }
        Ok(item)
    }

    /// The update that puts a record on the attention index under `key` (its values added to
    /// `values`), or takes it off (`None`: settled).
    pub(super) fn attention_set(key: Option<String>, values: &mut HashMap<String, AttributeValue>) -> &'static str {
        match key {
            Some(key) => {
                values.insert(":attention".into(), s(ATTENTION));
                values.insert(":attentionKey".into(), s(key));
                ", GSI3PK = :attention, GSI3SK = :attentionKey"
            }
            None => " REMOVE GSI3PK, GSI3SK",
        }
    }
}

#[async_trait]
impl ProvisionStore for DynamoStore {
    fn owner_tag(&self) -> String {
        format!("region-servers={}", self.table)
    }

    async fn create_provisioned_network(&self, identity: &IdentityRecord, network: &NetworkRecord) -> Result<()> {
        let item = DynamoStore::new_network_item(network)?;
        let tx = Transaction::new("create network")
            .with("network", self.put(item, "attribute_not_exists(PK)")?)
            .with("identity", self.put(identity_item(identity)?, "attribute_not_exists(PK)")?);
        match self.transact(tx).await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed("network").is_some() => {
                Err(StoreError::Exists(Kind::Network, network.id.clone()))
            }
            Err(_) => Err(StoreError::Exists(Kind::Identity, identity.id.clone())),
        }
    }

    async fn replace_network(&self, next: &NetworkRecord, expected_version: u64) -> Result<()> {
        let mut values = HashMap::new();
        let attention = DynamoStore::attention_set(unsettled_key(next), &mut values);
        let doc = (DynamoStore::network_doc(next)?, next.version, expected_version);
        // Never over a deletion's mark (it keeps the version): the provisioning that read it before is done.
        let unmarked = " AND attribute_not_exists(deletingSince)";
        self.rewrite(network_key(&next.id), doc, (attention, unmarked), values, |_| None, (Kind::Network, &next.id))
            .await
    }

    async fn begin_network_teardown(&self, next: &NetworkRecord, expected_version: u64) -> Result<()> {
        let mut values = HashMap::new();
        let attention = DynamoStore::attention_set(unsettled_key(next), &mut values);
        values.insert(":now".into(), s(Utc::now().to_rfc3339()));
        let set = format!("{attention}, deletingSince = if_not_exists(deletingSince, :now)");
        let unused = " AND (attribute_not_exists(serverCount) OR serverCount = :zero) AND attribute_not_exists(refs)";
        let in_use = |_: &Item| Some(StoreError::InUse(Kind::Network, next.id.clone()));
        let doc = (DynamoStore::network_doc(next)?, next.version, expected_version);
        self.rewrite(network_key(&next.id), doc, (&set, unused), values, in_use, (Kind::Network, &next.id)).await
    }

    async fn replace_identity(&self, next: &IdentityRecord, expected_version: u64) -> Result<()> {
        let doc = serde_json::to_string(next).map_err(|e| StoreError::failed(format!("cannot encode record: {e}")))?;
        let doc = (doc, next.version, expected_version);
        let mut values = HashMap::new();
        // A v1 identity's provisioning writes keep it on the attention index while unsettled, and
        // never write over a delete that started meanwhile (its deletion's key stays).
        let (attention, condition) = if next.hidden || next.deleting_since.is_some() {
            ("", "")
        } else {
            let attention = DynamoStore::attention_set(unsettled_identity_key(next), &mut values);
            (attention, " AND attribute_not_exists(deletingSince)")
        };
        let key = identity_key(&next.id);
        self.rewrite(key, doc, (attention, condition), values, |_| None, (Kind::Identity, &next.id)).await
    }

    async fn unsettled_identities(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<IdentityRecord>> {
        let items = self.attention("IDPROVISION#".into(), format!("IDPROVISION#{}~", sortable(before)), limit).await?;
        items.iter().map(identity_from_item).collect()
    }

    async fn remove_provisioned_network(&self, network: &NetworkRecord) -> Result<()> {
        let delete = |key: Item| -> Result<TransactWriteItem> {
            Ok(TransactWriteItem::builder()
                .delete(build(Delete::builder().table_name(&self.table).set_key(Some(key)).build())?)
                .build())
        };
        let tx = Transaction::new("remove network")
            .with("network", delete(network_key(&network.id))?)
            .with("identity", delete(identity_key(&network.identity_id))?)
            .with("key pair", delete(keypair_key(&network.identity_id))?);
        match self.transact(tx).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::failed(format!("network {}: its records could not be removed", network.id))),
        }
    }

    async fn unsettled_networks(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<NetworkRecord>> {
        // The index projects every attribute; the caller reads the record itself before acting.
        let items = self.attention("PROVISION#".into(), format!("PROVISION#{}~", sortable(before)), limit).await?;
        items.iter().map(network_from_item).collect()
    }

    async fn add_reference(&self, network_id: &str, reference: &str) -> Result<()> {
        let values = HashMap::from([(":ref".to_owned(), AttributeValue::Ss(vec![reference.to_owned()]))]);
        let condition = "attribute_exists(PK) AND attribute_not_exists(deletingSince)";
        let refused =
            self.update_if(network_key(network_id), ("ADD refs :ref", condition), values, "add reference").await?;
        Err(match refused {
            None => return Ok(()),
            Some(Some(_)) => StoreError::Closing(Kind::Network, network_id.to_owned()),
            Some(None) => StoreError::Missing(Kind::Network, network_id.to_owned()),
        })
    }

    async fn remove_reference(&self, network_id: &str, reference: &str) -> Result<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(network_key(network_id)))
            .update_expression("DELETE refs :ref")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":ref", AttributeValue::Ss(vec![reference.to_owned()]))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::Missing(Kind::Network, network_id.to_owned())),
            Err(e) => Err(sdk_error("remove reference", e)),
        }
    }
}

#[async_trait]
impl VlanStore for DynamoStore {
    async fn claim_vlan(
        &self,
        region_id: &str,
        physical_network: &str,
        ranges: &[(u16, u16)],
        network_id: &str,
    ) -> Result<Option<u16>> {
        for _ in 0..8 {
            let mut held = std::collections::BTreeSet::new();
            let mut start: Option<Item> = None;
            loop {
                let out = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("PK = :pk")
                    .expression_attribute_values(":pk", s(format!("VLAN#{region_id}#{physical_network}")))
                    .consistent_read(true)
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(|e| sdk_error("list VLANs", e))?;
                for item in out.items() {
                    let vlan = string_attr(item, SK).and_then(|v| v.parse::<u16>().ok());
                    if string_attr(item, "networkId").as_deref() == Some(network_id) {
                        return Ok(vlan);
                    }
                    held.extend(vlan);
                }
                match out.last_evaluated_key() {
                    Some(key) => start = Some(key.clone()),
                    None => break,
                }
            }
            let Some(free) = ranges.iter().flat_map(|(a, b)| *a..=*b).find(|v| !held.contains(v)) else {
                return Ok(None);
            };
            let mut item = vlan_key(region_id, physical_network, free);
            item.insert("networkId".into(), s(network_id));
            let taken = || StoreError::Exists(Kind::Network, free.to_string());
            match self.put_new(item, "claim VLAN", taken).await {
                Ok(()) => return Ok(Some(free)),
                // Another network claimed it between the read and the write: look again.
                Err(StoreError::Exists(..)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::failed("VLAN claims kept racing; the next attempt retries"))
    }

    async fn release_vlan(&self, region_id: &str, physical_network: &str, vlan: u16, network_id: &str) -> Result<()> {
        let key = vlan_key(region_id, physical_network, vlan);
        let condition = "networkId = :network";
        let values = HashMap::from([(":network".to_owned(), s(network_id))]);
        self.delete_if(key, condition, values, "release VLAN").await.map(drop)
    }
}
