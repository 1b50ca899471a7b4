//! Transactions: the items a record write carries (counts, effects), the conditions they hold
//! under, and why a cancelled one failed.

use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};

use super::items::*;
use crate::domain::{Effects, GroupReferences, PendingChange, ServerRecord};
use crate::store::Kind;
use crate::store::{Result, StoreError};

use super::errors::{build, sdk_error};
use super::DynamoStore;

/// Why one item of a cancelled transaction failed: its code, whether it existed, and its version.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Reason {
    pub code: String,
    pub existed: bool,
    pub version: Option<u64>,
}

impl Reason {
    pub(super) fn failed_condition(&self) -> bool {
        self.code == "ConditionalCheckFailed"
    }
}

pub(super) fn cancellation_reasons(
    err: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>,
) -> Option<Vec<Reason>> {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => Some(
            e.cancellation_reasons()
                .iter()
                .map(|r| Reason {
                    code: r.code().unwrap_or("None").to_owned(),
                    existed: r.item().is_some(),
                    version: r.item().and_then(|item| number_attr(item, "version")),
                })
                .collect(),
        ),
        _ => None,
    }
}

/// A transaction whose items have names, so a cancellation is read by name, never by position.
#[derive(Debug, Clone)]
pub(super) struct Transaction {
    what: &'static str,
    names: Vec<&'static str>,
    items: Vec<TransactWriteItem>,
}

impl Transaction {
    pub(super) fn new(what: &'static str) -> Self {
        Transaction { what, names: Vec::new(), items: Vec::new() }
    }

    pub(super) fn with(mut self, name: &'static str, item: TransactWriteItem) -> Self {
        self.names.push(name);
        self.items.push(item);
        self
    }

    pub(super) fn with_each(self, name: &'static str, items: Vec<TransactWriteItem>) -> Self {
        items.into_iter().fold(self, |tx, item| tx.with(name, item))
    }
}

/// Why a transaction was cancelled: each named item's reason.
#[derive(Debug, Clone)]
pub(super) struct Cancelled {
    what: &'static str,
    reasons: Vec<(&'static str, Reason)>,
}

impl Cancelled {
    /// The reason of the item named so, when its condition failed.
    pub(super) fn failed(&self, name: &str) -> Option<&Reason> {
        self.reasons.iter().find(|(n, r)| *n == name && r.failed_condition()).map(|(_, r)| r)
    }

    /// The names of the items whose conditions failed.
    pub(super) fn failed_items(&self) -> Vec<&'static str> {
        self.reasons.iter().filter(|(_, r)| r.failed_condition()).map(|(n, _)| *n).collect()
    }

    /// The first failed item named so: its place among the items of that name, and its reason.
    pub(super) fn failed_nth(&self, name: &str) -> Option<(usize, &Reason)> {
        self.reasons
            .iter()
            .filter(|(n, _)| *n == name)
            .enumerate()
            .find(|(_, (_, r))| r.failed_condition())
            .map(|(i, (_, r))| (i, r))
    }

    /// The positions (in the transaction) of the failed items whose names are in `names`.
    fn failed_among(&self, names: &[&str]) -> Vec<usize> {
        let failed = |(i, (n, r)): (usize, &(&str, Reason))| (r.failed_condition() && names.contains(n)).then_some(i);
        self.reasons.iter().enumerate().filter_map(failed).collect()
    }

    /// Why a group a write starts naming refused it: gone, or being deleted.
    pub(super) fn group_refusal(&self, groups: &GroupReferences) -> Option<StoreError> {
        let (i, r) = self.failed_nth("group+")?;
        let id = groups.added.get(i).cloned().unwrap_or_default();
        Some(if r.existed {
            StoreError::Closing(Kind::SecurityGroup, id)
        } else {
            StoreError::Missing(Kind::SecurityGroup, id)
        })
    }

    /// The store's error for a cancellation none of the caller's cases explains.
    pub(super) fn unexplained(&self) -> StoreError {
        StoreError::failed(format!("{} cancelled: {:?}", self.what, self.reasons))
    }
}

/// A server counted on (+) a network needs one that is not being deleted.
pub(super) fn network_condition(delta: i64) -> &'static str {
    if delta > 0 {
        "attribute_exists(PK) AND attribute_not_exists(deletingSince)"
    } else {
        "attribute_exists(PK)"
    }
}

/// What a record write needs of the stored record besides its version: a write that starts the
/// deletion or records a rebuild needs the server not to be protected from it.
pub(super) fn protection_condition(server: &ServerRecord) -> String {
    let mut condition = "attribute_exists(PK) AND version = :expected".to_owned();
    if server.is_deleting() {
        condition.push_str(&format!(" AND (attribute_not_exists({PROTECT_DELETE}) OR {PROTECT_DELETE} = :false)"));
    }
    if matches!(server.pending, Some(PendingChange::Rebuild { .. })) {
        condition.push_str(&format!(" AND (attribute_not_exists({PROTECT_REBUILD}) OR {PROTECT_REBUILD} = :false)"));
    }
    condition
}

/// `condition`, and nothing counted in `counter` (absent or zero; the value `:zero` binds 0).
pub(super) fn unused(condition: &str, counter: &str) -> String {
    format!("{condition} AND (attribute_not_exists({counter}) OR {counter} = :zero)")
}

impl DynamoStore {
    /// Runs a transaction, retrying briefly when DynamoDB reports a conflicting transaction.
    /// `Ok(Err(cancelled))` when a condition cancelled it.
    pub(super) async fn transact(&self, tx: Transaction) -> Result<std::result::Result<(), Cancelled>> {
        let what = tx.what;
        for attempt in 0..4u64 {
            let result = self.client.transact_write_items().set_transact_items(Some(tx.items.clone())).send().await;
            match result {
                Ok(_) => return Ok(Ok(())),
                Err(err) => match cancellation_reasons(&err) {
                    Some(reasons) if reasons.iter().any(|r| r.code == "TransactionConflict") && attempt < 3 => {
                        tokio::time::sleep(Duration::from_millis(20 * (attempt + 1))).await;
                    }
                    Some(reasons) if reasons.iter().any(|r| r.code == "ValidationError") => {
                        return Err(StoreError::TooLarge)
                    }
                    Some(reasons) => {
                        return Ok(Err(Cancelled { what, reasons: tx.names.iter().copied().zip(reasons).collect() }))
                    }
                    None => return Err(sdk_error(what, err)),
                },
            }
        }
        Err(StoreError::Unavailable(format!("{what}: conflicting transactions")))
    }

    /// Runs a transaction of named items; an item named in `optional` whose condition fails (a
    /// count on an item already gone, a claim another holds) is left out and the rest tried again.
    pub(super) async fn transact_leaving_out(
        &self,
        what: &'static str,
        mut parts: Vec<(&'static str, TransactWriteItem)>,
        optional: &[&str],
    ) -> Result<std::result::Result<(), Cancelled>> {
        for _ in 0..4 {
            let tx = parts.iter().cloned().fold(Transaction::new(what), |tx, (n, i)| tx.with(n, i));
            match self.transact(tx).await? {
                Ok(()) => return Ok(Ok(())),
                Err(cancelled) => {
                    let left_out = cancelled.failed_among(optional);
                    if left_out.is_empty() || left_out.len() < cancelled.failed_items().len() {
                        return Ok(Err(cancelled));
                    }
                    let mut i = 0;
                    parts.retain(|_| {
                        i += 1;
                        !left_out.contains(&(i - 1))
                    });
                }
            }
        }
        Err(StoreError::failed(format!("{what}: items kept failing")))
    }

    /// The counts a server write's security group references change: +1 on each group it starts
    /// naming (`group+`: it must exist and not be being deleted), -1 on each it stops naming (`group-`).
    pub(super) fn group_items(&self, groups: &GroupReferences) -> Result<Vec<(&'static str, TransactWriteItem)>> {
        let open = "attribute_exists(PK) AND attribute_not_exists(deletingSince)";
        let mut items = Vec::new();
        for id in &groups.added {
            items.push(("group+", self.count(security_group_key(id), 1, open)?));
        }
        for id in &groups.released {
            items.push(("group-", self.count(security_group_key(id), -1, "attribute_exists(PK)")?));
        }
        Ok(items)
    }

    pub(super) fn put(&self, item: Item, condition: &str) -> Result<TransactWriteItem> {
        let put =
            build(Put::builder().table_name(&self.table).set_item(Some(item)).condition_expression(condition).build())?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Counts a server on (+1) or off (-1) its network. A new server needs a network that is not
    /// being deleted.
    pub(super) fn network_count(&self, network_id: &str, delta: i64) -> Result<TransactWriteItem> {
        self.count(network_key(network_id), delta, network_condition(delta))
    }

    /// Uncounts a removed server on its network, and its deletion protection if it had one.
    pub(super) fn network_uncount(&self, server: &ServerRecord) -> Result<TransactWriteItem> {
        if !server.protection.delete {
            return self.network_count(&server.network_id, -1);
        }
        let update = build(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(network_key(&server.network_id)))
                .update_expression("ADD serverCount :delta, protectedCount :delta")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_values(":delta", n(-1))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The items that write a change's effects: the transition's outbox item and the action items.
    pub(super) fn effect_items(&self, effects: &Effects) -> Result<Vec<TransactWriteItem>> {
        let mut items = Vec::new();
        if let Some(event) = &effects.event {
            let put = build(Put::builder().table_name(&self.table).set_item(Some(outbox_item(event)?)).build())?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        for action in &effects.actions {
            let update = build(
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(action_key(&action.server_id, &action.action.id)))
                    .update_expression(ACTION_UPDATE)
                    .set_expression_attribute_values(Some(action_values(action)?))
                    .build(),
            )?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        Ok(items)
    }

    /// Counts a server on (+1) or off (-1) the SSH certificate authority it is bound to, which must
    /// exist: a CA is only deleted at count zero, so no server is ever bound to a deleted CA.
    pub(super) fn ca_count(&self, ca_id: &str, delta: i64) -> Result<TransactWriteItem> {
        self.count(ssh_ca_key(ca_id), delta, "attribute_exists(PK)")
    }

    pub(super) fn count(&self, key: Item, delta: i64, condition: &str) -> Result<TransactWriteItem> {
        self.counter(key, "serverCount", delta, condition)
    }

    /// Adds `delta` to the `attribute` count of `key` if `condition` holds.
    pub(super) fn counter(&self, key: Item, attribute: &str, delta: i64, condition: &str) -> Result<TransactWriteItem> {
        let update = build(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key))
                .update_expression(format!("ADD {attribute} :delta"))
                .condition_expression(condition)
                .expression_attribute_values(":delta", n(delta))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}
