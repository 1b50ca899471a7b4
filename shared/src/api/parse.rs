use serde::de::{Deserialize, DeserializeOwned, Deserializer};

use super::objects::ObjectsOnly;
use crate::error::{Error, Result};

/// Decodes a JSON body; the error names the field that is wrong (`spec.flavorId: invalid type ...`).
/// Every struct in it, at any depth, must be a JSON object ([`ObjectsOnly`]).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid("the request body is empty: a JSON object is required"));
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Error::invalid("request body: must be a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(ObjectsOnly(&mut deserializer)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = strip_position(&inner.to_string());
        if path == "." || path == "?" || path.is_empty() {
            Error::invalid(format!("request body: {message}"))
        } else {
            Error::invalid(format!("{path}: {message}"))
        }
    })?;
    deserializer.end().map_err(|_| Error::invalid("request body: trailing characters after the JSON value"))?;
    Ok(value)
}

/// For optional fields: absent is `None`, but an explicit `null` is refused like any wrong type
/// (use with `#[serde(default, deserialize_with = "present")]`).
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Outer {
        spec: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Inner {
        flavor_id: String,
        #[serde(default, deserialize_with = "present")]
        user_data: Option<String>,
    }

    #[test]
    fn errors_name_the_field() {
        let msg = |body: &str| parse_json::<Outer>(body.as_bytes()).expect_err(body).to_string();
        assert!(
            msg(r#"{"spec": {"flavorId": 1}}"#).starts_with("spec.flavorId: invalid type"),
            "{}",
            msg(r#"{"spec": {"flavorId": 1}}"#)
        );
        assert!(msg(r#"{"spec": {"flavorId": "a", "x": 1}}"#).contains("unknown field `x`"));
        assert!(msg(r#"{"spec": {}}"#).contains("missing field `flavorId`"));
        assert!(msg("").contains("empty"));
        assert!(msg("{").starts_with("request body:"), "{}", msg("{"));
        assert!(msg("[]").starts_with("request body:"));
        assert_eq!(msg(r#"{"spec": ["a"]}"#), "spec: must be a JSON object, not an array");
        assert_eq!(msg(r#"{"spec": ["a", null]}"#), "spec: must be a JSON object, not an array");
        assert!(msg(r#"{"spec": {"flavorId": "a"}} x"#).contains("trailing"));
        assert!(
            msg(r#"{"spec": {"flavorId": "a", "userData": null}}"#).starts_with("spec.userData: invalid type: null")
        );
        assert!(parse_json::<Outer>(br#"{"spec": {"flavorId": "a"}}"#).is_ok(), "absent is fine");
    }
}
