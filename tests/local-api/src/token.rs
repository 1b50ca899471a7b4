//! Signing tokens for the local stack and the tests, with the development keys in
//! `tests/fixtures/jwt/` (never trusted by a deployed stack).

use std::path::PathBuf;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

pub const ISSUER: &str = "https://identity.local";
pub const AUDIENCE: &str = "region-servers";

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/jwt")
}

fn read(name: &str) -> Result<String, String> {
    std::fs::read_to_string(fixtures().join(name)).map_err(|e| format!("cannot read {name}: {e}"))
}

/// Public keys the local API trusts (ES256 and RS256).
pub fn trusted_public_keys() -> Result<String, String> {
    Ok(format!("{}\n{}", read("dev-es256.pub.pem")?, read("dev-rs256.pub.pem")?))
}

/// Which development key signs a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    Es256,
    Rs256,
    Untrusted,
}

/// A token for `subject` carrying `acl`, valid for `ttl_seconds` (negative: already expired).
pub fn mint(signer: Signer, subject: &str, acl: &Value, ttl_seconds: i64) -> Result<String, String> {
    mint_claims(
        signer,
        json!({
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "iat": chrono::Utc::now().timestamp(),
            "exp": chrono::Utc::now().timestamp() + ttl_seconds,
            "acl": acl,
        }),
    )
}

pub fn mint_claims(signer: Signer, claims: Value) -> Result<String, String> {
    let (alg, key) = match signer {
        Signer::Es256 => (Algorithm::ES256, EncodingKey::from_ec_pem(read("dev-es256.pem")?.as_bytes())),
        Signer::Rs256 => (Algorithm::RS256, EncodingKey::from_rsa_pem(read("dev-rs256.pem")?.as_bytes())),
        Signer::Untrusted => (Algorithm::ES256, EncodingKey::from_ec_pem(read("untrusted-es256.pem")?.as_bytes())),
    };
    let key = key.map_err(|e| format!("bad development key: {e}"))?;
    jsonwebtoken::encode(&Header::new(alg), &claims, &key).map_err(|e| format!("cannot sign: {e}"))
}
