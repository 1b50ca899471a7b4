//! Security group rules: parsed from Unikorn's v2 shape (`port`, `portMax`, `prefix`) and v1 shape
//! (`port.number` or `port.range`, `cidr`), and keyed as Unikorn's security-group controller keys
//! them at Neutron (`direction,protocol,min-max,prefix`), so a reconcile creates the missing rules,
//! deletes the unasked ones and never touches one that is unchanged.

use serde::{Deserialize, Serialize};

use super::addressing::Ipv4Prefix;
use crate::error::{Error, Result};

/// The most rules a group takes: Neutron's default quota of rules per group.
pub const MAX_RULES: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ingress,
    Egress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Any,
    Icmp,
    Tcp,
    Udp,
    Vrrp,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

impl Protocol {
    /// Unikorn's name for it.
    pub fn as_str(self) -> &'static str {
        self.neutron().unwrap_or("any")
    }

    /// Only layer-4 protocols have ports.
    fn has_ports(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp)
    }

    /// Neutron's name for it (`None`: any protocol, sent as no protocol).
    pub fn neutron(self) -> Option<&'static str> {
        match self {
            Protocol::Any => None,
            Protocol::Icmp => Some("icmp"),
            Protocol::Tcp => Some("tcp"),
            Protocol::Udp => Some("udp"),
            Protocol::Vrrp => Some("vrrp"),
        }
    }
}

/// An inclusive port range (a single port is `min == max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRange {
    pub min: u16,
    pub max: u16,
}

/// One rule as asked for: all ports when `ports` is `None`, from anywhere when `prefix` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityRule {
    pub direction: Direction,
    pub protocol: Protocol,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<PortRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<Ipv4Prefix>,
}

impl SecurityRule {
    /// Unikorn's key: what makes two rules the same at Neutron.
    pub fn key(&self) -> String {
        let ports = self.ports.map(|p| (p.min, p.max)).unwrap_or((0, 0));
        let prefix = self.prefix.map(|p| p.to_string()).unwrap_or_else(|| ANYWHERE.to_owned());
        key(self.direction.as_str(), self.protocol.as_str(), ports, &prefix)
    }
}

const ANYWHERE: &str = "0.0.0.0/0";

fn key(direction: &str, protocol: &str, (min, max): (u16, u16), prefix: &str) -> String {
    format!("{direction},{protocol},{min}-{max},{prefix}")
}

/// A rule Neutron holds, as it lists it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeldRule {
    pub id: String,
    pub direction: String,
    pub protocol: Option<String>,
    pub port_range_min: Option<u16>,
    pub port_range_max: Option<u16>,
    pub remote_ip_prefix: Option<String>,
}

impl HeldRule {
    /// Keyed as Unikorn keys it (ethertype and remote group ignored).
    pub fn key(&self) -> String {
        let ports = (self.port_range_min.unwrap_or(0), self.port_range_max.unwrap_or(0));
        key(
            &self.direction,
            self.protocol.as_deref().unwrap_or("any"),
            ports,
            self.remote_ip_prefix.as_deref().unwrap_or(ANYWHERE),
        )
    }
}

/// What a reconcile changes at Neutron.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RulePlan {
    pub create: Vec<SecurityRule>,
    /// Ids of held rules nobody asked for.
    pub delete: Vec<String>,
}

impl RulePlan {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.delete.is_empty()
    }
}

/// Brings `held` to `wanted`: Neutron's default egress (any protocol, anywhere: both its IPv4 and
/// IPv6 rules key so) always counts as wanted, each wanted key is made once, duplicates held are
/// removed, and nothing unchanged is touched.
pub fn plan_rules(held: &[HeldRule], wanted: &[SecurityRule]) -> RulePlan {
    let default_egress = key("egress", "any", (0, 0), ANYWHERE);
    let mut wanted_keys: Vec<(String, Option<&SecurityRule>)> = vec![(default_egress, None)];
    for rule in wanted {
        let k = rule.key();
        if !wanted_keys.iter().any(|(w, _)| *w == k) {
            wanted_keys.push((k, Some(rule)));
        }
    }
    let mut plan = RulePlan::default();
    let mut kept: Vec<String> = Vec::new();
    for rule in held {
        let k = rule.key();
        let is_default = k == wanted_keys[0].0;
        // Both default egress rules stay; any other key is held once.
        if wanted_keys.iter().any(|(w, _)| *w == k) && (is_default || !kept.contains(&k)) {
            kept.push(k);
        } else {
            plan.delete.push(rule.id.clone());
        }
    }
    plan.create = wanted_keys.iter().filter(|(k, _)| !kept.contains(k)).filter_map(|(_, rule)| rule.copied()).collect();
    plan
}

fn direction(field: &str, text: &str) -> Result<Direction> {
    match text {
        "ingress" => Ok(Direction::Ingress),
        "egress" => Ok(Direction::Egress),
        _ => Err(Error::invalid(format!("{field}.direction: one of ingress, egress"))),
    }
}

fn protocol(field: &str, text: &str) -> Result<Protocol> {
    match text {
        "any" => Ok(Protocol::Any),
        "icmp" => Ok(Protocol::Icmp),
        "tcp" => Ok(Protocol::Tcp),
        "udp" => Ok(Protocol::Udp),
        "vrrp" => Ok(Protocol::Vrrp),
        _ => Err(Error::invalid(format!("{field}.protocol: one of any, icmp, tcp, udp, vrrp"))),
    }
}

fn port(field: &str, value: i64) -> Result<u16> {
    u16::try_from(value)
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| Error::invalid(format!("{field}: a port is 1 to 65535")))
}

fn prefix(field: &str, text: Option<&str>) -> Result<Option<Ipv4Prefix>> {
    text.map(|t| {
        Ipv4Prefix::parse(t).ok_or_else(|| {
            let shown: String = t.chars().take(64).collect();
            Error::invalid(format!("{field}: unable to parse prefix '{shown}'"))
        })
    })
    .transpose()
}

fn with_ports(field: &str, protocol: Protocol, ports: Option<PortRange>) -> Result<Option<PortRange>> {
    if ports.is_some() && !protocol.has_ports() {
        return Err(Error::invalid(format!("{field}: rule specified ports for a layer 3 protocol")));
    }
    Ok(ports)
}

/// Each rule of a list (at most [`MAX_RULES`]) read by `one`, given its field (`field[i]`).
fn each<T>(field: &str, rules: &[T], one: impl Fn(&str, &T) -> Result<SecurityRule>) -> Result<Vec<SecurityRule>> {
    if rules.len() > MAX_RULES {
        return Err(Error::invalid(format!("{field}: at most {MAX_RULES} rules")));
    }
    rules.iter().enumerate().map(|(i, r)| one(&format!("{field}[{i}]"), r)).collect()
}

/// A rule of either version: its protocol, then its ports (read by `ports`), direction and prefix
/// (`prefix`: its field's name and text), each checked in that order.
fn rule(
    field: &str,
    (direction_text, protocol_text): (&str, &str),
    ports: impl FnOnce() -> Result<Option<PortRange>>,
    (prefix_field, prefix_text): (&str, Option<&str>),
) -> Result<SecurityRule> {
    let protocol = protocol(field, protocol_text)?;
    let ports = ports()?;
    Ok(SecurityRule {
        direction: direction(field, direction_text)?,
        ports: with_ports(field, protocol, ports)?,
        protocol,
        prefix: prefix(&format!("{field}.{prefix_field}"), prefix_text)?,
    })
}

/// A v2 rule as sent (`port`, `portMax`, `prefix`).
#[derive(Debug, Clone, Default)]
pub struct RuleV2Input {
    pub direction: String,
    pub protocol: String,
    pub port: Option<i64>,
    pub port_max: Option<i64>,
    pub prefix: Option<String>,
}

/// Unikorn's v2 checks: `portMax` without `port` means all ports; `port` alone one port; a range
/// needs `port < portMax`; ports only on tcp and udp.
pub fn parse_v2_rules(field: &str, rules: &[RuleV2Input]) -> Result<Vec<SecurityRule>> {
    each(field, rules, |field, r| {
        let ports = || match (r.port, r.port_max) {
            (None, _) => Ok(None),
            (Some(p), None) => {
                let n = port(&format!("{field}.port"), p)?;
                Ok(Some(PortRange { min: n, max: n }))
            }
            (Some(p), Some(m)) => {
                let (min, max) = (port(&format!("{field}.port"), p)?, port(&format!("{field}.portMax"), m)?);
                if min >= max {
                    return Err(Error::invalid(format!("{field}: rule must have a range where start < end")));
                }
                Ok(Some(PortRange { min, max }))
            }
        };
        rule(field, (&r.direction, &r.protocol), ports, ("prefix", r.prefix.as_deref()))
    })
}

/// A v1 rule's `port` as sent: its `number`, its `range` (`start`, `end`).
#[derive(Debug, Clone, Copy, Default)]
pub struct PortV1Input {
    pub number: Option<i64>,
    pub range: Option<(i64, i64)>,
}

/// A v1 rule as sent (`port.number` or `port.range`, `cidr`).
#[derive(Debug, Clone, Default)]
pub struct RuleV1Input {
    pub direction: String,
    pub protocol: String,
    pub port: Option<PortV1Input>,
    pub cidr: Option<String>,
}

/// v1 rules, held to the same rules as v2's (Unikorn stores v1's as given and lets Neutron or the
/// resource's schema refuse them: a 500 or a group in `error`).
pub fn parse_v1_rules(field: &str, rules: &[RuleV1Input]) -> Result<Vec<SecurityRule>> {
    each(field, rules, |field, r| {
        let ports = || match r.port.map(|p| (p.number, p.range)) {
            None => Ok(None),
            Some((Some(n), None)) => {
                let n = port(&format!("{field}.port.number"), n)?;
                Ok(Some(PortRange { min: n, max: n }))
            }
            Some((None, Some((start, end)))) => {
                let min = port(&format!("{field}.port.range.start"), start)?;
                let max = port(&format!("{field}.port.range.end"), end)?;
                if min > max {
                    return Err(Error::invalid(format!("{field}.port.range: start must not exceed end")));
                }
                Ok(Some(PortRange { min, max }))
            }
            Some(_) => Err(Error::invalid(format!("{field}.port: exactly one of number or range"))),
        };
        rule(field, (&r.direction, &r.protocol), ports, ("cidr", r.cidr.as_deref()))
    })
}

#[cfg(test)]
#[path = "security_rules_tests.rs"]
mod tests;
