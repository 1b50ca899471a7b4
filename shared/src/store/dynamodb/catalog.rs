//! What regions offer, shared by every container: one head item per region and kind
//! (`CATALOG#<region>#<kind>`, SK `HEAD`) naming the current generation, and the generation's JSON
//! in parts of at most [`PART_BYTES`] (SK `PART#<generation>#<n>`), so a region offering thousands
//! of images stays under DynamoDB's 400 KB item limit. Parts are written first, the head last: a
//! reader follows the head to a complete generation, never a mix. Old generations expire by TTL.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use chrono::{DateTime, Utc};

use super::errors::sdk_error;
use super::items::{n, number_attr, s, string_attr, Item, EXPIRES_AT, PK, SK};
use super::queries::{Expression, Partition};
use super::DynamoStore;
use crate::store::{CatalogCopy, CatalogKind, CatalogStore, Result, StoreError};

/// Far below DynamoDB's 400 KB item limit, with room for the keys.
const PART_BYTES: usize = 300 * 1024;
/// A generation outlives its replacement by this much (readers following an older head finish).
const KEEP_SECONDS: i64 = 24 * 3600;

fn pk(region: &str, kind: CatalogKind) -> String {
    format!("CATALOG#{region}#{}", kind.as_str())
}

fn head_key(region: &str, kind: CatalogKind) -> Item {
    HashMap::from([(PK.into(), s(pk(region, kind))), (SK.into(), s("HEAD"))])
}

/// `text` cut into pieces of at most `max` bytes, on character boundaries.
fn pieces(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out.push(rest);
    out
}

#[async_trait]
impl CatalogStore for DynamoStore {
    async fn get_catalog(&self, region: &str, kind: CatalogKind) -> Result<Option<CatalogCopy>> {
        let Some(head) = self.get(head_key(region, kind), "read a region's catalogue").await? else { return Ok(None) };
        let (Some(generation), Some(parts), Some(fetched)) =
            (string_attr(&head, "generation"), number_attr(&head, "parts"), string_attr(&head, "fetchedAt"))
        else {
            return Ok(None);
        };
        let Ok(fetched_at) = DateTime::parse_from_rfc3339(&fetched) else { return Ok(None) };
        let expression = Expression::default()
            .value("pk", s(pk(region, kind)))
            .value("prefix", s(format!("PART#{generation}#")))
            .key("PK = :pk AND begins_with(SK, :prefix)");
        let partition = Partition {
            index: None,
            sort_key: SK,
            expression,
            selective: false,
            want: usize::MAX,
            max_reads: None,
            after: None,
        };
        let (items, _) = self.query(partition).await?;
        let mut found: Vec<(u64, String)> =
            items.iter().filter_map(|i| Some((number_attr(i, "n")?, string_attr(i, "json")?))).collect();
        if found.len() as u64 != parts {
            // A generation being written, or expired under a reader: no copy rather than half of one.
            return Ok(None);
        }
        found.sort();
        let json = found.into_iter().map(|(_, text)| text).collect();
        Ok(Some(CatalogCopy { fetched_at: fetched_at.with_timezone(&Utc), json }))
    }

    async fn put_catalog(&self, region: &str, kind: CatalogKind, copy: &CatalogCopy) -> Result<()> {
        let generation = uuid::Uuid::new_v4().simple().to_string();
        let expires = n(copy.fetched_at.timestamp() + KEEP_SECONDS);
        let parts = pieces(&copy.json, PART_BYTES);
        let writes: Vec<WriteRequest> = parts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let item = HashMap::from([
                    (PK.to_owned(), s(pk(region, kind))),
                    (SK.to_owned(), s(format!("PART#{generation}#{i:06}"))),
                    ("n".to_owned(), n(i)),
                    ("json".to_owned(), s(*text)),
                    (EXPIRES_AT.to_owned(), expires.clone()),
                ]);
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| StoreError::failed(e.to_string()))?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<_>>()?;
        // BatchWriteItem takes 25 requests and 16 MB at most; each part is under 300 KB.
        for chunk in writes.chunks(25) {
            let mut pending: HashMap<String, Vec<WriteRequest>> = HashMap::from([(self.table.clone(), chunk.to_vec())]);
            for _ in 0..5 {
                let out = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(pending.clone()))
                    .send()
                    .await
                    .map_err(|e| sdk_error("write a region's catalogue", e))?;
                match out.unprocessed_items().filter(|u| !u.is_empty()) {
                    Some(left) => pending = left.clone(),
                    None => {
                        pending.clear();
                        break;
                    }
                }
            }
            if !pending.is_empty() {
                return Err(StoreError::Unavailable("a region's catalogue was not written: retry".into()));
            }
        }
        let mut head = head_key(region, kind);
        head.insert("generation".into(), s(&generation));
        head.insert("parts".into(), n(parts.len()));
        head.insert("fetchedAt".into(), s(copy.fetched_at.to_rfc3339()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(head))
            .send()
            .await
            .map_err(|e| sdk_error("write a region's catalogue", e))?;
        Ok(())
    }

    async fn drop_catalog(&self, region: &str, kind: CatalogKind) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(head_key(region, kind)))
            .send()
            .await
            .map_err(|e| sdk_error("drop a region's catalogue", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::pieces;

    #[test]
    fn pieces_cut_on_character_boundaries_and_join_back() {
        let text = "é".repeat(10) + "abc";
        let parts = pieces(&text, 5);
        assert!(parts.iter().all(|p| p.len() <= 5));
        assert_eq!(parts.concat(), text);
        assert_eq!(pieces("", 5), vec![""]);
    }
}
