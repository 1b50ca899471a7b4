//! Building the dependencies once per warm container, from the environment.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{RandomIds, SystemClock};
use crate::error::{Error, Result};
use crate::identities::Identities;
use crate::provider::openstack::{OpenStackConfig, OpenStackProvider};
use crate::sealing::Sealer;
use crate::store::dynamodb::DynamoStore;
use crate::usecase::Deps;

/// `TABLE_NAME` (required), `DYNAMODB_ENDPOINT` (optional, for moto), `PROVIDER_TIMEOUT_MS`
/// (default 10000), the provider identities (`PROVIDER_IDENTITIES[_FILE]`) and the key that seals
/// SSH private keys (`KEY_ENCRYPTION_KEY`).
pub async fn deps_from_env() -> Result<Deps> {
    let table = std::env::var("TABLE_NAME").map_err(|_| Error::internal("TABLE_NAME is not set"))?;
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").ok();
    let timeout_ms = match std::env::var("PROVIDER_TIMEOUT_MS") {
        Ok(v) => v.parse::<u64>().map_err(|_| Error::internal("PROVIDER_TIMEOUT_MS is not a number"))?,
        Err(_) => 10_000,
    };
    let client = DynamoStore::client(endpoint.as_deref()).await;
    let provider = OpenStackProvider::new(OpenStackConfig {
        timeout: Duration::from_millis(timeout_ms),
        ..OpenStackConfig::default()
    })?;
    Ok(Deps {
        store: Arc::new(DynamoStore::new(client, table)),
        provider: Arc::new(provider),
        identities: Arc::new(Identities::from_env()?),
        clock: Arc::new(SystemClock),
        ids: Arc::new(RandomIds),
        sealer: Arc::new(Sealer::from_env()?),
    })
}
