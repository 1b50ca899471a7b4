//! What the stack's table holds, read and rewritten behind the API's back (test-only).

use aws_sdk_dynamodb::types::{AttributeValue, Select};
use serde_json::{json, Value};

use super::Stack;

impl Stack {
    /// Resource items in the table (test-only Scan): not the cleanup function's cursor and sweeps'
    /// bookkeeping, nor the key pair an identity gets with its first server, nor actions and
    /// unpublished events (which outlive what they are about), nor the identity cache, nor fair-use
    /// buckets, nor the regions' catalogue copies.
    pub async fn item_count(&self) -> i32 {
        let out = self
            .dynamo
            .scan()
            .table_name(&self.table)
            .select(Select::Count)
            .filter_expression(
                "NOT begins_with(PK, :cleanup) AND NOT begins_with(PK, :keypair) AND NOT begins_with(PK, :actions) \
                 AND NOT begins_with(PK, :outbox) AND NOT begins_with(PK, :authcache) AND NOT begins_with(PK, :bucket) \
                 AND NOT begins_with(PK, :catalog) AND NOT begins_with(PK, :sweep)",
            )
            .expression_attribute_values(":cleanup", AttributeValue::S("CLEANUP#".into()))
            .expression_attribute_values(":keypair", AttributeValue::S("KEYPAIR#".into()))
            .expression_attribute_values(":actions", AttributeValue::S("ACTIONS#".into()))
            .expression_attribute_values(":outbox", AttributeValue::S("OUTBOX#".into()))
            .expression_attribute_values(":authcache", AttributeValue::S("AUTHCACHE#".into()))
            .expression_attribute_values(":bucket", AttributeValue::S("BUCKET#".into()))
            .expression_attribute_values(":catalog", AttributeValue::S("CATALOG#".into()))
            .expression_attribute_values(":sweep", AttributeValue::S("SWEEP#".into()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("scan: {e}"));
        out.count()
    }

    /// The stored JSON document of an item, by partition key.
    pub async fn stored(&self, pk: &str, sk: &str) -> Option<Value> {
        let out = self
            .dynamo
            .get_item()
            .table_name(&self.table)
            .key("PK", AttributeValue::S(pk.into()))
            .key("SK", AttributeValue::S(sk.into()))
            .consistent_read(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("get: {e}"));
        let item = out.item()?;
        let mut value = match item.get("doc").and_then(|d| d.as_s().ok()) {
            Some(doc) => serde_json::from_str(doc).unwrap_or(Value::Null),
            None => json!({}),
        };
        for (key, attr) in item {
            if let Ok(s) = attr.as_s() {
                if key != "doc" {
                    value[format!("_{key}")] = json!(s);
                }
            }
            if let Ok(n) = attr.as_n() {
                value[format!("_{key}")] = json!(n.parse::<i64>().unwrap_or_default());
            }
        }
        Some(value)
    }

    /// Rewrites a stored document field (to simulate records from elsewhere, e.g. another API version).
    pub async fn patch_server(&self, id: &str, patch: impl Fn(&mut Value), api_version: Option<u32>) {
        let key = [("PK", format!("SERVER#{id}")), ("SK", "SERVER".to_owned())];
        let out = self
            .dynamo
            .get_item()
            .table_name(&self.table)
            .key(key[0].0, AttributeValue::S(key[0].1.clone()))
            .key(key[1].0, AttributeValue::S(key[1].1.clone()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("get: {e}"));
        let mut item = out.item().cloned().unwrap_or_else(|| panic!("no server {id}"));
        let mut doc: Value =
            serde_json::from_str(item["doc"].as_s().unwrap_or_else(|_| panic!("doc"))).unwrap_or_default();
        patch(&mut doc);
        if let Some(v) = api_version {
            doc["apiVersion"] = json!(v);
            item.insert("apiVersion".into(), AttributeValue::N(v.to_string()));
        }
        item.insert("doc".into(), AttributeValue::S(doc.to_string()));
        self.dynamo
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put: {e}"));
    }

    /// Ends every idempotency key's running attempt, as its time running out would (a crashed
    /// attempt holds its key until then).
    pub async fn expire_key_attempts(&self) {
        let keys = self
            .dynamo
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(PK, :key)")
            .expression_attribute_values(":key", AttributeValue::S("IDEMPOTENCY#".into()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("scan: {e}"));
        for item in keys.items() {
            self.dynamo
                .update_item()
                .table_name(&self.table)
                .key("PK", item["PK"].clone())
                .key("SK", item["SK"].clone())
                .update_expression("SET #until = :zero")
                .expression_attribute_names("#until", "until")
                .expression_attribute_values(":zero", AttributeValue::N("0".into()))
                .send()
                .await
                .unwrap_or_else(|e| panic!("update: {e}"));
        }
    }
}
