use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;

use super::items::*;
use crate::domain::{IdentityKeypair, NetworkRecord, ServerRecord, API_VERSION_V2};
use crate::error::{Error, Result};
use crate::rbac::Scope;
use crate::store::{Page, ServerQuery, Store};

pub struct DynamoStore {
    client: Client,
    table: String,
}

/// Maps an SDK failure: throttling, timeouts and 5xx are Unavailable; anything else is our bug.
pub fn sdk_error<E, R>(what: &str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Error::unavailable(format!("the database did not answer ({what})"))
        }
        _ => match err.code() {
            Some(
                "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "InternalServerError"
                | "ServiceUnavailable",
            ) => Error::unavailable(format!("the database is busy ({what})")),
            code => Error::internal(format!("{what}: {} {}", code.unwrap_or("unknown"), err.message().unwrap_or(""))),
        },
    }
}

fn build<T, E: std::fmt::Display>(result: std::result::Result<T, E>) -> Result<T> {
    result.map_err(|e| Error::internal(format!("cannot build database request: {e}")))
}

/// Cancellation reason codes of a cancelled transaction, in item order.
fn cancellation_codes(err: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>) -> Option<Vec<String>> {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
            Some(e.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_owned()).collect())
        }
        _ => None,
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into() }
    }

    /// A client for `endpoint` (moto locally) or the default AWS chain, with per-call timeouts.
    pub async fn client(endpoint: Option<&str>) -> Client {
        let timeouts = crate::context::aws_timeouts();
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(timeouts);
        if let Some(endpoint) = endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        Client::new(&loader.load().await)
    }

    /// Runs a transaction, retrying briefly when DynamoDB reports a conflicting transaction.
    async fn transact(
        &self,
        what: &str,
        items: Vec<TransactWriteItem>,
    ) -> Result<std::result::Result<(), Vec<String>>> {
        for attempt in 0..4u64 {
            let result = self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
            match result {
                Ok(_) => return Ok(Ok(())),
                Err(err) => match cancellation_codes(&err) {
                    Some(codes) if codes.iter().any(|c| c == "TransactionConflict") && attempt < 3 => {
                        tokio::time::sleep(Duration::from_millis(20 * (attempt + 1))).await;
                    }
                    Some(codes) => return Ok(Err(codes)),
                    None => return Err(sdk_error(what, err)),
                },
            }
        }
        Err(Error::unavailable(format!("the database kept reporting conflicts ({what})")))
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
    async fn put_new(&self, item: Item, what: &str, taken: impl FnOnce() -> Error) -> Result<()> {
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
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Err(taken()),
            Err(e) => Err(sdk_error(what, e)),
        }
    }

    fn put(&self, item: Item, condition: &str) -> Result<TransactWriteItem> {
        let put =
            build(Put::builder().table_name(&self.table).set_item(Some(item)).condition_expression(condition).build())?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn network_count(&self, network_id: &str, delta: i64) -> Result<TransactWriteItem> {
        let update = build(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(network_key(network_id)))
                .update_expression("ADD serverCount :delta")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_values(":delta", n(delta))
                .build(),
        )?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    async fn query_scope(&self, scope: &Scope, kind: &str, query: Option<&ServerQuery>) -> Result<(Vec<Item>, bool)> {
        let (index, pk_attr, sk_attr, pk) = scope_partition(scope, kind);
        let mut names = HashMap::from([("#pk".to_owned(), pk_attr.to_owned())]);
        let mut values = HashMap::from([(":pk".to_owned(), s(pk)), (":v2".to_owned(), n(API_VERSION_V2))]);
        let mut key_condition = "#pk = :pk".to_owned();
        let mut filter = vec!["apiVersion = :v2".to_owned()];
        let mut want = usize::MAX;
        if let Some(q) = query {
            want = q.limit + 1;
            if let Some(after) = &q.after {
                names.insert("#sk".into(), sk_attr.into());
                values.insert(":after".into(), s(after));
                key_condition.push_str(" AND #sk > :after");
            }
            for (attr, list) in [("regionId", &q.region_ids), ("networkId", &q.network_ids)] {
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
        }
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(&key_condition)
                .filter_expression(filter.join(" AND "))
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .set_exclusive_start_key(start)
                .limit(want.min(500) as i32)
                .send()
                .await
                .map_err(|e| sdk_error("query", e))?;
            items.extend(page.items().iter().cloned());
            start = page.last_evaluated_key().cloned();
            if items.len() >= want {
                return Ok((items, true));
            }
            if start.is_none() {
                return Ok((items, false));
            }
        }
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn create_network(&self, network: &NetworkRecord) -> Result<()> {
        self.put_new(network_item(network)?, "create network", || {
            Error::conflict(format!("network {} already exists", network.id))
        })
        .await
    }

    async fn get_network(&self, id: &str) -> Result<Option<NetworkRecord>> {
        self.get(network_key(id), "get network").await?.as_ref().map(from_item).transpose()
    }

    async fn list_networks(&self, scopes: &[Scope]) -> Result<Vec<NetworkRecord>> {
        let mut all = Vec::new();
        for scope in scopes {
            let (items, _) = self.query_scope(scope, "NETWORK", None).await?;
            for item in &items {
                all.push(from_item::<NetworkRecord>(item)?);
            }
        }
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all.dedup_by(|a, b| a.id == b.id);
        Ok(all)
    }

    async fn delete_network(&self, id: &str) -> Result<()> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(network_key(id)))
            .condition_expression("attribute_exists(PK) AND (attribute_not_exists(serverCount) OR serverCount = :zero)")
            .expression_attribute_values(":zero", n(0))
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::delete_item::DeleteItemError::ConditionalCheckFailedException(c)) => {
                    if c.item().is_some() {
                        Err(Error::conflict(format!("network {id} still has servers: delete them first")))
                    } else {
                        Err(Error::not_found(format!("no network found with id {id}")))
                    }
                }
                _ => Err(sdk_error("delete network", e)),
            },
        }
    }

    async fn create_server(&self, server: &ServerRecord) -> Result<()> {
        let mut claim = claim_key(&server.network_id, server.name.as_str());
        claim.insert("serverId".into(), s(&server.id));
        let items = vec![
            self.put(server_item(server)?, "attribute_not_exists(PK)")?,
            self.put(claim, "attribute_not_exists(PK)")?,
            self.network_count(&server.network_id, 1)?,
        ];
        match self.transact("create server", items).await? {
            Ok(()) => Ok(()),
            Err(codes) if codes.get(1).is_some_and(|c| c == "ConditionalCheckFailed") => Err(Error::conflict(format!(
                "a server named {} already exists on network {}",
                server.name, server.network_id
            ))),
            Err(codes) if codes.get(2).is_some_and(|c| c == "ConditionalCheckFailed") => {
                Err(Error::not_found(format!("no network found with id {}", server.network_id)))
            }
            Err(codes) => Err(Error::internal(format!("server create transaction cancelled: {codes:?}"))),
        }
    }

    async fn get_server(&self, id: &str) -> Result<Option<ServerRecord>> {
        self.get(server_key(id), "get server").await?.as_ref().map(from_item).transpose()
    }

    async fn replace_server(&self, server: &ServerRecord, expected_version: u64) -> Result<()> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(server_item(server)?))
            .condition_expression("attribute_exists(PK) AND version = :expected")
            .expression_attribute_values(":expected", n(expected_version))
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c)) => {
                    if c.item().is_some() {
                        Err(Error::PreconditionFailed(format!("server {} was modified by another request", server.id)))
                    } else {
                        Err(Error::not_found(format!("no server found with id {}", server.id)))
                    }
                }
                _ => Err(sdk_error("update server", e)),
            },
        }
    }

    async fn remove_server(&self, server: &ServerRecord) -> Result<()> {
        let delete = |key: Item, condition: Option<(&str, &str)>| -> Result<TransactWriteItem> {
            let mut builder = Delete::builder().table_name(&self.table).set_key(Some(key));
            if let Some((expression, id)) = condition {
                builder = builder.condition_expression(expression).expression_attribute_values(":id", s(id));
            }
            Ok(TransactWriteItem::builder().delete(build(builder.build())?).build())
        };
        let claim_condition = ("attribute_not_exists(PK) OR serverId = :id", server.id.as_str());
        let mut items = vec![
            delete(server_key(&server.id), None)?,
            delete(claim_key(&server.network_id, server.name.as_str()), Some(claim_condition))?,
            self.network_count(&server.network_id, -1)?,
        ];
        match self.transact("remove server", items.clone()).await? {
            Ok(()) => Ok(()),
            Err(codes) if codes.get(2).is_some_and(|c| c == "ConditionalCheckFailed") => {
                // The network is already gone: there is no count left to keep.
                items.truncate(2);
                match self.transact("remove server", items).await? {
                    Ok(()) => Ok(()),
                    Err(codes) => Err(Error::internal(format!("server removal cancelled: {codes:?}"))),
                }
            }
            Err(codes) => Err(Error::internal(format!("server removal cancelled: {codes:?}"))),
        }
    }

    async fn claim_holder(&self, network_id: &str, name: &str) -> Result<Option<String>> {
        let item = self.get(claim_key(network_id, name), "get name claim").await?;
        Ok(item.and_then(|i| i.get("serverId").and_then(|v| v.as_s().ok()).cloned()))
    }

    async fn list_servers(&self, query: &ServerQuery) -> Result<Page<ServerRecord>> {
        let mut all: Vec<ServerRecord> = Vec::new();
        let mut more = false;
        for scope in &query.scopes {
            let (items, truncated) = self.query_scope(scope, "SERVER", Some(query)).await?;
            more |= truncated;
            for item in &items {
                all.push(from_item(item)?);
            }
        }
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all.dedup_by(|a, b| a.id == b.id);
        if all.len() > query.limit {
            all.truncate(query.limit);
            more = true;
        }
        Ok(Page { items: all, more })
    }

    async fn get_keypair(&self, identity_id: &str) -> Result<Option<IdentityKeypair>> {
        self.get(keypair_key(identity_id), "get keypair").await?.as_ref().map(from_item).transpose()
    }

    async fn create_keypair(&self, keypair: &IdentityKeypair) -> Result<()> {
        self.put_new(keypair_item(keypair)?, "create keypair", || {
            Error::conflict(format!("identity {} already has a key pair", keypair.identity_id))
        })
        .await
    }

    async fn mark_keypair_registered(&self, identity_id: &str) -> Result<()> {
        let Some(mut keypair) = self.get_keypair(identity_id).await? else {
            return Err(Error::internal(format!("identity {identity_id} has no key pair to mark")));
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
