//! A whole stack per test: its own emulator, its own table in the shared moto, and the local API
//! in front of the real handlers. Tests talk to it over HTTP only, like a client would, and read
//! the table and the emulator counters to check what was stored and what the provider received.

mod acl;
mod events;
mod fair_use;
mod groups;
mod provisioned;
mod sweeps;
mod table;

pub use sweeps::SliceCatcher;

pub use acl::{admin_acl, org_acl, project_acl, ALL};
pub use groups::{ssh_rules, Group};

use std::sync::Arc;

use shared::events::eventbridge::EventBridgeBus;

use identity_emulator::IdentityEmulator;
use openstack_emulator::{seed, Emulator};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use shared::clock::{IdSource, RandomIds, SystemClock};
use shared::context::CloudDeps;
use shared::crash::CrashPoints;
use shared::identity::authenticate::{Authenticator, CacheSettings};
use shared::identity::client::{HttpIdentity, IdentityConfig};
use shared::provider::openstack::{OpenStackConfig, OpenStackProvider};
use shared::regions::{RegionCredential, Regions};
use shared::sealing::Sealer;
use shared::store::dynamodb::DynamoStore;
use shared::usecase::{Deps, Timing};

pub const ORG: &str = "0a1b2c3d-org-a";
pub const PROJECT: &str = "proj-a";
pub const PROJECT_B: &str = "proj-b";
pub const ORG_2: &str = "9f8e7d6c-org-b";
pub const PROJECT_C: &str = "proj-c";
pub const REGION: &str = "region-1";
/// The emulator's tenant network, which every test network record points at.
pub const PROVIDER_NETWORK: &str = seed::TENANT_NETWORK;
pub const NOVA_CREATE: &str = "POST /compute/v2.1/servers";
/// The path of Nova's server actions, as faults match it.
pub const NOVA_ACTIONS: &str = "/compute/v2.1/servers/*/action";
/// Seals SSH private keys in the tests (32 bytes, base64).
pub const TEST_KEY_ENCRYPTION_KEY: &str = "dGVzdC1vbmx5LWtleS1lbmNyeXB0aW9uLWtleS0zMmI=";

pub struct Stack {
    pub url: String,
    pub emulator: Emulator,
    /// Unikorn's identity, as the authorizer asks it.
    pub identity: IdentityEmulator,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub table: String,
    pub http: reqwest::Client,
    /// A v2 network in ORG/PROJECT, made through the API.
    pub network_id: String,
    pub deps: CloudDeps,
    /// The stack's event bus in moto and the queue its rule fills, made on first use.
    events: tokio::sync::OnceCell<(Arc<EventBridgeBus>, String)>,
    /// The gateway in front of the functions (a second local API shares it).
    gateway: local_api::Gateway,
    admin_token: std::sync::OnceLock<String>,
}

/// The moto endpoint `make test` started; tests refuse to run without one.
pub fn dynamodb_endpoint() -> String {
    std::env::var("DYNAMODB_ENDPOINT")
        .unwrap_or_else(|_| panic!("DYNAMODB_ENDPOINT is not set: run the tests with `make test`, which starts moto"))
}

/// The name of the secret holding the stack's region credential.
pub const REGION_SECRET: &str = "region-region-1";

/// The stack's region document, as `REGIONS` holds it: one OpenStack region on the emulator, its
/// images signed with the test key (`tests/fixtures/signing`).
pub fn regions_json(emulator: &Emulator) -> String {
    region_document(emulator, REGION)
}

/// A document of one OpenStack region `id` on the emulator, its credential in [`REGION_SECRET`].
pub fn region_document(emulator: &Emulator, id: &str) -> String {
    let key = std::fs::read_to_string(crate::repo_root().join("tests/fixtures/signing/public.pem"))
        .unwrap_or_else(|e| panic!("signing key: {e}"));
    json!({"regions": [{"id": id, "name": id, "description": "the emulator's demo region", "type": "openstack",
        "openstack": {"endpoint": emulator.auth_url(), "serviceAccountSecret": REGION_SECRET,
            "image": {"selector": {"signingKey": key}}}}]})
    .to_string()
}

/// The stack's region credential, as its secret holds it: the emulator's region user.
pub fn region_credential_json() -> String {
    json!({"domain-id": seed::DOMAIN_ID, "user-id": seed::REGION_USER_ID, "password": seed::REGION_PASSWORD,
        "project-id": seed::DEMO_PROJECT_ID})
    .to_string()
}

/// Stores the stack's region credential in moto's Secrets Manager under [`REGION_SECRET`], where a
/// function process started on the stack (`REGIONS`, `SECRETS_ENDPOINT`) reads it.
pub async fn store_region_secret() {
    let sdk = shared::aws::Sdk::from_env().unwrap_or_else(|e| panic!("{e}"));
    let client = sdk.secrets_manager(Some(&dynamodb_endpoint()));
    local_api::secrets::put(&client, REGION_SECRET, &region_credential_json()).await.unwrap_or_else(|e| panic!("{e}"));
}

/// The stack's regions, with the credential read.
pub fn regions(emulator: &Emulator) -> Regions {
    regions_in(emulator, REGION)
}

/// [`region_document`] with the credential read.
pub fn regions_in(emulator: &Emulator, id: &str) -> Regions {
    Regions::parse(&region_document(emulator, id))
        .and_then(|r| Ok(r.with_credential(id, RegionCredential::parse(REGION_SECRET, &region_credential_json())?)))
        .unwrap_or_else(|e| panic!("regions: {e}"))
}

/// A v1 identity and a network under it; `path` is the identity's URL path.
#[derive(Debug, Clone)]
pub struct V1Home {
    pub identity_id: String,
    pub network_id: String,
    pub path: String,
}

impl V1Home {
    pub fn servers(&self) -> String {
        format!("{}/servers", self.path)
    }

    pub fn server(&self, id: &str) -> String {
        format!("{}/servers/{id}", self.path)
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// A response as the tests read it: an empty body is null, any other must be JSON.
    pub async fn read(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap_or_default();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("non-JSON body: {}", String::from_utf8_lossy(&bytes)))
        };
        Reply { status, headers, body }
    }

    /// The `error` code of an error body; fails the test when the body is not in the error format.
    pub fn error_code(&self) -> &str {
        let description = self.body["error_description"].as_str().unwrap_or_default();
        assert!(!description.is_empty(), "error body lacks error_description: {}", self.body);
        self.body["error"].as_str().unwrap_or_else(|| panic!("not an error body: {}", self.body))
    }

    /// A resource read's `provisioningStatus`, `gone` for a 404.
    pub fn stage(&self) -> &str {
        if self.status == 404 {
            return "gone";
        }
        self.body["metadata"]["provisioningStatus"].as_str().unwrap_or_default()
    }

    pub fn description(&self) -> &str {
        self.body["error_description"].as_str().unwrap_or_default()
    }

    pub fn id(&self) -> String {
        self.body["metadata"]["id"].as_str().unwrap_or_else(|| panic!("no metadata.id in {}", self.body)).to_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
}

/// A DynamoDB client of the shared moto, built as the functions build theirs.
pub fn moto_client() -> aws_sdk_dynamodb::Client {
    let sdk = shared::aws::Sdk::from_env().unwrap_or_else(|e| panic!("{e} (the tests need moto's AWS_* settings)"));
    sdk.dynamodb(Some(&dynamodb_endpoint()))
}

/// The fair-use limits of test stacks: the deployment's defaults for reads, and room for the
/// suites' own bursts of mutations (the fair-use suite sets its own).
pub fn test_limits() -> shared::fairuse::Limits {
    let defaults = shared::fairuse::Limits::default();
    shared::fairuse::Limits { mutation: shared::fairuse::Rate { burst: 500, per_second: 50.0 }, ..defaults }
}

/// Dependencies on a fresh table in moto, with the given regions and id source.
pub async fn local_deps(regions: Regions, ids: Arc<dyn IdSource>) -> (CloudDeps, aws_sdk_dynamodb::Client, String) {
    let dynamo = moto_client();
    let table = format!("t-{}", uuid::Uuid::new_v4().simple());
    local_api::ensure_table(&dynamo, &table).await.unwrap_or_else(|e| panic!("table: {e}"));
    let provider = OpenStackProvider::new(OpenStackConfig {
        timeout: std::time::Duration::from_secs(2),
        ..OpenStackConfig::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let store = Arc::new(DynamoStore::new(dynamo.clone(), table.clone()));
    let limiter = shared::fairuse::Limiter::new(store.clone(), test_limits(), Arc::new(SystemClock));
    let deps = Deps {
        store,
        provider: Arc::new(provider),
        regions: Arc::new(regions),
        clock: Arc::new(SystemClock),
        ids,
        sealer: Some(Arc::new(Sealer::from_base64(TEST_KEY_ENCRYPTION_KEY).unwrap_or_else(|e| panic!("{e}")))),
        timing: Timing::default(),
        crash: CrashPoints::default(),
        limiter: Arc::new(limiter),
        catalog: Default::default(),
        work: Arc::new(shared::work::HeldWork::default()),
        allocations: Arc::new(shared::identity::allocations::NoAllocations),
    };
    (deps, dynamo, table)
}

/// How a test stack's gateway authenticates: the cache lifetimes, and whether it stands in for
/// Unikorn's ingress (client certificates from `Ssl-Client-Cert`) or for API Gateway.
#[derive(Debug, Clone, Copy)]
pub struct GatewayOptions {
    pub caches: CacheSettings,
    pub ingress_certificates: bool,
    /// The fair-use limits the stack's functions run with.
    pub limits: shared::fairuse::Limits,
    /// Server intents followed up by the worker this long after they are written (none: the
    /// sweeps alone settle them, as most tests drive them).
    pub follow_up: Option<chrono::Duration>,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            caches: CacheSettings::default(),
            ingress_certificates: true,
            limits: test_limits(),
            follow_up: None,
        }
    }
}

/// Identity's allocations at `identity_url`, as the networks function makes them.
pub fn allocations_at(identity_url: &str) -> Arc<dyn shared::identity::allocations::Allocations> {
    let config = IdentityConfig { url: identity_url.to_owned(), ..IdentityConfig::default() };
    Arc::new(HttpIdentity::new(&config).unwrap_or_else(|e| panic!("identity client: {e}")))
}

/// The authenticator the local API runs: identity at `identity_url`, the shared cache in `table`.
pub fn authenticator(
    identity_url: &str,
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    caches: CacheSettings,
) -> Authenticator {
    let config = IdentityConfig { url: identity_url.to_owned(), ..IdentityConfig::default() };
    let identity = HttpIdentity::new(&config).unwrap_or_else(|e| panic!("identity client: {e}"));
    Authenticator::new(Arc::new(identity), Arc::new(DynamoStore::new(dynamo.clone(), table.to_owned())), caches)
}

impl Stack {
    pub async fn start() -> Stack {
        Stack::start_with(GatewayOptions::default()).await
    }

    pub async fn start_with(options: GatewayOptions) -> Stack {
        Stack::start_on(regions, options).await
    }

    /// A stack whose regions `regions` makes on its emulator (the default: [`regions`]).
    pub async fn start_on(regions: impl FnOnce(&Emulator) -> Regions, options: GatewayOptions) -> Stack {
        let emulator = Emulator::start_demo().await.unwrap_or_else(|e| panic!("emulator: {e}"));
        let identity = IdentityEmulator::start_local().await.unwrap_or_else(|e| panic!("identity emulator: {e}"));
        let (mut deps, dynamo, table) = local_deps(regions(&emulator), Arc::new(RandomIds)).await;
        deps.allocations = allocations_at(&identity.url);
        deps.timing.follow_up = options.follow_up;
        // The worker's queue in moto, worked in the background as the worker Lambda's event source does.
        let endpoint = dynamodb_endpoint();
        let queues =
            local_api::work::ensure_queue(&endpoint, &format!("w-{table}")).await.unwrap_or_else(|e| panic!("{e}"));
        deps.work = Arc::new(local_api::work::sdk_queue(&endpoint, &queues).unwrap_or_else(|e| panic!("{e}")));
        local_api::work::start(deps.clone(), &endpoint, queues.clone());
        deps.limiter =
            Arc::new(shared::fairuse::Limiter::new(deps.store.clone(), options.limits, Arc::new(SystemClock)));
        let gateway = local_api::Gateway {
            authenticator: Arc::new(authenticator(&identity.url, &dynamo, &table, options.caches)),
            ingress_certificates: options.ingress_certificates,
        };
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let api = local_api::start(deps.clone(), gateway.clone(), addr).await.unwrap_or_else(|e| panic!("{e}"));
        let mut stack = Stack {
            url: api.url,
            emulator,
            identity,
            dynamo,
            table,
            http: reqwest::Client::new(),
            network_id: String::new(),
            deps,
            events: tokio::sync::OnceCell::new(),
            gateway,
            admin_token: std::sync::OnceLock::new(),
        };
        stack.network_id = stack.create_network(&stack.admin(), "net-a", ORG, PROJECT).await;
        stack
    }

    /// A token identity issued to `subject`, whose ACL identity holds as `acl`.
    pub fn token(&self, subject: &str, acl: &Value) -> String {
        self.identity.token(subject, acl)
    }

    /// The stack's administrator's token (one per stack, as a client keeps its token).
    pub fn admin(&self) -> String {
        self.admin_token.get_or_init(|| self.token("admin", &admin_acl())).clone()
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::RequestBuilder {
        let mut request =
            self.http.request(method.parse().unwrap_or(reqwest::Method::GET), format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request
    }

    /// Sends a request in the background (to race it against others); await the handle for its reply.
    pub fn spawn_call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> tokio::task::JoinHandle<Reply> {
        let request = self.request(method, path, token, body);
        let http = self.http.clone();
        tokio::spawn(async move {
            let response = http.execute(request.build().unwrap_or_else(|e| panic!("{e}"))).await;
            Reply::read(response.unwrap_or_else(|e| panic!("request failed: {e}"))).await
        })
    }

    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        self.send(self.request(method, path, token, body)).await
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        Reply::read(request.send().await.unwrap_or_else(|e| panic!("request failed: {e}"))).await
    }

    /// A network from Unikorn's body (a /24 and nameservers), as uni-ui and terraform make one;
    /// answers its id once the worker has provisioned it.
    pub async fn provisioned_network(&self, token: &str, name: &str, project: &str) -> String {
        let body = json!({"metadata": {"name": name}, "spec": {"organizationId": ORG, "projectId": project,
            "regionId": REGION, "prefix": "192.168.0.0/24", "dnsNameservers": ["8.8.8.8"]}});
        let reply = self.call("POST", "/api/v2/networks", Some(token), Some(&body)).await;
        assert_eq!(reply.status, 201, "network create: {}", reply.body);
        assert_eq!(reply.body["metadata"]["provisioningStatus"], "pending", "{}", reply.body);
        let id = reply.id();
        self.network_stage(&id, "provisioned").await;
        id
    }

    /// Waits (at most 20 s) until the network's `provisioningStatus` is `stage` (`gone`: a 404).
    pub async fn network_stage(&self, id: &str, stage: &str) -> Reply {
        self.until_stage(&format!("/api/v2/networks/{id}"), stage).await
    }

    pub async fn create_network(&self, token: &str, name: &str, org: &str, project: &str) -> String {
        let body = json!({"metadata": {"name": name}, "spec": {"organizationId": org, "projectId": project,
            "regionId": REGION, "providerNetworkId": PROVIDER_NETWORK}});
        let reply = self.call("POST", "/api/v2/networks", Some(token), Some(&body)).await;
        assert_eq!(reply.status, 201, "network create: {}", reply.body);
        reply.id()
    }

    /// A v1 identity in `project` (answered `pending`; the worker provisions it): its id and path.
    pub async fn v1_identity(&self, token: &str, org: &str, project: &str) -> (String, String) {
        let identities = format!("/api/v1/organizations/{org}/projects/{project}/identities");
        let body = json!({"metadata": {"name": "cluster"}, "spec": {"regionId": REGION}});
        let identity = self.call("POST", &identities, Some(token), Some(&body)).await;
        assert_eq!(identity.status, 201, "identity create: {}", identity.body);
        (identity.id(), format!("{identities}/{}", identity.id()))
    }

    /// A v1 identity in `project` and a v1 network under it: the path servers are created under.
    pub async fn v1_home(&self, token: &str, org: &str, project: &str) -> V1Home {
        let (identity, path) = self.v1_identity(token, org, project).await;
        let body = json!({"metadata": {"name": "net"}, "spec": {"prefix": "10.0.0.0/24",
            "dnsNameservers": ["8.8.8.8"], "providerNetworkId": PROVIDER_NETWORK}});
        let network = self.call("POST", &format!("{path}/networks"), Some(token), Some(&body)).await;
        assert_eq!(network.status, 201, "v1 network create: {}", network.body);
        V1Home { identity_id: identity, network_id: network.id(), path }
    }

    /// Creates a server named `name` on `home`'s network through the v1 route.
    pub async fn create_v1_server(&self, token: &str, home: &V1Home, name: &str) -> Reply {
        let body = self.v1_server_body(name, &home.network_id);
        self.call("POST", &home.servers(), Some(token), Some(&body)).await
    }

    pub fn v1_server_body(&self, name: &str, network: &str) -> Value {
        json!({"metadata": {"name": name}, "spec": {"flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU,
            "networks": [{"id": network}]}})
    }

    pub fn server_body(&self, name: &str, network: &str) -> Value {
        json!({"metadata": {"name": name}, "spec": {"networkId": network, "flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU}})
    }

    pub async fn create_server(&self, token: &str, name: &str) -> Reply {
        let body = self.server_body(name, &self.network_id);
        self.call("POST", "/api/v2/servers", Some(token), Some(&body)).await
    }

    /// A created server that has been read once, so its record knows the provider's state.
    pub async fn settled_server(&self, name: &str) -> String {
        let id = self.server(name).await;
        let shown = self.call("GET", &format!("/api/v2/servers/{id}"), Some(&self.admin()), None).await;
        assert_eq!(shown.body["status"]["powerState"], "Running", "{}", shown.body);
        id
    }

    /// The provider id of a server created through the API (by its metadata).
    pub fn provider_id(&self, id: &str) -> Option<String> {
        self.emulator
            .servers()
            .into_iter()
            .find(|(_, _, _, metadata)| metadata.get("unikorn:server:id").map(String::as_str) == Some(id))
            .map(|(pid, ..)| pid)
    }

    /// Creates a server as admin and returns its id (fails the test on anything but 201).
    pub async fn server(&self, name: &str) -> String {
        let reply = self.create_server(&self.admin(), name).await;
        assert_eq!(reply.status, 201, "create {name}: {}", reply.body);
        reply.id()
    }

    /// Every action of a server through the API (admin), following the `Link` pages, newest first.
    pub async fn actions(&self, id: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut path = format!("/api/v2/servers/{id}/actions?limit=2");
        loop {
            let reply = self.call("GET", &path, Some(&self.admin()), None).await;
            assert_eq!(reply.status, 200, "actions of {id}: {}", reply.body);
            all.extend(reply.body.as_array().cloned().unwrap_or_default());
            let Some(link) = reply.header("link") else { return all };
            let next = link.trim_start_matches('<').split('>').next().unwrap_or_default().to_owned();
            path = next;
        }
    }

    pub fn nova_creates(&self) -> u64 {
        self.emulator.counter(NOVA_CREATE)
    }

    /// Like [`Stack::call`], but a dropped connection (a crashed function) is `None`.
    pub async fn try_call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Option<Reply> {
        let response = self.request(method, path, token, body).send().await.ok()?;
        Some(Reply::read(response).await)
    }
}
