//! `ServerV2Create`, `ServerV2Update`, `ServerV2Read`.

use serde::{Deserialize, Serialize};

use crate::api::metadata::{ProjectScopedResourceReadMetadata, ResourceWriteMetadata};
use crate::domain::{
    Cidr, Networking, ReferenceId, ServerCreateInput, ServerRecord, ServerUpdateInput, SshInjection, UserData,
};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerV2Networking {
    #[serde(default, deserialize_with = "crate::api::present", skip_serializing_if = "Option::is_none")]
    pub security_groups: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "crate::api::present",
        rename = "publicIP",
        skip_serializing_if = "Option::is_none"
    )]
    pub public_ip: Option<bool>,
    #[serde(default, deserialize_with = "crate::api::present", skip_serializing_if = "Option::is_none")]
    pub allowed_source_addresses: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerV2Create {
    pub metadata: ResourceWriteMetadata,
    pub spec: ServerV2CreateSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerV2CreateSpec {
    pub network_id: String,
    pub flavor_id: String,
    pub image_id: String,
    #[serde(default, deserialize_with = "crate::api::present")]
    pub networking: Option<ServerV2Networking>,
    #[serde(default, deserialize_with = "crate::api::present")]
    pub user_data: Option<String>,
    #[serde(default, deserialize_with = "crate::api::present")]
    pub ssh_certificate_authority_id: Option<String>,
    /// Unikorn v1.19: `ca`, `identityKeypair` (the default) or `none`.
    #[serde(default, deserialize_with = "crate::api::present")]
    pub ssh_injection: Option<String>,
    #[serde(default, deserialize_with = "crate::api::present")]
    pub infrastructure_ref: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerV2Update {
    pub metadata: ResourceWriteMetadata,
    pub spec: ServerV2UpdateSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerV2UpdateSpec {
    pub flavor_id: String,
    pub image_id: String,
    #[serde(default, deserialize_with = "crate::api::present")]
    pub networking: Option<ServerV2Networking>,
    #[serde(default, deserialize_with = "crate::api::present")]
    pub user_data: Option<String>,
}

/// At most this many security groups per server (Nova's default quota is 10 per project).
pub const MAX_SECURITY_GROUPS: usize = 64;
/// At most this many allowed source prefixes (Neutron's default quota is 100 rules per group).
pub const MAX_ALLOWED_SOURCES: usize = 100;

fn parse_networking(wire: &Option<ServerV2Networking>) -> Result<Option<Networking>> {
    let Some(wire) = wire else { return Ok(None) };
    networking_from(
        (wire.security_groups.as_deref(), &|i| format!("spec.networking.securityGroups[{i}]")),
        wire.public_ip,
        (wire.allowed_source_addresses.as_deref(), &|i| format!("spec.networking.allowedSourceAddresses[{i}]")),
    )
    .map(Some)
}

/// A field's entries and how each is named in errors (`spec.networking.securityGroups[1]`).
pub(crate) type Entries<'a> = (Option<&'a [String]>, &'a dyn Fn(usize) -> String);

/// Networking from its parts, whatever shape the request gave them: security group ids and
/// allowed source prefixes, each list bounded and each entry parsed.
pub(crate) fn networking_from(
    groups: Entries<'_>,
    public_ip: Option<bool>,
    sources: Entries<'_>,
) -> Result<Networking> {
    let (groups, group_field) = groups;
    let (sources, source_field) = sources;
    if groups.is_some_and(|g| g.len() > MAX_SECURITY_GROUPS) {
        let field = group_field(0);
        let field = field.trim_end_matches("[0]");
        return Err(Error::invalid(format!("{field}: at most {MAX_SECURITY_GROUPS} groups")));
    }
    if sources.is_some_and(|s| s.len() > MAX_ALLOWED_SOURCES) {
        let field = source_field(0);
        let field = field.trim_end_matches("[0]");
        return Err(Error::invalid(format!("{field}: at most {MAX_ALLOWED_SOURCES} prefixes")));
    }
    for (i, g) in groups.into_iter().flatten().enumerate() {
        ReferenceId::parse(&group_field(i), g)?;
    }
    let allowed = sources
        .map(|list| {
            list.iter()
                .enumerate()
                .map(|(i, c)| Ok(Cidr::parse(&source_field(i), c)?.into()))
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?;
    Ok(Networking { security_groups: groups.map(<[String]>::to_vec), public_ip, allowed_source_addresses: allowed })
}

pub(crate) fn parse_user_data(value: &Option<String>) -> Result<Option<UserData>> {
    value.as_deref().map(|u| UserData::parse("spec.userData", u)).transpose()
}

impl ServerV2Create {
    pub fn parse(self) -> Result<ServerCreateInput> {
        let spec = &self.spec;
        if let Some(r) = &spec.infrastructure_ref {
            if r.is_empty() || r.len() > 1024 {
                return Err(Error::invalid("spec.infrastructureRef: must be 1-1024 characters"));
            }
        }
        Ok(ServerCreateInput {
            metadata: self.metadata.parse()?,
            network_id: ReferenceId::parse("spec.networkId", &spec.network_id)?,
            flavor_id: ReferenceId::parse("spec.flavorId", &spec.flavor_id)?,
            image_id: ReferenceId::parse("spec.imageId", &spec.image_id)?,
            networking: parse_networking(&spec.networking)?,
            user_data: parse_user_data(&spec.user_data)?,
            ssh_certificate_authority_id: spec
                .ssh_certificate_authority_id
                .as_deref()
                .map(|s| ReferenceId::parse("spec.sshCertificateAuthorityId", s))
                .transpose()?,
            ssh_injection: spec
                .ssh_injection
                .as_deref()
                .map(|s| SshInjection::parse("spec.sshInjection", s))
                .transpose()?,
            infrastructure_ref: spec.infrastructure_ref.clone(),
        })
    }
}

impl ServerV2Update {
    pub fn parse(self) -> Result<ServerUpdateInput> {
        Ok(ServerUpdateInput {
            metadata: self.metadata.parse()?,
            flavor_id: ReferenceId::parse("spec.flavorId", &self.spec.flavor_id)?,
            image_id: ReferenceId::parse("spec.imageId", &self.spec.image_id)?,
            networking: parse_networking(&self.spec.networking)?,
            user_data: parse_user_data(&self.spec.user_data)?,
            network_id: None,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServerV2Read {
    pub metadata: ProjectScopedResourceReadMetadata,
    pub spec: ServerV2Spec,
    pub status: ServerV2Status,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServerV2Spec {
    pub flavor_id: String,
    pub image_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networking: Option<ServerV2Networking>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServerV2Status {
    pub region_id: String,
    pub network_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_state: Option<String>,
    #[serde(rename = "privateIP", skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<String>,
    #[serde(rename = "publicIP", skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_certificate_authority_id: Option<String>,
    /// Only when the create request chose it (Unikorn v1.19).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_injection: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub infrastructure_ref: Option<String>,
}

impl From<&ServerRecord> for ServerV2Read {
    fn from(r: &ServerRecord) -> Self {
        ServerV2Read {
            metadata: ProjectScopedResourceReadMetadata::of_server(r),
            spec: ServerV2Spec {
                flavor_id: r.flavor_id.clone(),
                image_id: r.image_id.clone(),
                networking: r.networking.as_ref().map(|n| ServerV2Networking {
                    security_groups: n.security_groups.clone(),
                    public_ip: n.public_ip,
                    allowed_source_addresses: n
                        .allowed_source_addresses
                        .as_ref()
                        .map(|l| l.iter().map(|s| s.cidr.as_str().to_owned()).collect()),
                }),
                user_data: r.user_data.as_ref().map(UserData::encoded),
            },
            status: ServerV2Status {
                region_id: r.region_id.clone(),
                network_id: r.network_id.clone(),
                power_state: r.power_state.as_ref().map(crate::api::metadata::enum_text),
                private_ip: r.private_ip.clone(),
                public_ip: r.public_ip.clone(),
                mac_address: r.mac_address.clone(),
                ssh_certificate_authority_id: r.ssh_certificate_authority_id.clone(),
                ssh_injection: r.ssh_injection.map(|s| s.as_str().to_owned()),
                infrastructure_ref: r.infrastructure_ref.clone(),
            },
        }
    }
}
