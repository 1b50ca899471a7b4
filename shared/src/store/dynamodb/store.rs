use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};

use super::items::*;
use super::INDEX_BY_ATTENTION;
use crate::domain::{
    ActionRecord, Effects, IdentityKeypair, IdentityRecord, NetworkRecord, PendingChange, ServerRecord, SshCaRecord,
    StateEvent,
};
use crate::rbac::Scope;
use crate::store::{
    ActionQuery, ActionStore, ClaimRef, IdempotencyStore, IdentityStore, KeyState, KeypairStore, Kind,
    MaintenanceStore, NetworkDeletion, NetworkStore, Page, Result, ServerQuery, ServerStore, SshCaStore, StoreError,
    StoredResponse,
};

pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) table: String,
}

/// Maps an SDK failure: throttling, timeouts and 5xx are Unavailable; a record DynamoDB refuses for
/// its size is TooLarge, other validation errors Refused; anything else Failed.
pub fn sdk_error<E, R>(what: &str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreError::Unavailable(format!("{what}: no answer"))
        }
        _ => match err.code() {
            Some(
                "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "InternalServerError"
                | "ServiceUnavailable",
            ) => StoreError::Unavailable(format!("{what}: busy")),
            Some("ValidationException") => validation_error(what, err.message().unwrap_or_default()),
            code => {
                StoreError::failed(format!("{what}: {} {}", code.unwrap_or("unknown"), err.message().unwrap_or("")))
            }
        },
    }
}

fn validation_error(what: &str, message: &str) -> StoreError {
    if message.to_ascii_lowercase().contains("size") {
        StoreError::TooLarge
    } else {
        StoreError::Refused(format!("{what}: {message}"))
    }
}

fn build<T, E: std::fmt::Display>(result: std::result::Result<T, E>) -> Result<T> {
    result.map_err(|e| StoreError::failed(format!("cannot build database request: {e}")))
}

/// Why one item of a cancelled transaction failed: its code, whether it existed, and its version.
#[derive(Debug, Clone, PartialEq)]
struct Reason {
    code: String,
    existed: bool,
    version: Option<u64>,
}

impl Reason {
    fn failed_condition(&self) -> bool {
        self.code == "ConditionalCheckFailed"
    }
}

fn cancellation_reasons(err: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>) -> Option<Vec<Reason>> {
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

/// A server counted on (+) a network needs one that is not being deleted.
fn network_condition(delta: i64) -> &'static str {
    if delta > 0 {
        "attribute_exists(PK) AND attribute_not_exists(deletingSince)"
    } else {
        "attribute_exists(PK)"
    }
}

/// What a record write needs of the stored record besides its version: a write that starts the
/// deletion or records a rebuild needs the server not to be protected from it.
fn protection_condition(server: &ServerRecord) -> String {
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
fn unused(condition: &str, counter: &str) -> String {
    format!("{condition} AND (attribute_not_exists({counter}) OR {counter} = :zero)")
}

pub(super) fn is_condition_failure<E: ProvideErrorMetadata>(err: &SdkError<E, impl std::fmt::Debug>) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
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

    /// Runs a transaction, retrying briefly when DynamoDB reports a conflicting transaction.
    /// `Ok(Err(reasons))` when a condition cancelled it.
    async fn transact(
        &self,
        what: &str,
        items: Vec<TransactWriteItem>,
    ) -> Result<std::result::Result<(), Vec<Reason>>> {
        for attempt in 0..4u64 {
            let result = self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
            match result {
                Ok(_) => return Ok(Ok(())),
                Err(err) => match cancellation_reasons(&err) {
                    Some(reasons) if reasons.iter().any(|r| r.code == "TransactionConflict") && attempt < 3 => {
                        tokio::time::sleep(Duration::from_millis(20 * (attempt + 1))).await;
                    }
                    Some(reasons) if reasons.iter().any(|r| r.code == "ValidationError") => {
                        return Err(StoreError::TooLarge)
                    }
                    Some(reasons) => return Ok(Err(reasons)),
                    None => return Err(sdk_error(what, err)),
                },
            }
        }
        Err(StoreError::Unavailable(format!("{what}: conflicting transactions")))
    }

    /// A strongly consistent read of one item.
    async fn get(&self, key: Item, what: &str) -> Result<Option<Item>> {
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
    async fn put_new(&self, item: Item, what: &str, taken: impl FnOnce() -> StoreError) -> Result<()> {
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

    fn put(&self, item: Item, condition: &str) -> Result<TransactWriteItem> {
        let put =
            build(Put::builder().table_name(&self.table).set_item(Some(item)).condition_expression(condition).build())?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Counts a server on (+1) or off (-1) its network. A new server needs a network that is not
    /// being deleted.
    fn network_count(&self, network_id: &str, delta: i64) -> Result<TransactWriteItem> {
        self.count(network_key(network_id), delta, network_condition(delta))
    }

    /// Uncounts a removed server on its network, and its deletion protection if it had one.
    fn network_uncount(&self, server: &ServerRecord) -> Result<TransactWriteItem> {
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
    fn effect_items(&self, effects: &Effects) -> Result<Vec<TransactWriteItem>> {
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
    fn ca_count(&self, ca_id: &str, delta: i64) -> Result<TransactWriteItem> {
        self.count(ssh_ca_key(ca_id), delta, "attribute_exists(PK)")
    }

    fn count(&self, key: Item, delta: i64, condition: &str) -> Result<TransactWriteItem> {
        self.counter(key, "serverCount", delta, condition)
    }

    /// Adds `delta` to the `attribute` count of `key` if `condition` holds.
    fn counter(&self, key: Item, attribute: &str, delta: i64, condition: &str) -> Result<TransactWriteItem> {
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

    /// Items of one index partition that match, up to `want` items, reading at most `max_reads`
    /// pages. Answers the items and, when it stopped before the partition's end, the sort key of
    /// the last item it evaluated (where a next read resumes). A `selective` filter drops most
    /// items after they are read, so pages are read whole (1 MB) rather than `want` items at a time.
    #[allow(clippy::too_many_arguments)]
    async fn query(
        &self,
        index: &str,
        sort_key: &str,
        key_condition: &str,
        filter: Option<String>,
        selective: bool,
        names: HashMap<String, String>,
        values: HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
        want: usize,
        max_reads: Option<usize>,
    ) -> Result<(Vec<Item>, Option<String>)> {
        let mut items = Vec::new();
        let mut start = None;
        let page_limit = if selective { None } else { Some(want.clamp(1, 500) as i32) };
        for reads in 1.. {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(key_condition)
                .set_filter_expression(filter.clone())
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .set_exclusive_start_key(start)
                .set_limit(page_limit)
                .send()
                .await
                .map_err(|e| sdk_error("query", e))?;
            items.extend(page.items().iter().cloned());
            start = page.last_evaluated_key().cloned();
            let resume = || start.as_ref().and_then(|key| string_attr(key, sort_key));
            if items.len() >= want {
                items.truncate(want);
                let last = items.last().and_then(|item| string_attr(item, sort_key));
                return Ok((items, last));
            }
            if start.is_none() {
                return Ok((items, None));
            }
            if max_reads.is_some_and(|max| reads >= max) {
                return Ok((items, resume()));
            }
        }
        Ok((items, None))
    }

    /// One scope's servers (or networks) for `query`: up to `limit` items plus whether and where
    /// the scope continues.
    async fn query_scope(&self, scope: &Scope, kind: &str, query: &ServerQuery) -> Result<(Vec<Item>, Option<String>)> {
        let (index, pk_attr, sk_attr, pk) = scope_partition(scope, kind);
        let mut names = HashMap::from([("#pk".to_owned(), pk_attr.to_owned())]);
        let mut values = HashMap::from([(":pk".to_owned(), s(pk))]);
        let mut key_condition = "#pk = :pk".to_owned();
        let mut filter = Vec::new();
        if let Some(version) = query.api_version {
            values.insert(":version".into(), n(version.0));
            filter.push("apiVersion = :version".to_owned());
        }
        if let Some(parent) = &query.parent_identity_id {
            values.insert(":parent".into(), s(parent));
            filter.push("parentIdentityId = :parent".to_owned());
        }
        if let Some(after) = &query.after {
            names.insert("#sk".into(), sk_attr.into());
            values.insert(":after".into(), s(after));
            key_condition.push_str(" AND #sk > :after");
        }
        for (attr, list) in
            [("regionId", &query.region_ids), ("networkId", &query.network_ids), ("identityId", &query.identity_ids)]
        {
            if list.is_empty() {
                continue;
            }
            let placeholders: Vec<String> = list
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let key = format!(":{attr}{i}");
                    values.insert(key.clone(), s(v));
                    key
                })
                .collect();
            filter.push(format!("{attr} IN ({})", placeholders.join(", ")));
        }
        for (i, (name, value)) in query.tags.iter().enumerate() {
            values.insert(format!(":tag{i}"), s(tag_pair(name, value)));
            filter.push(format!("contains(tagPairs, :tag{i})"));
        }
        // The API version matches nearly every record; the other filters may match few.
        let selective = !(query.region_ids.is_empty()
            && query.parent_identity_id.is_none()
            && query.network_ids.is_empty()
            && query.identity_ids.is_empty()
            && query.tags.is_empty());
        let filter = (!filter.is_empty()).then(|| filter.join(" AND "));
        // One more than asked, to know whether another page exists.
        let want = query.limit.saturating_add(1);
        let (mut items, resume) =
            self.query(index, sk_attr, &key_condition, filter, selective, names, values, want, query.max_reads).await?;
        if items.len() > query.limit {
            items.truncate(query.limit);
            let last = items.last().and_then(|item| string_attr(item, sk_attr));
            return Ok((items, last));
        }
        Ok((items, resume))
    }

    /// Items of the attention index whose sort key lies in `[from, to]`.
    async fn attention(&self, from: String, to: String, limit: usize) -> Result<Vec<Item>> {
        let names = HashMap::from([("#pk".to_owned(), GSI3PK.to_owned()), ("#sk".to_owned(), GSI3SK.to_owned())]);
        let values =
            HashMap::from([(":pk".to_owned(), s(ATTENTION)), (":from".to_owned(), s(from)), (":to".to_owned(), s(to))]);
        let condition = "#pk = :pk AND #sk BETWEEN :from AND :to";
        let (items, _) =
            self.query(INDEX_BY_ATTENTION, GSI3SK, condition, None, false, names, values, limit, None).await?;
        Ok(items)
    }

    /// Deletes `key` if `condition` holds and nothing is counted on it (`serverCount` on a network
    /// or SSH CA, `networkCount` on an identity); false when either does not hold.
    async fn delete_if_unused(&self, key: Item, condition: &str, counter: &str, what: &str) -> Result<bool> {
        self.delete_if(key, &unused(condition, counter), HashMap::from([(":zero".to_owned(), n(0))]), what).await
    }

    /// Deletes the item of `key` if nothing is counted on it: `Missing` when it is gone, `InUse`
    /// while something is still counted (SSH CAs count servers, identities count networks).
    async fn delete_unused(&self, key: Item, counter: &str, (kind, id): (Kind, &str), what: &str) -> Result<()> {
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
    async fn remove_network(&self, network: &NetworkRecord, condition: &str, what: &str) -> Result<bool> {
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
        let items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            self.counter(identity_key(parent), "networkCount", -1, "attribute_exists(PK)")?,
        ];
        match self.transact(what, items).await? {
            Ok(()) => Ok(true),
            Err(reasons) if reasons.first().is_some_and(Reason::failed_condition) => Ok(false),
            // The identity is gone (it cannot be, while counted): the network goes all the same.
            Err(_) => self.delete_if_unused(network_key(&network.id), condition, "serverCount", what).await,
        }
    }

    /// Every item of `kind` in the query's scopes (no read bound), parsed and merged by id.
    async fn every_in_scopes<T>(
        &self,
        kind: &str,
        query: &ServerQuery,
        parse: impl Fn(&Item) -> Result<T>,
        id: impl Fn(&T) -> &str,
    ) -> Result<Vec<T>> {
        let every = ServerQuery { limit: usize::MAX - 1, max_reads: None, after: None, ..query.clone() };
        let mut all = Vec::new();
        for scope in &query.scopes {
            let (items, _) = self.query_scope(scope, kind, &every).await?;
            for item in &items {
                all.push(parse(item)?);
            }
        }
        all.sort_by(|a, b| id(a).cmp(id(b)));
        all.dedup_by(|a, b| id(a) == id(b));
        Ok(all)
    }

    /// Deletes `key` if `condition` holds; false when it did not.
    async fn delete_if(
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
}

#[async_trait]
impl ServerStore for DynamoStore {
    async fn create_server(
        &self,
        server: &ServerRecord,
        claim_check_at: DateTime<Utc>,
        effects: &Effects,
    ) -> Result<()> {
        let mut items = vec![
            self.put(server_item(server)?, "attribute_not_exists(PK)")?,
            self.put(claim_item(server, claim_check_at), "attribute_not_exists(PK)")?,
            self.network_count(&server.network_id, 1)?,
        ];
        if let Some(ca) = &server.ssh_certificate_authority_id {
            items.push(self.ca_count(ca, 1)?);
        }
        // Unconditional, so a cancellation's reasons keep pointing at the items above.
        items.extend(self.effect_items(effects)?);
        match self.transact("create server", items).await? {
            Ok(()) => Ok(()),
            Err(reasons) if reasons.get(1).is_some_and(Reason::failed_condition) => {
                // The SDK retries an attempt that timed out on our side; if DynamoDB had applied it,
                // the retry finds our own claim. That is success, not a clash.
                let holder = self.claim_holder(&server.network_id, server.name.as_str()).await?;
                if holder.as_deref() == Some(server.id.as_str()) && self.get_server(&server.id).await?.is_some() {
                    return Ok(());
                }
                Err(StoreError::NameTaken { network: server.network_id.clone(), name: server.name.to_string() })
            }
            Err(reasons) if reasons.get(3).is_some_and(Reason::failed_condition) => {
                Err(StoreError::Missing(Kind::SshCa, server.ssh_certificate_authority_id.clone().unwrap_or_default()))
            }
            Err(reasons) => match reasons.get(2) {
                Some(r) if r.failed_condition() && r.existed => {
                    Err(StoreError::Closing(Kind::Network, server.network_id.clone()))
                }
                Some(r) if r.failed_condition() => Err(StoreError::Missing(Kind::Network, server.network_id.clone())),
                _ => Err(StoreError::failed(format!("server create transaction cancelled: {reasons:?}"))),
            },
        }
    }

    async fn get_server(&self, id: &str) -> Result<Option<ServerRecord>> {
        self.get(server_key(id), "get server").await?.as_ref().map(from_item).transpose()
    }

    async fn replace_server(&self, server: &ServerRecord, expected_version: u64, effects: &Effects) -> Result<()> {
        let condition = protection_condition(server);
        let mut values = HashMap::from([(":expected".to_owned(), n(expected_version))]);
        if condition.contains(":false") {
            values.insert(":false".to_owned(), AttributeValue::Bool(false));
        }
        // Why the condition failed: gone, changed since it was read, or (same version) protected.
        let refused = |existed: bool, version: Option<u64>| match (existed, version) {
            (false, _) => StoreError::Missing(Kind::Server, server.id.clone()),
            (true, Some(v)) if v == expected_version => StoreError::Protected(Kind::Server, server.id.clone()),
            (true, _) => StoreError::Changed(Kind::Server, server.id.clone()),
        };
        if !effects.is_empty() {
            let put = build(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(server_item(server)?))
                    .condition_expression(condition)
                    .set_expression_attribute_values(Some(values))
                    .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                    .build(),
            )?;
            let mut items = vec![TransactWriteItem::builder().put(put).build()];
            items.extend(self.effect_items(effects)?);
            return match self.transact("update server", items).await? {
                Ok(()) => Ok(()),
                Err(reasons) => match reasons.first().filter(|r| r.failed_condition()) {
                    Some(r) => Err(refused(r.existed, r.version)),
                    None => Err(StoreError::failed(format!("server update cancelled: {reasons:?}"))),
                },
            };
        }
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(server_item(server)?))
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c)) => {
                    Err(refused(c.item().is_some(), c.item().and_then(|item| number_attr(item, "version"))))
                }
                _ => Err(sdk_error("update server", e)),
            },
        }
    }

    async fn set_protection(&self, base: &ServerRecord, next: &ServerRecord) -> Result<()> {
        let delta = i64::from(next.protection.delete) - i64::from(base.protection.delete);
        if delta == 0 {
            return self.replace_server(next, base.version, &Effects::default()).await;
        }
        let put = build(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(server_item(next)?))
                .condition_expression("attribute_exists(PK) AND version = :expected")
                .expression_attribute_values(":expected", n(base.version))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )?;
        let count = self.counter(network_key(&next.network_id), "protectedCount", delta, network_condition(delta))?;
        let items = vec![TransactWriteItem::builder().put(put).build(), count];
        match self.transact("set protection", items).await? {
            Ok(()) => Ok(()),
            Err(reasons) => match (reasons.first(), reasons.get(1)) {
                (Some(r), _) if r.failed_condition() && r.existed => {
                    Err(StoreError::Changed(Kind::Server, next.id.clone()))
                }
                (Some(r), _) if r.failed_condition() => Err(StoreError::Missing(Kind::Server, next.id.clone())),
                (_, Some(r)) if r.failed_condition() && r.existed => {
                    Err(StoreError::Closing(Kind::Network, next.network_id.clone()))
                }
                (_, Some(r)) if r.failed_condition() => {
                    Err(StoreError::Missing(Kind::Network, next.network_id.clone()))
                }
                _ => Err(StoreError::failed(format!("protection change cancelled: {reasons:?}"))),
            },
        }
    }

    async fn remove_server(&self, server: &ServerRecord, effects: &Effects) -> Result<bool> {
        let record = build(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(server_key(&server.id)))
                .condition_expression("version = :version")
                .expression_attribute_values(":version", n(server.version))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )?;
        let claim = build(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(claim_key(&server.network_id, server.name.as_str())))
                .condition_expression("attribute_not_exists(PK) OR serverId = :id")
                .expression_attribute_values(":id", s(&server.id))
                .build(),
        )?;
        let ca = server.ssh_certificate_authority_id.as_deref().map(|ca| self.ca_count(ca, -1)).transpose()?;
        let mut items = vec![
            Some(TransactWriteItem::builder().delete(record).build()),
            Some(TransactWriteItem::builder().delete(claim).build()),
            Some(self.network_uncount(server)?),
            ca,
        ];
        items.extend(self.effect_items(effects)?.into_iter().map(Some));
        // A claim held by another server, or a network or CA already gone, is left out and tried again;
        // the record's own condition decides whether anything is removed (and uncounted) at all.
        for _ in 0..3 {
            let batch: Vec<TransactWriteItem> = items.iter().flatten().cloned().collect();
            let positions: Vec<usize> = (0..items.len()).filter(|i| items[*i].is_some()).collect();
            match self.transact("remove server", batch).await? {
                Ok(()) => return Ok(true),
                Err(reasons) => {
                    let failed: Vec<usize> = reasons
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.failed_condition())
                        .map(|(i, _)| positions[i])
                        .collect();
                    if let Some(record_reason) = reasons.first().filter(|r| r.failed_condition()) {
                        return if record_reason.existed {
                            Err(StoreError::Changed(Kind::Server, server.id.clone()))
                        } else {
                            Ok(false)
                        };
                    }
                    if failed.is_empty() {
                        return Err(StoreError::failed(format!("server removal cancelled: {reasons:?}")));
                    }
                    for i in failed {
                        items[i] = None;
                    }
                }
            }
        }
        Err(StoreError::failed(format!("server {} could not be removed", server.id)))
    }

    async fn claim_holder(&self, network_id: &str, name: &str) -> Result<Option<String>> {
        let item = self.get(claim_key(network_id, name), "get name claim").await?;
        Ok(item.and_then(|i| string_attr(&i, "serverId")))
    }

    async fn settle_claim(&self, claim: &ClaimRef, holder_exists: bool) -> Result<()> {
        let key = claim_key(&claim.network_id, &claim.name);
        if !holder_exists {
            let values = HashMap::from([(":id".to_owned(), s(&claim.server_id))]);
            self.delete_if(key, "serverId = :id", values, "release claim").await?;
            return Ok(());
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("REMOVE GSI3PK, GSI3SK")
            .condition_expression("serverId = :id")
            .expression_attribute_values(":id", s(&claim.server_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(sdk_error("settle claim", e)),
        }
    }

    async fn list_servers(&self, query: &ServerQuery) -> Result<Page<ServerRecord>> {
        let mut all: Vec<ServerRecord> = Vec::new();
        // The merged page may only hold ids every scope has read past: the lowest point where a
        // scope stopped bounds it (later ids of the other scopes come again on the next page).
        let mut bound: Option<String> = None;
        for scope in &query.scopes {
            let (items, stopped_at) = self.query_scope(scope, "SERVER", query).await?;
            if let Some(at) = stopped_at {
                bound = Some(match bound {
                    Some(b) if b <= at => b,
                    _ => at,
                });
            }
            for item in &items {
                all.push(from_item(item)?);
            }
        }
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all.dedup_by(|a, b| a.id == b.id);
        if let Some(bound) = &bound {
            all.retain(|r| &r.id <= bound);
        }
        if all.len() > query.limit {
            all.truncate(query.limit);
            return Ok(Page { next: all.last().map(|r| r.id.clone()), items: all });
        }
        Ok(Page { items: all, next: bound })
    }

    async fn record_action(&self, action: &ActionRecord) -> Result<()> {
        let mut values = action_values(action)?;
        let mut update = ACTION_UPDATE.to_owned();
        if let Some(request_id) = &action.provider_request_id {
            update.push_str(", providerRequestId = :rid");
            values.insert(":rid".to_owned(), s(request_id));
        }
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(action_key(&action.server_id, &action.action.id)))
            .update_expression(update)
            .set_expression_attribute_values(Some(values))
            .send()
            .await
            .map_err(|e| sdk_error("record action", e))?;
        Ok(())
    }

    async fn note_request_id(&self, server_id: &str, action_id: &str, request_id: &str) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(action_key(server_id, action_id)))
            .update_expression("SET providerRequestId = :id")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":id", s(request_id))
            .send()
            .await
            .map_err(|e| sdk_error("note request id", e))?;
        Ok(())
    }
}

#[async_trait]
impl NetworkStore for DynamoStore {
    async fn create_network(&self, network: &NetworkRecord) -> Result<()> {
        let Some(parent) = &network.parent_identity_id else {
            let exists = || StoreError::Exists(Kind::Network, network.id.clone());
            return self.put_new(network_item(network)?, "create network", exists).await;
        };
        let items = vec![
            self.put(network_item(network)?, "attribute_not_exists(PK)")?,
            self.counter(identity_key(parent), "networkCount", 1, "attribute_exists(PK)")?,
        ];
        match self.transact("create network", items).await? {
            Ok(()) => Ok(()),
            Err(reasons) if reasons.first().is_some_and(Reason::failed_condition) => {
                Err(StoreError::Exists(Kind::Network, network.id.clone()))
            }
            Err(_) => Err(StoreError::Missing(Kind::Identity, parent.clone())),
        }
    }

    async fn get_network(&self, id: &str) -> Result<Option<NetworkRecord>> {
        self.get(network_key(id), "get network").await?.as_ref().map(network_from_item).transpose()
    }

    async fn list_networks(&self, query: &ServerQuery) -> Result<Vec<NetworkRecord>> {
        self.every_in_scopes("NETWORK", query, network_from_item, |n| &n.id).await
    }

    async fn delete_network(&self, network: &NetworkRecord, now: DateTime<Utc>) -> Result<NetworkDeletion> {
        let id = network.id.as_str();
        if self.remove_network(network, "attribute_exists(PK)", "delete network").await? {
            return Ok(NetworkDeletion::Deleted);
        }
        // Servers remain (or it is gone): mark it, keeping the first mark of an earlier delete.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(network_key(id)))
            .update_expression(
                "SET deletingSince = if_not_exists(deletingSince, :now), GSI3PK = :attention, \
                 GSI3SK = if_not_exists(GSI3SK, :sk)",
            )
            .condition_expression(unused("attribute_exists(PK)", "protectedCount"))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .expression_attribute_values(":attention", s(ATTENTION))
            .expression_attribute_values(":sk", s(format!("NETWORK#{}#{id}", sortable(now))))
            .expression_attribute_values(":zero", n(0))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(NetworkDeletion::Deleting),
            Err(e) if is_condition_failure(&e) => {
                match e.as_service_error() {
                    Some(
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c),
                    ) if c.item().is_some() => Err(StoreError::Protected(Kind::Network, id.to_owned())),
                    _ => Err(StoreError::Missing(Kind::Network, id.to_owned())),
                }
            }
            Err(e) => Err(sdk_error("mark network deleting", e)),
        }
    }

    async fn network_server_count(&self, id: &str) -> Result<Option<u64>> {
        Ok(self.get(network_key(id), "get network").await?.map(|item| number_attr(&item, "serverCount").unwrap_or(0)))
    }
}

#[async_trait]
impl IdentityStore for DynamoStore {
    async fn create_identity(&self, identity: &IdentityRecord) -> Result<()> {
        let exists = || StoreError::Exists(Kind::Identity, identity.id.clone());
        self.put_new(identity_item(identity)?, "create identity", exists).await
    }

    async fn get_identity(&self, id: &str) -> Result<Option<IdentityRecord>> {
        self.get(identity_key(id), "get identity").await?.as_ref().map(from_item).transpose()
    }

    async fn list_identities(&self, query: &ServerQuery) -> Result<Vec<IdentityRecord>> {
        self.every_in_scopes("IDENTITY", query, from_item, |i: &IdentityRecord| &i.id).await
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

    async fn list_ssh_cas(&self, query: &ServerQuery) -> Result<Vec<SshCaRecord>> {
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
}

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn claim_key(
        &self,
        key: &str,
        body_hash: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<KeyState> {
        let mut item = idempotency_key(key);
        item.insert("state".into(), s("in_progress"));
        item.insert("bodyHash".into(), s(body_hash));
        item.insert("until".into(), n(until.timestamp_millis()));
        item.insert("expiresAt".into(), n(expires_at.timestamp()));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(PK) OR (#state = :running AND #until < :now) OR expiresAt < :nowSeconds",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":running", s("in_progress"))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .expression_attribute_values(":nowSeconds", n(now.timestamp()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let old = match result {
            Ok(_) => return Ok(KeyState::Claimed),
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c)) => {
                    c.item().cloned().unwrap_or_default()
                }
                _ => return Err(sdk_error("claim idempotency key", e)),
            },
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
                let until =
                    number_attr(&old, "until").and_then(|ms| DateTime::from_timestamp_millis(ms as i64)).unwrap_or(now);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_too_large_to_store_is_the_requests_fault_never_a_500() {
        let err = validation_error("update server", "Item size has exceeded the maximum allowed size");
        assert_eq!(err, StoreError::TooLarge);
        let err = validation_error("query", "Invalid FilterExpression: Syntax error");
        assert!(matches!(&err, StoreError::Refused(cause) if cause.contains("FilterExpression")), "{err:?}");
    }
}
