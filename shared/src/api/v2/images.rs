//! `SnapshotCreate`, and Unikorn's `image`: what the image lists and a snapshot answer with.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::metadata::ResourceWriteMetadata;
use crate::api::metadata::{zero_time, StaticResourceMetadata};
use crate::api::Tag;
use crate::domain::catalog::OfferedImage;
use crate::error::Result;
use crate::usecase::SnapshotInput;

/// Unikorn's `snapshotCreate`: metadata, and a spec that has no fields yet (the snapshot takes its
/// spec from the source image). `spec` may be omitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotCreate {
    pub metadata: ResourceWriteMetadata,
    #[serde(default, deserialize_with = "crate::api::present")]
    pub spec: Option<SnapshotCreateSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotCreateSpec {}

impl SnapshotCreate {
    pub fn parse(self) -> Result<SnapshotInput> {
        let metadata = self.metadata.parse()?;
        Ok(SnapshotInput { name: metadata.name, description: metadata.description, tags: metadata.tags })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    pub metadata: StaticResourceMetadata,
    pub spec: ImageSpec,
    pub status: ImageStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImageSpec {
    /// `x86_64` or `aarch64`.
    pub architecture: String,
    #[serde(rename = "sizeGiB")]
    pub size_gib: u64,
    pub virtualization: String,
    pub os: ImageOs,
    /// Always present, `{}` when the image has none (uni-compute offers only those).
    #[serde(default)]
    pub software_versions: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<ImageGpu>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImageOs {
    pub kernel: String,
    pub family: String,
    pub distro: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImageGpu {
    pub vendor: String,
    pub driver: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImageStatus {
    /// `pending`, `creating`, `ready` or `failed`.
    pub state: String,
}

fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
}

impl From<&OfferedImage> for Image {
    fn from(image: &OfferedImage) -> Self {
        let tags: Vec<Tag> =
            image.tags.iter().map(|(name, value)| Tag { name: name.clone(), value: value.clone() }).collect();
        Image {
            metadata: StaticResourceMetadata {
                id: image.id.clone(),
                name: image.name.clone(),
                description: image.description.clone(),
                tags: (!tags.is_empty()).then_some(tags),
                creation_time: parse_time(image.created_at.as_deref()).unwrap_or_else(zero_time),
                created_by: image.created_by.clone(),
                modified_time: parse_time(image.updated_at.as_deref()),
                modified_by: None,
            },
            spec: ImageSpec {
                architecture: image.architecture.clone(),
                size_gib: image.size_gib,
                virtualization: image.virtualization.clone(),
                os: ImageOs {
                    kernel: image.os.kernel.clone(),
                    family: image.os.family.clone(),
                    distro: image.os.distro.clone(),
                    variant: image.os.variant.clone(),
                    codename: image.os.codename.clone(),
                    version: image.os.version.clone(),
                },
                software_versions: image.software_versions.clone(),
                gpu: image.gpu.as_ref().map(|g| ImageGpu {
                    vendor: g.vendor.clone(),
                    driver: g.driver.clone(),
                    models: g.models.clone(),
                }),
            },
            status: ImageStatus { state: image.state.as_str().into() },
        }
    }
}
