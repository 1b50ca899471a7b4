//! Claiming an item until a time: the first caller to ask a question (an idempotent create, an
//! identity lookup) writes a claim with one conditional `PutItem`; the others see the claim (or
//! the answer that replaced it) and wait or reuse it. A claim left by a caller that died is free
//! again once its time has passed.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};

use super::errors::sdk_error;
use super::items::*;
use super::DynamoStore;
use crate::store::Result;

/// A claim to write: the item (its key and payload), the state that marks it claimed, and when
/// the claim lapses.
pub(super) struct Claim<'a> {
    pub what: &'a str,
    pub item: Item,
    pub claimed: &'a str,
    pub until: DateTime<Utc>,
    pub now: DateTime<Utc>,
    /// One more state in which the item is free (e.g. an answer past its expiry): a clause that
    /// may use `#state`, `#until` and `:now` (milliseconds) and binds its own names and values.
    pub also_free: AlsoFree<'a>,
}

pub(super) struct AlsoFree<'a> {
    pub clause: &'a str,
    pub names: &'a [(&'a str, &'a str)],
    pub values: Vec<(&'a str, AttributeValue)>,
}

/// What the claim found.
pub(super) enum Claimed {
    Won,
    /// Someone else holds the item; it stands as it was read.
    Held(Item),
}

impl DynamoStore {
    pub(super) async fn claim(&self, claim: Claim<'_>) -> Result<Claimed> {
        let mut item = claim.item;
        item.insert("state".into(), s(claim.claimed));
        item.insert("until".into(), n(claim.until.timestamp_millis()));
        let AlsoFree { clause, names, values } = claim.also_free;
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(format!(
                "attribute_not_exists(PK) OR (#state = :claimed AND #until < :now) OR {clause}"
            ))
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":claimed", s(claim.claimed))
            .expression_attribute_values(":now", n(claim.now.timestamp_millis()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        for (name, attribute) in names {
            put = put.expression_attribute_names(*name, *attribute);
        }
        for (placeholder, value) in values {
            put = put.expression_attribute_values(placeholder, value);
        }
        let result = put.send().await;
        match result {
            Ok(_) => Ok(Claimed::Won),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(held)) => {
                    Ok(Claimed::Held(held.item().cloned().unwrap_or_default()))
                }
                _ => Err(sdk_error(claim.what, e)),
            },
        }
    }
}
