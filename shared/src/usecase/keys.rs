//! Per-identity SSH key pairs: generated once (ed25519), the public half registered with Nova and
//! attached to servers at create, the private half sealed at rest.

use ssh_key::rand_core::OsRng;
use ssh_key::{Algorithm, LineEnding, PrivateKey};

use super::Context;
use super::{load_server, Deps};
use crate::domain::IdentityKeypair;
use crate::error::{Error, Result};
use crate::provider::{Keypairs, ProviderCredential, ProviderError};
use crate::rbac::Operation;
use crate::store::{KeypairStore, ServerStore, StoreError};

fn generate<S, P>(deps: &Deps<S, P>, identity_id: &str) -> Result<IdentityKeypair> {
    let private = PrivateKey::random(&mut OsRng, Algorithm::Ed25519)
        .map_err(|e| Error::internal(format!("cannot generate an SSH key: {e}")))?;
    let public_key = private
        .public_key()
        .to_openssh()
        .map_err(|e| Error::internal(format!("cannot encode an SSH public key: {e}")))?;
    let private_text =
        private.to_openssh(LineEnding::LF).map_err(|e| Error::internal(format!("cannot encode an SSH key: {e}")))?;
    Ok(IdentityKeypair {
        identity_id: identity_id.to_owned(),
        keypair_name: format!("unikorn-{identity_id}"),
        public_key,
        sealed_private_key: deps.sealer()?.seal(private_text.as_bytes(), identity_id)?,
        registered: false,
    })
}

/// The identity's key pair as recorded, generated on first use. Concurrent first uses agree on one
/// pair: only the writer that wins the conditional put keeps its key.
pub(crate) async fn stored_keypair<S: KeypairStore, P>(
    deps: &Deps<S, P>,
    identity_id: &str,
) -> Result<IdentityKeypair> {
    if let Some(k) = deps.store.get_keypair(identity_id).await? {
        return Ok(k);
    }
    let fresh = generate(deps, identity_id)?;
    match deps.store.create_keypair(&fresh).await {
        Ok(()) => Ok(fresh),
        Err(StoreError::Exists(..)) => deps
            .store
            .get_keypair(identity_id)
            .await?
            .ok_or_else(|| Error::internal("a key pair vanished after a conflicting create")),
        Err(e) => Err(e.into()),
    }
}

/// Gives Nova the public half under `name`, as `cred`'s user: a pair of that name is kept if it is
/// ours and replaced otherwise.
pub(crate) async fn register<S, P: Keypairs>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    name: &str,
    public_key: &str,
) -> Result<()> {
    match deps.provider.import_keypair(cred, name, public_key).await {
        Ok(_) => Ok(()),
        Err(ProviderError::Conflict { .. }) => {
            let existing = deps.provider.get_keypair(cred, name).await?;
            if existing.public_key.trim() != public_key.trim() {
                deps.provider.delete_keypair(cred, name).await?;
                deps.provider.import_keypair(cred, name, public_key).await?;
            }
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// The identity's key pair, generated and registered with Nova (as `cred`, the server's credential)
/// on first use.
pub(crate) async fn ensure_keypair<S: KeypairStore, P: Keypairs>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    identity_id: &str,
) -> Result<IdentityKeypair> {
    let keypair = stored_keypair(deps, identity_id).await?;
    if keypair.registered {
        return Ok(keypair);
    }
    register(deps, cred, &keypair.keypair_name, &keypair.public_key).await?;
    deps.store.mark_keypair_registered(identity_id).await?;
    Ok(IdentityKeypair { registered: true, ..keypair })
}

/// The private key of the server's identity (`region:servers` read).
pub async fn ssh_private_key<S: ServerStore + KeypairStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
) -> Result<String> {
    let record = load_server(deps, cx, id, Operation::Read).await?;
    if !record.has_identity_keypair() {
        return Err(Error::not_found(format!("server {id} was created without the identity key pair")));
    }
    let keypair = deps
        .store
        .get_keypair(&record.identity_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("no SSH key has been generated for server {id}")))?;
    let bytes = deps.sealer()?.open(&keypair.sealed_private_key, &keypair.identity_id)?;
    String::from_utf8(bytes).map_err(|_| Error::internal("the stored SSH key is not text"))
}
