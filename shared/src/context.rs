//! Building the dependencies once per warm container, from the environment.
//!
//! The region document comes from `REGIONS` (or `REGIONS_FILE`); each OpenStack region's
//! credential from the Secrets Manager secret the document names, and the key that seals SSH
//! private keys from `KEY_ENCRYPTION_KEY_SECRET` (locally `KEY_ENCRYPTION_KEY`), read once at cold
//! start (`SECRETS_ENDPOINT` points the client at moto locally). Functions that never call the
//! provider ([`store_deps`]) read the document but no secret, and link neither the provider
//! adapter nor the Secrets Manager client.

use std::sync::Arc;
use std::time::Duration;

use crate::aws::Sdk;
use crate::clock::{RandomIds, SystemClock};
use crate::crash::CrashPoints;
use crate::error::{Error, Result};
use crate::fairuse::{Limiter, Limits};
use crate::identity::allocations::{Allocations, NoAllocations};
use crate::identity::authenticate::Authenticator;
use crate::identity::cache::{NoSharedCache, SharedCache};
use crate::identity::client::{HttpIdentity, IdentityConfig};
use crate::provider::openstack::{OpenStackConfig, OpenStackProvider};
use crate::provider::NoProvider;
use crate::regions::{RegionCredential, Regions};
use crate::sealing::Sealer;
use crate::store::dynamodb::DynamoStore;
use crate::usecase::{Deps, Timing};

/// What a function that never calls the provider runs on (list, networks, SSH CAs).
pub type StoreDeps = Deps<DynamoStore>;
/// What a function that calls the provider runs on.
pub type CloudDeps = Deps<DynamoStore, OpenStackProvider>;

/// Whether a provider-calling function seals or opens SSH private keys (and so reads that key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    Sealing,
    None,
}

/// What a provider-calling function needs at init.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    pub keys: Keys,
    /// Every request calls the provider: take the identities' tokens during init, which runs on a
    /// boosted CPU before any request waits (a function that usually answers from the table, like
    /// get, leaves them to the first request that needs one).
    pub warm_provider: bool,
    /// Read each Kubernetes region's kubeconfig (only the function that shows a region's detail).
    pub kubeconfigs: bool,
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

/// The provider warm-up takes tokens for at most this many identities, within [`WARM_BUDGET`];
/// others authenticate on first use.
pub const WARM_IDENTITIES: usize = 16;
pub const WARM_BUDGET: Duration = Duration::from_secs(2);

async fn warm_provider(deps: &CloudDeps) {
    let creds: Vec<_> =
        deps.regions.all().take(WARM_IDENTITIES).filter_map(|r| deps.regions.project_credential(&r.id).ok()).collect();
    deps.provider.warm(&creds, WARM_BUDGET).await;
}

/// Every Kubernetes region's kubeconfig, from the secret the region document names (only the
/// function that shows a region's detail reads them).
pub async fn with_kubeconfigs(regions: Regions, client: &aws_sdk_secretsmanager::Client) -> Result<Regions> {
    let mut regions = regions;
    for (region, secret) in regions.kubeconfig_secrets() {
        regions = regions.with_kubeconfig(&region, &read_secret(client, &secret).await?);
    }
    Ok(regions)
}

/// Every OpenStack region's credential, from the secret the region document names.
pub async fn with_credentials(regions: Regions, client: &aws_sdk_secretsmanager::Client) -> Result<Regions> {
    let mut regions = regions;
    for (region, secret) in regions.credential_secrets() {
        let credential = RegionCredential::parse(&secret, &read_secret(client, &secret).await?)?;
        regions = regions.with_credential(&region, credential);
    }
    Ok(regions)
}

/// `GRACE_SECONDS`: how long a record may still be acted on by the function that wrote it (default
/// 300; it must exceed every function's timeout); `RESCHEDULE_BACKOFF_SECONDS`: how long the cleanup
/// function waits before placing again a server the provider had no capacity for (default 30,
/// doubled for each attempt made); `FOLLOW_UP_SECONDS`: when set, how long after a server intent
/// is written a worker follows it up (longer than the function runs: its timeout and a margin).
pub fn timing_from_env() -> Result<Timing> {
    let seconds = |name: &str| -> Result<Option<chrono::Duration>> {
        match std::env::var(name) {
            Ok(v) => v
                .parse::<i64>()
                .ok()
                .filter(|s| (0..=86_400).contains(s))
                .map(|s| Some(chrono::Duration::seconds(s)))
                .ok_or_else(|| Error::internal(format!("{name} is not a whole number of seconds (0 to 86400)"))),
            Err(_) => Ok(None),
        }
    };
    let defaults = Timing::default();
    Ok(Timing {
        grace: seconds("GRACE_SECONDS")?.unwrap_or(defaults.grace),
        reschedule_backoff: seconds("RESCHEDULE_BACKOFF_SECONDS")?.unwrap_or(defaults.reschedule_backoff),
        follow_up: seconds("FOLLOW_UP_SECONDS")?,
        slice_lease: seconds("SLICE_LEASE_SECONDS")?.unwrap_or(defaults.slice_lease),
        ..defaults
    })
}

/// The event bus of `EVENT_BUS_NAME` (required where events are published), through
/// `EVENTS_ENDPOINT` (optional: moto serves EventBridge locally).
pub fn event_bus_from_env(sdk: &Sdk) -> Result<crate::events::eventbridge::EventBridgeBus> {
    let bus = std::env::var("EVENT_BUS_NAME").map_err(|_| Error::internal("EVENT_BUS_NAME is not set"))?;
    let client = sdk.eventbridge(std::env::var("EVENTS_ENDPOINT").ok().as_deref());
    Ok(crate::events::eventbridge::EventBridgeBus::new(client, bus))
}

/// The table of `TABLE_NAME` (required), through `DYNAMODB_ENDPOINT` (optional, for moto).
pub fn store_from_env(sdk: &Sdk) -> Result<DynamoStore> {
    let table = std::env::var("TABLE_NAME").map_err(|_| Error::internal("TABLE_NAME is not set"))?;
    let client = sdk.dynamodb(std::env::var("DYNAMODB_ENDPOINT").ok().as_deref());
    Ok(DynamoStore::new(client, table))
}

/// [`store_from_env`] and `GRACE_SECONDS`; the table's connection is opened during init.
pub async fn store_deps() -> Result<StoreDeps> {
    store_deps_on(store_from_env(&Sdk::from_env()?)?).await
}

/// The fair-use buckets in the table (`RATE_LIMIT_*`, see [`Limits::from_env`]); `FAIR_USE=off`
/// turns them off (a deployment behind a gateway that meters on its own).
pub fn limiter_from_env(store: &Arc<DynamoStore>) -> Result<Limiter> {
    if std::env::var("FAIR_USE").is_ok_and(|v| v == "off") {
        return Ok(Limiter::off());
    }
    Ok(Limiter::new(store.clone(), Limits::from_env()?, Arc::new(SystemClock)))
}

/// The work queue at `WORK_QUEUE_URL` (SQS; `SQS_ENDPOINT` names another endpoint, moto's
/// locally). Without it the work is held in the process: the cleanup function finds what is left.
pub fn work_from_env() -> Result<Arc<dyn crate::work::WorkQueue>> {
    let Ok(url) = std::env::var("WORK_QUEUE_URL") else {
        return Ok(Arc::new(crate::work::HeldWork::default()));
    };
    let sdk = Sdk::from_env()?;
    let client = sdk.sqs(std::env::var("SQS_ENDPOINT").ok().as_deref());
    Ok(Arc::new(sqs_queue_from_env(client, url)))
}

/// The work queue at `url` with the dead-letter queue at `WORK_DEAD_LETTER_QUEUE_URL`, if set.
pub fn sqs_queue_from_env(client: aws_sdk_sqs::Client, url: String) -> crate::work::sqs::SqsQueue {
    let dead_letters = std::env::var("WORK_DEAD_LETTER_QUEUE_URL").ok().filter(|u| !u.is_empty());
    crate::work::sqs::SqsQueue::new(client, url).with_dead_letters(dead_letters)
}

pub async fn store_deps_on(store: DynamoStore) -> Result<StoreDeps> {
    let timing = timing_from_env()?;
    store.warm().await;
    let store = Arc::new(store);
    Ok(Deps {
        limiter: Arc::new(limiter_from_env(&store)?),
        store,
        provider: Arc::new(NoProvider),
        regions: Arc::new(Regions::from_env()?),
        clock: Arc::new(SystemClock),
        ids: Arc::new(RandomIds),
        sealer: None,
        timing,
        crash: CrashPoints::default(),
        catalog: Default::default(),
        work: work_from_env()?,
        allocations: Arc::new(NoAllocations),
    })
}

/// What [`store_deps`] reads, plus `PROVIDER_TIMEOUT_MS` (default 10000), the regions'
/// credentials and, with [`Keys::Sealing`], the key that seals SSH private keys.
pub async fn cloud_deps(needs: Needs) -> Result<CloudDeps> {
    let sdk = Sdk::from_env()?;
    cloud_deps_on(&sdk, store_from_env(&sdk)?, needs).await
}

pub async fn cloud_deps_on(sdk: &Sdk, store: DynamoStore, needs: Needs) -> Result<CloudDeps> {
    let timing = timing_from_env()?;
    store.warm().await;
    let keys = needs.keys;
    let timeout_ms = match std::env::var("PROVIDER_TIMEOUT_MS") {
        Ok(v) => v.parse::<u64>().map_err(|_| Error::internal("PROVIDER_TIMEOUT_MS is not a number"))?,
        Err(_) => 10_000,
    };
    let provider = OpenStackProvider::new(OpenStackConfig {
        timeout: Duration::from_millis(timeout_ms),
        ..OpenStackConfig::default()
    })?;
    let secrets = sdk.secrets_manager(std::env::var("SECRETS_ENDPOINT").ok().as_deref());
    let mut regions = with_credentials(Regions::from_env()?, &secrets).await?;
    if needs.kubeconfigs {
        regions = with_kubeconfigs(regions, &secrets).await?;
    }
    let sealer = match keys {
        Keys::Sealing => Some(sealer_from_env(sdk).await?),
        Keys::None => None,
    };
    let store = Arc::new(store);
    let deps = Deps {
        limiter: Arc::new(limiter_from_env(&store)?),
        store,
        provider: Arc::new(provider),
        regions: Arc::new(regions),
        clock: Arc::new(SystemClock),
        ids: Arc::new(RandomIds),
        sealer: sealer.map(Arc::new),
        timing,
        crash: CrashPoints::default(),
        catalog: Default::default(),
        work: work_from_env()?,
        allocations: allocations_from_env(sdk).await?,
    };
    if needs.warm_provider {
        warm_provider(&deps).await;
    }
    Ok(deps)
}

/// The key that seals secrets at rest: the Secrets Manager secret `KEY_ENCRYPTION_KEY_SECRET`
/// names, else `KEY_ENCRYPTION_KEY` (locally).
pub async fn sealer_from_env(sdk: &Sdk) -> Result<Sealer> {
    match std::env::var("KEY_ENCRYPTION_KEY_SECRET") {
        Ok(name) => {
            let secrets = sdk.secrets_manager(std::env::var("SECRETS_ENDPOINT").ok().as_deref());
            Sealer::from_base64(&read_secret(&secrets, &name).await?)
        }
        Err(_) => Sealer::from_env(),
    }
}

/// Identity at `IDENTITY_URL` as the platform reaches it (see [`authenticator_from_env`]).
async fn identity_config_from_env(sdk: &Sdk, url: String) -> Result<IdentityConfig> {
    let timeout = match std::env::var("IDENTITY_TIMEOUT_MS") {
        Ok(v) => Some(Duration::from_millis(
            v.parse::<u64>().map_err(|_| Error::internal("IDENTITY_TIMEOUT_MS is not a number"))?,
        )),
        Err(_) => None,
    };
    let file = |name: &str| -> Result<Option<String>> {
        match std::env::var(name) {
            Ok(path) => std::fs::read_to_string(&path)
                .map(Some)
                .map_err(|e| Error::internal(format!("{name}: cannot read {path}: {e}"))),
            Err(_) => Ok(None),
        }
    };
    let client_identity_pem = match std::env::var("IDENTITY_CLIENT_CERT_SECRET") {
        Ok(name) => {
            Some(read_secret(&sdk.secrets_manager(std::env::var("SECRETS_ENDPOINT").ok().as_deref()), &name).await?)
        }
        Err(_) => file("IDENTITY_CLIENT_CERT_FILE")?,
    };
    Ok(IdentityConfig { url, timeout, client_identity_pem, ca_pem: file("IDENTITY_CA_FILE")? })
}

/// Identity's quota allocations, where the function is given `IDENTITY_URL` (those that make or
/// remove networks); elsewhere none.
pub async fn allocations_from_env(sdk: &Sdk) -> Result<Arc<dyn Allocations>> {
    match std::env::var("IDENTITY_URL") {
        Ok(url) => Ok(Arc::new(HttpIdentity::new(&identity_config_from_env(sdk, url).await?)?)),
        Err(_) => Ok(Arc::new(NoAllocations)),
    }
}

/// The authenticator the authorizer (and the local API) runs on: identity at `IDENTITY_URL`
/// (`IDENTITY_TIMEOUT_MS`, at most 2000), the cache lifetimes and sizes of
/// [`Authenticator::settings_from_env`], the platform's client certificate for mutual TLS to identity
/// (`IDENTITY_CLIENT_CERT_SECRET`: a Secrets Manager secret holding the PEM certificate and key;
/// locally `IDENTITY_CLIENT_CERT_FILE`), a private CA (`IDENTITY_CA_FILE`), and the cache shared by
/// every container in the table of `TABLE_NAME` (unless `IDENTITY_SHARED_CACHE=off`).
pub async fn authenticator_from_env(sdk: &Sdk) -> Result<Authenticator> {
    let url = std::env::var("IDENTITY_URL").map_err(|_| Error::internal("IDENTITY_URL is not set"))?;
    let config = identity_config_from_env(sdk, url).await?;
    let identity = HttpIdentity::new(&config)?;
    let shared: Arc<dyn SharedCache> = match std::env::var("IDENTITY_SHARED_CACHE").as_deref() {
        Ok("off") => Arc::new(NoSharedCache),
        _ => {
            let store = store_from_env(sdk)?;
            store.warm().await;
            Arc::new(store)
        }
    };
    Ok(Authenticator::new(Arc::new(identity), shared, Authenticator::settings_from_env()?))
}
