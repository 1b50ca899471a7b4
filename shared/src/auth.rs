//! Bearer tokens: JWT verification (RS256 or ES256; issuer, audience, expiry) against configured
//! public keys, and the authorizer's answer to API Gateway.
//!
//! API Gateway HTTP APIs turn a denied simple response into their own `403 {"message":"Forbidden"}`.
//! So the authorizer allows the call and passes either the caller (`sub`, `acl`, `exp`) or the
//! reason it is not one (`error`); the function then answers 401 in the product's error format.
//! `exp` travels too because API Gateway caches authorizer answers: functions re-check it.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::rbac::{Acl, Caller};

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    #[serde(default)]
    acl: Acl,
}

/// Verifies tokens against a fixed set of public keys.
pub struct Verifier {
    rsa: Vec<DecodingKey>,
    ec: Vec<DecodingKey>,
    issuer: String,
    audience: String,
}

impl Verifier {
    /// `pems` holds one or more PEM public keys (RSA or P-256), concatenated; newlines may be
    /// written as `\n` (CloudFormation parameters are one line).
    pub fn new(pems: &str, issuer: &str, audience: &str) -> Result<Self> {
        let pems = pems.replace("\\n", "\n");
        let mut rsa = Vec::new();
        let mut ec = Vec::new();
        for block in pem_blocks(&pems) {
            if let Ok(key) = DecodingKey::from_ec_pem(block.as_bytes()) {
                ec.push(key);
            } else if let Ok(key) = DecodingKey::from_rsa_pem(block.as_bytes()) {
                rsa.push(key);
            } else {
                return Err(Error::internal("a configured JWT public key is neither RSA nor EC PEM"));
            }
        }
        if rsa.is_empty() && ec.is_empty() {
            return Err(Error::internal("no JWT public keys configured"));
        }
        Ok(Verifier { rsa, ec, issuer: issuer.to_owned(), audience: audience.to_owned() })
    }

    pub fn from_env() -> Result<Self> {
        let var = |name: &str| std::env::var(name).map_err(|_| Error::internal(format!("{name} is not set")));
        Verifier::new(&var("JWT_PUBLIC_KEYS")?, &var("JWT_ISSUER")?, &var("JWT_AUDIENCE")?)
    }

    /// The caller named by a verified token, with the token's expiry (seconds since the epoch).
    pub fn verify(&self, token: &str) -> Result<(Caller, i64)> {
        let denied = |why: &str| Error::Unauthenticated(format!("the bearer token is {why}"));
        let header = jsonwebtoken::decode_header(token).map_err(|_| denied("malformed"))?;
        let keys = match header.alg {
            Algorithm::RS256 => &self.rsa,
            Algorithm::ES256 => &self.ec,
            _ => return Err(denied("signed with an unsupported algorithm")),
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let mut last = denied("not signed by a trusted key");
        for key in keys {
            match jsonwebtoken::decode::<Claims>(token, key, &validation) {
                Ok(data) => {
                    return Ok((Caller { subject: data.claims.sub, acl: data.claims.acl }, data.claims.exp));
                }
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind;
                    last = match e.kind() {
                        ErrorKind::ExpiredSignature => denied("expired"),
                        ErrorKind::InvalidIssuer => denied("from an untrusted issuer"),
                        ErrorKind::InvalidAudience => denied("for another audience"),
                        ErrorKind::InvalidSignature => denied("not signed by a trusted key"),
                        ErrorKind::Json(_) | ErrorKind::MissingRequiredClaim(_) => denied("missing required claims"),
                        _ => denied("invalid"),
                    };
                    if !matches!(e.kind(), ErrorKind::InvalidSignature) {
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
    }

    /// The context the authorizer hands API Gateway for a request with this Authorization header.
    pub fn authorizer_context(&self, authorization: Option<&str>) -> HashMap<String, Value> {
        let token = authorization.and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")));
        let result = match token {
            Some(token) => self.verify(token.trim()),
            None => Err(Error::Unauthenticated("a bearer token is required".into())),
        };
        match result {
            Ok((caller, exp)) => HashMap::from([
                ("sub".to_owned(), json!(caller.subject)),
                // Context values must be scalars: the ACL travels as a JSON string.
                ("acl".to_owned(), json!(serde_json::to_string(&caller.acl).unwrap_or_default())),
                ("exp".to_owned(), json!(exp)),
            ]),
            Err(e) => HashMap::from([("error".to_owned(), json!(e.to_string()))]),
        }
    }
}

/// Every `-----BEGIN ...-----` ... `-----END ...-----` block (SPKI or PKCS#1), in order.
fn pem_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let Some(end_marker) = rest[start..].find("-----END ") else { break };
        let after_end = start + end_marker + "-----END ".len();
        let Some(close) = rest[after_end..].find("-----") else { break };
        let end = after_end + close + "-----".len();
        blocks.push(&rest[start..end]);
        rest = &rest[end..];
    }
    blocks
}

/// The caller from an authorizer context, or 401 with the authorizer's reason.
pub fn caller_from_context(context: Option<&HashMap<String, Value>>, now: i64) -> Result<Caller> {
    let unauthenticated = |m: &str| Error::Unauthenticated(m.to_owned());
    let context = context.ok_or_else(|| unauthenticated("the request carries no authorizer context"))?;
    if let Some(reason) = context.get("error").and_then(Value::as_str) {
        return Err(unauthenticated(reason));
    }
    let subject = context.get("sub").and_then(Value::as_str).ok_or_else(|| unauthenticated("no subject"))?;
    let exp = context.get("exp").and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())));
    if exp.is_none_or(|exp| exp < now) {
        return Err(unauthenticated("the bearer token is expired"));
    }
    let acl: Acl = context
        .get("acl")
        .and_then(Value::as_str)
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| unauthenticated("the authorizer context has no readable ACL"))?;
    Ok(Caller { subject: subject.to_owned(), acl })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_without_a_caller_are_401() {
        let now = 1_000;
        assert!(matches!(caller_from_context(None, now), Err(Error::Unauthenticated(_))));
        let denied = HashMap::from([("error".to_owned(), json!("the bearer token is expired"))]);
        assert_eq!(
            caller_from_context(Some(&denied), now).err().map(|e| e.to_string()).as_deref(),
            Some("the bearer token is expired")
        );
        let stale = HashMap::from([
            ("sub".to_owned(), json!("alice")),
            ("acl".to_owned(), json!("{}")),
            ("exp".to_owned(), json!(999)),
        ]);
        assert!(caller_from_context(Some(&stale), now).is_err(), "a cached answer past exp is refused");
        let fresh = HashMap::from([
            ("sub".to_owned(), json!("alice")),
            ("acl".to_owned(), json!(r#"{"organizations":[]}"#)),
            ("exp".to_owned(), json!(2000)),
        ]);
        assert_eq!(caller_from_context(Some(&fresh), now).map(|c| c.subject).ok().as_deref(), Some("alice"));
    }

    #[test]
    fn pem_blocks_of_any_kind_are_split() {
        let text = "junk\n-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n-----BEGIN RSA PUBLIC KEY-----\nBBB\n-----END RSA PUBLIC KEY-----";
        let blocks = pem_blocks(text);
        assert_eq!(blocks.len(), 2);
        assert!(
            blocks[1].starts_with("-----BEGIN RSA PUBLIC KEY-----")
                && blocks[1].ends_with("-----END RSA PUBLIC KEY-----")
        );
    }

    #[test]
    fn no_keys_is_a_configuration_error() {
        assert!(Verifier::new("", "iss", "aud").is_err());
    }
}
