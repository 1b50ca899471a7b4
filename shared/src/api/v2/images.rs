//! `SnapshotCreate` and the image a snapshot answers with (Unikorn's `ImageResponse`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::metadata::ResourceWriteMetadata;
use crate::api::metadata::StaticResourceMetadata;
use crate::api::Tag;
use crate::error::Result;
use crate::provider::{self, ImageState};
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_versions: Option<BTreeMap<String, String>>,
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

fn state_text(state: ImageState) -> &'static str {
    match state {
        ImageState::Pending => "pending",
        ImageState::Creating => "creating",
        ImageState::Ready => "ready",
        ImageState::Failed => "failed",
    }
}

fn parse_time(text: &Option<String>) -> Option<DateTime<Utc>> {
    text.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
}

impl From<&provider::Image> for Image {
    fn from(image: &provider::Image) -> Self {
        let p = |key: &str| image.properties.get(key).cloned();
        let text = |key: &str| p(key).unwrap_or_default();
        let tags: Vec<Tag> = image
            .properties
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("unikorn:tag:").map(|name| Tag { name: name.into(), value: v.clone() }))
            .collect();
        let packages: BTreeMap<String, String> = image
            .properties
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("unikorn:package:").map(|name| (name.to_owned(), v.clone())))
            .collect();
        Image {
            metadata: StaticResourceMetadata {
                id: image.id.clone(),
                name: image.name.clone(),
                description: p("unikorn:description"),
                tags: (!tags.is_empty()).then_some(tags),
                creation_time: parse_time(&image.created_at).unwrap_or_else(Utc::now),
                created_by: p("unikorn:created_by"),
                modified_time: parse_time(&image.updated_at),
                modified_by: None,
            },
            spec: ImageSpec {
                // Unikorn's images all carry it; one that does not is most likely x86_64.
                architecture: image.architecture.clone().unwrap_or_else(|| "x86_64".into()),
                size_gib: image.min_disk_gib,
                virtualization: p("unikorn:virtualization").unwrap_or_else(|| "any".into()),
                os: ImageOs {
                    kernel: text("unikorn:os:kernel"),
                    family: text("unikorn:os:family"),
                    distro: text("unikorn:os:distro"),
                    variant: p("unikorn:os:variant"),
                    codename: p("unikorn:os:codename"),
                    version: text("unikorn:os:version"),
                },
                software_versions: (!packages.is_empty()).then_some(packages),
                gpu: p("unikorn:gpu_vendor").map(|vendor| ImageGpu {
                    vendor,
                    driver: text("unikorn:gpu_driver_version"),
                    models: p("unikorn:gpu_models").map(|m| m.split(',').map(str::to_owned).collect()),
                }),
            },
            status: ImageStatus { state: state_text(image.state).into() },
        }
    }
}
