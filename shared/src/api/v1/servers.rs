//! Unikorn's v1 `serverWrite` and `serverRead`: servers nested under an identity, attached to
//! exactly one of its networks.

use serde::{Deserialize, Serialize};

use crate::api::metadata::{enum_text, ProjectScopedResourceReadMetadata, ResourceWriteMetadata};
use crate::api::v2::servers::{networking_from, parse_user_data};
use crate::domain::{MacAddress, Networking, ReferenceId, ServerCreateInput, ServerRecord, ServerUpdateInput};
use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerWrite {
    pub metadata: ResourceWriteMetadata,
    pub spec: ServerSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerSpec {
    pub flavor_id: String,
    pub image_id: String,
    #[serde(default, deserialize_with = "crate::api::present", skip_serializing_if = "Option::is_none")]
    pub security_groups: Option<Vec<ServerSecurityGroup>>,
    #[serde(
        default,
        deserialize_with = "crate::api::present",
        rename = "publicIPAllocation",
        skip_serializing_if = "Option::is_none"
    )]
    pub public_ip_allocation: Option<ServerPublicIpAllocation>,
    pub networks: Vec<ServerNetwork>,
    #[serde(default, deserialize_with = "crate::api::present", skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ServerSecurityGroup {
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ServerPublicIpAllocation {
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerNetwork {
    pub id: String,
    #[serde(default, deserialize_with = "crate::api::present", skip_serializing_if = "Option::is_none")]
    pub allowed_address_pairs: Option<Vec<ServerNetworkAllowedAddressPair>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerNetworkAllowedAddressPair {
    pub cidr: String,
    #[serde(default, deserialize_with = "crate::api::present", skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
}

/// What both the create and the update parse: the parts they share.
struct Parsed {
    network_id: ReferenceId,
    flavor_id: ReferenceId,
    image_id: ReferenceId,
    networking: Option<Networking>,
}

impl ServerSpec {
    fn parse(&self) -> Result<Parsed> {
        // The document pins the list to one network (minItems and maxItems 1).
        let [network] = self.networks.as_slice() else {
            return Err(Error::invalid(format!(
                "spec.networks: exactly one network is required ({} given)",
                self.networks.len()
            )));
        };
        let groups: Option<Vec<String>> =
            self.security_groups.as_ref().map(|g| g.iter().map(|g| g.id.clone()).collect());
        let sources: Option<Vec<String>> =
            network.allowed_address_pairs.as_ref().map(|p| p.iter().map(|p| p.cidr.clone()).collect());
        let public_ip = self.public_ip_allocation.as_ref().map(|p| p.enabled);
        let networking = if groups.is_none() && sources.is_none() && public_ip.is_none() {
            None
        } else {
            let mut networking = networking_from(
                (groups.as_deref(), &|i| format!("spec.securityGroups[{i}].id")),
                public_ip,
                (sources.as_deref(), &|i| format!("spec.networks[0].allowedAddressPairs[{i}].cidr")),
            )?;
            // v1 pairs may name the MAC the prefix comes from (the port's own when absent).
            let pairs = network.allowed_address_pairs.as_deref().unwrap_or_default();
            for (i, (source, pair)) in networking.allowed_source_addresses.iter_mut().flatten().zip(pairs).enumerate() {
                let field = format!("spec.networks[0].allowedAddressPairs[{i}].macAddress");
                source.mac_address = pair.mac_address.as_deref().map(|m| MacAddress::parse(&field, m)).transpose()?;
            }
            Some(networking)
        };
        Ok(Parsed {
            network_id: ReferenceId::parse("spec.networks[0].id", &network.id)?,
            flavor_id: ReferenceId::parse("spec.flavorId", &self.flavor_id)?,
            image_id: ReferenceId::parse("spec.imageId", &self.image_id)?,
            networking,
        })
    }
}

impl ServerWrite {
    pub fn parse_create(self) -> Result<ServerCreateInput> {
        let parsed = self.spec.parse()?;
        Ok(ServerCreateInput {
            metadata: self.metadata.parse()?,
            network_id: parsed.network_id,
            flavor_id: parsed.flavor_id,
            image_id: parsed.image_id,
            networking: parsed.networking,
            user_data: parse_user_data(&self.spec.user_data)?,
            ssh_certificate_authority_id: None,
            ssh_injection: None,
            infrastructure_ref: None,
        })
    }

    /// The update restates the whole spec, network included (it cannot change).
    pub fn parse_update(self) -> Result<ServerUpdateInput> {
        let parsed = self.spec.parse()?;
        Ok(ServerUpdateInput {
            metadata: self.metadata.parse()?,
            flavor_id: parsed.flavor_id,
            image_id: parsed.image_id,
            networking: parsed.networking,
            user_data: parse_user_data(&self.spec.user_data)?,
            network_id: Some(parsed.network_id),
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServerRead {
    pub metadata: ProjectScopedResourceReadMetadata,
    pub spec: ServerSpec,
    pub status: ServerStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServerStatus {
    /// The power state (`instanceLifecyclePhase`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(rename = "privateIP", skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<String>,
    #[serde(rename = "publicIP", skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<String>,
}

impl From<&ServerRecord> for ServerRead {
    fn from(r: &ServerRecord) -> Self {
        let networking = r.networking.as_ref();
        ServerRead {
            metadata: ProjectScopedResourceReadMetadata::of_server(r),
            spec: ServerSpec {
                flavor_id: r.flavor_id.clone(),
                image_id: r.image_id.clone(),
                security_groups: networking
                    .and_then(|n| n.security_groups.as_ref())
                    .map(|g| g.iter().map(|id| ServerSecurityGroup { id: id.clone() }).collect()),
                public_ip_allocation: networking
                    .and_then(|n| n.public_ip)
                    .map(|enabled| ServerPublicIpAllocation { enabled }),
                networks: vec![ServerNetwork {
                    id: r.network_id.clone(),
                    allowed_address_pairs: networking.and_then(|n| n.allowed_source_addresses.as_ref()).map(|l| {
                        l.iter()
                            .map(|s| ServerNetworkAllowedAddressPair {
                                cidr: s.cidr.as_str().to_owned(),
                                mac_address: s.mac_address.as_ref().map(|m| m.as_str().to_owned()),
                            })
                            .collect()
                    }),
                }],
                user_data: r.user_data.as_ref().map(crate::domain::UserData::encoded),
            },
            status: ServerStatus {
                phase: r.power_state.as_ref().map(enum_text),
                private_ip: r.private_ip.clone(),
                public_ip: r.public_ip.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::parse_json;

    fn write(spec: serde_json::Value) -> Result<ServerWrite> {
        parse_json(serde_json::json!({"metadata": {"name": "web"}, "spec": spec}).to_string().as_bytes())
    }

    #[test]
    fn one_network_and_the_v1_networking_fields_become_the_same_input_as_v2() {
        let input = write(serde_json::json!({"flavorId": "f", "imageId": "i",
            "networks": [{"id": "n1", "allowedAddressPairs": [{"cidr": "10.0.0.0/8"}]}],
            "securityGroups": [{"id": "sg1"}], "publicIPAllocation": {"enabled": true}, "userData": "I2Nsb3VkLWNvbmZpZw=="}))
        .and_then(ServerWrite::parse_create)
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(input.network_id.as_str(), "n1");
        let networking = input.networking.unwrap_or_default();
        assert_eq!(networking.security_groups, Some(vec!["sg1".to_owned()]));
        assert_eq!(networking.public_ip, Some(true));
        assert_eq!(networking.allowed_source_addresses.map(|a| a.len()), Some(1));
        assert_eq!(input.user_data.map(|u| u.bytes().to_vec()), Some(b"#cloud-config".to_vec()));
    }

    #[test]
    fn bad_v1_bodies_name_the_field() {
        let err = |spec: serde_json::Value| {
            write(spec)
                .and_then(ServerWrite::parse_create)
                .map(|_| ())
                .map_err(|e| (e.status_and_code().0, e.to_string()))
        };
        let (status, text) = err(serde_json::json!({"flavorId": "f", "imageId": "i", "networks": []})).unwrap_err();
        assert_eq!(status, 400);
        assert!(text.contains("spec.networks: exactly one"), "{text}");
        let two = serde_json::json!({"flavorId": "f", "imageId": "i", "networks": [{"id": "a"}, {"id": "b"}]});
        assert_eq!(err(two).map_err(|e| e.0), Err(400));
        let bad_cidr = serde_json::json!({"flavorId": "f", "imageId": "i",
            "networks": [{"id": "a", "allowedAddressPairs": [{"cidr": "10.0.0.0/33"}]}]});
        let (status, text) = err(bad_cidr).unwrap_err();
        assert_eq!(status, 422);
        assert!(text.starts_with("spec.networks[0].allowedAddressPairs[0].cidr"), "{text}");
        let pair = |mac: &str| {
            serde_json::json!({"flavorId": "f", "imageId": "i",
                "networks": [{"id": "a", "allowedAddressPairs": [{"cidr": "10.0.0.0/8", "macAddress": mac}]}]})
        };
        let parsed = write(pair("FA:16:3e:00:00:01")).and_then(ServerWrite::parse_create).map(|i| i.networking);
        let mac = parsed.ok().flatten().and_then(|n| n.sources().first().and_then(|s| s.mac_address.clone()));
        assert_eq!(mac.as_ref().map(MacAddress::as_str), Some("fa:16:3e:00:00:01"));
        let (status, text) = err(pair("fa:16:3e:00:00")).unwrap_err();
        assert_eq!(status, 422);
        assert!(text.starts_with("spec.networks[0].allowedAddressPairs[0].macAddress"), "{text}");
        let (status, text) =
            err(serde_json::json!({"flavorId": "f", "imageId": "i", "networks": [{"id": "a"}], "networkId": "x"}))
                .unwrap_err();
        assert_eq!(status, 400);
        assert!(text.contains("unknown field `networkId`"), "{text}");
    }
}
