//! An emulator of Unikorn's identity service, as region's middleware uses it (identity's OpenAPI
//! document at the commit region v1.16.6 depends on): OIDC discovery, `GET /oauth2/v2/userinfo`,
//! `GET /api/v1/acl` and `GET /api/v1/organizations/{organizationID}/acl`, and a project's quota
//! allocations (`POST .../allocations`, `GET`/`DELETE .../allocations/{allocationID}`), with
//! identity's error bodies. A control plane under `/_emulator/` registers tokens (userinfo and ACL), revokes them,
//! changes ACLs, registers system accounts by client certificate, injects faults (status, delay,
//! dropped connection) and counts requests per route.
//!
//! Start it in-process with [`IdentityEmulator::start`] (tests) or as the `identity-emulator` binary.
//! [`IdentityEmulator::start_tls`] serves HTTPS and requires a client certificate its CA signed, as
//! identity does for services: the platform's own certificate opens the connection.

pub mod allocations;
mod control;
mod routes;
pub mod state;
mod tls;

pub use tls::TlsFiles;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::routing::{delete, get, post, put};
use axum::Router;
use emulator_support::{control_routes, handler, serve, serve_connection, Dropped};
use hyper::body::Incoming;
use serde_json::Value;
use tokio::net::TcpListener;

use state::{certificate_key, Shared};
pub use state::{Fault, Received, TokenGrant};

/// The routes region calls, by the name faults use, and the key counters use.
pub const DISCOVERY: &str = "GET /.well-known/openid-configuration";
pub const USERINFO: &str = "GET /oauth2/v2/userinfo";
pub const ACL: &str = "GET /api/v1/acl";
pub const ORGANIZATION_ACL: &str = "GET /api/v1/organizations/{organizationID}/acl";
pub const ALLOCATIONS: &str = "POST /api/v1/organizations/{organizationID}/projects/{projectID}/allocations";
pub const ALLOCATION: &str =
    "DELETE /api/v1/organizations/{organizationID}/projects/{projectID}/allocations/{allocationID}";

#[derive(Clone)]
pub struct Ctx {
    pub shared: Shared,
    pub base_url: String,
}

/// A running emulator; it lives as long as the runtime.
#[derive(Clone)]
pub struct IdentityEmulator {
    pub url: String,
    shared: Shared,
}

impl IdentityEmulator {
    /// Binds `addr` (port 0: an ephemeral port) and serves in the background.
    pub async fn start(addr: SocketAddr) -> std::io::Result<IdentityEmulator> {
        let listener = TcpListener::bind(addr).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Shared::default();
        let ctx = Ctx { shared: shared.clone(), base_url: url.clone() };
        tokio::spawn(serve(listener, handler(router(ctx.clone()), ctx, handle)));
        Ok(IdentityEmulator { url, shared })
    }

    pub async fn start_local() -> std::io::Result<IdentityEmulator> {
        IdentityEmulator::start(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// HTTPS on `addr` with the server's certificate and key (PEM), refusing any connection
    /// without a client certificate that `client_ca_pem` signed.
    pub async fn start_tls(addr: SocketAddr, tls: &TlsFiles) -> std::io::Result<IdentityEmulator> {
        let acceptor = tls::acceptor(tls)?;
        let listener = TcpListener::bind(addr).await?;
        let url = format!("https://{}", listener.local_addr()?);
        let shared = Shared::default();
        let ctx = Ctx { shared: shared.clone(), base_url: url.clone() };
        tokio::spawn(serve_tls(listener, acceptor, ctx));
        Ok(IdentityEmulator { url, shared })
    }

    /// Registers a token (generated when the grant names none) and returns it.
    pub fn grant(&self, grant: TokenGrant) -> String {
        control::register(&mut self.shared.lock(), grant)
    }

    /// A token for `sub` (a user) holding `acl`.
    pub fn token(&self, sub: &str, acl: &Value) -> String {
        self.grant(TokenGrant {
            token: None,
            sub: sub.into(),
            email: Some(format!("{sub}@example.com")),
            acctype: "user".into(),
            org_ids: Vec::new(),
            acl: Some(acl.clone()),
        })
    }

    pub fn revoke(&self, token: &str) -> bool {
        self.shared.lock().tokens.remove(token).is_some()
    }

    pub fn set_acl(&self, sub: &str, acl: &Value) {
        self.shared.lock().acls.insert(sub.into(), acl.clone());
    }

    /// A system account: a service calling with this client certificate (PEM) is `common_name`.
    pub fn add_system(&self, certificate_pem: &str, common_name: &str, acl: &Value) {
        self.shared.lock().systems.insert(certificate_key(certificate_pem), (common_name.into(), acl.clone()));
    }

    /// A project's quotas by kind (`networks`: 2); without one it allocates without limit.
    pub fn set_quotas(&self, organization: &str, project: &str, quotas: &[(&str, i64)]) {
        let quotas = quotas.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
        self.shared.lock().quotas.insert((organization.into(), project.into()), quotas);
    }

    /// The allocations held, in no particular order.
    pub fn allocations(&self) -> Vec<allocations::Allocation> {
        self.shared.lock().allocations.values().cloned().collect()
    }

    pub fn inject(&self, fault: Fault) {
        self.shared.lock().log.faults.push(fault);
    }

    pub fn counter(&self, route: &str) -> u64 {
        self.shared.lock().log.counter(route)
    }

    pub fn counters(&self) -> std::collections::BTreeMap<String, u64> {
        self.shared.lock().log.counters.clone()
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().log.requests.clone()
    }

    pub fn reset_counters(&self) {
        let mut state = self.shared.lock();
        state.log.counters.clear();
        state.log.requests.clear();
    }
}

fn router(ctx: Ctx) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(routes::discovery))
        .route("/oauth2/v2/userinfo", get(routes::userinfo))
        .route("/api/v1/acl", get(routes::acl))
        .route("/api/v1/organizations/{organization}/acl", get(routes::organization_acl))
        .route("/api/v1/organizations/{organization}/projects/{project}/allocations", post(allocations::create))
        .route(
            "/api/v1/organizations/{organization}/projects/{project}/allocations/{id}",
            get(allocations::get).delete(allocations::delete),
        )
        .route("/_emulator/quotas/{organization}/{project}", put(allocations::set_quotas))
        .route("/_emulator/tokens", post(control::add_token))
        .route("/_emulator/tokens/{token}", delete(control::revoke_token))
        .route("/_emulator/acls/{sub}", put(control::set_acl))
        .route("/_emulator/systems", post(control::add_system))
        .route("/_emulator/reset", post(control::reset))
        .merge(control_routes())
        .with_state(ctx)
}

/// The route key of a request region makes (the counters' and faults' vocabulary).
fn route_key(method: &str, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("POST", ["api", "v1", "organizations", _, "projects", _, "allocations"]) => return Some(ALLOCATIONS),
        ("DELETE", ["api", "v1", "organizations", _, "projects", _, "allocations", _]) => return Some(ALLOCATION),
        ("GET", _) => {}
        _ => return None,
    }
    match segments.as_slice() {
        [".well-known", "openid-configuration"] => Some(DISCOVERY),
        ["oauth2", "v2", "userinfo"] => Some(USERINFO),
        ["api", "v1", "acl"] => Some(ACL),
        ["api", "v1", "organizations", _, "acl"] => Some(ORGANIZATION_ACL),
        _ => None,
    }
}

/// The name a fault gives a route.
fn fault_name(route: &str) -> &'static str {
    match route {
        DISCOVERY => "discovery",
        USERINFO => "userinfo",
        ALLOCATIONS | ALLOCATION => "allocations",
        _ => "acl",
    }
}

async fn serve_tls(listener: TcpListener, acceptor: tokio_rustls::TlsAcceptor, ctx: Ctx) {
    let handle_request = handler(router(ctx.clone()), ctx, handle);
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let (handle_request, acceptor) = (handle_request.clone(), acceptor.clone());
        tokio::spawn(async move {
            // A client without a certificate the CA signed fails here, before any route.
            let Ok(stream) = acceptor.accept(stream).await else { return };
            serve_connection(stream, handle_request).await;
        });
    }
}

/// Counts the request, applies a fault meant for its route, then lets the router answer.
async fn handle(router: Router, ctx: Ctx, req: hyper::Request<Incoming>) -> Result<axum::response::Response, Dropped> {
    let route = route_key(req.method().as_str(), req.uri().path());
    let fault = route.and_then(|route| {
        let mut state = ctx.shared.lock();
        state.log.count(route);
        state.take_fault(fault_name(route))
    });
    if let Some(Fault { effect, .. }) = fault {
        if let Some(ms) = effect.delay_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if effect.drop_connection {
            return Err(Dropped);
        }
        if let Some(status) = effect.status {
            let code = match status {
                400 => "invalid_request",
                401 => "access_denied",
                403 => "forbidden",
                404 => "not_found",
                409 => "conflict",
                _ => "server_error",
            };
            return Ok(routes::error(status, code, &format!("injected fault {status}")));
        }
    }
    let (parts, body) = req.into_parts();
    Ok(emulator_support::route(router, hyper::Request::from_parts(parts, Body::new(body))).await)
}
