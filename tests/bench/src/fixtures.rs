//! The bench's world: a local stack (moto, the emulator, the table), the servers each function is
//! measured on, and the API Gateway events that reach them, as the deployed API would send them.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use integration_tests::stack::{
    admin_acl, authenticator, dynamodb_endpoint, org_acl, regions_json, store_region_secret, GatewayOptions, Group,
    Stack, ALL, ORG, REGION, TEST_KEY_ENCRYPTION_KEY,
};
use serde_json::{json, Value};
use shared::context::Needs;
use shared::fairuse::{Limits, Rate, MAX_BURST, MAX_PER_SECOND};
use shared::identity::authenticate::{Authenticator, CacheSettings};

const TOKENS: &str = "POST /identity/v3/auth/tokens";

/// Functions measured on servers they use up (one per event).
const POOLED: &[&str] = &["delete", "power", "snapshot"];

pub struct Op {
    pub name: &'static str,
    pub function: &'static str,
    pub store_only: bool,
}

const fn op(name: &'static str, function: &'static str, store_only: bool) -> Op {
    Op { name, function, store_only }
}

pub const OPERATIONS: &[Op] = &[
    op("create", "create", false),
    op("create (security group, source prefix, public IP)", "create", false),
    op("get", "get", false),
    op("list page", "list", true),
    op("update (tags)", "update", false),
    op("update (networking changed, public IP on)", "update", false),
    op("delete", "delete", false),
    op("delete (with a public IP)", "delete", false),
    op("start", "power", false),
    op("stop", "power", false),
    op("softreboot", "power", false),
    op("hardreboot", "power", false),
    op("console output", "console", false),
    op("console session", "console", false),
    op("ssh key", "console", false),
    op("snapshot", "snapshot", false),
];

/// What each provider-calling function's init builds, from its own crate.
pub fn needs(function: &str) -> Needs {
    match function {
        "create" => create::NEEDS,
        "get" => get::NEEDS,
        "update" => update::NEEDS,
        "delete" => delete::NEEDS,
        "power" => power::NEEDS,
        "console" => console::NEEDS,
        "snapshot" => snapshot::NEEDS,
        "regions" => regions::NEEDS,
        other => panic!("{other} does not call the provider"),
    }
}

pub struct Fixtures {
    pub stack: Stack,
    /// The environment each function process gets (what the template sets, pointed at the stack).
    pub env: BTreeMap<String, String>,
    pub sdk: shared::aws::Sdk,
    authenticator: Authenticator,
    pub admin: String,
    /// Who the measured requests come from: a member of the servers' organization with every role
    /// there, as most of Unikorn's callers are (the admin, in two organizations, makes fixtures).
    pub member: String,
    /// A settled, running server: what get, update and console read.
    pub settled: String,
    /// A provisioned security group on the stack's network: what networked servers name.
    pub group: Group,
    pools: Mutex<HashMap<(&'static str, usize), VecDeque<String>>>,
    counter: Mutex<usize>,
}

/// The bench's own fair-use limits, the widest a deployment may set: every request is admitted
/// (and pays for its admission, as in production), none is refused, so each row measures its
/// function and not the limiter's 429s.
pub fn bench_limits() -> Limits {
    let widest = Rate { burst: MAX_BURST, per_second: MAX_PER_SECOND };
    Limits { read: widest, mutation: widest }
}

impl Fixtures {
    /// A stack with `per_set` servers for each pooled function, in `sets` sets (now, before).
    pub async fn start(per_set: usize, sets: usize) -> Fixtures {
        let stack = Stack::start_with(GatewayOptions { limits: bench_limits(), ..GatewayOptions::default() }).await;
        let mut env = BTreeMap::new();
        for class in ["READ", "MUTATION"] {
            env.insert(format!("RATE_LIMIT_{class}_BURST"), MAX_BURST.to_string());
            env.insert(format!("RATE_LIMIT_{class}_PER_SECOND"), MAX_PER_SECOND.to_string());
        }
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
            env.insert(name.to_owned(), std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set")));
        }
        env.insert("TABLE_NAME".into(), stack.table.clone());
        env.insert("DYNAMODB_ENDPOINT".into(), dynamodb_endpoint());
        env.insert("REGIONS".into(), regions_json(&stack.emulator));
        env.insert("SECRETS_ENDPOINT".into(), dynamodb_endpoint());
        store_region_secret().await;
        env.insert("KEY_ENCRYPTION_KEY".into(), TEST_KEY_ENCRYPTION_KEY.into());
        env.insert("IDENTITY_URL".into(), stack.identity.url.clone());
        // The cleanup function publishes to the stack's bus in moto.
        stack.bus().await;
        env.insert("EVENT_BUS_NAME".into(), stack.bus_name());
        env.insert("EVENTS_ENDPOINT".into(), dynamodb_endpoint());
        // The in-process measurements build dependencies as the functions' init does, from here.
        for (name, value) in &env {
            std::env::set_var(name, value);
        }
        let authenticator = authenticator(&stack.identity.url, &stack.dynamo, &stack.table, CacheSettings::default());
        let admin = stack.token("admin", &admin_acl());
        let roles = [
            "region:servers",
            "region:networks:v2",
            "region:images",
            "region:sshcertificateauthorities:v2",
            "region:securitygroups:v2",
            "region:regions",
            "region:flavors",
            "region:externalnetworks",
        ];
        let member = stack.token("member", &org_acl(ORG, &roles.map(|r| (r, ALL))));
        let sdk = shared::aws::Sdk::from_env().unwrap_or_else(|e| panic!("{e}"));
        let settled = stack.settled_server("bench-settled").await;
        let group = stack.security_group(&stack.network_id, "bench-web").await;
        let fx = Fixtures {
            stack,
            env,
            sdk,
            authenticator,
            admin,
            member,
            settled,
            group,
            pools: Mutex::new(HashMap::new()),
            counter: Mutex::new(0),
        };
        for function in POOLED {
            for set in 0..sets {
                let mut pool = VecDeque::new();
                for _ in 0..per_set {
                    pool.push_back(fx.running_server().await);
                }
                fx.lock_pools().insert((function, set), pool);
            }
            eprintln!("bench: {} servers ready for {function}", per_set * sets);
        }
        fx
    }

    fn lock_pools(&self) -> std::sync::MutexGuard<'_, HashMap<(&'static str, usize), VecDeque<String>>> {
        self.pools.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn unique(&self, stem: &str) -> String {
        let mut n = self.counter.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        format!("{stem}-{n}")
    }

    async fn running_server(&self) -> String {
        self.stack.settled_server(&self.unique("bench")).await
    }

    /// A running server with every networking field set: a port with a group and a pair, a public IP.
    async fn networked_server(&self) -> String {
        let mut body = self.stack.server_body(&self.unique("bench-net"), &self.stack.network_id);
        body["spec"]["networking"] = networking(&self.group, true);
        let reply = self.stack.call("POST", "/api/v2/servers", Some(&self.admin), Some(&body)).await;
        assert_eq!(reply.status, 201, "create: {}", reply.body);
        reply.id()
    }

    async fn stopped_server(&self) -> String {
        let id = self.running_server().await;
        let reply = self.stack.call("POST", &format!("/api/v2/servers/{id}/stop"), Some(&self.admin), None).await;
        assert_eq!(reply.status, 202, "stop: {}", reply.body);
        for _ in 0..100 {
            let shown = self.stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&self.admin), None).await;
            if shown.body["status"]["powerState"] == "Stopped" {
                return id;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("server {id} did not stop");
    }

    /// The function's event for `method path` as the member, as API Gateway sends it.
    pub fn event(&self, method: &str, path: &str, body: Option<&Value>) -> String {
        self.event_with(method, path, "", &self.member, body)
    }

    pub fn event_with(&self, method: &str, path: &str, query: &str, token: &str, body: Option<&Value>) -> String {
        let (call, authorized) = self.api_call(method, path, query, token, body);
        let mut event = call.event;
        event["requestContext"]["authorizer"] = json!({ "lambda": authorized.context });
        event.to_string()
    }

    fn api_call(
        &self,
        method: &str,
        path: &str,
        query: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (local_api::ApiCall, lambda_http::aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerSimpleResponse) {
        let mut headers = BTreeMap::from([("authorization".to_owned(), format!("Bearer {token}"))]);
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        if body.is_some() {
            headers.insert("content-type".into(), "application/json".into());
        }
        let call = local_api::api_call(method, path, query, &headers, &bytes);
        let request = serde_json::from_value(call.authorizer_request.clone()).unwrap_or_else(|e| panic!("{e}"));
        // The events are built between measurements, outside any handler: blocking here is fine.
        let authorized = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(shared::http::authorize(&self.authenticator, &request))
        });
        assert!(authorized.is_authorized, "the bench's token is accepted");
        (call, authorized)
    }

    fn update_body(&self, i: usize) -> Value {
        json!({"metadata": {"name": "bench-settled", "tags": [{"name": "round", "value": i.to_string()}]},
               "spec": {"flavorId": openstack_emulator::seed::FLAVOR_SMALL, "imageId": openstack_emulator::seed::IMAGE_UBUNTU}})
    }

    fn take(&self, function: &'static str, set: usize) -> String {
        self.lock_pools()
            .get_mut(&(function, set))
            .and_then(VecDeque::pop_front)
            .unwrap_or_else(|| panic!("the {function} pool ran out"))
    }

    /// `count` events for a started function (set 0 for this build, 1 for the build before).
    pub fn events(&self, function: &str, set: usize, count: usize) -> Vec<String> {
        (0..count).map(|i| self.one_event(function, set, i)).collect()
    }

    fn one_event(&self, function: &str, set: usize, i: usize) -> String {
        let server = |suffix: &str| format!("/api/v2/servers/{}{suffix}", self.settled);
        match function {
            "hello-lambda" | "list" => self.event("GET", "/api/v2/servers", None),
            "authorizer" => {
                self.api_call("GET", "/api/v2/servers", "", &self.member, None).0.authorizer_request.to_string()
            }
            "cleanup" => std::fs::read_to_string(integration_tests::repo_root().join("events/scheduled/cleanup.json"))
                .unwrap_or_else(|e| panic!("{e}")),
            "get" => self.event("GET", &server(""), None),
            "networks" => self.event("GET", "/api/v2/networks", None),
            "sshcas" => self.event("GET", "/api/v2/sshcertificateauthorities", None),
            "regions" => self.event("GET", &format!("/api/v1/organizations/{ORG}/regions/{REGION}/flavors"), None),
            "console" => self.event("GET", &server("/consoleoutput"), None),
            "update" => self.event("PUT", &server(""), Some(&self.update_body(i))),
            "create" => {
                let body = self.stack.server_body(&self.unique("bench-create"), &self.stack.network_id);
                self.event("POST", "/api/v2/servers", Some(&body))
            }
            "delete" => self.event("DELETE", &format!("/api/v2/servers/{}", self.take("delete", set)), None),
            "power" => self.event("POST", &format!("/api/v2/servers/{}/stop", self.take("power", set)), None),
            "snapshot" => {
                let body = json!({"metadata": {"name": self.unique("bench-snap")}, "spec": {}});
                self.event("POST", &format!("/api/v2/servers/{}/snapshot", self.take("snapshot", set)), Some(&body))
            }
            other => panic!("no events for {other}"),
        }
    }

    /// Two events of one operation, on resources it may act on (fresh servers where it uses them up).
    pub async fn operation_events(&self, op: &Op) -> (String, String) {
        let mut pair = Vec::new();
        for i in 0..2 {
            let event = match op.name {
                "create" => self.one_event("create", 0, i),
                "get" => self.one_event("get", 0, i),
                "list page" => self.one_event("list", 0, i),
                "create (security group, source prefix, public IP)" => {
                    let mut body = self.stack.server_body(&self.unique("bench-create"), &self.stack.network_id);
                    body["spec"]["networking"] = networking(&self.group, true);
                    self.event("POST", "/api/v2/servers", Some(&body))
                }
                "update (tags)" => self.one_event("update", 0, 1000 + i),
                "update (networking changed, public IP on)" => {
                    let name = self.unique("bench");
                    let id = self.stack.settled_server(&name).await;
                    let mut body = self.update_body(i);
                    body["metadata"]["name"] = json!(name);
                    body["spec"]["networking"] = networking(&self.group, true);
                    self.event("PUT", &format!("/api/v2/servers/{id}"), Some(&body))
                }
                "delete (with a public IP)" => {
                    self.event("DELETE", &format!("/api/v2/servers/{}", self.networked_server().await), None)
                }
                "delete" => self.event("DELETE", &format!("/api/v2/servers/{}", self.running_server().await), None),
                "start" => self.event("POST", &format!("/api/v2/servers/{}/start", self.stopped_server().await), None),
                "stop" | "softreboot" | "hardreboot" => {
                    self.event("POST", &format!("/api/v2/servers/{}/{}", self.running_server().await, op.name), None)
                }
                "console output" => self.one_event("console", 0, i),
                "console session" => {
                    self.event("GET", &format!("/api/v2/servers/{}/consolesessions", self.settled), None)
                }
                "ssh key" => self.event("GET", &format!("/api/v2/servers/{}/sshkey", self.settled), None),
                "snapshot" => {
                    let body = json!({"metadata": {"name": self.unique("bench-snap")}, "spec": {}});
                    let id = self.running_server().await;
                    self.event("POST", &format!("/api/v2/servers/{id}/snapshot"), Some(&body))
                }
                other => panic!("no operation {other}"),
            };
            pair.push(event);
        }
        let second = pair.pop().unwrap_or_default();
        (pair.pop().unwrap_or_default(), second)
    }

    pub fn provider_counts(&self) -> BTreeMap<String, u64> {
        self.stack.emulator.counters()
    }

    /// Provider requests since `before`: "calls (tokens)". The emulator also counts each server
    /// action by name (`action os-stop`) beside its request; those are not requests.
    pub fn provider_since(&self, before: &BTreeMap<String, u64>) -> String {
        let now = self.provider_counts();
        let diff = |k: &String, v: &u64| v - before.get(k).copied().unwrap_or(0);
        let requests = now.iter().filter(|(k, _)| !k.starts_with("action "));
        let tokens: u64 = requests.clone().filter(|(k, _)| k.as_str() == TOKENS).map(|(k, v)| diff(k, v)).sum();
        let neutron: u64 = requests.clone().filter(|(k, _)| k.contains(" /network/")).map(|(k, v)| diff(k, v)).sum();
        let calls: u64 = requests.filter(|(k, _)| k.as_str() != TOKENS).map(|(k, v)| diff(k, v)).sum();
        format!("{calls} ({tokens}), Neutron {neutron}")
    }
}

/// The networking the bench's networked servers ask for: the bench's group, a source prefix and
/// (when asked) a public IP.
pub fn networking(group: &Group, public_ip: bool) -> Value {
    json!({"securityGroups": [group.id], "publicIP": public_ip, "allowedSourceAddresses": ["10.9.0.0/16"]})
}
