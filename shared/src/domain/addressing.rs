//! A network's IPv4 addressing, parsed once: its prefix (normalised to the network address), DNS
//! servers, host routes and Unikorn's address reservations, and the subnet layout they make
//! (gateway at +1, DHCP above the reservation, storage below it).

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Bounds of what a network declares.
pub const MAX_DNS_NAMESERVERS: usize = 8;
pub const MAX_ROUTES: usize = 32;
/// Unikorn's minimum network size: a mask no longer than /24.
pub const MIN_NETWORK_BITS: u8 = 24;

/// An IPv4 prefix: its network address and mask length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ipv4Prefix {
    pub address: Ipv4Addr,
    pub bits: u8,
}

impl Ipv4Prefix {
    /// `a.b.c.d/n`, normalised to its network address (Unikorn's parse); None otherwise.
    pub fn parse(text: &str) -> Option<Ipv4Prefix> {
        let (address, bits) = text.split_once('/')?;
        let address: Ipv4Addr = address.parse().ok()?;
        if bits.is_empty() || bits.len() > 2 || !bits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let bits: u8 = bits.parse().ok()?;
        (bits <= 32).then(|| Ipv4Prefix { address: Ipv4Addr::from(u32::from(address) & mask(bits)), bits })
    }

    fn first(self) -> u32 {
        u32::from(self.address)
    }

    fn broadcast(self) -> u32 {
        self.first() | !mask(self.bits)
    }
}

fn mask(bits: u8) -> u32 {
    if bits == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(bits))
    }
}

impl std::fmt::Display for Ipv4Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.address, self.bits)
    }
}

impl TryFrom<String> for Ipv4Prefix {
    type Error = String;
    fn try_from(value: String) -> std::result::Result<Self, String> {
        Ipv4Prefix::parse(&value).ok_or_else(|| format!("'{value}' is not an IPv4 prefix"))
    }
}

impl From<Ipv4Prefix> for String {
    fn from(p: Ipv4Prefix) -> String {
        p.to_string()
    }
}

/// A host route the subnet hands out: traffic to `prefix` goes through `nexthop`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub prefix: Ipv4Prefix,
    pub nexthop: Ipv4Addr,
}

/// Unikorn's address reservations (v1.17.0): the first `2^(32 - prefixLength)` addresses are kept
/// out of DHCP, of which the first `2^(32 - providerReservedPrefixLength)` are the provider's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reservations {
    pub prefix_length: u8,
    pub provider_reserved_prefix_length: u8,
}

impl Reservations {
    /// Unikorn's default: a /25 reserved, of which a /28 is the provider's (DHCP from .128, storage
    /// .16-.127 in a /24).
    pub const DEFAULT: Reservations = Reservations { prefix_length: 25, provider_reserved_prefix_length: 28 };

    /// Checked against the network's prefix, with Unikorn's words (422).
    pub fn check(self, network: Ipv4Prefix) -> Result<Reservations> {
        if self.prefix_length > 30 || self.provider_reserved_prefix_length > 30 {
            return Err(Error::invalid("spec.reservations: prefix lengths are at most 30"));
        }
        if self.prefix_length <= network.bits {
            return Err(Error::unprocessable(
                "the address reservation prefix length must be greater than the network prefix length",
            ));
        }
        if self.provider_reserved_prefix_length < self.prefix_length {
            return Err(Error::unprocessable(
                "the provider reserved prefix length must be greater than or equal to the reservation prefix length",
            ));
        }
        Ok(self)
    }
}

/// What a network declares (v1 and v2 alike).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkAddressing {
    pub prefix: Ipv4Prefix,
    pub dns_nameservers: Vec<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservations: Option<Reservations>,
}

/// Where a subnet's addresses go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub gateway: Ipv4Addr,
    pub dhcp: (Ipv4Addr, Ipv4Addr),
    pub storage: (Ipv4Addr, Ipv4Addr),
}

impl NetworkAddressing {
    /// The subnet's layout: gateway at +1, the provider's reservation then storage up to the
    /// reservation's end, DHCP from there to the last address before broadcast.
    pub fn layout(&self) -> Layout {
        let r = self.reservations.unwrap_or(Reservations::DEFAULT);
        let first = self.prefix.first();
        let size = |bits: u8| 1u32.checked_shl(32 - u32::from(bits)).unwrap_or(0);
        let reserved = size(r.prefix_length);
        let provider = size(r.provider_reserved_prefix_length);
        let addr = Ipv4Addr::from;
        Layout {
            gateway: addr(first + 1),
            dhcp: (addr(first + reserved), addr(self.prefix.broadcast() - 1)),
            storage: (addr(first + provider), addr(first + reserved - 1)),
        }
    }
}

/// Parses text lists with Unikorn's error words; `field` names the list in errors.
pub fn parse_nameservers(field: &str, values: &[String]) -> Result<Vec<Ipv4Addr>> {
    if values.len() > MAX_DNS_NAMESERVERS {
        return Err(Error::invalid(format!("{field}: at most {MAX_DNS_NAMESERVERS} addresses")));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, a)| {
            a.parse().map_err(|_| {
                let shown: String = a.chars().take(64).collect();
                Error::invalid(format!("{field}[{i}]: unable to parse IPv4 address '{shown}'"))
            })
        })
        .collect()
}

/// A prefix a network may have: IPv4, no smaller than a /24 (unless `min_bits` is `None`, v1).
pub fn parse_network_prefix(field: &str, text: &str, min_bits: Option<u8>) -> Result<Ipv4Prefix> {
    let shown: String = text.chars().take(64).collect();
    let prefix = Ipv4Prefix::parse(text)
        .ok_or_else(|| Error::invalid(format!("{field}: unable to parse IPv4 prefix '{shown}'")))?;
    if min_bits.is_some_and(|min| prefix.bits > min) {
        return Err(Error::invalid(format!("{field}: minimum network prefix size is /{MIN_NETWORK_BITS}")));
    }
    if prefix.bits > 30 {
        return Err(Error::invalid(format!("{field}: a network needs at least a /30")));
    }
    Ok(prefix)
}

/// Routes as `(prefix, nexthop)` text pairs.
pub fn parse_routes(field: &str, values: &[(String, String)]) -> Result<Vec<Route>> {
    if values.len() > MAX_ROUTES {
        return Err(Error::invalid(format!("{field}: at most {MAX_ROUTES} routes")));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, (prefix, nexthop))| {
            let prefix = Ipv4Prefix::parse(prefix)
                .ok_or_else(|| Error::invalid(format!("{field}[{i}].prefix: failed to parse route prefix")))?;
            let nexthop = nexthop
                .parse()
                .map_err(|_| Error::invalid(format!("{field}[{i}].nexthop: failed to parse route next-hop")))?;
            Ok(Route { prefix, nexthop })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addressing(prefix: &str, reservations: Option<Reservations>) -> NetworkAddressing {
        let prefix = Ipv4Prefix::parse(prefix).unwrap_or_else(|| panic!("{prefix}"));
        NetworkAddressing { prefix, dns_nameservers: vec![], routes: vec![], reservations }
    }

    #[test]
    fn a_slash_24_is_laid_out_as_unikorn_lays_it_out() {
        let layout = addressing("192.168.0.7/24", None).layout();
        assert_eq!(layout.gateway.to_string(), "192.168.0.1");
        assert_eq!(
            (layout.dhcp.0.to_string(), layout.dhcp.1.to_string()),
            ("192.168.0.128".into(), "192.168.0.254".into())
        );
        assert_eq!(layout.storage.0.to_string(), "192.168.0.16");
        assert_eq!(layout.storage.1.to_string(), "192.168.0.127");
        let wide =
            addressing("10.0.0.0/16", Some(Reservations { prefix_length: 20, provider_reserved_prefix_length: 24 }));
        assert_eq!(wide.layout().dhcp.0.to_string(), "10.0.16.0");
        assert_eq!(wide.layout().dhcp.1.to_string(), "10.0.255.254");
    }

    #[test]
    fn prefixes_are_normalised_and_bounded() {
        assert_eq!(Ipv4Prefix::parse("10.1.2.3/8").map(|p| p.to_string()), Some("10.0.0.0/8".into()));
        for bad in ["10.0.0.0", "10.0.0.0/33", "::/0", "10.0.0.0/+4", "x/24"] {
            assert!(Ipv4Prefix::parse(bad).is_none(), "{bad}");
        }
        let small = parse_network_prefix("spec.prefix", "10.0.0.0/25", Some(MIN_NETWORK_BITS));
        assert!(small.is_err_and(|e| e.to_string().contains("minimum network prefix size is /24")));
        assert!(parse_network_prefix("spec.prefix", "10.0.0.0/25", None).is_ok());
        let reserve = Reservations { prefix_length: 24, provider_reserved_prefix_length: 28 };
        assert!(reserve.check(Ipv4Prefix { address: Ipv4Addr::new(10, 0, 0, 0), bits: 24 }).is_err());
        let routes = parse_routes("spec.routes", &[("0.0.0.0/0".into(), "10.0.0.9".into())]);
        assert_eq!(routes.map(|r| r.len()).ok(), Some(1));
        assert!(parse_routes("spec.routes", &[("x".into(), "10.0.0.9".into())]).is_err());
        assert!(parse_nameservers("spec.dnsNameservers", &["8.8.8.8".into(), "nope".into()]).is_err());
    }
}
