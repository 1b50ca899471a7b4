//! What the use-cases are asked to do, already parsed: every API version's parsers (at the HTTP
//! edge) produce these, so a use-case never sees a wire type.

use super::addressing::NetworkAddressing;
use super::{Description, Networking, ReferenceId, ResourceName, SshInjection, SshPublicKey, Tags, UserData};

/// Parsed write metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    pub name: ResourceName,
    pub description: Option<Description>,
    pub tags: Tags,
}

/// A server to create. Its organization, project, region and provider identity come from the
/// network, whichever way the request named it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerCreateInput {
    pub metadata: Metadata,
    pub network_id: ReferenceId,
    pub flavor_id: ReferenceId,
    pub image_id: ReferenceId,
    pub networking: Option<Networking>,
    pub user_data: Option<UserData>,
    pub ssh_certificate_authority_id: Option<ReferenceId>,
    pub ssh_injection: Option<SshInjection>,
    pub infrastructure_ref: Option<String>,
}

/// A server's new mutable spec.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerUpdateInput {
    pub metadata: Metadata,
    pub flavor_id: ReferenceId,
    pub image_id: ReferenceId,
    pub networking: Option<Networking>,
    pub user_data: Option<UserData>,
    /// The network the request names, when its shape restates it (v1): it must be the server's own.
    pub network_id: Option<ReferenceId>,
}

/// Where a new network lives.
#[derive(Debug, Clone, PartialEq)]
pub enum NetworkPlacement {
    /// A project in a region, named by the request; the provider identity is the one the operator
    /// configured for it.
    Project { organization_id: ReferenceId, project_id: ReferenceId, region_id: ReferenceId },
    /// Under an identity resource, which fixes the organization, project, region and provider identity.
    Identity { organization_id: ReferenceId, project_id: ReferenceId, identity_id: ReferenceId },
}

impl NetworkPlacement {
    /// The organization and project the network goes to.
    pub fn project(&self) -> (&str, &str) {
        match self {
            NetworkPlacement::Project { organization_id, project_id, .. }
            | NetworkPlacement::Identity { organization_id, project_id, .. } => {
                (organization_id.as_str(), project_id.as_str())
            }
        }
    }
}

/// What a new network stands on: a network the product makes at the provider (Unikorn's), or a
/// provider network the operator made, bound as it is (the binding extension).
#[derive(Debug, Clone, PartialEq)]
pub enum NetworkSource {
    Provisioned(NetworkAddressing),
    Bound { provider_network_id: ReferenceId, addressing: Option<NetworkAddressing> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct NetworkCreateInput {
    pub metadata: Metadata,
    pub placement: NetworkPlacement,
    pub source: NetworkSource,
}

/// A network's new mutable spec (v2): metadata, nameservers and routes.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkUpdateInput {
    pub metadata: Metadata,
    pub dns_nameservers: Vec<std::net::Ipv4Addr>,
    pub routes: Vec<super::addressing::Route>,
}

/// An identity resource to create in a project (v1).
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityCreateInput {
    pub metadata: Metadata,
    pub organization_id: ReferenceId,
    pub project_id: ReferenceId,
    pub region_id: ReferenceId,
}

pub struct SshCaCreateInput {
    pub metadata: Metadata,
    pub organization_id: ReferenceId,
    pub project_id: ReferenceId,
    pub public_key: SshPublicKey,
}

/// A v2 security group as asked for: on a network, with its rules.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityGroupCreateInput {
    pub metadata: Metadata,
    pub network_id: ReferenceId,
    pub rules: Vec<super::security_rules::SecurityRule>,
}

/// A security group's new metadata and rules (the rules replace the list).
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityGroupUpdateInput {
    pub metadata: Metadata,
    pub rules: Vec<super::security_rules::SecurityRule>,
}
