//! An OpenStack emulator: the Keystone v3, Nova v2.1, Glance v2 and Neutron v2.0 subset the product
//! uses, with Nova's server state machine, per-project scoping, Nova/Glance/Neutron error bodies, and a
//! control plane (`/_emulator/`) for seeding, fault and latency injection and request counters.
//!
//! Start it in-process with [`Emulator::start`] (tests) or as the `openstack-emulator` binary.

// Handlers short-circuit with a ready axum `Response` as the error; boxing it buys nothing here.
#![allow(clippy::result_large_err)]

mod actions;
mod common;
mod control;
mod glance;
mod keystone;
pub mod keystone_admin;
pub mod model;
pub mod neutron;
pub mod nova;
pub use nova::{ComputeQuota, NO_VALID_HOST};
pub mod seed;
pub mod signing;
pub mod state;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::routing::{get, post};
use axum::Router;
use emulator_support::{control_routes, handler, serve, Dropped};
use http_body_util_compat::collect_json;
use hyper::body::Incoming;
use tokio::net::TcpListener;

pub use model::{AppCredential, Flavor, Image, User};
pub use state::{Delays, Fault, RecordedRequest};

use common::Ctx;
use state::{route_key, Shared};

mod http_body_util_compat {
    use axum::body::{Body, Bytes};

    /// Buffers a body (bounded) so it can be recorded and replayed to the router.
    pub async fn collect_json(body: Body) -> Result<(Bytes, Option<serde_json::Value>), axum::Error> {
        let bytes = axum::body::to_bytes(body, 8 * 1024 * 1024).await?;
        let json = serde_json::from_slice(&bytes).ok();
        Ok((bytes, json))
    }
}

/// A running emulator. Dropping the handle does not stop it; it lives as long as the runtime.
#[derive(Clone)]
pub struct Emulator {
    pub url: String,
    shared: Shared,
}

impl Emulator {
    /// Binds `addr` (use port 0 for an ephemeral port) and serves in the background.
    pub async fn start(addr: SocketAddr) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(addr).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Shared::default();
        let ctx = Ctx { shared: shared.clone(), base_url: url.clone() };
        tokio::spawn(serve(listener, handler(router(ctx.clone()), ctx, handle)));
        Ok(Emulator { url, shared })
    }

    /// Starts on an ephemeral loopback port with the demo region seeded.
    pub async fn start_demo() -> std::io::Result<Emulator> {
        let emulator = Emulator::start(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        emulator.seed_demo();
        Ok(emulator)
    }

    pub fn auth_url(&self) -> String {
        format!("{}/identity/v3", self.url)
    }

    pub fn seed_demo(&self) {
        let mut state = self.shared.lock();
        for c in seed::credentials() {
            state.credentials.insert(c.id.clone(), c);
        }
        for u in seed::users() {
            state.users.insert(u.id.clone(), u);
        }
        for i in seed::images() {
            state.images.insert(i.id.clone(), i);
        }
        for f in seed::flavors() {
            state.flavors.insert(f.id.clone(), f);
        }
        seed::network(&mut state.net);
    }

    /// Adds an image; a global one without a digest is signed (see [`signing::sign`]).
    pub fn add_image(&self, mut image: Image) {
        signing::sign(&mut image);
        self.shared.lock().images.insert(image.id.clone(), image);
    }

    pub fn add_flavor(&self, flavor: Flavor) {
        self.shared.lock().flavors.insert(flavor.id.clone(), flavor);
    }

    /// A Keystone user with a password and a role in each of `projects`.
    pub fn add_user(&self, user: User) {
        self.shared.lock().users.insert(user.id.clone(), user);
    }

    /// A project someone else made (another deployment sharing the cloud).
    pub fn add_project(&self, project: keystone_admin::Project) {
        self.shared.lock().projects.insert(project.id.clone(), project);
    }

    pub fn add_credential(&self, credential: AppCredential) {
        self.shared.lock().credentials.insert(credential.id.clone(), credential);
    }

    /// Gives `user` the `admin` role on `project`: its tokens there list every project's objects.
    pub fn grant_admin(&self, project: &str, user: &str) {
        self.shared.lock().assignments.insert((project.to_owned(), user.to_owned(), "admin-role".to_owned()));
    }

    pub fn inject(&self, fault: Fault) {
        self.shared.lock().log.faults.push(fault);
    }

    /// Forgets every injected fault not yet used up.
    pub fn clear_faults(&self) {
        self.shared.lock().log.faults.clear();
    }

    /// A project's compute quota (instances, cores, ram), as an operator sets it.
    pub fn set_quota(&self, project: &str, quota: nova::ComputeQuota) {
        self.shared.lock().quotas.insert(project.to_owned(), quota);
    }

    /// The next `n` creates find no valid host and land in ERROR.
    pub fn fail_next_creates(&self, n: u32) {
        self.shared.lock().no_valid_host = n;
    }

    pub fn set_delays(&self, delays: Delays) {
        self.shared.lock().delays = delays;
    }

    /// Requests served per route key (`"POST /compute/v2.1/servers"`) and per server action
    /// (`"action os-start"`).
    pub fn counter(&self, key: &str) -> u64 {
        self.shared.lock().log.counter(key)
    }

    pub fn counters(&self) -> std::collections::BTreeMap<String, u64> {
        self.shared.lock().log.counters.clone()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().log.requests.clone()
    }

    pub fn expire_tokens(&self) {
        self.shared.lock().expire_tokens();
    }

    /// Every server in every project: (id, project id, status, metadata).
    pub fn servers(&self) -> Vec<(String, String, String, std::collections::BTreeMap<String, String>)> {
        let mut state = self.shared.lock();
        state.settle();
        state
            .servers
            .values()
            .map(|s| (s.id.clone(), s.project_id.clone(), s.status().to_owned(), s.metadata.clone()))
            .collect()
    }

    pub fn server_status(&self, id: &str) -> Option<String> {
        let mut state = self.shared.lock();
        state.settle();
        state.servers.get(id).map(|s| s.status().to_owned())
    }

    /// Every image, in id order.
    pub fn images(&self) -> Vec<Image> {
        let mut state = self.shared.lock();
        state.settle();
        state.images.values().cloned().collect()
    }

    pub fn image(&self, id: &str) -> Option<Image> {
        let mut state = self.shared.lock();
        state.settle();
        state.images.get(id).cloned()
    }

    /// What the API made in Keystone and Neutron (not the seeded objects), for tests to read back.
    pub fn inventory(&self) -> Inventory {
        let state = self.shared.lock();
        let seeded = |project: &str| !state.projects.contains_key(project);
        Inventory {
            projects: state.projects.values().cloned().collect(),
            // Seeded users hold a domain role or a role in a seeded project; made ones neither.
            users: state
                .users
                .values()
                .filter(|u| u.domains.is_empty() && u.projects.iter().all(|p| state.projects.contains_key(p)))
                .map(|u| (u.id.clone(), u.name.clone()))
                .collect(),
            assignments: state.assignments.iter().cloned().collect(),
            credentials: state
                .credentials
                .values()
                .filter(|c| !seeded(&c.project_id))
                .map(|c| (c.id.clone(), c.name.clone(), c.user_id.clone()))
                .collect(),
            networks: state.net.networks.values().filter(|n| !seeded(&n.project_id)).cloned().collect(),
            subnets: state.net.subnets.values().cloned().collect(),
            routers: state.net.routers.values().cloned().collect(),
            ports: state.net.ports.values().filter(|p| !seeded(&p.project_id)).cloned().collect(),
            compute_quotas: state.quotas.iter().filter(|(p, _)| !seeded(p)).map(|(p, q)| (p.clone(), *q)).collect(),
            network_quotas_raised: state.net.quotas_raised.iter().cloned().collect(),
            keypairs: state.keypairs.keys().cloned().collect(),
            server_groups: state
                .server_groups
                .iter()
                .map(|(id, g)| (id.clone(), g.name.clone(), g.project_id.clone()))
                .collect(),
            // The groups the product makes (`default` groups stay: only an admin may remove one).
            security_groups: state
                .net
                .security_groups
                .values()
                .filter(|g| g.name.starts_with("securitygroup-"))
                .map(|g| {
                    let rules = state.net.security_group_rules.values().filter(|r| r.security_group_id == g.id);
                    (g.id.clone(), g.name.clone(), g.project_id.clone(), rules.cloned().collect())
                })
                .collect(),
        }
    }

    pub fn vanish_server(&self, id: &str) -> bool {
        self.shared.lock().servers.remove(id).is_some()
    }

    /// Changes a server behind its owner's back, as an operator or a failure would: `"active"`,
    /// `"stopped"` or `"error"` (with Nova's fault message).
    pub fn set_server_state(&self, id: &str, vm_state: &str, fault: Option<&str>) -> bool {
        self.shared.lock().set_server_state(id, vm_state, fault)
    }
}

/// What [`Emulator::inventory`] answers.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub projects: Vec<keystone_admin::Project>,
    /// The users made through the API: (id, name).
    pub users: Vec<(String, String)>,
    /// (project, user, role id)
    pub assignments: Vec<(String, String, String)>,
    /// (id, name, user)
    pub credentials: Vec<(String, String, String)>,
    pub networks: Vec<neutron::model::Network>,
    pub subnets: Vec<neutron::model::Subnet>,
    pub routers: Vec<neutron::model::Router>,
    pub ports: Vec<neutron::model::Port>,
    pub compute_quotas: Vec<(String, nova::ComputeQuota)>,
    pub network_quotas_raised: Vec<String>,
    /// Nova key pairs: (user, name). They belong to users, not projects.
    pub keypairs: Vec<(String, String)>,
    /// Nova server groups: (id, name, project).
    pub server_groups: Vec<(String, String, String)>,
    /// Neutron security groups the product makes (`securitygroup-<id>`): (id, name, project, rules).
    pub security_groups: Vec<(String, String, String, Vec<neutron::model::SecurityGroupRule>)>,
}

impl Inventory {
    /// Nothing the API made is left.
    pub fn is_empty(&self) -> bool {
        self.projects.is_empty()
            && self.users.is_empty()
            && self.credentials.is_empty()
            && self.networks.is_empty()
            && self.subnets.is_empty()
            && self.routers.is_empty()
            && self.ports.is_empty()
            && self.keypairs.is_empty()
            && self.server_groups.is_empty()
            && self.security_groups.is_empty()
    }
}

fn router(ctx: Ctx) -> Router {
    let nova = "/compute/v2.1";
    Router::new()
        .route("/identity", get(keystone::versions))
        .route("/identity/", get(keystone::versions))
        .route("/identity/v3", get(keystone::version))
        .route("/identity/v3/", get(keystone::version))
        .route("/identity/v3/auth/tokens", post(keystone::issue_token))
        .route("/identity/v3/projects", get(keystone_admin::list_projects).post(keystone_admin::create_project))
        .route("/identity/v3/projects/{id}", axum::routing::delete(keystone_admin::delete_project))
        .route("/identity/v3/users", get(keystone_admin::list_users).post(keystone_admin::create_user))
        .route(
            "/identity/v3/users/{id}",
            axum::routing::delete(keystone_admin::delete_user).patch(keystone_admin::update_user),
        )
        .route("/identity/v3/roles", get(keystone_admin::list_roles))
        .route("/identity/v3/projects/{p}/users/{u}/roles/{r}", axum::routing::put(keystone_admin::assign_role))
        .route(
            "/identity/v3/users/{id}/application_credentials",
            get(keystone_admin::list_application_credentials).post(keystone_admin::create_application_credential),
        )
        .route(
            "/identity/v3/users/{id}/application_credentials/{cred}",
            axum::routing::delete(keystone_admin::delete_application_credential),
        )
        .route("/compute", get(nova::versions))
        .route("/compute/", get(nova::versions))
        .route(nova, get(nova::version))
        .route(&format!("{nova}/"), get(nova::version))
        .route(&format!("{nova}/servers"), get(nova::list_servers).post(nova::create_server))
        .route(&format!("{nova}/servers/detail"), get(nova::list_servers_detail))
        .route(
            &format!("{nova}/servers/{{id}}"),
            get(nova::show_server).put(nova::update_server).delete(nova::delete_server),
        )
        .route(&format!("{nova}/servers/{{id}}/action"), post(nova::server_action))
        .route(&format!("{nova}/servers/{{id}}/remote-consoles"), post(nova::remote_console))
        .route(&format!("{nova}/flavors"), get(nova::list_flavors))
        .route(&format!("{nova}/flavors/detail"), get(nova::list_flavors_detail))
        .route(&format!("{nova}/flavors/{{id}}"), get(nova::show_flavor))
        .route(&format!("{nova}/os-quota-sets/{{project}}"), axum::routing::put(nova::update_quota_set))
        .route(&format!("{nova}/os-keypairs"), get(nova::list_keypairs).post(nova::create_keypair))
        .route(&format!("{nova}/os-keypairs/{{id}}"), get(nova::show_keypair).delete(nova::delete_keypair))
        .route(&format!("{nova}/os-server-groups"), get(nova::list_server_groups).post(nova::create_server_group))
        .route(&format!("{nova}/os-server-groups/{{id}}"), axum::routing::delete(nova::delete_server_group))
        .route("/image", get(glance::versions))
        .route("/image/", get(glance::versions))
        .route("/image/v2/images", get(glance::list_images))
        .route(
            "/image/v2/images/{id}",
            get(glance::show_image).delete(glance::delete_image).patch(glance::update_image),
        )
        .route("/network", get(neutron::versions))
        .route("/network/", get(neutron::versions))
        .route("/network/v2.0", get(neutron::version))
        .route("/network/v2.0/", get(neutron::version))
        .route("/network/v2.0/ports", get(neutron::list_ports).post(neutron::create_port))
        .route(
            "/network/v2.0/ports/{id}",
            get(neutron::show_port).put(neutron::update_port).delete(neutron::delete_port),
        )
        .route("/network/v2.0/floatingips", get(neutron::list_floating_ips).post(neutron::create_floating_ip))
        .route(
            "/network/v2.0/floatingips/{id}",
            get(neutron::show_floating_ip).put(neutron::update_floating_ip).delete(neutron::delete_floating_ip),
        )
        .route("/network/v2.0/networks", get(neutron::list_networks).post(neutron::create_network))
        .route("/network/v2.0/networks/{id}", get(neutron::show_network).delete(neutron::delete_network))
        .route("/network/v2.0/subnets", get(neutron::list_subnets).post(neutron::create_subnet))
        .route(
            "/network/v2.0/subnets/{id}",
            get(neutron::show_subnet).put(neutron::update_subnet).delete(neutron::delete_subnet),
        )
        .route("/network/v2.0/routers", get(neutron::list_routers).post(neutron::create_router))
        .route("/network/v2.0/routers/{id}", axum::routing::delete(neutron::delete_router))
        .route("/network/v2.0/routers/{id}/{verb}", axum::routing::put(neutron::router_interface))
        .route("/network/v2.0/quotas/{project}", axum::routing::put(neutron::update_quota))
        .route("/network/v2.0/security-groups", get(neutron::list_security_groups).post(neutron::create_security_group))
        .route(
            "/network/v2.0/security-groups/{id}",
            get(neutron::show_security_group).delete(neutron::delete_security_group),
        )
        .route(
            "/network/v2.0/security-group-rules",
            get(neutron::list_security_group_rules).post(neutron::create_security_group_rule),
        )
        .route("/network/v2.0/security-group-rules/{id}", axum::routing::delete(neutron::delete_security_group_rule))
        .route("/_emulator/application-credentials", post(control::add_credential))
        .route("/_emulator/images", post(control::add_image))
        .route("/_emulator/flavors", post(control::add_flavor))
        .route("/_emulator/servers", get(control::all_servers))
        .route("/_emulator/servers/{id}", axum::routing::delete(control::vanish_server))
        .route("/_emulator/servers/{id}/state", axum::routing::put(control::set_server_state))
        .route("/_emulator/delays", axum::routing::put(control::set_delays))
        .route("/_emulator/quotas/{project}", axum::routing::put(control::set_quota))
        .route("/_emulator/capacity", axum::routing::put(control::set_capacity))
        .route("/_emulator/tokens/expire", post(control::expire_tokens))
        .route("/_emulator/reset", post(control::reset))
        .merge(control_routes())
        .with_state(ctx)
}

/// Counts, records, applies any injected fault, then routes.
async fn handle(router: Router, ctx: Ctx, req: hyper::Request<Incoming>) -> Result<axum::response::Response, Dropped> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let control = path.starts_with("/_emulator");
    let (parts, body) = req.into_parts();
    // A body that cannot be read ends the connection, as a broken client would see it.
    let (bytes, json) = collect_json(Body::new(body)).await.map_err(|_| Dropped)?;
    let fault = if control {
        None
    } else {
        let mut state = ctx.shared.lock();
        state.log.count(route_key(&method, &path));
        state.log.requests.push(RecordedRequest { method: method.clone(), path: path.clone(), body: json });
        state.take_fault(&method, &path)
    };
    // Like Nova, the emulator finishes what it accepted even when the client has given up: the
    // work runs in its own task, so a client timeout (or an injected drop) cannot cancel it.
    let effect = fault.map(|f| f.effect);
    let dropped = effect.is_some_and(|e| e.drop_connection);
    let work = async move {
        if let Some(effect) = effect {
            if let Some(ms) = effect.delay_ms {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            if let Some(status) = effect.status {
                let message = format!("injected fault {status}");
                let mut response = if path.starts_with("/image") {
                    common::glance_error(status, message)
                } else if path.starts_with("/network") {
                    neutron::neutron_error(status, "HTTPServiceUnavailable", message)
                } else {
                    common::nova_fault(status, message)
                };
                if let Some(seconds) = effect.retry_after {
                    response.headers_mut().insert("retry-after", axum::http::HeaderValue::from(seconds));
                }
                return response;
            }
        }
        emulator_support::route(router, axum::http::Request::from_parts(parts, Body::from(bytes))).await
    };
    let mut response = tokio::spawn(work).await.map_err(|_| Dropped)?;
    // A dropped connection loses the answer, not the work: the request was processed.
    if dropped {
        return Err(Dropped);
    }
    // Every OpenStack service names each request it answers (oslo's request-id middleware).
    if !control {
        if let Ok(id) = axum::http::HeaderValue::from_str(&format!("req-{}", uuid::Uuid::new_v4())) {
            response.headers_mut().insert("x-openstack-request-id", id);
        }
    }
    Ok(response)
}
