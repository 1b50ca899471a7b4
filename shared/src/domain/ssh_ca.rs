//! SSH certificate authorities: an OpenSSH user-certificate trust anchor a project registers, that
//! servers created with it trust for SSH logins.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ssh_key::authorized_keys::Entry;
use ssh_key::{Algorithm, EcdsaCurve, PublicKey};

use super::record::resource_record;
use crate::error::{Error, Result};

/// A CA public key, normalised to `<algorithm> <base64>` (no options, no comment). Only the key
/// types Unikorn accepts: ed25519, rsa, ecdsa-sha2-nistp256/384/521.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshPublicKey(String);

/// Key types refused by name (the parser may not know them, but the answer must say why).
const REFUSED_TYPES: &[&str] = &["ssh-dss", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"];

impl SshPublicKey {
    /// Unikorn's rules and messages (422 each).
    pub fn parse(value: &str) -> Result<Self> {
        let bad = |m: &str| Error::unprocessable(format!("public key {m}"));
        let lines: Vec<&str> = value.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
        let line = match lines.as_slice() {
            [] => return Err(bad("must be specified")),
            [one] => *one,
            _ => return Err(bad("must contain a single key")),
        };
        let entry = match Entry::from_str(line) {
            Ok(entry) => entry,
            Err(_) if line.split_whitespace().any(|t| REFUSED_TYPES.contains(&t)) => {
                return Err(bad("type is not supported"))
            }
            // ssh-key reads `options type key` (two spaces) as a key of type `options`: a key that
            // parses once the first word is dropped had options.
            Err(_) if line.split_once(' ').is_some_and(|(_, rest)| PublicKey::from_openssh(rest.trim()).is_ok()) => {
                return Err(bad("options are not supported"))
            }
            Err(_) => return Err(bad("must be a valid OpenSSH authorized key")),
        };
        if !entry.config_opts().is_empty() {
            return Err(bad("options are not supported"));
        }
        let key = entry.public_key();
        let supported = match key.algorithm() {
            Algorithm::Ed25519 | Algorithm::Rsa { .. } => true,
            Algorithm::Ecdsa { curve } => {
                matches!(curve, EcdsaCurve::NistP256 | EcdsaCurve::NistP384 | EcdsaCurve::NistP521)
            }
            _ => false,
        };
        if !supported {
            return Err(bad("type is not supported"));
        }
        let bare = PublicKey::new(key.key_data().clone(), "");
        let text = bare.to_openssh().map_err(|_| bad("must be a valid OpenSSH authorized key"))?;
        Ok(SshPublicKey(text.trim().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

resource_record! {
    pub struct SshCaRecord {
        pub public_key: SshPublicKey,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

    #[test]
    fn keys_are_normalised_and_refused_with_unikorns_messages() {
        let normal = SshPublicKey::parse(&format!("  {ED25519} ca@example\n")).map(|k| k.0);
        assert_eq!(normal.ok().as_deref(), Some(ED25519), "comment and whitespace dropped");
        let cases = [
            ("", "public key must be specified"),
            ("\n  \n", "public key must be specified"),
            ("not a key", "public key must be a valid OpenSSH authorized key"),
            ("ssh-ed25519 AAAA", "public key must be a valid OpenSSH authorized key"),
            (&format!("{ED25519}\n{ED25519}"), "public key must contain a single key"),
            (&format!("cert-authority {ED25519}"), "public key options are not supported"),
            (&format!("no-pty,from=\"10.0.0.1\" {ED25519} ca@example"), "public key options are not supported"),
            ("ssh-dss AAAAB3NzaC1kc3MAAACBAP1", "public key type is not supported"),
        ];
        for (input, message) in cases {
            let err = SshPublicKey::parse(input).expect_err(input);
            assert_eq!((err.status_and_code().0, err.to_string()), (422, message.to_owned()), "{input:?}");
        }
    }
}
