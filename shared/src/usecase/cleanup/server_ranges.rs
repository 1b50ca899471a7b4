//! A region's servers listed as several chains of pages at once. Nova pages only by marker, so
//! one chain of 1,000-server pages grows with the region; split at servers the records already
//! name (their uuids are spread evenly, so any page of records is a fair sample), the listing takes
//! the time of its longest range instead. Nova lists in uuid order (`sort_key=uuid`); each range
//! starts after one known server and ends with the next range's first, so the ranges cover the
//! region once. A range whose first server the provider no longer knows (deleted between the
//! records read and the listing) makes the listing fall back to one chain.

use futures_util::future::join_all;

use crate::provider::{ProviderCredential, ProviderError, ProviderServer, RegionListing, Result, ServerPage};

/// How a region's server listing is split: pages of `page` servers, at most `chains` at once (the
/// load one sweep puts on Nova).
#[derive(Debug, Clone, Copy)]
pub struct Ranges {
    pub page: u32,
    pub chains: usize,
}

impl Default for Ranges {
    fn default() -> Self {
        Ranges { page: super::PROVIDER_PAGE, chains: 8 }
    }
}

impl Ranges {
    /// Where the chains after the first start: evenly spaced among the servers `known` (provider
    /// ids the region's records name). `more`: the records read so far are a sample of more, so
    /// the region may need every chain; otherwise as many chains as `known` fills pages.
    pub fn starts<'a>(&self, known: impl IntoIterator<Item = &'a str>, more: bool) -> Vec<String> {
        let mut known: Vec<&str> = known.into_iter().collect();
        known.sort_unstable();
        known.dedup();
        let page = usize::try_from(self.page.max(1)).unwrap_or(usize::MAX);
        let wanted = if more { self.chains } else { known.len().div_ceil(page) };
        let chains = wanted.clamp(1, self.chains.max(1)).min(known.len().max(1));
        (1..chains).map(|k| known[known.len() * k / chains].to_owned()).collect()
    }
}

/// What a split listing found, and what it cost.
#[derive(Debug, Default)]
pub struct Listed {
    pub servers: Vec<ProviderServer>,
    /// Provider calls made (a range refused and listed again counts both).
    pub calls: usize,
}

/// Lists every server of the region after its first page (which said the credential may), in
/// ranges from `starts` listed at once.
pub async fn rest<P: RegionListing + ?Sized>(
    provider: &P,
    cred: &ProviderCredential,
    first: ServerPage,
    starts: &[String],
    ranges: Ranges,
) -> Result<Listed> {
    // Range k starts after `starts[k - 1]` (the first: with the page listed) and ends with `starts[k]`.
    let end = |k: usize| starts.get(k).map(String::as_str);
    let head = chain(provider, cred, ranges.page, Some(first), None, end(0));
    let others =
        starts.iter().enumerate().map(|(k, start)| chain(provider, cred, ranges.page, None, Some(start), end(k + 1)));
    let others = join_all(others);
    let (head, others) = tokio::join!(head, others);
    let mut listed = Listed::default();
    let mut refused = false;
    for part in std::iter::once(head).chain(others) {
        match part {
            Ok(part) => {
                listed.calls += part.calls;
                listed.servers.extend(part.servers);
            }
            Err(Attempt { calls, error: ProviderError::Rejected { .. } }) => {
                listed.calls += calls;
                refused = true;
            }
            Err(Attempt { error, .. }) => return Err(error),
        }
    }
    if !refused {
        return Ok(listed);
    }
    // Rare (a server deleted and archived since the records were read): listed again from the
    // start, rather than every listing keeping a copy of its first page for it.
    tracing::info!("a range's first server is gone: the region's servers listed as one chain");
    let again = chain(provider, cred, ranges.page, None, None, None).await.map_err(|a| a.error)?;
    Ok(Listed { servers: again.servers, calls: listed.calls + again.calls })
}

/// A chain that failed after `calls` calls.
struct Attempt {
    calls: usize,
    error: ProviderError,
}

/// One range: after `start` (or from `first`, the page already listed) up to and including `end`.
async fn chain<P: RegionListing + ?Sized>(
    provider: &P,
    cred: &ProviderCredential,
    size: u32,
    first: Option<ServerPage>,
    start: Option<&str>,
    end: Option<&str>,
) -> std::result::Result<Listed, Attempt> {
    let mut listed = Listed::default();
    let mut page = match first {
        Some(page) => page,
        None => fetch(provider, cred, start, size, &mut listed).await?,
    };
    loop {
        let past_end = end.is_some_and(|end| page.servers.last().is_some_and(|s| s.id.as_str() >= end));
        listed.servers.extend(page.servers.into_iter().filter(|s| end.is_none_or(|end| s.id.as_str() <= end)));
        match page.next {
            Some(next) if !past_end => page = fetch(provider, cred, Some(&next), size, &mut listed).await?,
            _ => return Ok(listed),
        }
    }
}

async fn fetch<P: RegionListing + ?Sized>(
    provider: &P,
    cred: &ProviderCredential,
    marker: Option<&str>,
    size: u32,
    listed: &mut Listed,
) -> std::result::Result<ServerPage, Attempt> {
    listed.calls += 1;
    provider.region_servers(cred, marker, size).await.map_err(|error| Attempt { calls: listed.calls, error })
}
