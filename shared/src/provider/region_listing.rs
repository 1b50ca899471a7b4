//! Listings of every project of a region at once, for a credential that may make them (a cloud
//! admin's): what lets one cleanup sweep make a number of provider calls that grows with the
//! region's servers, not with its projects. Each object carries its project, so the caller matches
//! it only within projects it owns.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::networking::Page;
use super::{ProviderCredential, ProviderPort, ProviderServer, PublicIp, Result, ServerPage};

/// What a listing found in one project: what a sweep matches against the project's records, and
/// what a sweep's slice carries to the worker that does the matching.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectListing {
    /// Every server listed (the sweep looks only at those carrying a record id).
    pub servers: Vec<ProviderServer>,
    /// Its networking; `None` when that listing failed (the servers are still synced).
    pub networking: Option<NetworkingListing>,
}

/// A project's ports, floating IPs and default security group, as listed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkingListing {
    pub ports: Vec<ProviderPort>,
    pub public_ips: Vec<PublicIp>,
    /// Named when a region-wide listing found it (a project's own listing asks when it needs it).
    pub default_group: Option<String>,
}

#[async_trait]
pub trait RegionListing: Send + Sync {
    /// One page of every project's servers (Nova's `all_tenants`) in uuid order, after the server
    /// `marker`; `Refused` when the credential may not list them, `Rejected` when the marker is
    /// not a server the provider knows.
    async fn region_servers(&self, cred: &ProviderCredential, marker: Option<&str>, limit: u32) -> Result<ServerPage>;
    /// One page of every project's ports.
    async fn region_ports(
        &self,
        cred: &ProviderCredential,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<Page<ProviderPort>>;
    /// One page of every project's floating IPs.
    async fn region_public_ips(
        &self,
        cred: &ProviderCredential,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<Page<PublicIp>>;
    /// One page of every project's `default` security group, as (project, group id).
    async fn region_default_groups(
        &self,
        cred: &ProviderCredential,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<Page<(String, String)>>;
}
