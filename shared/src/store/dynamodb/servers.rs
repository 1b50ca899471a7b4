//! The server port: records with their name claims and counts, written in one transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use chrono::{DateTime, Utc};

use super::items::*;
use crate::domain::{ActionRecord, Effects, ServerRecord};
use crate::store::{ClaimRef, Kind, Page, RecordQuery, Result, ServerStore, StoreError};

use super::errors::{build, is_condition_failure, sdk_error};
use super::queries::{Expression, Partition};
use super::transactions::*;
use super::{DynamoStore, INDEX_BY_REGION};

#[async_trait]
impl ServerStore for DynamoStore {
    async fn create_server(
        &self,
        server: &ServerRecord,
        claim_check_at: DateTime<Utc>,
        effects: &Effects,
    ) -> Result<()> {
        let mut tx = Transaction::new("create server")
            .with("record", self.put(server_item(server)?, "attribute_not_exists(PK)")?)
            .with("claim", self.put(claim_item(server, claim_check_at), "attribute_not_exists(PK)")?)
            .with("network", self.network_count(&server.network_id, 1)?);
        if let Some(ca) = &server.ssh_certificate_authority_id {
            tx = tx.with("ca", self.ca_count(ca, 1)?);
        }
        for (name, item) in self.group_items(&effects.groups)? {
            tx = tx.with(name, item);
        }
        match self.transact(tx.with_each("effects", self.effect_items(effects)?)).await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed("claim").is_some() => {
                // The SDK retries an attempt that timed out on our side; if DynamoDB had applied it,
                // the retry finds our own claim. That is success, not a clash.
                let holder = self.claim_holder(&server.network_id, server.name.as_str()).await?;
                if holder.as_deref() == Some(server.id.as_str()) && self.get_server(&server.id).await?.is_some() {
                    return Ok(());
                }
                Err(StoreError::NameTaken { network: server.network_id.clone(), name: server.name.to_string() })
            }
            Err(cancelled) if cancelled.failed("ca").is_some() => {
                Err(StoreError::Missing(Kind::SshCa, server.ssh_certificate_authority_id.clone().unwrap_or_default()))
            }
            Err(cancelled) => match (cancelled.failed("network"), cancelled.group_refusal(&effects.groups)) {
                (Some(r), _) if r.existed => Err(StoreError::Closing(Kind::Network, server.network_id.clone())),
                (Some(_), _) => Err(StoreError::Missing(Kind::Network, server.network_id.clone())),
                (None, Some(group)) => Err(group),
                (None, None) => Err(cancelled.unexplained()),
            },
        }
    }

    async fn get_server(&self, id: &str) -> Result<Option<ServerRecord>> {
        self.get(server_key(id), "get server").await?.as_ref().map(from_item).transpose()
    }

    async fn get_servers(&self, ids: &[String]) -> Result<Vec<ServerRecord>> {
        let keys = ids.iter().map(|id| server_key(id)).collect();
        self.get_many(keys, "get servers").await?.iter().map(from_item).collect()
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
            let mut parts = vec![("record", TransactWriteItem::builder().put(put).build())];
            parts.extend(self.group_items(&effects.groups)?);
            parts.extend(self.effect_items(effects)?.into_iter().map(|item| ("effects", item)));
            // A group it stops naming that is already gone has nothing left to uncount.
            return match self.transact_leaving_out("update server", parts, &["group-"]).await? {
                Ok(()) => Ok(()),
                Err(cancelled) => match (cancelled.failed("record"), cancelled.group_refusal(&effects.groups)) {
                    (Some(r), _) => Err(refused(r.existed, r.version)),
                    (None, Some(group)) => Err(group),
                    (None, None) => Err(cancelled.unexplained()),
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
        let tx = Transaction::new("set protection")
            .with("record", TransactWriteItem::builder().put(put).build())
            .with("network", count);
        match self.transact(tx).await? {
            Ok(()) => Ok(()),
            Err(cancelled) => match (cancelled.failed("record"), cancelled.failed("network")) {
                (Some(r), _) if r.existed => Err(StoreError::Changed(Kind::Server, next.id.clone())),
                (Some(_), _) => Err(StoreError::Missing(Kind::Server, next.id.clone())),
                (_, Some(r)) if r.existed => Err(StoreError::Closing(Kind::Network, next.network_id.clone())),
                (_, Some(_)) => Err(StoreError::Missing(Kind::Network, next.network_id.clone())),
                _ => Err(cancelled.unexplained()),
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
        let mut parts: Vec<(&'static str, TransactWriteItem)> = vec![
            ("record", TransactWriteItem::builder().delete(record).build()),
            ("claim", TransactWriteItem::builder().delete(claim).build()),
            ("network", self.network_uncount(server)?),
        ];
        if let Some(ca) = server.ssh_certificate_authority_id.as_deref() {
            parts.push(("ca", self.ca_count(ca, -1)?));
        }
        parts.extend(self.group_items(&effects.groups)?);
        parts.extend(self.effect_items(effects)?.into_iter().map(|item| ("effects", item)));
        // A claim held by another server, or a network, CA or group already gone, is left out and
        // tried again; the record's own condition decides whether anything is removed (and
        // uncounted) at all.
        let optional = ["claim", "network", "ca", "group-"];
        match self.transact_leaving_out("remove server", parts, &optional).await? {
            Ok(()) => Ok(true),
            Err(cancelled) => match cancelled.failed("record") {
                Some(record) if record.existed => Err(StoreError::Changed(Kind::Server, server.id.clone())),
                Some(_) => Ok(false),
                None => Err(cancelled.unexplained()),
            },
        }
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

    async fn list_servers(&self, query: &RecordQuery) -> Result<Page<ServerRecord>> {
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

    async fn list_region_servers(
        &self,
        region_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<ServerRecord>> {
        let expression =
            Expression::default().name("pk", GSI4PK).value("pk", s(region_partition(region_id))).key("#pk = :pk");
        // The sweep reads a region's every record page after page: each resumes after the previous
        // page's last item by its key (the index's and the table's), which the read seeks to.
        let after = after.map(|id| {
            let mut key = server_key(id);
            key.insert(GSI4PK.into(), s(region_partition(region_id)));
            key.insert(GSI4SK.into(), s(id));
            key
        });
        let want = limit.saturating_add(1);
        let partition = Partition {
            index: Some(INDEX_BY_REGION),
            sort_key: GSI4SK,
            expression,
            selective: false,
            want,
            max_reads: None,
            after,
        };
        let (items, _) = self.query(partition).await?;
        let mut servers = items.iter().map(from_item).collect::<Result<Vec<ServerRecord>>>()?;
        let more = servers.len() > limit;
        servers.truncate(limit);
        Ok(Page { next: if more { servers.last().map(|r| r.id.clone()) } else { None }, items: servers })
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
