//! Fair-use buckets: one item per organization and class (`BUCKET#<organization>#<class>`) holding
//! the bucket's arrival time (`tat`, epoch microseconds) and the interval of the rate that wrote it
//! (`interval`, microseconds a token), removed by DynamoDB's TTL an hour after the bucket is full
//! again; and an organization's own limits (`LIMITS#<organization>`), written by an operator
//! (docs/fair-use.md).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::errors::{is_condition_failure, sdk_error};
use super::items::{n, number_attr, s, Item, EXPIRES_AT, PK, SK};
use super::DynamoStore;
use crate::fairuse::{BucketKey, BucketStore, Class, Level, Micros, Overrides, Rate};

const BUCKET: &str = "BUCKET";
const INTERVAL: &str = "interval";
const LIMITS: &str = "LIMITS";
/// An idle bucket's item outlives the moment it is full again by this much.
const IDLE_SECONDS: i64 = 3600;

fn bucket_key(key: &BucketKey) -> Item {
    HashMap::from([
        (PK.into(), s(format!("{BUCKET}#{}#{}", key.organization, key.class.as_str()))),
        (SK.into(), s(BUCKET)),
    ])
}

fn limits_key(organization: &str) -> Item {
    HashMap::from([(PK.into(), s(format!("{LIMITS}#{organization}"))), (SK.into(), s(LIMITS))])
}

fn expiry(tat: Micros) -> AttributeValue {
    n(tat / 1_000_000 + IDLE_SECONDS)
}

fn micros(item: Option<&Item>, name: &str) -> Option<Micros> {
    item.and_then(|i| number_attr(i, name)).and_then(|t| Micros::try_from(t).ok())
}

/// An override as an operator wrote it (`readBurst`, `readPerSecond`, ...); one outside the bounds
/// is ignored with a warning, never a failed request.
fn rate_of(item: &Item, organization: &str, class: Class) -> Option<Rate> {
    let burst = item.get(&format!("{}Burst", class.as_str())).and_then(|v| v.as_n().ok())?;
    let per_second = item.get(&format!("{}PerSecond", class.as_str())).and_then(|v| v.as_n().ok())?;
    let parsed = match (burst.parse::<u32>(), per_second.parse::<f64>()) {
        (Ok(b), Ok(r)) => Rate::checked(b, r),
        _ => Err(format!("{burst} / {per_second} are not numbers")),
    };
    parsed
        .map_err(|e| tracing::warn!(organization, class = class.as_str(), error = %e, "fair-use override ignored"))
        .ok()
}

/// Whether a conditional write was applied: false when its condition did not hold.
fn applied<T, E>(result: Result<T, aws_sdk_dynamodb::error::SdkError<E>>, what: &str) -> Result<bool, String>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if is_condition_failure(&e) => Ok(false),
        Err(e) => Err(sdk_error(what, e).to_string()),
    }
}

#[async_trait]
impl BucketStore for DynamoStore {
    async fn start(&self, key: &BucketKey, tat: Micros, interval: Micros, now: Micros) -> Result<bool, String> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(bucket_key(key)))
            .update_expression("SET tat = :tat, #interval = :interval, #expires = :expires")
            .condition_expression("attribute_not_exists(tat) OR tat <= :now")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_names("#interval", INTERVAL)
            .expression_attribute_values(":tat", n(tat))
            .expression_attribute_values(":interval", n(interval))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":expires", expiry(tat))
            .send()
            .await;
        applied(result, "start fair-use bucket")
    }

    async fn advance(
        &self,
        key: &BucketKey,
        by: Micros,
        interval: Micros,
        now: Micros,
        cap: Micros,
    ) -> Result<Option<Micros>, String> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(bucket_key(key)))
            .update_expression("ADD tat :by SET #interval = :interval, #expires = :expires")
            .condition_expression(
                "tat BETWEEN :now AND :cap AND (attribute_not_exists(#interval) OR #interval = :interval)",
            )
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_names("#interval", INTERVAL)
            .expression_attribute_values(":by", n(by))
            .expression_attribute_values(":interval", n(interval))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":cap", n(cap))
            .expression_attribute_values(":expires", expiry(cap + by))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match result {
            Ok(out) => Ok(micros(out.attributes(), "tat").or(Some(cap + by))),
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(sdk_error("advance fair-use bucket", e).to_string()),
        }
    }

    async fn give_back(&self, key: &BucketKey, by: Micros, interval: Micros) -> Result<bool, String> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(bucket_key(key)))
            .update_expression("ADD tat :back")
            .condition_expression("#interval = :interval")
            .expression_attribute_names("#interval", INTERVAL)
            .expression_attribute_values(":back", n(-by))
            .expression_attribute_values(":interval", n(interval))
            .send()
            .await;
        applied(result, "give back fair-use tokens")
    }

    async fn peek(&self, key: &BucketKey) -> Result<Option<Level>, String> {
        let item = self.get(bucket_key(key), "read fair-use bucket").await.map_err(|e| e.to_string())?;
        let tat = micros(item.as_ref(), "tat");
        Ok(tat.map(|tat| Level { tat, interval: micros(item.as_ref(), INTERVAL) }))
    }

    async fn rescale(&self, key: &BucketKey, from: Level, tat: Micros, interval: Micros) -> Result<bool, String> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(bucket_key(key)))
            .update_expression("SET tat = :tat, #interval = :interval, #expires = :expires")
            .condition_expression("tat = :from")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_names("#interval", INTERVAL)
            .expression_attribute_values(":tat", n(tat))
            .expression_attribute_values(":from", n(from.tat))
            .expression_attribute_values(":interval", n(interval))
            .expression_attribute_values(":expires", expiry(tat))
            .send()
            .await;
        applied(result, "rescale fair-use bucket")
    }

    async fn overrides(&self, organization: &str) -> Result<Overrides, String> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(limits_key(organization)))
            .send()
            .await
            .map_err(|e| sdk_error("read fair-use overrides", e).to_string())?;
        let Some(item) = out.item() else { return Ok(Overrides::default()) };
        Ok(Overrides {
            read: rate_of(item, organization, Class::Read),
            mutation: rate_of(item, organization, Class::Mutation),
        })
    }
}
