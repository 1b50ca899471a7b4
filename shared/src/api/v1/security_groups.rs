//! `securityGroupWrite`, `securityGroupRead`: Unikorn's v1 security group bodies (rules with
//! `port.number` or `port.range`, and `cidr`). Unknown fields are refused. A rule reads back with
//! `number` for a single port and `range` for more than one.

use serde::{Deserialize, Serialize};

use crate::api::metadata::{ProjectScopedResourceReadMetadata, ResourceWriteMetadata};
use crate::domain::security_rules::{parse_v1_rules, PortV1Input, RuleV1Input, SecurityRule};
use crate::domain::{SecurityGroupRecord, SecurityGroupUpdateInput};
use crate::error::Result;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupRulePortRange {
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupRulePort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<SecurityGroupRulePortRange>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupRule {
    pub direction: String,
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<SecurityGroupRulePort>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupSpec {
    pub rules: Vec<SecurityGroupRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupWrite {
    pub metadata: ResourceWriteMetadata,
    pub spec: SecurityGroupSpec,
}

impl SecurityGroupWrite {
    /// The group as asked for; the path names the identity it lives under.
    pub fn parse(self) -> Result<SecurityGroupUpdateInput> {
        let inputs: Vec<RuleV1Input> = self
            .spec
            .rules
            .into_iter()
            .map(|r| RuleV1Input {
                direction: r.direction,
                protocol: r.protocol,
                port: r.port.map(|p| PortV1Input { number: p.number, range: p.range.map(|r| (r.start, r.end)) }),
                cidr: r.cidr,
            })
            .collect();
        Ok(SecurityGroupUpdateInput { metadata: self.metadata.parse()?, rules: parse_v1_rules("spec.rules", &inputs)? })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SecurityGroupRead {
    pub metadata: ProjectScopedResourceReadMetadata,
    pub spec: SecurityGroupSpec,
}

fn rule_read(r: &SecurityRule) -> SecurityGroupRule {
    let port = r.ports.map(|p| match p.max > p.min {
        true => SecurityGroupRulePort {
            number: None,
            range: Some(SecurityGroupRulePortRange { start: i64::from(p.min), end: i64::from(p.max) }),
        },
        false => SecurityGroupRulePort { number: Some(i64::from(p.min)), range: None },
    });
    SecurityGroupRule {
        direction: r.direction.as_str().into(),
        protocol: r.protocol.as_str().into(),
        port,
        cidr: r.prefix.map(|p| p.to_string()),
    }
}

impl From<&SecurityGroupRecord> for SecurityGroupRead {
    fn from(g: &SecurityGroupRecord) -> Self {
        SecurityGroupRead {
            metadata: ProjectScopedResourceReadMetadata::of_security_group(g),
            spec: SecurityGroupSpec { rules: g.rules.iter().map(rule_read).collect() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v1_rule_reads_back_as_written() {
        let body = br#"{"metadata": {"name": "web"}, "spec": {"rules": [
            {"direction": "ingress", "protocol": "tcp", "port": {"number": 22}, "cidr": "10.0.0.0/8"},
            {"direction": "ingress", "protocol": "udp", "port": {"range": {"start": 8000, "end": 8080}}},
            {"direction": "egress", "protocol": "any"}]}}"#;
        let write: SecurityGroupWrite = serde_json::from_slice(body).unwrap_or_else(|e| panic!("{e}"));
        let input = write.parse().unwrap_or_else(|e| panic!("{e}"));
        let read: Vec<SecurityGroupRule> = input.rules.iter().map(rule_read).collect();
        let sent: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        assert_eq!(serde_json::to_value(read).ok(), Some(sent["spec"]["rules"].clone()));
    }
}
