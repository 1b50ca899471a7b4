//! Security groups: written in a transaction that checks their network (v2) or identity resource
//! (v1) takes them, rewritten at the version read, on the attention index while unsettled.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem};
use chrono::{DateTime, Utc};

use super::errors::build;
use super::items::*;
use super::transactions::Transaction;
use super::DynamoStore;
use crate::domain::SecurityGroupRecord;
use crate::store::{Kind, RecordQuery, Result, SecurityGroupStore, StoreError};

impl DynamoStore {
    fn group_doc(g: &SecurityGroupRecord) -> Result<String> {
        // The deletion mark is kept beside the document (conditions read it there).
        let stored = SecurityGroupRecord { deleting_since: None, ..g.clone() };
        serde_json::to_string(&stored).map_err(|e| StoreError::failed(format!("cannot encode record: {e}")))
    }
}

impl DynamoStore {
    /// Writes `next` at `expected_version` marked deleting (from now), when no server names it if
    /// `unused` (`InUse` otherwise).
    async fn mark_group_deleting(&self, next: &SecurityGroupRecord, expected_version: u64, unused: bool) -> Result<()> {
        let mut values = HashMap::new();
        let attention = DynamoStore::attention_set(unsettled_group_key(next), &mut values);
        values.insert(":now".into(), s(Utc::now().to_rfc3339()));
        let set = format!("{attention}, deletingSince = :now");
        let condition = match unused {
            true => " AND attribute_not_exists(deletingSince) AND (attribute_not_exists(serverCount) OR serverCount = :zero)",
            false => " AND attribute_not_exists(deletingSince)",
        };
        let in_use = |item: &Item| {
            (unused && number_attr(item, "serverCount").unwrap_or(0) > 0)
                .then(|| StoreError::InUse(Kind::SecurityGroup, next.id.clone()))
        };
        let doc = (DynamoStore::group_doc(next)?, next.version, expected_version);
        let key = security_group_key(&next.id);
        self.rewrite(key, doc, (&set, condition), values, in_use, (Kind::SecurityGroup, &next.id)).await
    }
}

#[async_trait]
impl SecurityGroupStore for DynamoStore {
    async fn create_security_group(&self, group: &SecurityGroupRecord) -> Result<()> {
        let (kind, parent, key) = match (&group.network_id, &group.parent_identity_id) {
            (Some(network), _) => (Kind::Network, network.clone(), network_key(network)),
            (None, Some(identity)) => (Kind::Identity, identity.clone(), identity_key(identity)),
            (None, None) => return Err(StoreError::failed("a security group belongs to a network or an identity")),
        };
        let check = build(
            ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key))
                .condition_expression("attribute_exists(PK) AND attribute_not_exists(deletingSince)")
                .return_values_on_condition_check_failure(
                    aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build(),
        )?;
        let item = security_group_item(group)?;
        let tx = Transaction::new("create security group")
            .with("group", self.put(item, "attribute_not_exists(PK)")?)
            .with("parent", TransactWriteItem::builder().condition_check(check).build());
        match self.transact(tx).await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed("group").is_some() => {
                Err(StoreError::Exists(Kind::SecurityGroup, group.id.clone()))
            }
            Err(cancelled) if cancelled.failed("parent").is_some_and(|r| r.existed) => {
                Err(StoreError::Closing(kind, parent))
            }
            Err(_) => Err(StoreError::Missing(kind, parent)),
        }
    }

    async fn get_security_group(&self, id: &str) -> Result<Option<SecurityGroupRecord>> {
        let item = self.get(security_group_key(id), "get security group").await?;
        item.as_ref().map(security_group_from_item).transpose()
    }

    async fn list_security_groups(&self, query: &RecordQuery) -> Result<Vec<SecurityGroupRecord>> {
        self.every_in_scopes("SECGROUP", query, security_group_from_item, |g| &g.id).await
    }

    async fn replace_security_group(&self, next: &SecurityGroupRecord, expected_version: u64) -> Result<()> {
        let mut values = HashMap::new();
        let attention = DynamoStore::attention_set(unsettled_group_key(next), &mut values);
        let doc = (DynamoStore::group_doc(next)?, next.version, expected_version);
        let key = security_group_key(&next.id);
        let unmarked = " AND attribute_not_exists(deletingSince)";
        self.rewrite(key, doc, (attention, unmarked), values, |_| None, (Kind::SecurityGroup, &next.id)).await
    }

    async fn begin_security_group_teardown(&self, next: &SecurityGroupRecord, expected_version: u64) -> Result<()> {
        self.mark_group_deleting(next, expected_version, true).await
    }

    async fn mark_security_group_deleting(&self, next: &SecurityGroupRecord, expected_version: u64) -> Result<()> {
        self.mark_group_deleting(next, expected_version, false).await
    }

    async fn security_group_server_count(&self, id: &str) -> Result<Option<u64>> {
        let item = self.get(security_group_key(id), "get security group").await?;
        Ok(item.map(|item| number_attr(&item, "serverCount").unwrap_or(0)))
    }

    async fn remove_security_group(&self, id: &str) -> Result<()> {
        self.delete_if(security_group_key(id), "attribute_exists(PK)", HashMap::new(), "remove security group").await?;
        Ok(())
    }

    async fn unsettled_security_groups(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<SecurityGroupRecord>> {
        let items = self.attention("SGPROVISION#".into(), format!("SGPROVISION#{}~", sortable(before)), limit).await?;
        items.iter().map(security_group_from_item).collect()
    }
}
