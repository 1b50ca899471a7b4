//! Request and response bodies of Keystone v3, Nova v2.1 and Glance v2, as this client sends and
//! reads them. Only the fields we use are declared; unknown fields are ignored, so newer
//! microversions parse too. The contract tests check these against the official samples.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::provider::{CredentialScope, ProviderCredential};

// ---------- Keystone ----------

#[derive(Debug, Serialize)]
pub struct AuthRequest {
    pub auth: AuthBody,
}

#[derive(Debug, Serialize)]
pub struct AuthBody {
    pub identity: AuthIdentity,
    pub scope: AuthScope,
}

#[derive(Debug, Serialize)]
pub struct AuthIdentity {
    pub methods: Vec<String>,
    pub password: PasswordAuth,
}

/// A user by id and its password.
#[derive(Debug, Serialize)]
pub struct PasswordAuth {
    pub user: PasswordUser,
}

#[derive(Debug, Serialize)]
pub struct PasswordUser {
    pub id: String,
    pub password: String,
}

/// A project-scoped or a domain-scoped token.
#[derive(Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthScope {
    Project(IdRef),
    Domain(IdRef),
}

impl AuthRequest {
    pub fn password(cred: &ProviderCredential) -> Self {
        let scope = match &cred.scope {
            CredentialScope::Project(id) => AuthScope::Project(IdRef { id: id.clone() }),
            CredentialScope::Domain(id) => AuthScope::Domain(IdRef { id: id.clone() }),
        };
        AuthRequest {
            auth: AuthBody {
                identity: AuthIdentity {
                    methods: vec!["password".into()],
                    password: PasswordAuth {
                        user: PasswordUser { id: cred.user_id.clone(), password: cred.password.clone() },
                    },
                },
                scope,
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IdRef {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    pub token: Token,
}

#[derive(Debug, Deserialize)]
pub struct Token {
    pub expires_at: String,
    pub catalog: Vec<CatalogEntry>,
    #[serde(default)]
    pub project: Option<IdRef>,
}

#[derive(Debug, Deserialize)]
pub struct CatalogEntry {
    #[serde(rename = "type")]
    pub service_type: String,
    pub endpoints: Vec<CatalogEndpoint>,
}

#[derive(Debug, Deserialize)]
pub struct CatalogEndpoint {
    pub interface: String,
    pub url: String,
    #[serde(default)]
    pub region_id: Option<String>,
}

// ---------- Nova ----------

#[derive(Debug, Serialize)]
pub struct ServerCreateEnvelope {
    pub server: ServerCreateBody,
}

#[derive(Debug, Serialize)]
pub struct ServerCreateBody {
    pub name: String,
    #[serde(rename = "imageRef")]
    pub image_ref: String,
    #[serde(rename = "flavorRef")]
    pub flavor_ref: String,
    /// Required since 2.37; the list form attaches the given Neutron networks.
    pub networks: Vec<NetworkAttachment>,
    pub metadata: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
}

/// `{"port": id}` boots on a port made beforehand (its security groups and address pairs are the
/// port's; Nova takes none of its own then), `{"uuid": id}` lets Nova make one on the network.
#[derive(Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkAttachment {
    Port(String),
    Uuid(String),
}

#[derive(Debug, Deserialize)]
pub struct ServerCreatedEnvelope {
    pub server: ServerCreated,
}

#[derive(Debug, Deserialize)]
pub struct ServerCreated {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct ServerEnvelope {
    pub server: NovaServer,
}

#[derive(Debug, Deserialize)]
pub struct ServersEnvelope {
    pub servers: Vec<NovaServer>,
    /// Present when the page was full: the `next` link carries the marker of the following page.
    #[serde(default)]
    pub servers_links: Vec<Link>,
}

#[derive(Debug, Deserialize)]
pub struct Link {
    pub rel: String,
    pub href: String,
}

#[derive(Debug, Deserialize)]
pub struct NovaServer {
    pub id: String,
    pub name: String,
    pub status: String,
    pub metadata: BTreeMap<String, String>,
    #[serde(rename = "OS-EXT-STS:task_state", default)]
    pub task_state: Option<String>,
    #[serde(default)]
    pub addresses: BTreeMap<String, Vec<NovaAddress>>,
    /// An object with the image id, or "" for a server booted from a volume.
    pub image: NovaImageRef,
    /// From 2.47 the flavor is embedded; `original_name` is its name.
    #[serde(default)]
    pub flavor: Option<NovaServerFlavor>,
    /// Set while the server is in ERROR (admins see details; users see the message).
    #[serde(default)]
    pub fault: Option<NovaFault>,
    #[serde(default)]
    pub created: Option<String>,
    /// The project it lives in (what a listing of every project's servers tells apart).
    #[serde(default)]
    pub tenant_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NovaServerFlavor {
    #[serde(default)]
    pub original_name: Option<String>,
    /// Before 2.47 only the id is given.
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NovaFault {
    #[serde(default)]
    pub code: Option<u16>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum NovaImageRef {
    Image { id: String },
    BootFromVolume(String),
}

#[derive(Debug, Deserialize)]
pub struct NovaAddress {
    pub addr: String,
    pub version: u8,
    #[serde(rename = "OS-EXT-IPS:type", default)]
    pub ip_type: Option<String>,
    #[serde(rename = "OS-EXT-IPS-MAC:mac_addr", default)]
    pub mac_addr: Option<String>,
}

/// Actions are POSTed to `/servers/{id}/action` with one key naming the action.
#[derive(Debug, Serialize)]
pub enum ServerAction {
    #[serde(rename = "os-start")]
    Start(()),
    #[serde(rename = "os-stop")]
    Stop(()),
    #[serde(rename = "reboot")]
    Reboot { r#type: String },
    #[serde(rename = "resize")]
    Resize {
        #[serde(rename = "flavorRef")]
        flavor_ref: String,
    },
    #[serde(rename = "confirmResize")]
    ConfirmResize(()),
    #[serde(rename = "rebuild")]
    Rebuild {
        #[serde(rename = "imageRef")]
        image_ref: String,
    },
    #[serde(rename = "os-getConsoleOutput")]
    ConsoleOutput {
        #[serde(skip_serializing_if = "Option::is_none")]
        length: Option<u32>,
    },
    #[serde(rename = "createImage")]
    CreateImage { name: String, metadata: BTreeMap<String, String> },
}

#[derive(Debug, Deserialize)]
pub struct ConsoleOutputResponse {
    pub output: String,
}

#[derive(Debug, Serialize)]
pub struct RemoteConsoleRequest {
    pub remote_console: RemoteConsoleSpec,
}

#[derive(Debug, Serialize)]
pub struct RemoteConsoleSpec {
    pub protocol: String,
    #[serde(rename = "type")]
    pub console_type: String,
}

#[derive(Debug, Deserialize)]
pub struct RemoteConsoleResponse {
    pub remote_console: RemoteConsole,
}

#[derive(Debug, Deserialize)]
pub struct RemoteConsole {
    pub url: String,
}

#[derive(Debug, Deserialize)]
pub struct CreateImageResponse {
    pub image_id: String,
}

#[derive(Debug, Deserialize)]
pub struct FlavorEnvelope {
    pub flavor: NovaFlavor,
}

#[derive(Debug, Deserialize)]
pub struct FlavorsEnvelope {
    pub flavors: Vec<NovaFlavor>,
    /// Present when the page was full: the `next` link's marker is the page's last flavor.
    #[serde(default)]
    pub flavors_links: Vec<Link>,
}

#[derive(Debug, Deserialize)]
pub struct NovaFlavor {
    pub id: String,
    pub name: String,
    pub vcpus: u32,
    pub ram: u64,
    pub disk: u64,
    /// Embedded since 2.61; absent in older shapes.
    #[serde(default)]
    pub extra_specs: Option<BTreeMap<String, String>>,
    /// Absent in some shapes: a flavor is public unless Nova says otherwise.
    #[serde(rename = "os-flavor-access:is_public", default = "public")]
    pub is_public: bool,
}

fn public() -> bool {
    true
}

#[derive(Debug, Serialize)]
pub struct KeypairImportEnvelope {
    pub keypair: KeypairImport,
}

#[derive(Debug, Serialize)]
pub struct KeypairImport {
    pub name: String,
    #[serde(rename = "type")]
    pub key_type: String,
    pub public_key: String,
}

#[derive(Debug, Deserialize)]
pub struct KeypairEnvelope {
    pub keypair: NovaKeypair,
}

#[derive(Debug, Deserialize)]
pub struct NovaKeypair {
    pub name: String,
    pub public_key: String,
    #[serde(default)]
    pub fingerprint: Option<String>,
}

// ---------- Glance ----------

#[derive(Debug, Deserialize)]
pub struct GlanceImage {
    pub id: String,
    pub name: Option<String>,
    pub status: String,
    pub min_disk: u64,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub virtual_size: Option<u64>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub visibility: Option<String>,
    pub tags: Vec<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Custom properties are top-level attributes in Glance v2.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct GlanceImageList {
    pub images: Vec<GlanceImage>,
    #[serde(default)]
    pub next: Option<String>,
}

/// Glance's own attributes: everything else at the top level of an image is a custom property.
pub const GLANCE_CORE_ATTRIBUTES: &[&str] = &[
    "checksum",
    "container_format",
    "created_at",
    "direct_url",
    "disk_format",
    "file",
    "id",
    "locations",
    "min_disk",
    "min_ram",
    "name",
    "os_hash_algo",
    "os_hash_value",
    "os_hidden",
    "owner",
    "protected",
    "schema",
    "self",
    "size",
    "status",
    "stores",
    "tags",
    "updated_at",
    "virtual_size",
    "visibility",
];

// ---------- faults ----------

/// Nova's fault body `{"<faultName>": {"code": N, "message": "..."}}`, Keystone's
/// `{"error": {"code", "message"}}`; Glance answers plain text.
pub fn fault_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = value.as_object()?;
    obj.values().find_map(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
}
