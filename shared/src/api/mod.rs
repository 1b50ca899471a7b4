//! Wire types of each API version (camelCase JSON, as Unikorn serves it): the parsers that turn
//! bodies into the use-cases' input, and the conversions from records to responses. Everything
//! version-specific about bodies lives here; the use-cases below are the same for every version.

mod metadata;
mod objects;
mod parse;
pub mod v1;
pub mod v2;

pub use metadata::{ProjectScopedResourceReadMetadata, ResourceWriteMetadata, Tag};
pub use parse::{parse_json, present};

use serde::Serialize;

/// `{"error": code, "error_description": text}`.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub error: &'a str,
    pub error_description: String,
}
