//! What a sweep learns of the provider, per project: the servers carrying our record ids, and the
//! ports, floating IPs and default group of the project. Where the region's credential may list
//! every project at once (a cloud admin's), the region is listed once and split by project, so a
//! sweep's provider calls grow with the region's servers, not with its projects; otherwise each
//! project is listed on its own. Either way a caller looks only at projects it holds records for,
//! so a listing never takes another tenant's object for ours.

use std::collections::HashMap;

use super::networking::{self, every_page, Seen as Networking, PAGE};
use super::server_ranges::{self, Ranges};
use super::{standing, Report, PROVIDER_PAGE};
use crate::provider::ProviderCredential;
use crate::provider::{Compute, CredentialScope, Networking as Neutron, NetworkingListing, ProjectListing};
use crate::provider::{ProviderError, ProviderServer, RegionListing, Result};
use crate::usecase::META_SERVER_ID;

/// One project as listed, ready to match against its records.
#[derive(Debug, Default)]
pub(super) struct Seen {
    /// Servers carrying our record id, by record id.
    pub servers: HashMap<String, ProviderServer>,
    /// Its networking; `None` when that listing failed (the servers are still synced).
    pub networking: Option<Networking>,
}

impl From<ProjectListing> for Seen {
    fn from(listed: ProjectListing) -> Seen {
        let mut seen = Seen { networking: listed.networking.map(Networking::from), ..Seen::default() };
        listed.servers.into_iter().for_each(|s| seen.add_server(s));
        seen
    }
}

impl Seen {
    /// Takes in a listed server: one carrying a record id is ours to look at (a server placed
    /// again may be listed beside the failed one it replaces: the standing one is kept).
    fn add_server(&mut self, server: ProviderServer) {
        let Some(record_id) = server.metadata.get(META_SERVER_ID).cloned() else { return };
        let keep = self.servers.get(&record_id).is_some_and(|seen| standing(seen) >= standing(&server));
        if !keep {
            self.servers.insert(record_id, server);
        }
    }
}

/// Lists one project with a credential scoped to it (only servers carrying a record id are kept).
pub(super) async fn list_project<P: Compute + Neutron>(
    provider: &P,
    cred: &ProviderCredential,
    report: &mut Report,
) -> Result<ProjectListing> {
    let mut listed = ProjectListing::default();
    let mut marker: Option<String> = None;
    loop {
        let page = provider.list_servers(cred, marker.as_deref(), PROVIDER_PAGE).await?;
        report.provider_list_calls += 1;
        report.provider_servers_seen += page.servers.len();
        listed.servers.extend(page.servers.into_iter().filter(|s| s.metadata.contains_key(META_SERVER_ID)));
        match page.next {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    listed.networking = match networking::list(provider, cred, report).await {
        Ok(networking) => Some(networking),
        Err(e) => {
            report.failures.push(format!("networking: {e}"));
            None
        }
    };
    Ok(listed)
}

/// A region as its own credential listed it at once, split by project.
pub(super) struct Shares {
    /// `None` when the credential may not list every project (Nova refuses `all_tenants`).
    projects: Option<HashMap<String, ProjectListing>>,
    /// The credential's own project: where the region's own servers (records naming no project) live.
    own_project: String,
}

impl Shares {
    /// What the listing found in `project` (`None`: the region's own); `None` when the region was
    /// not listed at once, so the project must be listed on its own.
    pub(super) fn take(&mut self, project: Option<&str>) -> Option<ProjectListing> {
        let projects = self.projects.as_mut()?;
        Some(projects.remove(project.unwrap_or(&self.own_project)).unwrap_or_default())
    }
}

/// Lists the whole region with its own credential and splits what it finds by project; its
/// servers in ranges from `starts` at once (`server_ranges`).
pub(super) async fn list_region<P: Compute + Neutron + RegionListing>(
    provider: &P,
    cred: &ProviderCredential,
    starts: &[String],
    ranges: Ranges,
    report: &mut Report,
) -> Result<Shares> {
    let own_project = match &cred.scope {
        CredentialScope::Project(p) => p.clone(),
        CredentialScope::Domain(_) => String::new(),
    };
    // Nova's first page says whether the credential may list the region; its other ranges and
    // Neutron's three listings are chains of pages, listed at once.
    let first = match provider.region_servers(cred, None, ranges.page).await {
        Ok(page) => page,
        Err(ProviderError::Refused { .. }) => return Ok(Shares { projects: None, own_project }),
        Err(e) => return Err(e),
    };
    let servers = server_ranges::rest(provider, cred, first, starts, ranges);
    let (mut port_calls, mut ip_calls, mut group_calls) = (0, 0, 0);
    let networking = async {
        let ports =
            every_page(|m| async move { provider.region_ports(cred, m.as_deref(), PAGE).await }, &mut port_calls);
        let ips =
            every_page(|m| async move { provider.region_public_ips(cred, m.as_deref(), PAGE).await }, &mut ip_calls);
        let groups = every_page(
            |m| async move { provider.region_default_groups(cred, m.as_deref(), PAGE).await },
            &mut group_calls,
        );
        let (ports, ips, groups) = tokio::join!(ports, ips, groups);
        Ok::<_, ProviderError>((ports?, ips?, groups?))
    };
    let (servers, networking) = tokio::join!(servers, networking);
    let calls = port_calls + ip_calls + group_calls;
    let servers = servers?;
    report.provider_list_calls += 1 + servers.calls;
    report.provider_servers_seen += servers.servers.len();
    let mut projects: HashMap<String, ProjectListing> = HashMap::new();
    for server in servers.servers.into_iter().filter(|s| s.metadata.contains_key(META_SERVER_ID)) {
        projects.entry(server.project_id.clone().unwrap_or_default()).or_default().servers.push(server);
    }
    match networking {
        Ok((ports, ips, groups)) => {
            let mut by_project: HashMap<String, NetworkingListing> = HashMap::new();
            let at = |p: &Option<String>| p.clone().unwrap_or_default();
            ports.into_iter().for_each(|port| by_project.entry(at(&port.project_id)).or_default().ports.push(port));
            ips.into_iter().for_each(|ip| by_project.entry(at(&ip.project_id)).or_default().public_ips.push(ip));
            for (project, group) in groups {
                by_project.entry(project).or_default().default_group = Some(group);
            }
            for (project, listed) in by_project {
                projects.entry(project).or_default().networking = Some(networking::ours(listed));
            }
            // A project with servers and no networking listed holds none.
            projects
                .values_mut()
                .filter(|s| s.networking.is_none())
                .for_each(|s| s.networking = Some(NetworkingListing::default()));
        }
        Err(e) => report.failures.push(format!("region networking: {e}")),
    }
    report.network_list_calls += calls;
    report.region_listings += 1;
    Ok(Shares { projects: Some(projects), own_project })
}
