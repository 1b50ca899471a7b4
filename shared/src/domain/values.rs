//! Small validated values of the wire format.

use std::net::IpAddr;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest user data accepted, decoded: what fits Nova's limit of 65,535 characters of base64
/// (`user_data`'s `maxLength` in Nova's schema), so Nova never refuses what this API accepted.
pub const USER_DATA_LIMIT: usize = NOVA_USER_DATA_CHARS / 4 * 3;
/// Nova's own bound on `user_data`, in base64 characters.
pub const NOVA_USER_DATA_CHARS: usize = 65_535;

/// Free text, at most 1024 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Description(pub String);

impl Description {
    pub fn parse(field: &str, value: &str) -> Result<Self> {
        if value.chars().count() > 1024 {
            return Err(Error::invalid(format!("{field}: longer than 1024 characters")));
        }
        Ok(Description(value.to_owned()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub name: String,
    pub value: String,
}

/// At most 64 tags; names 1-256 characters and unique, values at most 256 characters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tags(pub Vec<Tag>);

impl Tags {
    /// Whether every wanted (name, value) pair is among them (a list's `tag` filter).
    pub fn has_all(&self, wanted: &[(String, String)]) -> bool {
        wanted.iter().all(|(k, v)| self.0.iter().any(|t| &t.name == k && &t.value == v))
    }

    pub fn parse(field: &str, tags: &[(String, String)]) -> Result<Self> {
        if tags.len() > 64 {
            return Err(Error::invalid(format!("{field}: at most 64 tags")));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, (name, value)) in tags.iter().enumerate() {
            if name.is_empty() || name.chars().count() > 256 {
                return Err(Error::invalid(format!("{field}[{i}].name: must be 1-256 characters")));
            }
            if value.chars().count() > 256 {
                return Err(Error::invalid(format!("{field}[{i}].value: at most 256 characters")));
            }
            if !seen.insert(name) {
                return Err(Error::invalid(format!("{field}[{i}].name: duplicate tag '{name}'")));
            }
        }
        Ok(Tags(tags.iter().map(|(name, value)| Tag { name: name.clone(), value: value.clone() }).collect()))
    }
}

/// An id naming another resource (network, flavor, image, ...): 1-255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReferenceId(pub String);

impl ReferenceId {
    pub fn parse(field: &str, value: &str) -> Result<Self> {
        if value.is_empty() || value.len() > 255 || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid(format!("{field}: must be 1-255 printable characters without spaces")));
        }
        Ok(ReferenceId(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IPv4 or IPv6 prefix in CIDR notation, as Go's `net.ParseCIDR` accepts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cidr(String);

impl Cidr {
    pub fn parse(field: &str, value: &str) -> Result<Self> {
        let invalid = || Error::unprocessable(format!("{field}: '{value}' is not a CIDR (for example 192.0.2.0/24)"));
        let (addr, prefix) = value.split_once('/').ok_or_else(invalid)?;
        let addr: IpAddr = addr.parse().map_err(|_| invalid())?;
        if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(invalid());
        }
        Ok(Cidr(value.to_owned()))
    }

    pub fn is_ipv4(&self) -> bool {
        !self.0.contains(':')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Cidr {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        Cidr::parse("cidr", &value)
    }
}

impl From<Cidr> for String {
    fn from(c: Cidr) -> String {
        c.0
    }
}

/// A MAC address, six colon-separated hex octets, kept in lower case (Neutron's form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MacAddress(String);

impl MacAddress {
    pub fn parse(field: &str, value: &str) -> Result<Self> {
        let octets: Vec<&str> = value.split(':').collect();
        let valid =
            octets.len() == 6 && octets.iter().all(|o| o.len() == 2 && o.bytes().all(|b| b.is_ascii_hexdigit()));
        if !valid {
            return Err(Error::unprocessable(format!(
                "{field}: '{value}' is not a MAC address (for example fa:16:3e:00:00:01)"
            )));
        }
        Ok(MacAddress(value.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MacAddress {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        MacAddress::parse("macAddress", &value)
    }
}

impl From<MacAddress> for String {
    fn from(m: MacAddress) -> String {
        m.0
    }
}

/// Decoded user data (the wire carries base64), at most [`USER_DATA_LIMIT`] bytes.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserData(Vec<u8>);

impl std::fmt::Debug for UserData {
    // User data can carry secrets: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UserData({} bytes)", self.0.len())
    }
}

impl UserData {
    pub fn parse(field: &str, encoded: &str) -> Result<Self> {
        if encoded.len() > USER_DATA_LIMIT * 4 / 3 + 8 {
            return Err(Error::unprocessable(format!("{field}: larger than {USER_DATA_LIMIT} bytes decoded")));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| Error::invalid(format!("{field}: not valid base64")))?;
        if bytes.len() > USER_DATA_LIMIT {
            return Err(Error::unprocessable(format!(
                "{field}: {} bytes decoded, the limit is {USER_DATA_LIMIT}",
                bytes.len()
            )));
        }
        Ok(UserData(bytes))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn encoded(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.0)
    }
}

impl TryFrom<String> for UserData {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        UserData::parse("userData", &value)
    }
}

impl From<UserData> for String {
    fn from(u: UserData) -> String {
        u.encoded()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        for ok in ["10.0.0.0/8", "0.0.0.0/0", "192.0.2.1/32", "2001:db8::/32", "::/0"] {
            assert!(Cidr::parse("c", ok).is_ok(), "{ok}");
        }
        for bad in ["10.0.0.0", "10.0.0.0/33", "10.0.0/8", "2001:db8::/129", "x/1", "10.0.0.0/+1", "10.0.0.0/"] {
            let err = Cidr::parse("spec.networking.allowedSourceAddresses[0]", bad).expect_err(bad);
            assert_eq!(err.status_and_code().0, 422);
            assert!(err.to_string().contains("allowedSourceAddresses[0]"));
        }
    }

    #[test]
    fn user_data_is_base64_and_bounded() {
        let ok = UserData::parse("spec.userData", "I2Nsb3VkLWNvbmZpZwo=").map(|u| u.bytes().to_vec());
        assert_eq!(ok.ok().as_deref(), Some(&b"#cloud-config\n"[..]));
        let err = UserData::parse("spec.userData", "not base64!").expect_err("bad");
        assert_eq!(err.status_and_code().0, 400);
        let big = base64::engine::general_purpose::STANDARD.encode(vec![0u8; USER_DATA_LIMIT + 1]);
        assert_eq!(UserData::parse("spec.userData", &big).map(|_| ()).expect_err("big").status_and_code().0, 422);
        let exact = base64::engine::general_purpose::STANDARD.encode(vec![0u8; USER_DATA_LIMIT]);
        assert!(UserData::parse("spec.userData", &exact).is_ok());
        assert!(exact.len() <= NOVA_USER_DATA_CHARS, "what is accepted fits what Nova takes");
        assert_eq!(format!("{:?}", UserData::parse("u", "c2VjcmV0").ok()), "Some(UserData(6 bytes))");
    }

    #[test]
    fn tags_and_references() {
        assert!(Tags::parse("metadata.tags", &[("a".into(), "1".into()), ("a".into(), "2".into())]).is_err());
        assert!(Tags::parse("metadata.tags", &[("".into(), "1".into())]).is_err());
        assert!(ReferenceId::parse("spec.flavorId", "").is_err());
        assert!(ReferenceId::parse("spec.flavorId", "a b").is_err());
        assert!(ReferenceId::parse("spec.flavorId", "m1.small").is_ok());
    }
}
