//! Sealing secrets at rest (the identities' SSH private keys): AES-256-GCM with a key the
//! operator provides (`KEY_ENCRYPTION_KEY`, base64 of 32 bytes; from Secrets Manager in AWS).
//! The table's own encryption still applies; this keeps the key unreadable to anyone who can only
//! read the table.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;

use crate::error::{Error, Result};

#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<key redacted>)")
    }
}

impl Sealer {
    pub fn from_base64(key: &str) -> Result<Self> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key.trim())
            .map_err(|_| Error::internal("KEY_ENCRYPTION_KEY is not base64"))?;
        if bytes.len() != 32 {
            return Err(Error::internal("KEY_ENCRYPTION_KEY must be 32 bytes"));
        }
        Ok(Sealer { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)) })
    }

    /// A random key for functions that never seal or open anything (their deps still hold one).
    pub fn ephemeral() -> Self {
        Sealer { cipher: Aes256Gcm::new(&Aes256Gcm::generate_key(&mut OsRng)) }
    }

    pub fn from_env() -> Result<Self> {
        let key = std::env::var("KEY_ENCRYPTION_KEY").map_err(|_| Error::internal("KEY_ENCRYPTION_KEY is not set"))?;
        Sealer::from_base64(&key)
    }

    /// `base64(nonce || ciphertext)`; `context` is bound as associated data (the owner's id).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<String> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = aes_gcm::aead::Payload { msg: plaintext, aad: context.as_bytes() };
        let sealed = self.cipher.encrypt(&nonce, payload).map_err(|_| Error::internal("sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(base64::engine::general_purpose::STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| Error::internal("sealed value is not base64"))?;
        if bytes.len() < 12 {
            return Err(Error::internal("sealed value is truncated"));
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let payload = aes_gcm::aead::Payload { msg: ciphertext, aad: context.as_bytes() };
        self.cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| Error::internal("sealed value does not open with this key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(byte: u8) -> Sealer {
        Sealer::from_base64(&base64::engine::general_purpose::STANDARD.encode([byte; 32]))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn seals_and_opens_only_with_the_key_and_context() {
        let sealed = sealer(1).seal(b"secret", "identity-a").unwrap_or_default();
        assert!(!sealed.contains("secret"));
        assert_eq!(sealer(1).open(&sealed, "identity-a").ok().as_deref(), Some(&b"secret"[..]));
        assert!(sealer(2).open(&sealed, "identity-a").is_err(), "another key");
        assert!(sealer(1).open(&sealed, "identity-b").is_err(), "another owner");
        assert_ne!(sealer(1).seal(b"secret", "x").ok(), sealer(1).seal(b"secret", "x").ok(), "fresh nonce");
        assert!(Sealer::from_base64("c2hvcnQ=").is_err());
    }
}
