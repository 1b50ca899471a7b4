use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A Kubernetes label value: 1-63 characters, `[0-9A-Za-z]` at both ends, `-_.` allowed inside.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResourceName(String);

impl ResourceName {
    pub fn parse(field: &str, value: &str) -> Result<Self> {
        let bytes = value.as_bytes();
        let edge_ok = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
        let inner_ok = bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if value.is_empty() || value.len() > 63 || !edge_ok(bytes.first()) || !edge_ok(bytes.last()) || !inner_ok {
            return Err(Error::invalid(format!(
                "{field}: '{}' is not a valid name (1-63 characters of [0-9A-Za-z-_.], starting and ending alphanumeric)",
                value.chars().take(80).collect::<String>()
            )));
        }
        Ok(ResourceName(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name of the v2 networks' hidden identities (Unikorn's).
    pub fn service_principal() -> Self {
        ResourceName("networkv2-service-principal".to_owned())
    }
}

impl TryFrom<String> for ResourceName {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        ResourceName::parse("name", &value)
    }
}

impl From<ResourceName> for String {
    fn from(name: ResourceName) -> String {
        name.0
    }
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values() {
        for ok in ["a", "web-1", "a.b_c-d", "A9", &"x".repeat(63)] {
            assert!(ResourceName::parse("n", ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "a b", "é", "a/b", &"x".repeat(64), "_a"] {
            let err = ResourceName::parse("metadata.name", bad).expect_err(bad);
            assert!(err.to_string().starts_with("metadata.name:"), "{err}");
        }
    }
}
