//! The fields every stored resource carries (identity, network, server, SSH CA), written once.

use chrono::{DateTime, Utc};

use super::{Description, ResourceName, Tags};

/// The common fields of a stored resource, borrowed (what every API version shows of them).
#[derive(Debug, Clone, Copy)]
pub struct Common<'a> {
    pub id: &'a str,
    pub name: &'a ResourceName,
    pub description: Option<&'a Description>,
    pub tags: &'a Tags,
    pub organization_id: &'a str,
    pub project_id: &'a str,
    pub created_by: &'a str,
    pub creation_time: DateTime<Utc>,
}

/// A record declared with [`resource_record!`].
pub trait Resource {
    fn common(&self) -> Common<'_>;
}

/// Declares a record struct with the common resource fields first, then its own.
///
/// The common fields are the resource's id, the API version that made it, its metadata (name,
/// description, tags), its owner (organization and project) and its creation (who, when). Records
/// are stored as JSON, so the field order here changes nothing stored.
macro_rules! resource_record {
    (
        $(#[$meta:meta])*
        pub struct $record:ident {
            $($(#[$field_meta:meta])* pub $field:ident : $type:ty,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $record {
            pub id: String,
            pub api_version: $crate::domain::ApiVersion,
            pub name: $crate::domain::ResourceName,
            pub description: Option<$crate::domain::Description>,
            pub tags: $crate::domain::Tags,
            pub organization_id: String,
            pub project_id: String,
            pub created_by: String,
            pub creation_time: chrono::DateTime<chrono::Utc>,
            $($(#[$field_meta])* pub $field: $type,)*
        }

        impl $crate::domain::Resource for $record {
            fn common(&self) -> $crate::domain::Common<'_> {
                $crate::domain::Common {
                    id: &self.id,
                    name: &self.name,
                    description: self.description.as_ref(),
                    tags: &self.tags,
                    organization_id: &self.organization_id,
                    project_id: &self.project_id,
                    created_by: &self.created_by,
                    creation_time: self.creation_time,
                }
            }
        }
    };
}

pub(crate) use resource_record;
