//! Reading a request: the caller from the authorizer context, JSON bodies, list queries.

use base64::Engine as _;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::de::DeserializeOwned;

use super::authorizer::caller_from_context;
use crate::api::parse_json;
use crate::error::{Error, Result};
use crate::rbac::Caller;
use crate::text::percent_encode;
use crate::usecase::idempotency::IdempotencyKey;
use crate::usecase::sshcas::CaListParams;
use crate::usecase::ListParams;

/// Bodies over this size are refused before parsing.
pub const BODY_LIMIT: usize = 1024 * 1024;
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;
/// DynamoDB takes at most 100 values in one `IN`: each filter takes at most that many.
pub const MAX_FILTER_VALUES: usize = 100;
/// Far above any token this API issues (an id is at most 255 characters).
pub const MAX_PAGE_TOKEN: usize = 512;

pub(super) fn request_id(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone().unwrap_or_default(),
        _ => req.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_default(),
    }
}

pub fn caller(req: &Request) -> Result<Caller> {
    let context = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.authorizer.as_ref().map(|a| &a.fields),
        _ => None,
    };
    caller_from_context(context)
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A header that must be readable text when present: an unreadable one is a 400, never ignored.
/// `name` is the header's usual spelling, for the message.
fn text_header<'a>(req: &'a Request, name: &str) -> Result<Option<&'a str>> {
    match req.headers().get(name) {
        None => Ok(None),
        Some(value) => value.to_str().map(Some).map_err(|_| Error::invalid(format!("{name}: must be printable ASCII"))),
    }
}

/// `If-Match`: `*` or a list of entity tags (`"v"` or `W/"v"`, RFC 9110). Anything else is a 400:
/// an update must never apply unconditionally because its condition could not be read.
pub fn if_match(req: &Request) -> Result<Option<&str>> {
    let Some(value) = text_header(req, "If-Match")? else { return Ok(None) };
    let invalid = || Error::invalid("If-Match: must be * or a list of entity tags such as \"3\"");
    if value.len() > 1024 {
        return Err(invalid());
    }
    if value.trim() == "*" {
        return Ok(Some(value));
    }
    for tag in value.split(',').map(str::trim) {
        let opaque = tag.strip_prefix("W/").unwrap_or(tag);
        let inner = opaque.strip_prefix('"').and_then(|t| t.strip_suffix('"')).ok_or_else(invalid)?;
        if !inner.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)) {
            return Err(invalid());
        }
    }
    Ok(Some(value))
}

/// `Idempotency-Key` (optional).
pub fn idempotency_key(req: &Request) -> Result<Option<IdempotencyKey>> {
    text_header(req, "Idempotency-Key")?.map(IdempotencyKey::parse).transpose()
}

/// Single-valued parameters given twice (`limit=1&limit=2`) are refused, never silently chosen
/// between; the repeatable ones (filters, `tag`) are documented as such.
pub(super) fn once_each(req: &Request, single: &[&str]) -> Result<()> {
    let query = req.query_string_parameters();
    for key in single {
        if query.all(key).is_some_and(|values| values.len() > 1) {
            return Err(Error::invalid(format!("{key}: given more than once; it takes one value")));
        }
    }
    Ok(())
}

/// Routes that take no query parameters refuse any.
pub fn no_query(req: &Request) -> Result<()> {
    match req.query_string_parameters().iter().next() {
        Some((key, _)) => Err(Error::invalid(format!("{key}: unknown query parameter"))),
        None => Ok(()),
    }
}

/// The raw body, for fingerprinting an idempotent request.
pub(super) fn raw_body(req: &Request) -> &[u8] {
    req.body().as_ref()
}

/// A JSON body, sent as `application/json`: any other content type, or none, is a 415.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T> {
    let media = header(req, "content-type").map(|c| c.split(';').next().unwrap_or_default().trim());
    match media {
        Some(media) if media.eq_ignore_ascii_case("application/json") => {}
        Some(media) => {
            return Err(Error::UnsupportedMediaType(format!(
                "content type {media} is not supported: send application/json"
            )))
        }
        None => {
            return Err(Error::UnsupportedMediaType("a body needs Content-Type: application/json".into()));
        }
    }
    let body: &[u8] = req.body().as_ref();
    if body.len() > BODY_LIMIT {
        return Err(Error::invalid(format!("request body: {} bytes is over the 1 MiB limit", body.len())));
    }
    parse_json(body)
}

/// `length` of `consoleoutput`: 1-10000 lines; absent means the provider's default.
pub fn console_length(req: &Request) -> Result<Option<u32>> {
    once_each(req, &["length"])?;
    let query = req.query_string_parameters();
    if let Some((key, _)) = query.iter().find(|(k, _)| *k != "length") {
        return Err(Error::invalid(format!("{key}: unknown query parameter")));
    }
    match query.first("length") {
        None => Ok(None),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=10_000).contains(l))
            .map(Some)
            .ok_or_else(|| Error::invalid("length: must be a whole number from 1 to 10000")),
    }
}

/// An opaque cursor: the last id of the previous page.
fn encode_page_token(after: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::json!({"v": 1, "after": after}).to_string())
}

fn decode_page_token(token: &str) -> Result<String> {
    let invalid = || Error::invalid("pageToken: not a token this API issued");
    if token.len() > MAX_PAGE_TOKEN {
        return Err(invalid());
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    match (value["v"].as_u64(), value["after"].as_str()) {
        (Some(1), Some(after)) if !after.is_empty() && after.len() <= 255 => Ok(after.to_owned()),
        _ => Err(invalid()),
    }
}

/// `organizationID`, `projectID` (repeatable) and `tag` (repeatable): the SSH certificate authority
/// list's filters, as Unikorn's.
pub fn ca_list_params(req: &Request) -> Result<CaListParams> {
    let mut params = CaListParams { organization_ids: Vec::new(), project_ids: Vec::new(), tags: Vec::new() };
    for (key, value) in req.query_string_parameters().iter() {
        match key {
            "organizationID" => push_filter(&mut params.organization_ids, key, value)?,
            "projectID" => push_filter(&mut params.project_ids, key, value)?,
            "tag" => push_tag(&mut params.tags, value)?,
            other => return Err(Error::invalid(format!("{other}: unknown query parameter"))),
        }
    }
    Ok(params)
}

/// `organizationID`, `projectID`, `regionID` and `tag` (each repeatable): the v2 network list's
/// filters, as Unikorn's.
pub fn network_list_params(req: &Request) -> Result<crate::usecase::networks::NetworkListParams> {
    let mut params = crate::usecase::networks::NetworkListParams::default();
    for (key, value) in req.query_string_parameters().iter() {
        match key {
            "organizationID" => push_filter(&mut params.organization_ids, key, value)?,
            "projectID" => push_filter(&mut params.project_ids, key, value)?,
            "regionID" => push_filter(&mut params.region_ids, key, value)?,
            "tag" => push_tag(&mut params.tags, value)?,
            other => return Err(Error::invalid(format!("{other}: unknown query parameter"))),
        }
    }
    Ok(params)
}

/// The security group list's filters (Unikorn's): v2's organizations, projects, regions, networks
/// and tags; v1's tags alone (its path is the scope).
pub fn security_group_list_params(
    req: &Request,
    version: crate::domain::ApiVersion,
) -> Result<crate::usecase::security_groups::SecurityGroupListParams> {
    let mut params = crate::usecase::security_groups::SecurityGroupListParams::default();
    for (key, value) in req.query_string_parameters().iter() {
        match key {
            "tag" => push_tag(&mut params.tags, value)?,
            other if version == crate::domain::ApiVersion::V1 => {
                return Err(Error::invalid(format!("{other}: unknown query parameter (the path is the scope)")))
            }
            "organizationID" => push_filter(&mut params.organization_ids, key, value)?,
            "projectID" => push_filter(&mut params.project_ids, key, value)?,
            "regionID" => push_filter(&mut params.region_ids, key, value)?,
            "networkID" => push_filter(&mut params.network_ids, key, value)?,
            other => return Err(Error::invalid(format!("{other}: unknown query parameter"))),
        }
    }
    Ok(params)
}

/// One value of a repeatable filter (`organizationID=a&organizationID=b`), bounded. A comma is
/// refused, as the contract's pattern (`^[^,]+$`, `explode: true`) says: `a,b` is neither one id
/// nor two. lambda_http reads the raw query string, so repeated values arrive apart, never joined.
pub(super) fn push_filter(list: &mut Vec<String>, key: &str, value: &str) -> Result<()> {
    if value.is_empty() || value.len() > 255 {
        return Err(Error::invalid(format!("{key}: values must be 1-255 characters")));
    }
    if value.contains(',') {
        return Err(Error::invalid(format!(
            "{key}: '{}' holds a comma; give each value as its own {key} parameter",
            value.chars().take(64).collect::<String>()
        )));
    }
    if list.len() == MAX_FILTER_VALUES {
        return Err(Error::invalid(format!("{key}: at most {MAX_FILTER_VALUES} values")));
    }
    list.push(value.to_owned());
    Ok(())
}

/// At most this many `tag` filters (a resource carries at most 64 tags).
pub const MAX_FILTER_TAGS: usize = 64;

/// One `tag=name=value` filter (Unikorn's tag selector: split at the first `=`), bounded.
fn push_tag(tags: &mut Vec<(String, String)>, value: &str) -> Result<()> {
    if tags.len() == MAX_FILTER_TAGS {
        return Err(Error::invalid(format!("tag: at most {MAX_FILTER_TAGS} tag filters")));
    }
    tags.push(parse_tag_filter(value)?);
    Ok(())
}

fn parse_tag_filter(value: &str) -> Result<(String, String)> {
    let invalid = || Error::invalid(format!("tag: '{}' is not name=value", value.chars().take(64).collect::<String>()));
    let (name, tag_value) = value.split_once('=').ok_or_else(invalid)?;
    if name.is_empty() || name.chars().count() > 256 || tag_value.chars().count() > 256 {
        return Err(invalid());
    }
    Ok((name.to_owned(), tag_value.to_owned()))
}

/// `organizationID`, `projectID`, `regionID`, `networkID` (each repeatable), `tag` (repeatable,
/// `name=value`, all must match), `limit`, `pageToken`.
pub fn list_params(req: &Request) -> Result<ListParams> {
    once_each(req, &["limit", "pageToken"])?;
    let query = req.query_string_parameters();
    let mut params = ListParams { limit: DEFAULT_LIMIT, ..ListParams::default() };
    for (key, value) in query.iter() {
        let list = match key {
            "organizationID" => &mut params.organization_ids,
            "projectID" => &mut params.project_ids,
            "regionID" => &mut params.region_ids,
            "networkID" => &mut params.network_ids,
            "limit" => {
                params.limit =
                    value.parse::<usize>().ok().filter(|l| (1..=MAX_LIMIT).contains(l)).ok_or_else(|| {
                        Error::invalid(format!("limit: must be a whole number from 1 to {MAX_LIMIT}"))
                    })?;
                continue;
            }
            "pageToken" => {
                params.after = Some(decode_page_token(value)?);
                continue;
            }
            "tag" => {
                push_tag(&mut params.tags, value)?;
                continue;
            }
            other => return Err(Error::invalid(format!("{other}: unknown query parameter"))),
        };
        push_filter(list, key, value)?;
    }
    Ok(params)
}

/// `status`, `limit` and `pageToken` of an action list (newest first).
pub fn action_list_params(req: &Request) -> Result<crate::usecase::actions::ActionListParams> {
    use crate::domain::ActionStatus;
    once_each(req, &["status", "limit", "pageToken"])?;
    let mut params = crate::usecase::actions::ActionListParams { status: None, after: None, limit: DEFAULT_LIMIT };
    for (key, value) in req.query_string_parameters().iter() {
        match key {
            "status" => {
                params.status = Some(
                    ActionStatus::parse(value)
                        .ok_or_else(|| Error::invalid("status: must be one of running, success, error"))?,
                )
            }
            "limit" => {
                params.limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
                    .ok_or_else(|| Error::invalid(format!("limit: must be a whole number from 1 to {MAX_LIMIT}")))?
            }
            "pageToken" => params.after = Some(decode_page_token(value)?),
            other => return Err(Error::invalid(format!("{other}: unknown query parameter"))),
        }
    }
    Ok(params)
}

/// The request's query with `pageToken` replaced: the next page's URL for the `Link` header.
/// The `Link` header of a list page that has a next page (none on the last page).
pub fn list_link(req: &Request, next: Option<&str>) -> Vec<(&'static str, String)> {
    next.map(|after| ("link", next_link(req, &encode_page_token(after)))).into_iter().collect()
}

fn next_link(req: &Request, token: &str) -> String {
    let mut pairs: Vec<String> = req
        .query_string_parameters()
        .iter()
        .filter(|(k, _)| *k != "pageToken")
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    pairs.push(format!("pageToken={token}"));
    format!("<{}?{}>; rel=\"next\"", req.uri().path(), pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_reject_forgeries() {
        let token = encode_page_token("abc");
        assert_eq!(decode_page_token(&token).ok().as_deref(), Some("abc"));
        let long = encode_page_token(&"x".repeat(400));
        for bad in [
            "",
            "!!!",
            "e30",
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"v":2,"after":"x"}"#),
            &long,
            &"A".repeat(100_000),
        ] {
            assert!(decode_page_token(bad).is_err(), "{}", &bad[..bad.len().min(40)]);
        }
    }

    fn with_if_match(value: &[u8]) -> Request {
        let mut req = Request::default();
        if let Ok(v) = http::HeaderValue::from_bytes(value) {
            req.headers_mut().insert("if-match", v);
        }
        req
    }

    #[test]
    fn if_match_is_read_or_refused_never_ignored() {
        for ok in [&b"*"[..], b"\"3\"", b"W/\"3\"", b"\"1\", \"2\""] {
            assert!(if_match(&with_if_match(ok)).is_ok_and(|v| v.is_some()), "{ok:?}");
        }
        for bad in [&b"3"[..], b"\"3", "\"é\"".as_bytes(), b"\"a b\"", b"\"3\", 4", b"\xff\xfe"] {
            let err = if_match(&with_if_match(bad)).expect_err("bad If-Match");
            assert_eq!(err.status_and_code().0, 400, "{bad:?}");
        }
        assert_eq!(if_match(&Request::default()).ok(), Some(None));
    }
}
