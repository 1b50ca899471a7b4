use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::Resource;
use crate::domain::{Description, Metadata, NetworkRecord, ResourceName, ServerRecord, Tags};
use crate::error::Result;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceWriteMetadata {
    pub name: String,
    #[serde(default, deserialize_with = "crate::api::present")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "crate::api::present")]
    pub tags: Option<Vec<Tag>>,
}

impl ResourceWriteMetadata {
    pub fn parse(&self) -> Result<Metadata> {
        let tags: Vec<(String, String)> =
            self.tags.iter().flatten().map(|t| (t.name.clone(), t.value.clone())).collect();
        Ok(Metadata {
            name: ResourceName::parse("metadata.name", &self.name)?,
            description: self
                .description
                .as_deref()
                .map(|d| Description::parse("metadata.description", d))
                .transpose()?,
            tags: Tags::parse("metadata.tags", &tags)?,
        })
    }
}

/// `staticResourceMetadata`: what every resource read carries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StaticResourceMetadata {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    pub creation_time: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_time: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_by: Option<String>,
}

/// `projectScopedResourceReadMetadata`: the static metadata (flattened, as the contract's `allOf`
/// composes it) with the life cycle and the scope.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProjectScopedResourceReadMetadata {
    #[serde(flatten)]
    pub resource: StaticResourceMetadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_time: Option<DateTime<Utc>>,
    pub provisioning_status: String,
    pub health_status: String,
    pub organization_id: String,
    pub project_id: String,
}

/// A serialized enum's text (`provisioned`, `Running`).
pub(crate) fn enum_text<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

impl ProjectScopedResourceReadMetadata {
    /// A network's metadata, the same in every API version: its stage at the provider (a bound
    /// network is provisioned until it is being deleted), health unknown as Unikorn has it for
    /// provisioned networks.
    pub fn of_network(n: &NetworkRecord) -> Self {
        let stage = n.stage();
        let deleting =
            n.lifecycle.as_ref().filter(|l| l.stage == crate::domain::Stage::Deprovisioning).map(|l| l.since);
        let settled = ProjectScopedResourceReadMetadata::settled(n);
        ProjectScopedResourceReadMetadata {
            resource: StaticResourceMetadata {
                modified_time: n.modified_time,
                modified_by: n.modified_by.clone(),
                ..settled.resource
            },
            deletion_time: n.deleting_since.or(deleting),
            provisioning_status: stage.as_str().into(),
            health_status: if n.is_provisioned_by_us() { "unknown" } else { "healthy" }.into(),
            ..settled
        }
    }

    /// A security group's metadata: its stage at the provider, health unknown (as Unikorn's).
    pub fn of_security_group(g: &crate::domain::SecurityGroupRecord) -> Self {
        let settled = ProjectScopedResourceReadMetadata::settled(g);
        ProjectScopedResourceReadMetadata {
            resource: StaticResourceMetadata {
                modified_time: g.modified_time,
                modified_by: g.modified_by.clone(),
                ..settled.resource
            },
            deletion_time: g.deleting_since,
            provisioning_status: g.stage().as_str().into(),
            health_status: "unknown".into(),
            ..settled
        }
    }

    /// A server's metadata, the same in every API version.
    pub fn of_server(r: &ServerRecord) -> Self {
        let settled = ProjectScopedResourceReadMetadata::settled(r);
        ProjectScopedResourceReadMetadata {
            resource: StaticResourceMetadata {
                modified_time: r.modified_time,
                modified_by: r.modified_by.clone(),
                ..settled.resource
            },
            deletion_time: r.deletion_time,
            provisioning_status: enum_text(&r.provisioning_status),
            health_status: enum_text(&r.health_status),
            ..settled
        }
    }

    /// The metadata of a resource that has no life cycle of its own (provisioned and healthy from
    /// the start), and the common part of every other.
    pub fn settled(resource: &impl Resource) -> Self {
        let r = resource.common();
        ProjectScopedResourceReadMetadata {
            resource: StaticResourceMetadata {
                id: r.id.to_owned(),
                name: r.name.to_string(),
                description: r.description.map(|d| d.0.clone()),
                tags: tags_to_wire(r.tags),
                creation_time: r.creation_time,
                created_by: Some(r.created_by.to_owned()),
                modified_time: None,
                modified_by: None,
            },
            deletion_time: None,
            provisioning_status: "provisioned".into(),
            health_status: "healthy".into(),
            organization_id: r.organization_id.to_owned(),
            project_id: r.project_id.to_owned(),
        }
    }
}

pub fn tags_to_wire(tags: &Tags) -> Option<Vec<Tag>> {
    (!tags.0.is_empty()).then(|| tags.0.iter().map(|t| Tag { name: t.name.clone(), value: t.value.clone() }).collect())
}

/// Go's zero time (`0001-01-01T00:00:00Z`): what Unikorn shows as the creation time of what it
/// does not store (flavors, regions configured statically, an image without one).
pub fn zero_time() -> DateTime<Utc> {
    use chrono::Datelike as _;
    DateTime::<Utc>::MIN_UTC.with_year(1).unwrap_or(DateTime::<Utc>::MIN_UTC)
}
