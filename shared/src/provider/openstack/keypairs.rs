//! Nova key pairs.

use reqwest::Method;

use super::client::{to_value, OpenStackProvider, Service};
use super::wire::*;
use crate::provider::Result;
use crate::provider::{Keypair, ProviderCredential};
use crate::text::percent_encode as encode;

pub(super) async fn import_keypair(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    name: &str,
    public_key: &str,
) -> Result<Keypair> {
    let body = KeypairImportEnvelope {
        keypair: KeypairImport { name: name.into(), key_type: "ssh".into(), public_key: public_key.into() },
    };
    let what = format!("keypair {name}");
    let created: KeypairEnvelope =
        p.json(cred, Service::Compute, Method::POST, "/os-keypairs", Some(&to_value(&body)?), &what).await?;
    Ok(Keypair {
        name: created.keypair.name,
        public_key: created.keypair.public_key,
        fingerprint: created.keypair.fingerprint,
    })
}

pub(super) async fn get_keypair(p: &OpenStackProvider, cred: &ProviderCredential, name: &str) -> Result<Keypair> {
    let what = format!("keypair {name}");
    let path = format!("/os-keypairs/{}", encode(name));
    let found: KeypairEnvelope = p.json(cred, Service::Compute, Method::GET, &path, None, &what).await?;
    Ok(Keypair {
        name: found.keypair.name,
        public_key: found.keypair.public_key,
        fingerprint: found.keypair.fingerprint,
    })
}

pub(super) async fn delete_keypair(p: &OpenStackProvider, cred: &ProviderCredential, name: &str) -> Result<()> {
    let what = format!("keypair {name}");
    let path = format!("/os-keypairs/{}", encode(name));
    p.send(cred, Service::Compute, Method::DELETE, &path, None, &what).await.map(|_| ())
}
