//! `securityGroupV2Create`, `securityGroupV2Update`, `securityGroupV2Read`: Unikorn's bodies.
//! Unknown fields are refused (Unikorn drops them, so its own example's `cidr` silently opens a
//! rule to everyone).

use serde::{Deserialize, Serialize};

use crate::api::metadata::{ProjectScopedResourceReadMetadata, ResourceWriteMetadata};
use crate::domain::security_rules::{parse_v2_rules, RuleV2Input, SecurityRule};
use crate::domain::{ReferenceId, SecurityGroupCreateInput, SecurityGroupRecord, SecurityGroupUpdateInput};
use crate::error::Result;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecurityGroupRuleV2 {
    pub direction: String,
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_max: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

fn rules(rules: Vec<SecurityGroupRuleV2>) -> Result<Vec<SecurityRule>> {
    let inputs: Vec<RuleV2Input> = rules
        .into_iter()
        .map(|r| RuleV2Input {
            direction: r.direction,
            protocol: r.protocol,
            port: r.port,
            port_max: r.port_max,
            prefix: r.prefix,
        })
        .collect();
    parse_v2_rules("spec.rules", &inputs)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupV2Create {
    pub metadata: ResourceWriteMetadata,
    pub spec: SecurityGroupV2CreateSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecurityGroupV2CreateSpec {
    pub network_id: String,
    pub rules: Vec<SecurityGroupRuleV2>,
}

impl SecurityGroupV2Create {
    pub fn parse(self) -> Result<SecurityGroupCreateInput> {
        Ok(SecurityGroupCreateInput {
            metadata: self.metadata.parse()?,
            network_id: ReferenceId::parse("spec.networkId", &self.spec.network_id)?,
            rules: rules(self.spec.rules)?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupV2Update {
    pub metadata: ResourceWriteMetadata,
    pub spec: SecurityGroupV2Spec,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupV2Spec {
    pub rules: Vec<SecurityGroupRuleV2>,
}

impl SecurityGroupV2Update {
    pub fn parse(self) -> Result<SecurityGroupUpdateInput> {
        Ok(SecurityGroupUpdateInput { metadata: self.metadata.parse()?, rules: rules(self.spec.rules)? })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroupV2Status {
    pub region_id: String,
    pub network_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SecurityGroupV2Read {
    pub metadata: ProjectScopedResourceReadMetadata,
    pub spec: SecurityGroupV2Spec,
    pub status: SecurityGroupV2Status,
}

/// A rule as Unikorn reads it back: `port` (and `portMax` for a range) only where there are
/// ports, `prefix` only when one was asked for.
fn rule_read(r: &SecurityRule) -> SecurityGroupRuleV2 {
    SecurityGroupRuleV2 {
        direction: r.direction.as_str().into(),
        protocol: r.protocol.as_str().into(),
        port: r.ports.map(|p| i64::from(p.min)),
        port_max: r.ports.filter(|p| p.max > p.min).map(|p| i64::from(p.max)),
        prefix: r.prefix.map(|p| p.to_string()),
    }
}

impl From<&SecurityGroupRecord> for SecurityGroupV2Read {
    fn from(g: &SecurityGroupRecord) -> Self {
        SecurityGroupV2Read {
            metadata: ProjectScopedResourceReadMetadata::of_security_group(g),
            spec: SecurityGroupV2Spec { rules: g.rules.iter().map(rule_read).collect() },
            status: SecurityGroupV2Status {
                region_id: g.region_id.clone(),
                network_id: g.network_id.clone().unwrap_or_default(),
            },
        }
    }
}
