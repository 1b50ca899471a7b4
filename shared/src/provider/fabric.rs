//! The provider port of a network's own objects: the provider network (with a VLAN segment where
//! the region has provider networks), its subnet, a router to the region's external network, and
//! the router's interface on the subnet. Each is found again by the name the product gave it.

use std::net::Ipv4Addr;

use async_trait::async_trait;

use super::{ProviderCredential, Result};

/// A VLAN segment on a physical network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub physical_network: String,
    pub vlan_id: u16,
}

/// A network found or made: its id and, for a VLAN provider network, its VLAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FabricNetwork {
    pub id: String,
    pub vlan_id: Option<u16>,
}

/// A host route: traffic to `destination` goes through `nexthop`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRoute {
    pub destination: String,
    pub nexthop: Ipv4Addr,
}

/// A subnet as the product lays it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetSpec {
    pub name: String,
    pub network_id: String,
    /// `a.b.c.d/n`.
    pub cidr: String,
    pub gateway: Ipv4Addr,
    /// The DHCP pool, first and last address.
    pub pool: (Ipv4Addr, Ipv4Addr),
    pub dns_nameservers: Vec<Ipv4Addr>,
    pub host_routes: Vec<HostRoute>,
}

/// What a subnet serves that may change after it is made.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubnetOptions {
    pub dns_nameservers: Vec<Ipv4Addr>,
    pub host_routes: Vec<HostRoute>,
}

/// What a project holds of the kinds a network is made of: (id, name) of each.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FabricObjects {
    pub networks: Vec<(String, String)>,
    pub subnets: Vec<(String, String)>,
    pub routers: Vec<(String, String)>,
}

#[async_trait]
pub trait Fabric: Send + Sync {
    /// Every network, subnet and router of the credential's project (a project being swept).
    async fn list_objects(&self, cred: &ProviderCredential) -> Result<FabricObjects>;
    /// The credential's project's network of that name, if any.
    async fn find_network(&self, cred: &ProviderCredential, name: &str) -> Result<Option<FabricNetwork>>;
    /// A network in the credential's project; with a segment, a VLAN provider network (`Conflict`
    /// when the VLAN is taken).
    async fn create_network(
        &self,
        cred: &ProviderCredential,
        name: &str,
        segment: Option<&Segment>,
    ) -> Result<FabricNetwork>;
    /// `Conflict` while ports remain on it.
    async fn delete_network(&self, cred: &ProviderCredential, id: &str) -> Result<()>;
    /// The subnet of that name (its id and what it serves), if any.
    async fn find_subnet(&self, cred: &ProviderCredential, name: &str) -> Result<Option<(String, SubnetOptions)>>;
    async fn create_subnet(&self, cred: &ProviderCredential, spec: &SubnetSpec) -> Result<String>;
    async fn update_subnet(&self, cred: &ProviderCredential, id: &str, options: &SubnetOptions) -> Result<()>;
    async fn delete_subnet(&self, cred: &ProviderCredential, id: &str) -> Result<()>;
    async fn find_router(&self, cred: &ProviderCredential, name: &str) -> Result<Option<String>>;
    /// A router whose gateway is on the external network (source NAT, the provider's default).
    async fn create_router(&self, cred: &ProviderCredential, name: &str, external_network_id: &str) -> Result<String>;
    async fn delete_router(&self, cred: &ProviderCredential, id: &str) -> Result<()>;
    /// Whether the router has an interface on the subnet.
    async fn has_interface(&self, cred: &ProviderCredential, router_id: &str, subnet_id: &str) -> Result<bool>;
    async fn add_interface(&self, cred: &ProviderCredential, router_id: &str, subnet_id: &str) -> Result<()>;
    /// `NotFound` when the router has no interface on the subnet.
    async fn remove_interface(&self, cred: &ProviderCredential, router_id: &str, subnet_id: &str) -> Result<()>;
}
