//! Images: Glance's public images whose properties pass Unikorn's image schema
//! (`v2.image.schema.json`) and, where the region has a signing key, whose `unikorn:digest` is the
//! key's signature of SHA-256(image id) (images owned by an organization are never
//! signature-checked), described in Unikorn's words.

use std::collections::BTreeMap;

use base64::Engine as _;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::GIB;
use crate::provider::{Image, ImageState};
use crate::regions::OpenStackRegion;

/// The provenance tags Unikorn writes on an organization's images: `import` or `snapshot`, and the
/// organization.
pub const IMAGE_SOURCE_TAG: &str = "images.unikorn-cloud.org:source";
pub const IMAGE_ORGANIZATION_TAG: &str = "images.unikorn-cloud.org:organization-id";
/// The source tag's value on a snapshot.
pub const SOURCE_SNAPSHOT: &str = "snapshot";

/// Who owns an image: absent on a global one.
pub const ORGANIZATION: &str = "unikorn:organization:id";
/// The signature of a global image's id, where the region has a signing key.
pub const DIGEST: &str = "unikorn:digest";
/// `unikorn:tag:<name>` = value: the image's tags.
pub const TAG: &str = "unikorn:tag:";
/// `unikorn:package:<name>` = version: its software versions.
pub const PACKAGE: &str = "unikorn:package:";
/// Who made a snapshot, and what they said of it.
pub const CREATED_BY: &str = "unikorn:created_by";
pub const DESCRIPTION: &str = "unikorn:description";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferedImage {
    pub id: String,
    pub name: String,
    /// Glance's `created_at` and `updated_at`.
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    /// From the `unikorn:tag:<name>` properties, by name.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    pub architecture: String,
    pub size_gib: u64,
    pub virtualization: String,
    pub os: ImageOs,
    #[serde(default)]
    pub software_versions: BTreeMap<String, String>,
    #[serde(default)]
    pub gpu: Option<ImageGpuSpec>,
    pub state: ImageState,
    /// The organization that owns it; `None`: a global image, offered to every organization.
    #[serde(default)]
    pub organization: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageOs {
    pub kernel: String,
    pub family: String,
    pub distro: String,
    pub version: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub codename: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageGpuSpec {
    pub vendor: String,
    pub driver: String,
    #[serde(default)]
    pub models: Option<Vec<String>>,
}

impl OfferedImage {
    /// Offered to `organization`: a global image, or one it owns.
    pub fn offered_to(&self, organization: &str) -> bool {
        self.organization.as_deref().is_none_or(|o| o == organization)
    }
}

/// The public images Glance lists, as the region offers them.
pub fn offered_images(region: &OpenStackRegion, glance: Vec<Image>) -> Vec<OfferedImage> {
    glance.into_iter().filter_map(|image| offered(region, image)).collect()
}

fn offered(region: &OpenStackRegion, image: Image) -> Option<OfferedImage> {
    let props = &image.properties;
    if !passes_schema(props) {
        return None;
    }
    if !props.contains_key(ORGANIZATION) {
        if let Some(key) = &region.signing_key {
            if !signed(key, &image.id, props.get(DIGEST)?) {
                return None;
            }
        }
    }
    Some(describe(image))
}

/// An image in Unikorn's words, whatever its properties (a snapshot of an image that never had
/// Unikorn's is still described): what the schema requires and the image lacks reads as empty,
/// virtualization as `any`.
pub fn describe(image: Image) -> OfferedImage {
    let props = &image.properties;
    let get = |key: &str| props.get(key).cloned();
    let text = |key: &str| get(key).unwrap_or_default();
    let mut software_versions: BTreeMap<String, String> =
        props.iter().filter_map(|(k, v)| k.strip_prefix(PACKAGE).map(|n| (n.to_owned(), v.clone()))).collect();
    if let Some(legacy) = get("unikorn:kubernetes_version") {
        software_versions.entry("kubernetes".into()).or_insert(legacy);
    }
    let size_gib = match image.min_disk_gib {
        0 => image.virtual_size_bytes.map_or(0, |b| b.div_ceil(GIB)),
        min => min,
    };
    OfferedImage {
        tags: props.iter().filter_map(|(k, v)| k.strip_prefix(TAG).map(|n| (n.to_owned(), v.clone()))).collect(),
        architecture: image.architecture.clone().unwrap_or_else(|| "x86_64".into()),
        size_gib,
        virtualization: get("unikorn:virtualization").unwrap_or_else(|| "any".into()),
        os: ImageOs {
            kernel: text("unikorn:os:kernel"),
            family: text("unikorn:os:family"),
            distro: text("unikorn:os:distro"),
            version: text("unikorn:os:version"),
            variant: get("unikorn:os:variant"),
            codename: get("unikorn:os:codename"),
        },
        software_versions,
        gpu: get("unikorn:gpu_vendor").map(|vendor| ImageGpuSpec {
            vendor,
            driver: text("unikorn:gpu_driver_version"),
            models: get("unikorn:gpu_models").map(|m| m.split(',').map(str::to_owned).collect()),
        }),
        state: image.state,
        organization: get(ORGANIZATION),
        description: get(DESCRIPTION),
        created_by: get(CREATED_BY),
        created_at: image.created_at,
        updated_at: image.updated_at,
        id: image.id,
        name: image.name,
    }
}

/// Unikorn's image schema over the properties.
fn passes_schema(props: &BTreeMap<String, String>) -> bool {
    let has = |key: &str| props.contains_key(key);
    let is = |key: &str, allowed: &[&str]| props.get(key).is_some_and(|v| allowed.contains(&v.as_str()));
    let required = ["unikorn:os:family", "unikorn:os:distro", "unikorn:os:version"].iter().all(|k| has(k));
    let semver = ["unikorn:package:kubernetes", "unikorn:package:slurmd"]
        .iter()
        .all(|k| props.get(*k).is_none_or(|v| is_semver(v)));
    let gpu = match props.get("unikorn:gpu_vendor") {
        None => true,
        Some(vendor) => {
            ["AMD", "NVIDIA"].contains(&vendor.as_str())
                && props.get("unikorn:gpu_models").is_some_and(|m| is_model_list(m))
                && has("unikorn:gpu_driver_version")
        }
    };
    required
        && is("unikorn:os:kernel", &["linux"])
        && is("unikorn:virtualization", &["any", "baremetal", "virtualized"])
        && semver
        && gpu
}

/// `^v\d+\.\d+\.\d+$`
fn is_semver(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else { return false };
    let parts: Vec<&str> = rest.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `^\w+(,\w+)*$`
fn is_model_list(v: &str) -> bool {
    v.split(',').all(|m| !m.is_empty() && m.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// Whether `digest` (base64 of an ASN.1 ECDSA signature) is the key's signature of SHA-256(id).
fn signed(key: &VerifyingKey, id: &str, digest: &str) -> bool {
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(digest.trim()) else { return false };
    let Ok(signature) = Signature::from_der(&der) else { return false };
    key.verify_prehash(&sha2::Sha256::digest(id.as_bytes()), &signature).is_ok()
}

#[cfg(test)]
#[path = "images_tests.rs"]
mod tests;
