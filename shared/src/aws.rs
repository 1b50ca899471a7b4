//! AWS SDK clients, configured by hand: the region and credentials Lambda puts in the
//! environment, one HTTPS client (rustls with ring, the process's only TLS stack), bounded
//! timeouts. `aws-config`'s default chain (profile files, SSO, STS, IMDS, ECS) would add
//! megabytes to every function and work to every cold start, for sources a Lambda never uses.

use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{Credentials, Region, SharedCredentialsProvider, SharedHttpClient};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

use crate::error::{Error, Result};

/// A client of one SDK crate with the process's region, credentials, HTTPS client and timeouts
/// (each SDK has its own `Config` type, so the same lines are written once here).
macro_rules! client {
    ($sdk:ident, $from:expr, $endpoint:expr) => {{
        let mut config = $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .region($from.region.clone())
            .credentials_provider($from.credentials.clone())
            .http_client($from.http.clone())
            .timeout_config($from.timeouts.clone());
        config.set_endpoint_url($endpoint.map(str::to_owned));
        $sdk::Client::from_conf(config.build())
    }};
}

/// Region, credentials and endpoint of every SDK client of the process.
#[derive(Clone, Debug)]
pub struct Sdk {
    pub region: Region,
    pub credentials: SharedCredentialsProvider,
    pub http: SharedHttpClient,
    pub timeouts: TimeoutConfig,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Sdk {
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`) and the role's `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, as Lambda sets them for the container's
    /// lifetime.
    pub fn from_env() -> Result<Sdk> {
        let region = env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .ok_or_else(|| Error::internal("AWS_REGION is not set"))?;
        let key = env("AWS_ACCESS_KEY_ID").ok_or_else(|| Error::internal("AWS_ACCESS_KEY_ID is not set"))?;
        let secret = env("AWS_SECRET_ACCESS_KEY").ok_or_else(|| Error::internal("AWS_SECRET_ACCESS_KEY is not set"))?;
        let credentials = Credentials::new(key, secret, env("AWS_SESSION_TOKEN"), None, "environment");
        Ok(Sdk {
            region: Region::new(region),
            credentials: SharedCredentialsProvider::new(credentials),
            http: https_client(),
            timeouts: TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(2))
                .connect_timeout(Duration::from_secs(2))
                .build(),
        })
    }

    pub fn dynamodb(&self, endpoint: Option<&str>) -> aws_sdk_dynamodb::Client {
        client!(aws_sdk_dynamodb, self, endpoint)
    }

    pub fn secrets_manager(&self, endpoint: Option<&str>) -> aws_sdk_secretsmanager::Client {
        client!(aws_sdk_secretsmanager, self, endpoint)
    }

    pub fn eventbridge(&self, endpoint: Option<&str>) -> aws_sdk_eventbridge::Client {
        client!(aws_sdk_eventbridge, self, endpoint)
    }

    pub fn sqs(&self, endpoint: Option<&str>) -> aws_sdk_sqs::Client {
        client!(aws_sdk_sqs, self, endpoint)
    }
}

/// One HTTPS client per process, so every SDK client shares its connection pool.
fn https_client() -> SharedHttpClient {
    static CLIENT: OnceLock<SharedHttpClient> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
        })
        .clone()
}

/// Makes ring the process's rustls provider, for the clients that take the process default
/// (reqwest, towards the provider). Safe to call more than once.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
