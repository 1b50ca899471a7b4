//! The identity cache every container shares: one item per digest key (`AUTHCACHE#<kind>#<sha256>`),
//! holding identity's answer or a container's claim to ask for it, with an expiry readers check and
//! DynamoDB's TTL (`expiresAt`) removes later.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::claims::{AlsoFree, Claim, Claimed};
use super::errors::{is_condition_failure, sdk_error};
use super::items::{millis_attr, n, s, string_attr, Item, EXPIRES_AT};
use super::DynamoStore;
use crate::identity::cache::{CacheKey, Shared, SharedCache};

const SK: &str = "AUTHCACHE";
/// Items outlive their answer by this much before DynamoDB's TTL may remove them.
const TTL_SLACK_SECONDS: i64 = 60;

fn key(k: &CacheKey) -> Item {
    Item::from([("PK".to_owned(), s(format!("AUTHCACHE#{}", k.0))), ("SK".to_owned(), s(SK))])
}

#[async_trait]
impl SharedCache for DynamoStore {
    async fn get(&self, k: &CacheKey, now: DateTime<Utc>) -> Result<Option<Shared>, String> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(k)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("read identity cache", e).to_string())?;
        let Some(item) = out.item() else { return Ok(None) };
        Ok(match string_attr(item, "state").as_deref() {
            Some("ready") => match (string_attr(item, "value"), millis_attr(item, "expires")) {
                (Some(value), Some(expires)) if expires > now => Some(Shared::Ready { value, expires }),
                _ => None,
            },
            Some("pending") => millis_attr(item, "until").filter(|u| *u > now).map(|until| Shared::Pending { until }),
            _ => None,
        })
    }

    async fn claim(&self, k: &CacheKey, until: DateTime<Utc>, now: DateTime<Utc>) -> Result<bool, String> {
        let mut item = key(k);
        item.insert(EXPIRES_AT.into(), n(until.timestamp() + TTL_SLACK_SECONDS));
        let claim = Claim {
            what: "claim identity cache",
            item,
            claimed: "pending",
            until,
            now,
            also_free: AlsoFree {
                clause: "(#state = :ready AND #expires < :now)",
                names: &[("#expires", "expires")],
                values: vec![(":ready", s("ready"))],
            },
        };
        match DynamoStore::claim(self, claim).await {
            Ok(Claimed::Won) => Ok(true),
            Ok(Claimed::Held(_)) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn put(&self, k: &CacheKey, value: &str, expires: DateTime<Utc>) -> Result<(), String> {
        let mut item = key(k);
        item.insert("state".into(), s("ready"));
        item.insert("value".into(), AttributeValue::S(value.to_owned()));
        item.insert("expires".into(), n(expires.timestamp_millis()));
        item.insert(EXPIRES_AT.into(), n(expires.timestamp() + TTL_SLACK_SECONDS));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("write identity cache", e).to_string())
    }

    async fn release(&self, k: &CacheKey) -> Result<(), String> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(k)))
            .condition_expression("#state = :pending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", s("pending"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(sdk_error("release identity cache", e).to_string()),
        }
    }
}
