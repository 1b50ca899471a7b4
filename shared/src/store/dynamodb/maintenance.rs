//! Actions, the outbox and what the cleanup function reads and writes.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::items::*;
use crate::domain::{ActionRecord, IdentityRecord, NetworkRecord, StateEvent};
use crate::store::{ActionQuery, ActionStore, ClaimRef, Kind, MaintenanceStore, Page, Result, StoreError};

use super::errors::{is_condition_failure, sdk_error};
use super::DynamoStore;

#[async_trait]
impl ActionStore for DynamoStore {
    async fn get_action(&self, server_id: &str, action_id: &str) -> Result<Option<ActionRecord>> {
        self.get(action_key(server_id, action_id), "get action").await?.as_ref().map(action_from_item).transpose()
    }

    async fn list_actions(&self, server_id: &str, query: &ActionQuery) -> Result<Page<ActionRecord>> {
        let mut values = HashMap::from([
            (":pk".to_owned(), s(format!("ACTIONS#{server_id}"))),
            (":prefix".to_owned(), s("ACTION#")),
        ]);
        let condition = match &query.after {
            Some(after) => {
                values.insert(":before".to_owned(), s(format!("ACTION#{after}")));
                "PK = :pk AND SK BETWEEN :prefix AND :before"
            }
            None => "PK = :pk AND begins_with(SK, :prefix)",
        };
        let filter = query.status.map(|status| {
            values.insert(":status".to_owned(), s(status.as_str()));
            "actionStatus = :status"
        });
        let mut items = Vec::new();
        let mut start = None;
        // A page more than asked for says whether there is a next one.
        while items.len() <= query.limit {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(condition)
                .set_filter_expression(filter.map(str::to_owned))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(false)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .limit(i32::try_from(query.limit + 1).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(|e| sdk_error("list actions", e))?;
            for item in out.items() {
                let action = action_from_item(item)?;
                // BETWEEN includes the cursor itself.
                if query.after.as_deref() != Some(action.action.id.as_str()) {
                    items.push(action);
                }
            }
            match out.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => break,
            }
        }
        let next = if items.len() > query.limit {
            items.truncate(query.limit);
            items.last().map(|a| a.action.id.clone())
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

#[async_trait]
impl MaintenanceStore for DynamoStore {
    async fn unpublished_events(&self, limit: usize) -> Result<Vec<StateEvent>> {
        let items = self.attention("EVENT#".into(), "EVENT$".into(), limit).await?;
        items.iter().map(from_item).collect()
    }

    async fn mark_published(&self, event: &StateEvent) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(outbox_key(event)))
            .send()
            .await
            .map_err(|e| sdk_error("mark event published", e))?;
        Ok(())
    }

    async fn networks_being_deleted(&self, limit: usize) -> Result<Vec<NetworkRecord>> {
        let items = self.attention("NETWORK#".into(), "NETWORK$".into(), limit).await?;
        items.iter().map(network_from_item).collect()
    }

    async fn finish_network_deletion(&self, network: &NetworkRecord) -> Result<bool> {
        self.remove_network(network, "attribute_exists(deletingSince)", "finish network deletion").await
    }

    async fn identities_being_deleted(&self, limit: usize) -> Result<Vec<IdentityRecord>> {
        let items = self.attention("IDENTITY#".into(), "IDENTITY$".into(), limit).await?;
        items.iter().map(identity_from_item).collect()
    }

    async fn claims_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<ClaimRef>> {
        let items = self.attention("CLAIM#".into(), format!("CLAIM#{}", sortable(now)), limit).await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                Some(ClaimRef {
                    network_id: string_attr(item, "networkId")?,
                    name: string_attr(item, "name")?,
                    server_id: string_attr(item, "serverId")?,
                })
            })
            .collect())
    }

    async fn cleanup_cursor(&self) -> Result<(Option<String>, u64)> {
        let item = self.get(cursor_key(), "get cleanup cursor").await?;
        Ok(match item {
            Some(item) => (string_attr(&item, "nextIdentity"), number_attr(&item, "version").unwrap_or(0)),
            None => (None, 0),
        })
    }

    async fn save_cleanup_cursor(&self, next_identity: Option<&str>, expected_version: u64) -> Result<()> {
        let mut item = cursor_key();
        item.insert("version".into(), n(expected_version + 1));
        if let Some(next) = next_identity {
            item.insert("nextIdentity".into(), s(next));
        }
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR version = :expected")
            .expression_attribute_values(":expected", n(expected_version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::Changed(Kind::CleanupCursor, "cleanup".into())),
            Err(e) => Err(sdk_error("save cleanup cursor", e)),
        }
    }
}
