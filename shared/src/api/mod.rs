//! Wire types of the v2 API (camelCase JSON, as Unikorn serves it), the parsers that turn bodies
//! into domain input, and the conversions from records to responses.

pub mod images;
mod metadata;
pub mod networks;
mod parse;
pub mod servers;
pub mod sshcas;

pub use metadata::{ProjectScopedReadMetadata, TagWire, WriteMetadata};
pub use parse::{parse_json, present};

use serde::Serialize;

/// `{"error": code, "error_description": text}`.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub error: &'a str,
    pub error_description: String,
}
