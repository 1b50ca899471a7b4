//! The cloud-provider port: what use-cases need from a compute cloud, in domain terms.
//! `openstack` is the adapter that speaks Keystone v3, Nova v2.1, Glance v2 and Neutron v2.0.

mod error;
pub mod fabric;
pub mod networking;
pub mod openstack;
pub mod region_listing;
pub mod security_groups;
pub mod tenancy;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;

pub use error::{ProviderError, Result};
pub use fabric::Fabric;
pub use networking::{AllowedAddress, Networking, PortSpec, ProviderPort, PublicIp};
pub use region_listing::{NetworkingListing, ProjectListing, RegionListing};
pub use security_groups::SecurityGroups;
pub use tenancy::Tenancy;

/// Where and as whom to call the provider: a user and its password in one Keystone, scoped to a
/// project (servers, ports, images) or a domain (projects and users).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ProviderCredential {
    /// Keystone v3.
    pub auth_url: String,
    pub user_id: String,
    pub password: String,
    pub scope: CredentialScope,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CredentialScope {
    Project(String),
    Domain(String),
}

impl fmt::Debug for ProviderCredential {
    // The password must never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderCredential")
            .field("auth_url", &self.auth_url)
            .field("user_id", &self.user_id)
            .field("password", &"<redacted>")
            .field("scope", &self.scope)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServerCreate {
    pub name: String,
    pub image_id: String,
    pub flavor_id: String,
    pub attach: Attach,
    pub metadata: BTreeMap<String, String>,
    pub user_data: Option<Vec<u8>>,
    pub key_name: Option<String>,
}

/// Where a new server's network interface comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attach {
    /// A port the platform made first (with the server's security groups and allowed addresses).
    Port(String),
    /// A provider network the provider makes a plain port on (tooling that needs no networking).
    Network(String),
}

impl Default for Attach {
    fn default() -> Self {
        Attach::Network(String::new())
    }
}

/// What the provider is doing with a server, in the domain's words (the adapter maps its own
/// states onto these; no provider vocabulary crosses the port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ServerPhase {
    #[default]
    Building,
    Active,
    Stopped,
    Rebooting,
    Resizing,
    /// A resize finished and waits for its confirmation.
    ResizeAwaitingConfirmation,
    Rebuilding,
    Deleting,
    Error,
    /// Paused, suspended or shelved by someone at the provider: not running, and not as this API
    /// stops a server (starting it needs the provider's own verb).
    Held,
    /// Running a rescue image instead of its own disk.
    Rescued,
    /// Migrating, a password reset...: passing states this product never asks for.
    Other,
}

/// A server as the provider reports it (serialized as a sweep's slice carries it to a worker).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProviderServer {
    pub id: String,
    pub name: String,
    pub phase: ServerPhase,
    /// A task is running on the server (the provider refuses most actions until it ends).
    pub busy: bool,
    /// The provider's explanation of an error state.
    pub fault: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub image_id: Option<String>,
    pub flavor_name: Option<String>,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub mac_address: Option<String>,
    /// The project it lives in.
    pub project_id: Option<String>,
}

/// One page of a server listing; `next` is the marker of the following page, if any.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServerPage {
    pub servers: Vec<ProviderServer>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    Start,
    Stop,
    SoftReboot,
    HardReboot,
}

impl PowerAction {
    /// The verb used in user-facing messages.
    pub fn verb(self) -> &'static str {
        match self {
            PowerAction::Start => "started",
            PowerAction::Stop => "stopped",
            PowerAction::SoftReboot | PowerAction::HardReboot => "rebooted",
        }
    }
}

/// An image's life cycle, in the domain's words (and Unikorn's: `pending`, `creating`, `ready`,
/// `failed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageState {
    /// Accepted, no data yet.
    #[default]
    Pending,
    /// Data is being written.
    Creating,
    Ready,
    /// Failed, deleted or deactivated: unusable.
    Failed,
}

/// Which images a listing asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageListing<'a> {
    /// Public images (every project sees them), or the credential's project's private ones.
    pub public: bool,
    pub property: Option<(&'a str, &'a str)>,
}

impl ImageListing<'_> {
    pub const PUBLIC: ImageListing<'static> = ImageListing { public: true, property: None };
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Image {
    pub id: String,
    pub name: String,
    pub state: ImageState,
    /// CPU architecture (`x86_64`, `aarch64`), when the image says.
    pub architecture: Option<String>,
    pub min_disk_gib: u64,
    pub size_bytes: Option<u64>,
    /// The disk the image unpacks to, where Glance knows it.
    pub virtual_size_bytes: Option<u64>,
    pub owner: Option<String>,
    pub visibility: Option<String>,
    pub tags: Vec<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// Custom properties (Glance stores them as top-level string attributes).
    pub properties: BTreeMap<String, String>,
}

impl Image {
    pub fn is_ready(&self) -> bool {
        self.state == ImageState::Ready
    }
}

impl ImageState {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageState::Pending => "pending",
            ImageState::Creating => "creating",
            ImageState::Ready => "ready",
            ImageState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<ImageState> {
        [ImageState::Pending, ImageState::Creating, ImageState::Ready, ImageState::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Flavor {
    pub id: String,
    pub name: String,
    pub vcpus: u32,
    pub ram_mib: u64,
    pub disk_gib: u64,
    /// Private flavors are offered to no one (Unikorn's rule).
    pub is_public: bool,
    pub extra_specs: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keypair {
    pub name: String,
    pub public_key: String,
    pub fingerprint: Option<String>,
}

/// What the provider said about a request it accepted: its request id (`x-openstack-request-id`),
/// which actions record so an operator can find the call in the provider's logs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Receipt {
    pub request_id: Option<String>,
}

// The port is split by what its callers need (a function links only the parts its verb uses).
// Errors are the provider's answers, classified (`ProviderError`): NotFound, Conflict (wrong
// state), Rejected (malformed), Unauthorized (our credential), Unavailable (5xx, timeout, dropped
// connection), Unexpected (an unmapped status).

/// Servers: their life cycle, power, and consoles.
#[async_trait]
pub trait Compute: Send + Sync {
    async fn create_server(&self, cred: &ProviderCredential, server: &ServerCreate) -> Result<(String, Receipt)>;
    async fn get_server(&self, cred: &ProviderCredential, id: &str) -> Result<ProviderServer>;
    /// Servers whose metadata holds `key=value` (used to find a server whose provider id we lost).
    async fn find_servers(&self, cred: &ProviderCredential, key: &str, value: &str) -> Result<Vec<ProviderServer>>;
    /// One page (at most `limit`) of every server the credential sees, from `marker` on.
    async fn list_servers(&self, cred: &ProviderCredential, marker: Option<&str>, limit: u32) -> Result<ServerPage>;
    async fn delete_server(&self, cred: &ProviderCredential, id: &str) -> Result<Receipt>;
    async fn power(&self, cred: &ProviderCredential, id: &str, action: PowerAction) -> Result<Receipt>;
    async fn resize(&self, cred: &ProviderCredential, id: &str, flavor_id: &str) -> Result<Receipt>;
    async fn confirm_resize(&self, cred: &ProviderCredential, id: &str) -> Result<Receipt>;
    async fn rebuild(&self, cred: &ProviderCredential, id: &str, image_id: &str) -> Result<Receipt>;
    async fn console_output(&self, cred: &ProviderCredential, id: &str, length: Option<u32>) -> Result<String>;
    async fn console_url(&self, cred: &ProviderCredential, id: &str) -> Result<String>;
}

/// Images a server boots from or is snapshotted to.
#[async_trait]
pub trait Images: Send + Sync {
    /// Snapshots a server; answers the new image's id.
    async fn create_image(
        &self,
        cred: &ProviderCredential,
        server_id: &str,
        name: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(String, Receipt)>;
    async fn get_image(&self, cred: &ProviderCredential, id: &str) -> Result<Image>;
    /// The image carrying `property` = `value`, if one does (the first the provider lists).
    async fn find_image(&self, cred: &ProviderCredential, property: &str, value: &str) -> Result<Option<Image>>;
    /// Every image of a visibility, all pages, narrowed to those carrying `property` = value where
    /// given (a region offers among the public ones; a snapshot not yet published is private).
    async fn list_images(&self, cred: &ProviderCredential, listing: &ImageListing<'_>) -> Result<Vec<Image>>;
    /// Removes an image: `Conflict` while it is in use, `NotFound` when it is gone.
    async fn delete_image(&self, cred: &ProviderCredential, id: &str) -> Result<Receipt>;
    /// Makes an image public (a snapshot, so the public listing the catalogue reads finds it).
    async fn publish_image(&self, cred: &ProviderCredential, id: &str) -> Result<Receipt>;
}

#[async_trait]
pub trait Flavors: Send + Sync {
    async fn get_flavor(&self, cred: &ProviderCredential, id: &str) -> Result<Flavor>;
    /// Every flavor the credential sees, all pages, in name order.
    async fn list_flavors(&self, cred: &ProviderCredential) -> Result<Vec<Flavor>>;
}

/// The provider's copy of each identity's SSH public key.
#[async_trait]
pub trait Keypairs: Send + Sync {
    async fn import_keypair(&self, cred: &ProviderCredential, name: &str, public_key: &str) -> Result<Keypair>;
    async fn get_keypair(&self, cred: &ProviderCredential, name: &str) -> Result<Keypair>;
    async fn delete_keypair(&self, cred: &ProviderCredential, name: &str) -> Result<()>;
}

/// The provider of a function that never calls one (list, networks, SSH CAs): it implements no
/// part of the port, so the compiler refuses any use-case that would reach the cloud from there.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProvider;
