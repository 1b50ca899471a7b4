//! The HTTP side of the adapter: every call carries a timeout, the cached token and, for Nova, the
//! microversion; every failure comes back as a domain error that names the resource.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::convert::{flavor_from_wire, image_from_wire, server_from_wire};
use super::session::{Session, SessionCache};
use super::wire::*;
use super::COMPUTE_MICROVERSION;
use crate::error::{Error, Result};
use crate::provider::{
    Flavor, Image, ImageFilter, Keypair, PowerAction, Provider, ProviderCredential, ProviderServer, ServerCreate,
    ServerPage,
};
use crate::text::percent_encode as encode;

#[derive(Debug, Clone)]
pub struct OpenStackConfig {
    /// Whole-request timeout for every provider call, Keystone included.
    pub timeout: Duration,
    /// A token this close to expiry is replaced before use.
    pub token_refresh_margin: Duration,
}

impl Default for OpenStackConfig {
    fn default() -> Self {
        OpenStackConfig { timeout: Duration::from_secs(10), token_refresh_margin: Duration::from_secs(300) }
    }
}

pub struct OpenStackProvider {
    http: reqwest::Client,
    sessions: SessionCache,
    config: OpenStackConfig,
}

/// Nova's default `max_limit`: the largest page it serves.
const LIST_PAGE_SIZE: u32 = 1000;
const MAX_LIST_PAGES: usize = 100;

#[derive(Clone, Copy)]
enum Service {
    Compute,
    Image,
}

impl OpenStackProvider {
    pub fn new(config: OpenStackConfig) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .pool_idle_timeout(Duration::from_secs(50))
            .build()
            .map_err(|e| Error::internal(format!("cannot build HTTP client: {e}")))?;
        Ok(OpenStackProvider { http, sessions: SessionCache::default(), config })
    }

    /// Sends one request; on 401 the token is replaced and the request sent once more.
    async fn send(
        &self,
        cred: &ProviderCredential,
        service: Service,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<(u16, Vec<u8>)> {
        let margin = self.config.token_refresh_margin;
        let mut session = self.sessions.get(&self.http, cred, margin, None).await?;
        for attempt in 0..2 {
            let (status, bytes) = self.send_once(&session, service, method.clone(), path, body, what).await?;
            if status == 401 && attempt == 0 {
                session = self.sessions.get(&self.http, cred, margin, Some(&session.token)).await?;
                continue;
            }
            if status == 401 || status == 403 {
                return Err(Error::ProviderUnauthorized(format!("provider refused our token for {what} ({status})")));
            }
            if !(200..300).contains(&status) {
                return Err(status_error(status, what, &bytes));
            }
            return Ok((status, bytes));
        }
        Err(Error::ProviderUnauthorized(format!("provider refused a fresh token for {what}")))
    }

    async fn send_once(
        &self,
        session: &Session,
        service: Service,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<(u16, Vec<u8>)> {
        let (base, service_name) = match service {
            Service::Compute => (session.compute_url.as_str(), "compute"),
            Service::Image => (glance_base(&session.image_url), "image"),
        };
        let mut request = self.http.request(method, format!("{base}{path}")).header("X-Auth-Token", &session.token);
        if let Service::Compute = service {
            request = request.header("OpenStack-API-Version", format!("compute {COMPUTE_MICROVERSION}"));
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| transport_error(service_name, &e))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| transport_error(service_name, &e))?;
        tracing::debug!(service = service_name, status, what, "provider call");
        Ok((status, bytes.to_vec()))
    }

    async fn json<T: DeserializeOwned>(
        &self,
        cred: &ProviderCredential,
        service: Service,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<T> {
        let (_, bytes) = self.send(cred, service, method, path, body, what).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::unavailable(format!("unreadable provider response for {what}: {e}")))
    }

    async fn action(&self, cred: &ProviderCredential, id: &str, action: &ServerAction) -> Result<Vec<u8>> {
        let body = to_value(action)?;
        let what = format!("server {id}");
        let (_, bytes) = self
            .send(cred, Service::Compute, Method::POST, &format!("/servers/{id}/action"), Some(&body), &what)
            .await?;
        Ok(bytes)
    }
}

/// Glance catalogs usually list the unversioned root; some list `/v2` already.
fn glance_base(url: &str) -> &str {
    url.strip_suffix("/v2").unwrap_or(url)
}

fn to_value<T: Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| Error::internal(format!("cannot encode provider request: {e}")))
}

pub(super) fn transport_error(service: &str, err: &reqwest::Error) -> Error {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not be reached"
    } else {
        "dropped the connection"
    };
    Error::unavailable(format!("the {service} service {kind}"))
}

pub(super) fn status_error(status: u16, what: &str, body: &[u8]) -> Error {
    let detail =
        fault_message(body).unwrap_or_else(|| String::from_utf8_lossy(body).trim().chars().take(200).collect());
    match status {
        400 => Error::invalid(format!("the provider rejected the request for {what}: {detail}")),
        404 => Error::not_found(format!("{what} not found at the provider: {detail}")),
        409 => Error::conflict(format!("{what} is in a state that does not allow this: {detail}")),
        413 | 429 => Error::unavailable(format!("the provider is rate limiting requests for {what}")),
        s if s >= 500 => Error::unavailable(format!("the provider failed ({s}) for {what}")),
        // Anything else is the provider misbehaving, not us and not the caller.
        s => Error::BadGateway(format!("the provider answered {s} for {what}: {detail}")),
    }
}

#[async_trait]
impl Provider for OpenStackProvider {
    async fn create_server(&self, cred: &ProviderCredential, server: &ServerCreate) -> Result<String> {
        let body = ServerCreateEnvelope {
            server: ServerCreateBody {
                name: server.name.clone(),
                image_ref: server.image_id.clone(),
                flavor_ref: server.flavor_id.clone(),
                networks: vec![NetworkAttachment { uuid: server.network_id.clone() }],
                metadata: server.metadata.clone(),
                user_data: server.user_data.as_ref().map(|d| base64::engine::general_purpose::STANDARD.encode(d)),
                key_name: server.key_name.clone(),
                security_groups: server.security_groups.iter().map(|name| NameRef { name: name.clone() }).collect(),
            },
        };
        let what = format!("server {}", server.name);
        let created: ServerCreatedEnvelope =
            self.json(cred, Service::Compute, Method::POST, "/servers", Some(&to_value(&body)?), &what).await?;
        Ok(created.server.id)
    }

    async fn get_server(&self, cred: &ProviderCredential, id: &str) -> Result<ProviderServer> {
        let what = format!("server {id}");
        let envelope: ServerEnvelope =
            self.json(cred, Service::Compute, Method::GET, &format!("/servers/{}", encode(id)), None, &what).await?;
        Ok(server_from_wire(envelope.server))
    }

    async fn find_servers(&self, cred: &ProviderCredential, key: &str, value: &str) -> Result<Vec<ProviderServer>> {
        // Nova has no metadata filter for project users: list details page by page and filter here.
        let mut found = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_LIST_PAGES {
            let page = self.list_servers(cred, marker.as_deref(), LIST_PAGE_SIZE).await?;
            found.extend(page.servers.into_iter().filter(|s| s.metadata.get(key).map(String::as_str) == Some(value)));
            match page.next {
                Some(next) => marker = Some(next),
                None => return Ok(found),
            }
        }
        Err(Error::unavailable("the server list did not end after 100 pages"))
    }

    async fn list_servers(&self, cred: &ProviderCredential, marker: Option<&str>, limit: u32) -> Result<ServerPage> {
        let mut path = format!("/servers/detail?limit={limit}");
        if let Some(marker) = marker {
            path.push_str(&format!("&marker={}", encode(marker)));
        }
        let list: ServersEnvelope = self.json(cred, Service::Compute, Method::GET, &path, None, "server list").await?;
        // Nova links the next page only when this one was full; the marker is its last server.
        let has_next = list.servers_links.iter().any(|l| l.rel == "next");
        let next = if has_next { list.servers.last().map(|s| s.id.clone()) } else { None };
        Ok(ServerPage { servers: list.servers.into_iter().map(server_from_wire).collect(), next })
    }

    async fn delete_server(&self, cred: &ProviderCredential, id: &str) -> Result<()> {
        let what = format!("server {id}");
        self.send(cred, Service::Compute, Method::DELETE, &format!("/servers/{}", encode(id)), None, &what).await?;
        Ok(())
    }

    async fn power(&self, cred: &ProviderCredential, id: &str, action: PowerAction) -> Result<()> {
        let body = match action {
            PowerAction::Start => ServerAction::Start(()),
            PowerAction::Stop => ServerAction::Stop(()),
            PowerAction::SoftReboot => ServerAction::Reboot { r#type: "SOFT".into() },
            PowerAction::HardReboot => ServerAction::Reboot { r#type: "HARD".into() },
        };
        self.action(cred, id, &body).await.map(|_| ())
    }

    async fn resize(&self, cred: &ProviderCredential, id: &str, flavor_id: &str) -> Result<()> {
        self.action(cred, id, &ServerAction::Resize { flavor_ref: flavor_id.into() }).await.map(|_| ())
    }

    async fn confirm_resize(&self, cred: &ProviderCredential, id: &str) -> Result<()> {
        self.action(cred, id, &ServerAction::ConfirmResize(())).await.map(|_| ())
    }

    async fn rebuild(&self, cred: &ProviderCredential, id: &str, image_id: &str) -> Result<()> {
        self.action(cred, id, &ServerAction::Rebuild { image_ref: image_id.into() }).await.map(|_| ())
    }

    async fn console_output(&self, cred: &ProviderCredential, id: &str, length: Option<u32>) -> Result<String> {
        let bytes = self.action(cred, id, &ServerAction::ConsoleOutput { length }).await?;
        let parsed: ConsoleOutputResponse = serde_json::from_slice(&bytes)
            .map_err(|e| Error::unavailable(format!("unreadable console output of server {id}: {e}")))?;
        Ok(parsed.output)
    }

    async fn console_url(&self, cred: &ProviderCredential, id: &str) -> Result<String> {
        let body = RemoteConsoleRequest {
            remote_console: RemoteConsoleSpec { protocol: "vnc".into(), console_type: "novnc".into() },
        };
        let what = format!("server {id}");
        let path = format!("/servers/{}/remote-consoles", encode(id));
        let parsed: RemoteConsoleResponse =
            self.json(cred, Service::Compute, Method::POST, &path, Some(&to_value(&body)?), &what).await?;
        Ok(parsed.remote_console.url)
    }

    async fn create_image(
        &self,
        cred: &ProviderCredential,
        server_id: &str,
        name: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<String> {
        let action = ServerAction::CreateImage { name: name.into(), metadata: metadata.clone() };
        let bytes = self.action(cred, server_id, &action).await?;
        let parsed: CreateImageResponse = serde_json::from_slice(&bytes)
            .map_err(|e| Error::unavailable(format!("unreadable createImage response for server {server_id}: {e}")))?;
        Ok(parsed.image_id)
    }

    async fn get_image(&self, cred: &ProviderCredential, id: &str) -> Result<Image> {
        let what = format!("image {id}");
        let image: GlanceImage =
            self.json(cred, Service::Image, Method::GET, &format!("/v2/images/{}", encode(id)), None, &what).await?;
        Ok(image_from_wire(image))
    }

    async fn list_images(&self, cred: &ProviderCredential, filter: &ImageFilter) -> Result<Vec<Image>> {
        let mut query = vec![("limit".to_owned(), "200".to_owned())];
        for (key, value) in [("name", &filter.name), ("status", &filter.status), ("owner", &filter.owner)] {
            if let Some(v) = value {
                query.push((key.into(), v.clone()));
            }
        }
        query.extend(filter.tags.iter().map(|t| ("tag".to_owned(), t.clone())));
        let mut path = format!(
            "/v2/images?{}",
            query.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
        );
        let mut images = Vec::new();
        // Glance pages with a `next` link; follow it to the end.
        for _ in 0..100 {
            let page: GlanceImageList = self.json(cred, Service::Image, Method::GET, &path, None, "image list").await?;
            images.extend(page.images.into_iter().map(image_from_wire));
            match page.next {
                Some(next) => path = next,
                None => return Ok(images),
            }
        }
        Err(Error::unavailable("the image list did not end after 100 pages"))
    }

    async fn get_flavor(&self, cred: &ProviderCredential, id: &str) -> Result<Flavor> {
        let what = format!("flavor {id}");
        let envelope: FlavorEnvelope =
            self.json(cred, Service::Compute, Method::GET, &format!("/flavors/{}", encode(id)), None, &what).await?;
        Ok(flavor_from_wire(envelope.flavor))
    }

    async fn list_flavors(&self, cred: &ProviderCredential) -> Result<Vec<Flavor>> {
        let list: FlavorsEnvelope =
            self.json(cred, Service::Compute, Method::GET, "/flavors/detail", None, "flavor list").await?;
        Ok(list.flavors.into_iter().map(flavor_from_wire).collect())
    }

    async fn import_keypair(&self, cred: &ProviderCredential, name: &str, public_key: &str) -> Result<Keypair> {
        let body = KeypairImportEnvelope {
            keypair: KeypairImport { name: name.into(), key_type: "ssh".into(), public_key: public_key.into() },
        };
        let what = format!("keypair {name}");
        let created: KeypairEnvelope =
            self.json(cred, Service::Compute, Method::POST, "/os-keypairs", Some(&to_value(&body)?), &what).await?;
        Ok(Keypair {
            name: created.keypair.name,
            public_key: created.keypair.public_key,
            fingerprint: created.keypair.fingerprint,
        })
    }

    async fn get_keypair(&self, cred: &ProviderCredential, name: &str) -> Result<Keypair> {
        let what = format!("keypair {name}");
        let path = format!("/os-keypairs/{}", encode(name));
        let found: KeypairEnvelope = self.json(cred, Service::Compute, Method::GET, &path, None, &what).await?;
        Ok(Keypair {
            name: found.keypair.name,
            public_key: found.keypair.public_key,
            fingerprint: found.keypair.fingerprint,
        })
    }

    async fn delete_keypair(&self, cred: &ProviderCredential, name: &str) -> Result<()> {
        let what = format!("keypair {name}");
        let path = format!("/os-keypairs/{}", encode(name));
        self.send(cred, Service::Compute, Method::DELETE, &path, None, &what).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nova_faults_keep_the_provider_message_and_our_context() {
        let body = br#"{"conflictingRequest": {"code": 409, "message": "Cannot 'start' instance abc while it is in vm_state active"}}"#;
        let err = status_error(409, "server abc", body);
        assert!(
            matches!(&err, Error::Conflict(m) if m.contains("server abc") && m.contains("vm_state active")),
            "{err:?}"
        );
        assert!(matches!(status_error(404, "server x", b"{}"), Error::NotFound(m) if m.contains("server x")));
        assert!(matches!(status_error(503, "server x", b""), Error::Unavailable { .. }));
        assert!(matches!(status_error(400, "server x", b"bad"), Error::Invalid(_)));
        let teapot = status_error(418, "server x", br#"{"computeFault": {"code": 418, "message": "I'm a teapot"}}"#);
        assert!(matches!(&teapot, Error::BadGateway(m) if m.contains("418") && m.contains("teapot")), "{teapot:?}");
        assert_eq!(teapot.status_and_code(), (502, "server_error"));
    }

    #[test]
    fn glance_roots_are_normalised() {
        assert_eq!(glance_base("http://h/image/v2"), "http://h/image");
    }
}
