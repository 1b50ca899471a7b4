//! The networking part of an identity's sync: every port and public address of the identity's
//! project, listed page by page (two listings, not a call per server), matched against its
//! records by name (a port is named after its record id) and description (a public address
//! carries its record id).
//!
//! - A live server's port is made to match its record (security groups, allowed source
//!   addresses), and its public address allocated or released as the record asks: an update or a
//!   create that lost its answer, or a crash between steps, converges here.
//! - A port or public address named after a record that no longer exists, older than the grace
//!   period, is removed (after a consistent read confirms the record is gone): what a crash
//!   between a create's steps, or a failed release, left behind.

use std::collections::{HashMap, HashSet};

use super::Report;
use crate::domain::{Networking as Wanted, ServerRecord};
use crate::provider::networking::Page;
use crate::provider::{Networking, NetworkingListing, ProviderCredential, ProviderError, ProviderPort, PublicIp};
use crate::store::{CatalogStore, SecurityGroupStore, ServerStore};
use crate::usecase::server_port::{align_port, allocate, release_ips, release_port, PortGroups};
use crate::usecase::{catalog, Deps};

/// Neutron listing page size.
pub(super) const PAGE: u32 = 500;

/// What the provider holds for an identity's project, as listed before its records were read
/// (anything made after the listing is younger than the grace period, so never taken for an orphan).
#[derive(Debug, Default)]
pub(super) struct Seen {
    /// Ports named like a record id, by name.
    ports: HashMap<String, ProviderPort>,
    /// Public addresses by the port they are bound to; unbound ones apart.
    ips_by_port: HashMap<String, Vec<PublicIp>>,
    unbound_ips: Vec<PublicIp>,
    /// The project's default security group, when a region-wide listing named it.
    default_group: Option<String>,
}

impl Seen {
    /// Takes in a listed port (only one named like a record id is ours to look at).
    fn add_port(&mut self, port: ProviderPort) {
        if is_record_id(&port.name) {
            self.ports.insert(port.name.clone(), port);
        }
    }

    fn add_ip(&mut self, ip: PublicIp) {
        match ip.port_id.clone() {
            Some(port) => self.ips_by_port.entry(port).or_default().push(ip),
            None => self.unbound_ips.push(ip),
        }
    }
}

fn is_record_id(name: &str) -> bool {
    uuid::Uuid::parse_str(name).is_ok()
}

/// Lists every port and public address of the credential's project.
pub(super) async fn list<P: Networking>(
    provider: &P,
    cred: &ProviderCredential,
    report: &mut Report,
) -> Result<NetworkingListing, ProviderError> {
    let mut calls = 0;
    let listed = async {
        let ports = every_page(|m| async move { provider.list_ports(cred, m.as_deref(), PAGE).await }, &mut calls);
        let ports = ports.await?;
        let ips = every_page(|m| async move { provider.list_public_ips(cred, m.as_deref(), PAGE).await }, &mut calls);
        Ok::<_, ProviderError>((ports, ips.await?))
    };
    let listed = listed.await;
    report.network_list_calls += calls;
    let (ports, public_ips) = listed?;
    Ok(ours(NetworkingListing { ports, public_ips, default_group: None }))
}

/// Only what a sweep may act on: ports named like a record id, and public addresses bound to one
/// of those or carrying a record id (what is dropped is not ours, and need not travel in a slice).
pub(super) fn ours(mut listed: NetworkingListing) -> NetworkingListing {
    listed.ports.retain(|p| is_record_id(&p.name));
    let kept: HashSet<&str> = listed.ports.iter().map(|p| p.id.as_str()).collect();
    listed
        .public_ips
        .retain(|ip| ip.port_id.as_deref().is_some_and(|p| kept.contains(p)) || is_record_id(&ip.description));
    listed
}

impl From<NetworkingListing> for Seen {
    fn from(listed: NetworkingListing) -> Seen {
        let mut seen = Seen { default_group: listed.default_group, ..Seen::default() };
        listed.ports.into_iter().for_each(|port| seen.add_port(port));
        listed.public_ips.into_iter().for_each(|ip| seen.add_ip(ip));
        seen
    }
}

/// Every page of a listing, each counted as one call in `calls` (also when a later page fails).
pub(super) async fn every_page<T, F, Fut>(mut list: F, calls: &mut usize) -> Result<Vec<T>, ProviderError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, ProviderError>>,
{
    let mut items = Vec::new();
    let mut marker = None;
    loop {
        let page = list(marker.take()).await?;
        *calls += 1;
        items.extend(page.items);
        match page.next {
            Some(next) => marker = Some(next),
            None => return Ok(items),
        }
    }
}

/// Converges the networking of `live` (records whose provider server exists and is not being
/// deleted) and removes what records no longer in `known` (every record id the sync read) left.
pub(super) async fn converge<S: ServerStore + CatalogStore + SecurityGroupStore, P: Networking>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    mut seen: Seen,
    live: &[ServerRecord],
    known: &HashSet<String>,
    report: &mut Report,
) {
    let mut external: Option<String> = None;
    let mut default_group = PortGroups::with_default(seen.default_group.take());
    let now = deps.clock.now();
    for record in live {
        if record.create_may_be_in_flight(now, deps.timing.grace) {
            // Its create is still making the port and the public address.
            continue;
        }
        let Some(port) = seen.ports.get(&record.id) else {
            // Booted on a network rather than a port (adopted from outside, or made before servers
            // had ports of their own): nothing of ours to converge.
            report.servers_without_port += 1;
            continue;
        };
        let bound = seen.ips_by_port.remove(&port.id).unwrap_or_default();
        let lookups = (&mut external, &mut default_group);
        if let Err(e) = converge_one(deps, cred, record, port, bound, lookups, report).await {
            report.failures.push(format!("server {} networking: {e}", record.id));
        }
    }
    let left_ports: Vec<ProviderPort> = seen.ports.into_values().filter(|p| !known.contains(&p.name)).collect();
    for port in left_ports {
        if is_orphan(deps, &port.name, port.created_at, report).await {
            match release_port(&*deps.provider, cred, &port.id).await {
                Ok(()) => {
                    tracing::info!(server_id = %port.name, port_id = %port.id, "orphan port removed");
                    report.orphan_ports_deleted += 1;
                }
                Err(e) => report.failures.push(format!("orphan port {}: {e}", port.id)),
            }
        }
    }
    for ip in seen.unbound_ips {
        if !is_record_id(&ip.description) || known.contains(&ip.description) {
            continue;
        }
        if is_orphan(deps, &ip.description, ip.created_at, report).await {
            match deps.provider.delete_public_ip(cred, &ip.id).await {
                Ok(_) | Err(ProviderError::NotFound { .. }) => report.orphan_public_ips_deleted += 1,
                Err(e) => report.failures.push(format!("orphan public IP {}: {e}", ip.id)),
            }
        }
    }
}

/// One live server: its port updated if it drifted from the record, its public address made to
/// match `publicIP`. The external network and the default group are looked up once per identity.
async fn converge_one<S: ServerStore + CatalogStore + SecurityGroupStore, P: Networking>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    record: &ServerRecord,
    port: &ProviderPort,
    bound: Vec<PublicIp>,
    (external, default_group): (&mut Option<String>, &mut PortGroups),
    report: &mut Report,
) -> Result<(), ProviderError> {
    if align_port((&*deps.store, &*deps.provider), cred, record, port, default_group).await?.is_some() {
        tracing::info!(server_id = %record.id, "port brought back to the record's networking");
        report.ports_repaired += 1;
    }
    let wanted = record.networking.as_ref().is_some_and(Wanted::wants_public_ip);
    // Not wanted: every bound address goes; wanted twice (a request and a run raced): one stays.
    let surplus = if wanted { bound.get(1..).unwrap_or_default() } else { &bound[..] };
    if !surplus.is_empty() {
        release_ips(&*deps.provider, cred, surplus).await?;
        report.public_ips_released += surplus.len();
        return Ok(());
    }
    if !wanted {
        return Ok(());
    }
    // Asked again right before allocating: a request may have allocated it since the listing.
    if bound.is_empty() && deps.provider.public_ips_of(cred, &port.id).await?.is_empty() {
        if external.is_none() {
            // Looked up once per region and run, not per server (and served from the catalogue).
            let offered = catalog::external_networks(deps, &record.region_id).await.map_err(|e| {
                ProviderError::Failed(format!("the external networks of region {}: {e}", record.region_id))
            })?;
            *external = offered.first().map(|n| n.id.clone());
        }
        allocate(&*deps.provider, cred, record, &port.id, external.clone()).await?;
        tracing::info!(server_id = %record.id, "public IP allocated");
        report.public_ips_allocated += 1;
    }
    Ok(())
}

/// Left by a record that is gone: older than the grace period, and a consistent read finds no record.
async fn is_orphan<S: ServerStore, P>(
    deps: &Deps<S, P>,
    record_id: &str,
    created_at: Option<chrono::DateTime<chrono::Utc>>,
    report: &mut Report,
) -> bool {
    if created_at.is_some_and(|at| deps.clock.now() - at < deps.timing.grace) {
        return false;
    }
    match deps.store.get_server(record_id).await {
        Ok(found) => found.is_none(),
        Err(e) => {
            report.failures.push(format!("orphan check {record_id}: {e}"));
            false
        }
    }
}
