//! The DynamoDB store: its client and table, and the single-item reads and writes the ports share.
//! The ports' implementations live beside it, one file per concern: `servers`, `resources`
//! (networks, identities, SSH CAs, key pairs), `idempotency`, `maintenance` (actions, the outbox,
//! cleanup), with `transactions`, `queries` and `errors` under them.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;

use super::errors::{is_condition_failure, sdk_error};
use super::items::*;
use crate::store::{Result, StoreError};

pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into() }
    }

    /// Opens the connection (DNS, TCP, TLS, signing) before the first request needs it: one read
    /// of an item that never exists. A failure only means the first request connects itself.
    pub async fn warm(&self) {
        let read = self.client.get_item().table_name(&self.table).set_key(Some(warmup_key())).send().await;
        if let Err(e) = read {
            let e = aws_sdk_dynamodb::error::DisplayErrorContext(&e);
            tracing::warn!(error = %e, "DynamoDB warm-up failed; the first request connects");
        }
    }

    /// Strongly consistent reads of many items by key (BatchGetItem, a hundred keys a call; keys
    /// DynamoDB leaves unprocessed are asked again, a few times). Items that do not exist are absent.
    pub(super) async fn get_many(&self, keys: Vec<Item>, what: &str) -> Result<Vec<Item>> {
        use aws_sdk_dynamodb::types::KeysAndAttributes;
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let mut pending = chunk.to_vec();
            for attempt in 0..5u32 {
                if pending.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                }
                let ask = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::failed(format!("{what}: {e}")))?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, ask)
                    .send()
                    .await
                    .map_err(|e| sdk_error(what, e))?;
                if let Some(items) = out.responses().and_then(|r| r.get(&self.table)) {
                    found.extend(items.iter().cloned());
                }
                if let Some(left) = out.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                    pending = left.keys().to_vec();
                }
            }
            if !pending.is_empty() {
                return Err(StoreError::failed(format!("{what}: DynamoDB left {} keys unread", pending.len())));
            }
        }
        Ok(found)
    }

    /// A strongly consistent read of one item.
    pub(super) async fn get(&self, key: Item, what: &str) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(what, e))?;
        Ok(out.item().cloned())
    }

    /// Writes an item that must not exist yet; `taken` is the error when it does.
    pub(super) async fn put_new(&self, item: Item, what: &str, taken: impl FnOnce() -> StoreError) -> Result<()> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(taken()),
            Err(e) => Err(sdk_error(what, e)),
        }
    }

    /// Deletes `key` if `condition` holds; false when it did not.
    pub(super) async fn delete_if(
        &self,
        key: Item,
        condition: &str,
        values: HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
        what: &str,
    ) -> Result<bool> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(condition)
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(sdk_error(what, e)),
        }
    }

    /// Updates `key` if `condition` holds: `Ok(None)` when written; `Ok(Some(found))` when the
    /// condition failed, `found` being the item as it stood (`None`: there was none).
    pub(super) async fn update_if(
        &self,
        key: Item,
        (update, condition): (&str, &str),
        values: HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
        what: &str,
    ) -> Result<Option<Option<Item>>> {
        use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
        use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(e) if is_condition_failure(&e) => Ok(Some(match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(c)) => c.item().cloned(),
                _ => None,
            })),
            Err(e) => Err(sdk_error(what, e)),
        }
    }
}
