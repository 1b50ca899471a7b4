//! Idempotency keys (as AWS Lambda Powertools keeps them).

use std::collections::HashMap;

use async_trait::async_trait;

use super::items::*;
use crate::store::{IdempotencyStore, KeyClaim, KeyState, Result, StoreError, StoredResponse};

use super::claims::{AlsoFree, Claim, Claimed};
use super::errors::{is_condition_failure, sdk_error};
use super::DynamoStore;

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn claim_key(&self, claim: &KeyClaim<'_>) -> Result<KeyState> {
        let KeyClaim { key, body_hash, now, until, expires_at } = *claim;
        let mut item = idempotency_key(key);
        item.insert("bodyHash".into(), s(body_hash));
        item.insert(EXPIRES_AT.into(), n(expires_at.timestamp()));
        let claim = Claim {
            what: "claim idempotency key",
            item,
            claimed: "in_progress",
            until,
            now,
            also_free: AlsoFree {
                clause: "expiresAt < :nowSeconds",
                names: &[],
                values: vec![(":nowSeconds", n(now.timestamp()))],
            },
        };
        let old = match self.claim(claim).await? {
            Claimed::Won => return Ok(KeyState::Claimed),
            Claimed::Held(old) => old,
        };
        let hash = string_attr(&old, "bodyHash").unwrap_or_default();
        match string_attr(&old, "state").as_deref() {
            Some("completed") => {
                let text = string_attr(&old, "response").unwrap_or_default();
                let response: StoredResponse = serde_json::from_str(&text)
                    .map_err(|e| StoreError::failed(format!("stored idempotent response is unreadable: {e}")))?;
                Ok(KeyState::Completed { body_hash: hash, response })
            }
            _ => {
                let until = millis_attr(&old, "until").unwrap_or(now);
                Ok(KeyState::InProgress { body_hash: hash, until })
            }
        }
    }

    async fn complete_key(&self, key: &str, body_hash: &str, response: &StoredResponse) -> Result<()> {
        let text = serde_json::to_string(response)
            .map_err(|e| StoreError::failed(format!("cannot encode an idempotent response: {e}")))?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(idempotency_key(key)))
            .update_expression("SET #state = :done, #response = :response")
            .condition_expression("bodyHash = :hash AND #state = :running")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#response", "response")
            .expression_attribute_values(":done", s("completed"))
            .expression_attribute_values(":running", s("in_progress"))
            .expression_attribute_values(":response", s(text))
            .expression_attribute_values(":hash", s(body_hash))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Taken over after our attempt outlived its time: the other attempt's answer stands.
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(sdk_error("complete idempotency key", e)),
        }
    }

    async fn release_key(&self, key: &str, body_hash: &str) -> Result<()> {
        let values = HashMap::from([(":hash".to_owned(), s(body_hash)), (":running".to_owned(), s("in_progress"))]);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(idempotency_key(key)))
            .condition_expression("bodyHash = :hash AND #state = :running")
            .expression_attribute_names("#state", "state")
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(sdk_error("release idempotency key", e)),
        }
    }
}
