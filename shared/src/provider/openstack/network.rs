//! Neutron: ports, floating IPs, the external network and security groups.

use reqwest::Method;

use super::client::{to_value, OpenStackProvider, Service};
use super::network_wire::*;
use crate::provider::networking::{AllowedAddress, ExternalNetwork, Page, PortSpec, ProviderPort, PublicIp};
use crate::provider::{ProviderCredential, Receipt, Result};
use crate::text::percent_encode as encode;

/// Neutron writes times as `2016-03-08T20:19:41` (UTC, no zone) or with a `Z`.
fn time(value: Option<&str>) -> Option<chrono::DateTime<chrono::Utc>> {
    let value = value?;
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok()
        .or_else(|| chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S").ok().map(|t| t.and_utc()))
}

fn port_from_wire(port: NeutronPort) -> ProviderPort {
    ProviderPort {
        private_ip: port.fixed_ips.first().map(|f| f.ip_address.clone()),
        device_id: Some(port.device_id).filter(|d| !d.is_empty()),
        allowed_addresses: port
            .allowed_address_pairs
            .into_iter()
            .map(|p| AllowedAddress { prefix: p.ip_address, mac_address: p.mac_address })
            .collect(),
        created_at: time(port.created_at.as_deref()),
        id: port.id,
        name: port.name,
        network_id: port.network_id,
        mac_address: port.mac_address,
        security_groups: port.security_groups,
        project_id: port.project_id,
    }
}

fn ip_from_wire(ip: NeutronFloatingIp) -> PublicIp {
    PublicIp {
        created_at: time(ip.created_at.as_deref()),
        id: ip.id,
        address: ip.floating_ip_address,
        port_id: ip.port_id,
        description: ip.description,
        project_id: ip.project_id,
    }
}

fn pairs(addresses: &[AllowedAddress]) -> Vec<AddressPair> {
    addresses.iter().map(|a| AddressPair { ip_address: a.prefix.clone(), mac_address: a.mac_address.clone() }).collect()
}

fn paged(collection: &str, limit: u32, marker: Option<&str>) -> String {
    let mut path = format!("/v2.0/{collection}?limit={limit}");
    if let Some(marker) = marker {
        path.push_str(&format!("&marker={}", encode(marker)));
    }
    path
}

/// `&project_id=<the token's project>`: a region's credential is privileged, and Neutron shows a
/// privileged user every project's ports, addresses and groups unless asked for one project. Every
/// listing of ours is of the credential's own project.
async fn own_project(p: &OpenStackProvider, cred: &ProviderCredential) -> Result<String> {
    Ok(p.project_id(cred).await?.map(|project| format!("&project_id={}", encode(&project))).unwrap_or_default())
}

pub(super) async fn create_port(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    spec: &PortSpec,
) -> Result<(ProviderPort, Receipt)> {
    let request = PortCreateRequest {
        port: PortCreate {
            name: spec.name.clone(),
            network_id: spec.network_id.clone(),
            security_groups: Some(spec.security_groups.clone()).filter(|g| !g.is_empty()),
            allowed_address_pairs: pairs(&spec.allowed_addresses),
        },
    };
    let body = to_value(&request)?;
    let what = format!("port {}", spec.name);
    let (created, receipt): (PortEnvelope, _) =
        p.json_receipt(cred, Service::Network, Method::POST, "/v2.0/ports", Some(&body), &what).await?;
    Ok((port_from_wire(created.port), receipt))
}

pub(super) async fn get_port(p: &OpenStackProvider, cred: &ProviderCredential, id: &str) -> Result<ProviderPort> {
    let what = format!("port {id}");
    let path = format!("/v2.0/ports/{}", encode(id));
    let port: PortEnvelope = p.json(cred, Service::Network, Method::GET, &path, None, &what).await?;
    Ok(port_from_wire(port.port))
}

pub(super) async fn find_ports(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    name: &str,
) -> Result<Vec<ProviderPort>> {
    let path = format!("/v2.0/ports?name={}{}", encode(name), own_project(p, cred).await?);
    let what = format!("ports named {name}");
    let list: PortsEnvelope = p.json(cred, Service::Network, Method::GET, &path, None, &what).await?;
    // Some Neutron back ends match the name filter loosely: keep the exact name only.
    Ok(list.ports.into_iter().filter(|port| port.name == name).map(port_from_wire).collect())
}

pub(super) async fn list_ports(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    (marker, limit): (Option<&str>, u32),
    every_project: bool,
) -> Result<Page<ProviderPort>> {
    let scope = if every_project { String::new() } else { own_project(p, cred).await? };
    let path = paged("ports", limit, marker) + &scope;
    let list: PortsEnvelope = p.json(cred, Service::Network, Method::GET, &path, None, "port list").await?;
    let has_next = list.ports_links.iter().any(|l| l.rel == "next");
    let next = if has_next { list.ports.last().map(|port| port.id.clone()) } else { None };
    Ok(Page { items: list.ports.into_iter().map(port_from_wire).collect(), next })
}

/// One page of every project's `default` group, as (project, group id).
pub(super) async fn default_groups(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    (marker, limit): (Option<&str>, u32),
) -> Result<Page<(String, String)>> {
    let path = paged("security-groups", limit, marker) + "&name=default&fields=id&fields=name&fields=project_id";
    let list: SecurityGroupsEnvelope =
        p.json(cred, Service::Network, Method::GET, &path, None, "default security groups").await?;
    let next = if list.security_groups.len() as u32 >= limit {
        list.security_groups.last().map(|g| g.id.clone())
    } else {
        None
    };
    let groups = list.security_groups.into_iter().filter(|g| g.name == "default");
    Ok(Page { items: groups.filter_map(|g| Some((g.project_id?, g.id))).collect(), next })
}

/// The project's `default` group: the one a port made without groups is in. Filtered by the
/// token's project, since an admin's listing holds every project's `default`.
pub(super) async fn default_security_group(p: &OpenStackProvider, cred: &ProviderCredential) -> Result<Option<String>> {
    let path = format!("/v2.0/security-groups?name=default&fields=id&fields=name{}", own_project(p, cred).await?);
    let list: SecurityGroupsEnvelope =
        p.json(cred, Service::Network, Method::GET, &path, None, "default security group").await?;
    Ok(list.security_groups.into_iter().find(|g| g.name == "default").map(|g| g.id))
}

pub(super) async fn update_port(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    id: &str,
    security_groups: &[String],
    allowed_addresses: &[AllowedAddress],
) -> Result<(ProviderPort, Receipt)> {
    let request = PortUpdateRequest {
        port: PortUpdate { security_groups: security_groups.to_vec(), allowed_address_pairs: pairs(allowed_addresses) },
    };
    let body = to_value(&request)?;
    let what = format!("port {id}");
    let path = format!("/v2.0/ports/{}", encode(id));
    let (updated, receipt): (PortEnvelope, _) =
        p.json_receipt(cred, Service::Network, Method::PUT, &path, Some(&body), &what).await?;
    Ok((port_from_wire(updated.port), receipt))
}

pub(super) async fn delete_port(p: &OpenStackProvider, cred: &ProviderCredential, id: &str) -> Result<Receipt> {
    let what = format!("port {id}");
    let path = format!("/v2.0/ports/{}", encode(id));
    Ok(p.send(cred, Service::Network, Method::DELETE, &path, None, &what).await?.1)
}

pub(super) async fn create_public_ip(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    external_network: &str,
    port_id: &str,
    description: &str,
) -> Result<(PublicIp, Receipt)> {
    let request = FloatingIpCreateRequest {
        floatingip: FloatingIpCreate {
            floating_network_id: external_network.to_owned(),
            port_id: port_id.to_owned(),
            description: description.to_owned(),
        },
    };
    let body = to_value(&request)?;
    let what = format!("floating IP for port {port_id}");
    let (created, receipt): (FloatingIpEnvelope, _) =
        p.json_receipt(cred, Service::Network, Method::POST, "/v2.0/floatingips", Some(&body), &what).await?;
    Ok((ip_from_wire(created.floatingip), receipt))
}

pub(super) async fn public_ips_of(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    port_id: &str,
) -> Result<Vec<PublicIp>> {
    let path = format!("/v2.0/floatingips?port_id={}{}", encode(port_id), own_project(p, cred).await?);
    let what = format!("floating IPs of port {port_id}");
    let list: FloatingIpsEnvelope = p.json(cred, Service::Network, Method::GET, &path, None, &what).await?;
    Ok(list.floatingips.into_iter().map(ip_from_wire).collect())
}

pub(super) async fn list_public_ips(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    (marker, limit): (Option<&str>, u32),
    every_project: bool,
) -> Result<Page<PublicIp>> {
    let scope = if every_project { String::new() } else { own_project(p, cred).await? };
    let path = paged("floatingips", limit, marker) + &scope;
    let list: FloatingIpsEnvelope =
        p.json(cred, Service::Network, Method::GET, &path, None, "floating IP list").await?;
    let has_next = list.floatingips_links.iter().any(|l| l.rel == "next");
    let next = if has_next { list.floatingips.last().map(|ip| ip.id.clone()) } else { None };
    Ok(Page { items: list.floatingips.into_iter().map(ip_from_wire).collect(), next })
}

pub(super) async fn delete_public_ip(p: &OpenStackProvider, cred: &ProviderCredential, id: &str) -> Result<Receipt> {
    let what = format!("floating IP {id}");
    let path = format!("/v2.0/floatingips/{}", encode(id));
    Ok(p.send(cred, Service::Network, Method::DELETE, &path, None, &what).await?.1)
}

pub(super) async fn external_networks(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
) -> Result<Vec<ExternalNetwork>> {
    let path = "/v2.0/networks?router:external=true&fields=id&fields=name&fields=tags";
    let list: NetworksEnvelope = p.json(cred, Service::Network, Method::GET, path, None, "external networks").await?;
    Ok(list.networks.into_iter().map(|n| ExternalNetwork { id: n.id, name: n.name, tags: n.tags }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutron_times_with_and_without_a_zone() {
        assert!(time(Some("2016-03-08T20:19:41")).is_some());
        assert!(time(Some("2016-12-21T01:36:04Z")).is_some());
        assert!(time(Some("yesterday")).is_none());
    }
}
