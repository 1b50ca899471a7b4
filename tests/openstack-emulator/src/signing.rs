//! Signs global images as an operator does for a region with `image.selector.signingKey`:
//! `unikorn:digest` = base64 of the ASN.1 ECDSA P-256 signature of SHA-256(image id), with the
//! test key pair's private half (`tests/fixtures/signing`).

use base64::Engine as _;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::DecodePrivateKey;
use sha2::Digest as _;

use crate::model::Image;

const PRIVATE_KEY: &str = include_str!("../../fixtures/signing/private.pem");
/// The public half, for a region document that checks what the emulator signs.
pub const PUBLIC_KEY: &str = include_str!("../../fixtures/signing/public.pem");

pub const DIGEST: &str = "unikorn:digest";
const ORGANIZATION: &str = "unikorn:organization:id";

/// The signature of `id`, as `unikorn:digest` carries it.
pub fn digest(id: &str) -> Option<String> {
    let key = SigningKey::from_pkcs8_pem(PRIVATE_KEY).ok()?;
    let signature: Signature = key.sign_prehash(&sha2::Sha256::digest(id.as_bytes())).ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes()))
}

/// Signs a global image that carries no digest yet (one given a digest keeps it, however wrong:
/// that is how a test offers an image whose signature fails).
pub fn sign(image: &mut Image) {
    if image.properties.contains_key(DIGEST) || image.properties.contains_key(ORGANIZATION) {
        return;
    }
    if let Some(digest) = digest(&image.id) {
        image.properties.insert(DIGEST.into(), digest);
    }
}
