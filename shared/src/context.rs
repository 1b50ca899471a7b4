//! Building the dependencies once per warm container, from the environment.
//!
//! In AWS the provider identities and the key that seals SSH private keys come from Secrets
//! Manager (`PROVIDER_IDENTITIES_SECRET`, `KEY_ENCRYPTION_KEY_SECRET`: secret names), read once
//! at cold start. Locally they come from `PROVIDER_IDENTITIES[_FILE]` and `KEY_ENCRYPTION_KEY`.
//! Functions that never call the provider ([`Access::StoreOnly`]) read neither.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{RandomIds, SystemClock};
use crate::crash::CrashPoints;
use crate::error::{Error, Result};
use crate::identities::Identities;
use crate::provider::openstack::{OpenStackConfig, OpenStackProvider};
use crate::sealing::Sealer;
use crate::store::dynamodb::DynamoStore;
use crate::usecase::{Deps, Timing};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Calls the cloud provider: needs the identities and the sealing key.
    Provider,
    /// Reads the table only (list).
    StoreOnly,
    /// Calls the provider but never opens SSH keys (cleanup): the identities, no sealing key.
    ProviderNoKeys,
}

pub(crate) fn aws_timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .operation_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(2))
        .build()
}

/// The value of a Secrets Manager secret (a string secret).
pub async fn read_secret(client: &aws_sdk_secretsmanager::Client, name: &str) -> Result<String> {
    let out = client.get_secret_value().secret_id(name).send().await.map_err(|e| {
        Error::internal(format!(
            "cannot read secret {name}: {}",
            aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
        ))
    })?;
    out.secret_string().map(str::to_owned).ok_or_else(|| Error::internal(format!("secret {name} holds no string")))
}

pub async fn secrets_client(endpoint: Option<&str>) -> aws_sdk_secretsmanager::Client {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(aws_timeouts());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    aws_sdk_secretsmanager::Client::new(&loader.load().await)
}

/// `GRACE_SECONDS`: how long a record may still be acted on by the function that wrote it (default
/// 300; it must exceed every function's timeout).
pub fn timing_from_env() -> Result<Timing> {
    match std::env::var("GRACE_SECONDS") {
        Ok(v) => v
            .parse::<i64>()
            .ok()
            .filter(|s| *s >= 0)
            .map(|s| Timing { grace: chrono::Duration::seconds(s) })
            .ok_or_else(|| Error::internal("GRACE_SECONDS is not a whole number of seconds")),
        Err(_) => Ok(Timing::default()),
    }
}

/// `TABLE_NAME` (required), `DYNAMODB_ENDPOINT` (optional, for moto), `PROVIDER_TIMEOUT_MS`
/// (default 10000), `GRACE_SECONDS`, and for [`Access::Provider`] the identities and the sealing key.
pub async fn deps_from_env(access: Access) -> Result<Deps> {
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
    let (identities, sealer) = match access {
        Access::StoreOnly => (Identities::default(), Sealer::ephemeral()),
        Access::ProviderNoKeys | Access::Provider => {
            let identities_secret = std::env::var("PROVIDER_IDENTITIES_SECRET").ok();
            // Only functions that open SSH keys read the sealing key.
            let sealing = access == Access::Provider;
            let key_secret = std::env::var("KEY_ENCRYPTION_KEY_SECRET").ok().filter(|_| sealing);
            let secrets = match (&identities_secret, &key_secret) {
                (None, None) => None,
                _ => Some(secrets_client(std::env::var("SECRETS_ENDPOINT").ok().as_deref()).await),
            };
            let identities = match (&secrets, &identities_secret) {
                (Some(client), Some(name)) => Identities::from_json(&read_secret(client, name).await?)?,
                _ => Identities::from_env()?,
            };
            let sealer = match (&secrets, &key_secret) {
                (Some(client), Some(name)) => Sealer::from_base64(&read_secret(client, name).await?)?,
                _ if sealing => Sealer::from_env()?,
                _ => Sealer::ephemeral(),
            };
            (identities, sealer)
        }
    };
    Ok(Deps {
        store: Arc::new(DynamoStore::new(client, table)),
        provider: Arc::new(provider),
        identities: Arc::new(identities),
        clock: Arc::new(SystemClock),
        ids: Arc::new(RandomIds),
        sealer: Arc::new(sealer),
        timing: timing_from_env()?,
        crash: CrashPoints::default(),
    })
}
