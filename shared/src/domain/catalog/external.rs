//! External networks: Neutron's, narrowed by the region's selector (`ids`, then every one of `tags`),
//! in Neutron's order. The first one left is where routers and public addresses go.

use crate::provider::networking::ExternalNetwork;
use crate::regions::OpenStackRegion;

pub fn offered_external_networks(region: &OpenStackRegion, all: Vec<ExternalNetwork>) -> Vec<ExternalNetwork> {
    all.into_iter()
        .filter(|n| region.external_network_ids.is_empty() || region.external_network_ids.contains(&n.id))
        .filter(|n| region.external_network_tags.iter().all(|t| n.tags.contains(t)))
        .collect()
}
