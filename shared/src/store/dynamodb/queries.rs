//! Index queries: one scope's partition, bounded reads, merged scopes, the attention index.
//! Conditions are built with [`Expression`], which binds every value to its own placeholder.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::errors::sdk_error;
use super::items::*;
use super::DynamoStore;
use super::INDEX_BY_ATTENTION;
use crate::rbac::Scope;
use crate::store::{RecordQuery, Result};

/// A key condition and a filter under construction, with the names and values they bind.
#[derive(Debug, Default, Clone)]
pub(super) struct Expression {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    key: Vec<String>,
    filter: Vec<String>,
}

impl Expression {
    /// `#name` stands for `attribute`.
    pub(super) fn name(mut self, name: &str, attribute: &str) -> Self {
        self.names.insert(format!("#{name}"), attribute.to_owned());
        self
    }

    /// `:name` is `value`.
    pub(super) fn value(mut self, name: &str, value: AttributeValue) -> Self {
        self.values.insert(format!(":{name}"), value);
        self
    }

    /// Adds a clause of the key condition (joined with AND).
    pub(super) fn key(mut self, clause: impl Into<String>) -> Self {
        self.key.push(clause.into());
        self
    }

    /// Adds a clause of the filter (joined with AND).
    pub(super) fn filter(mut self, clause: impl Into<String>) -> Self {
        self.filter.push(clause.into());
        self
    }

    /// `attribute IN (...)`, one placeholder per value; nothing for an empty list.
    pub(super) fn one_of(mut self, attribute: &str, list: &[String]) -> Self {
        if list.is_empty() {
            return self;
        }
        let placeholders: Vec<String> = (0..list.len()).map(|i| format!(":{attribute}{i}")).collect();
        for (placeholder, v) in placeholders.iter().zip(list) {
            self.values.insert(placeholder.clone(), s(v));
        }
        self.filter.push(format!("{attribute} IN ({})", placeholders.join(", ")));
        self
    }
}

/// One index partition to read: where, what, how much, and whether the filter drops most of it.
pub(super) struct Partition<'a> {
    /// The index to read; `None`: the table itself.
    pub index: Option<&'a str>,
    pub sort_key: &'a str,
    pub expression: Expression,
    /// A filter that drops most items after they are read: pages are read whole (1 MB), not
    /// `want` items at a time.
    pub selective: bool,
    pub want: usize,
    pub max_reads: Option<usize>,
    /// The key of the item to read after (an `ExclusiveStartKey`), where a key condition on the
    /// sort key would make the read evaluate the partition from its start.
    pub after: Option<Item>,
}

impl DynamoStore {
    /// Items of one index partition that match, up to `want` items, reading at most `max_reads`
    /// pages. Answers the items and, when it stopped before the partition's end, the sort key of
    /// the last item it evaluated (where a next read resumes).
    pub(super) async fn query(&self, partition: Partition<'_>) -> Result<(Vec<Item>, Option<String>)> {
        let Partition { index, sort_key, expression, selective, want, max_reads, after } = partition;
        let filter = (!expression.filter.is_empty()).then(|| expression.filter.join(" AND "));
        let key_condition = expression.key.join(" AND ");
        let mut items = Vec::new();
        let mut start = after;
        let page_limit = if selective { None } else { Some(want.clamp(1, 500) as i32) };
        for reads in 1.. {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression(&key_condition)
                .set_filter_expression(filter.clone())
                .set_expression_attribute_names(Some(expression.names.clone()))
                .set_expression_attribute_values(Some(expression.values.clone()))
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
    pub(super) async fn query_scope(
        &self,
        scope: &Scope,
        kind: &str,
        query: &RecordQuery,
    ) -> Result<(Vec<Item>, Option<String>)> {
        let (index, pk_attr, sk_attr, pk) = scope_partition(scope, kind);
        let mut expression = Expression::default().name("pk", pk_attr).value("pk", s(pk)).key("#pk = :pk");
        if let Some(version) = query.api_version {
            expression = expression.value("version", n(version.0)).filter("apiVersion = :version");
        }
        if let Some(parent) = &query.parent_identity_id {
            expression = expression.value("parent", s(parent)).filter("parentIdentityId = :parent");
        }
        if let Some(after) = &query.after {
            expression = expression.name("sk", sk_attr).value("after", s(after)).key("#sk > :after");
        }
        expression = expression
            .one_of("regionId", &query.region_ids)
            .one_of("networkId", &query.network_ids)
            .one_of("identityId", &query.identity_ids);
        for (i, (name, value)) in query.tags.iter().enumerate() {
            expression = expression
                .value(&format!("tag{i}"), s(tag_pair(name, value)))
                .filter(format!("contains(tagPairs, :tag{i})"));
        }
        // The API version matches nearly every record; the other filters may match few.
        let selective = !(query.region_ids.is_empty()
            && query.parent_identity_id.is_none()
            && query.network_ids.is_empty()
            && query.identity_ids.is_empty()
            && query.tags.is_empty());
        // One more than asked, to know whether another page exists.
        let want = query.limit.saturating_add(1);
        let partition = Partition {
            index: Some(index),
            sort_key: sk_attr,
            expression,
            selective,
            want,
            max_reads: query.max_reads,
            after: None,
        };
        let (mut items, resume) = self.query(partition).await?;
        if items.len() > query.limit {
            items.truncate(query.limit);
            let last = items.last().and_then(|item| string_attr(item, sk_attr));
            return Ok((items, last));
        }
        Ok((items, resume))
    }

    /// Items of the attention index whose sort key lies in `[from, to]`.
    pub(super) async fn attention(&self, from: String, to: String, limit: usize) -> Result<Vec<Item>> {
        let expression = Expression::default()
            .name("pk", GSI3PK)
            .name("sk", GSI3SK)
            .value("pk", s(ATTENTION))
            .value("from", s(from))
            .value("to", s(to))
            .key("#pk = :pk AND #sk BETWEEN :from AND :to");
        let partition = Partition {
            index: Some(INDEX_BY_ATTENTION),
            sort_key: GSI3SK,
            expression,
            selective: false,
            want: limit,
            max_reads: None,
            after: None,
        };
        Ok(self.query(partition).await?.0)
    }

    /// Every item of `kind` in the query's scopes (no read bound), parsed and merged by id.
    pub(super) async fn every_in_scopes<T>(
        &self,
        kind: &str,
        query: &RecordQuery,
        parse: impl Fn(&Item) -> Result<T>,
        id: impl Fn(&T) -> &str,
    ) -> Result<Vec<T>> {
        let every = RecordQuery { limit: usize::MAX - 1, max_reads: None, after: None, ..query.clone() };
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
}
