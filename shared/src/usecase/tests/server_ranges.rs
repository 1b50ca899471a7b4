//! A region's server listing split into ranges: every server once, whatever the split, and the
//! fallback to one chain when a range's first server is gone.

use std::collections::BTreeSet;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::provider::networking::Page;
use crate::provider::{CredentialScope, ProviderCredential, ProviderError, ProviderPort, ProviderServer};
use crate::provider::{PublicIp, RegionListing, Result, ServerPage};
use crate::usecase::cleanup::server_ranges::{rest, Ranges};

/// Nova's `all_tenants` listing in uuid order: pages after a marker, a marker it does not know
/// refused as Nova refuses it (400), each call's marker recorded.
struct Region {
    ids: BTreeSet<String>,
    markers: Mutex<Vec<Option<String>>>,
}

impl Region {
    fn of(n: usize) -> Region {
        let ids = (0..n).map(|_| uuid::Uuid::new_v4().to_string()).collect();
        Region { ids, markers: Mutex::new(Vec::new()) }
    }
    fn calls(&self) -> usize {
        self.markers.lock().map(|m| m.len()).unwrap_or(0)
    }
}

#[async_trait]
impl RegionListing for Region {
    async fn region_servers(&self, _: &ProviderCredential, marker: Option<&str>, limit: u32) -> Result<ServerPage> {
        if let Ok(mut markers) = self.markers.lock() {
            markers.push(marker.map(str::to_owned));
        }
        if marker.is_some_and(|m| !self.ids.contains(m)) {
            return Err(ProviderError::Rejected { what: "server list".into(), detail: "marker not found".into() });
        }
        let limit = limit as usize;
        let after = |id: &&String| marker.is_none_or(|m| id.as_str() > m);
        let page: Vec<ProviderServer> = self
            .ids
            .iter()
            .filter(after)
            .take(limit)
            .map(|id| ProviderServer { id: id.clone(), ..ProviderServer::default() })
            .collect();
        let next = (page.len() == limit).then(|| page.last().map(|s| s.id.clone())).flatten();
        Ok(ServerPage { servers: page, next })
    }
    async fn region_ports(&self, _: &ProviderCredential, _: Option<&str>, _: u32) -> Result<Page<ProviderPort>> {
        Ok(Page { items: Vec::new(), next: None })
    }
    async fn region_public_ips(&self, _: &ProviderCredential, _: Option<&str>, _: u32) -> Result<Page<PublicIp>> {
        Ok(Page { items: Vec::new(), next: None })
    }
    async fn region_default_groups(
        &self,
        _: &ProviderCredential,
        _: Option<&str>,
        _: u32,
    ) -> Result<Page<(String, String)>> {
        Ok(Page { items: Vec::new(), next: None })
    }
}

fn cred() -> ProviderCredential {
    ProviderCredential {
        auth_url: "http://keystone".into(),
        user_id: "sweeper".into(),
        password: "secret".into(),
        scope: CredentialScope::Project("admin".into()),
    }
}

/// Lists the region as the planner does: its first page, then the ranges from `starts`.
async fn list(region: &Region, starts: &[String], ranges: Ranges) -> (Vec<String>, usize) {
    let first = region.region_servers(&cred(), None, ranges.page).await.unwrap_or_default();
    let listed = rest(region, &cred(), first, starts, ranges).await.unwrap_or_default();
    (listed.servers.into_iter().map(|s| s.id).collect(), 1 + listed.calls)
}

#[tokio::test]
async fn ranges_from_a_sample_list_every_server_once() {
    let region = Region::of(1_000);
    let ranges = Ranges { page: 50, chains: 8 };
    // A page of records names a fifth of the servers: a sample.
    let sample: Vec<&str> = region.ids.iter().step_by(5).map(String::as_str).collect();
    let starts = ranges.starts(sample.iter().copied(), true);
    assert_eq!(starts.len(), 7, "every chain used for a sample of more");
    let (listed, calls) = list(&region, &starts, ranges).await;
    let expected: Vec<String> = region.ids.iter().cloned().collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "each server exactly once");
    assert_eq!(calls, region.calls());
    // One chain would take 21 pages (the last one empty); eight ranges of about 125 servers take
    // 3 pages each, plus the first.
    assert!(calls <= 8 * 4 + 1, "{calls} calls");
    let started: BTreeSet<_> = region.markers.lock().map(|m| m.clone()).unwrap_or_default().into_iter().collect();
    assert!(starts.iter().all(|s| started.contains(&Some(s.clone()))), "each range starts at its server");
}

#[tokio::test]
async fn a_range_whose_first_server_is_gone_falls_back_to_one_chain() {
    let mut region = Region::of(300);
    let ranges = Ranges { page: 40, chains: 4 };
    let known: Vec<String> = region.ids.iter().cloned().collect();
    let starts = ranges.starts(known.iter().map(String::as_str), false);
    assert_eq!(starts.len(), 3);
    // Deleted between the records read and the listing.
    region.ids.remove(&starts[1]);
    let (listed, calls) = list(&region, &starts, ranges).await;
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, region.ids.iter().cloned().collect::<Vec<_>>(), "every server still there, once");
    assert_eq!(calls, region.calls(), "the refused range's calls counted too");
}

#[test]
fn starts_follow_what_the_records_fill() {
    let ranges = Ranges { page: 1000, chains: 8 };
    let ids: Vec<String> = (0..2_500).map(|i| format!("{i:08}")).collect();
    let known = || ids.iter().map(String::as_str);
    assert!(ranges.starts(known().take(900), false).is_empty(), "one page: one chain");
    assert_eq!(ranges.starts(known(), false), vec!["00000833".to_owned(), "00001666".to_owned()]);
    assert_eq!(ranges.starts(known().take(900), true).len(), 7, "a sample of more: every chain");
    assert!(ranges.starts(std::iter::empty(), true).is_empty(), "nothing known: one chain");
    assert_eq!(ranges.starts(known().take(3), true).len(), 2, "no more chains than servers known");
}
