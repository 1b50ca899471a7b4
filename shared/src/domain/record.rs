//! The fields every stored resource carries (identity, network, server, SSH CA), written once.

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
    };
}

pub(crate) use resource_record;
