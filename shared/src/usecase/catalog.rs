//! What a region offers, read from the freshest copy there is: this container's (no call), the
//! table's (one read, shared by every container), or the provider's (fetched, converted, and stored
//! for the others). Copies live as long as Unikorn's caches do: flavors and external networks an
//! hour, images a minute (the cleanup function refreshes every region's images on each run, so a
//! request rarely fetches them). A provider that fails is answered from the last copy, however
//! old, where there is one.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Deps;
use crate::domain::catalog::{offered_external_networks, offered_flavors, offered_images, OfferedFlavor, OfferedImage};
use crate::error::{Error, Result};
use crate::provider::networking::ExternalNetwork;
use crate::provider::{Flavors, ImageListing, Images, Networking};
use crate::regions::OpenStackRegion;
use crate::store::{CatalogCopy, CatalogKind, CatalogStore};

/// How long a copy is served before it is fetched again (Unikorn's cache lifetimes).
pub fn lifetime(kind: CatalogKind) -> Duration {
    match kind {
        CatalogKind::Flavors | CatalogKind::ExternalNetworks => Duration::hours(1),
        CatalogKind::Images => Duration::minutes(1),
    }
}

type Entry = (DateTime<Utc>, Arc<dyn Any + Send + Sync>);

/// This container's copies, by region and kind.
#[derive(Default)]
pub struct CatalogCache {
    entries: Mutex<HashMap<(String, CatalogKind), Entry>>,
}

impl CatalogCache {
    fn get<T: Send + Sync + 'static>(&self, region: &str, kind: CatalogKind) -> Option<(DateTime<Utc>, Arc<T>)> {
        let entries = self.entries.lock().ok()?;
        let (at, value) = entries.get(&(region.to_owned(), kind))?;
        Some((*at, value.clone().downcast::<T>().ok()?))
    }

    fn put<T: Send + Sync + 'static>(&self, region: &str, kind: CatalogKind, at: DateTime<Utc>, value: Arc<T>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert((region.to_owned(), kind), (at, value));
        }
    }

    fn forget(&self, region: &str, kind: CatalogKind) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&(region.to_owned(), kind));
        }
    }
}

/// The freshest copy of `kind` for `region`, fetching with `fetch` when none is fresh.
async fn offered<T, S, P, F, Fut>(deps: &Deps<S, P>, region: &str, kind: CatalogKind, fetch: F) -> Result<Arc<T>>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: CatalogStore,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let now = deps.clock.now();
    let fresh = |at: DateTime<Utc>| now - at < lifetime(kind);
    let mine = deps.catalog.get::<T>(region, kind);
    if let Some((at, value)) = &mine {
        if fresh(*at) {
            return Ok(value.clone());
        }
    }
    let shared = match deps.store.get_catalog(region, kind).await {
        Ok(copy) => copy.and_then(|c| serde_json::from_str::<T>(&c.json).ok().map(|v| (c.fetched_at, Arc::new(v)))),
        // The table's copy is a cache: not reading it only means fetching.
        Err(e) => {
            tracing::warn!(region, kind = kind.as_str(), error = %e, "the shared catalogue copy could not be read");
            None
        }
    };
    if let Some((at, value)) = &shared {
        if fresh(*at) {
            deps.catalog.put(region, kind, *at, value.clone());
            return Ok(value.clone());
        }
    }
    match fetch().await {
        Ok(value) => Ok(keep(deps, region, kind, now, value).await),
        Err(e) => match shared.or(mine) {
            Some((at, value)) => {
                tracing::warn!(region, kind = kind.as_str(), error = %e, fetched_at = %at, "provider unavailable: serving the last catalogue copy");
                Ok(value)
            }
            None => Err(e),
        },
    }
}

/// Keeps a fresh copy in this container and in the table.
async fn keep<T, S, P>(deps: &Deps<S, P>, region: &str, kind: CatalogKind, at: DateTime<Utc>, value: T) -> Arc<T>
where
    T: Serialize + Send + Sync + 'static,
    S: CatalogStore,
{
    match serde_json::to_string(&value) {
        Ok(json) => {
            if let Err(e) = deps.store.put_catalog(region, kind, &CatalogCopy { fetched_at: at, json }).await {
                tracing::warn!(region, kind = kind.as_str(), error = %e, "the catalogue copy was not shared");
            }
        }
        Err(e) => tracing::warn!(region, error = %e, "the catalogue copy could not be encoded"),
    }
    let value = Arc::new(value);
    deps.catalog.put(region, kind, at, value.clone());
    value
}

fn openstack<'a, S, P>(deps: &'a Deps<S, P>, region: &str) -> Result<&'a OpenStackRegion> {
    deps.regions.openstack_of(region).ok_or_else(|| Error::not_found(format!("no region found with id {region}")))
}

/// The flavors the region offers, in Unikorn's order.
pub(crate) async fn flavors<S: CatalogStore, P: Flavors>(
    deps: &Deps<S, P>,
    region: &str,
) -> Result<Arc<Vec<OfferedFlavor>>> {
    let config = openstack(deps, region)?;
    offered(deps, region, CatalogKind::Flavors, || async {
        let cred = super::credential(deps, region)?;
        Ok(offered_flavors(config, deps.provider.list_flavors(&cred).await?))
    })
    .await
}

/// The images the region has (global and every organization's), in Glance's order.
pub(crate) async fn images<S: CatalogStore, P: Images>(
    deps: &Deps<S, P>,
    region: &str,
) -> Result<Arc<Vec<OfferedImage>>> {
    openstack(deps, region)?;
    offered(deps, region, CatalogKind::Images, || fetch_images(deps, region)).await
}

/// The region's public images from the provider, as the catalogue keeps them.
async fn fetch_images<S, P: Images>(deps: &Deps<S, P>, region: &str) -> Result<Vec<OfferedImage>> {
    let config = openstack(deps, region)?;
    let cred = super::credential(deps, region)?;
    Ok(offered_images(config, deps.provider.list_images(&cred, &ImageListing::PUBLIC).await?))
}

/// The external networks the region offers; the first is where routers and public addresses go.
pub(crate) async fn external_networks<S: CatalogStore, P: Networking>(
    deps: &Deps<S, P>,
    region: &str,
) -> Result<Arc<Vec<ExternalNetwork>>> {
    let config = openstack(deps, region)?;
    offered(deps, region, CatalogKind::ExternalNetworks, || async {
        let cred = super::credential(deps, region)?;
        Ok(offered_external_networks(config, deps.provider.external_networks(&cred).await?))
    })
    .await
}

/// Fetches the region's images now and shares them (the cleanup function's refresh-ahead).
pub(crate) async fn refresh_images<S: CatalogStore, P: Images>(deps: &Deps<S, P>, region: &str) -> Result<usize> {
    let fetched = fetch_images(deps, region).await?;
    Ok(keep(deps, region, CatalogKind::Images, deps.clock.now(), fetched).await.len())
}

/// Forgets the region's images everywhere this container can: an image was made or removed, and
/// the next read (here or in a container whose copy expires) fetches.
pub(crate) async fn images_changed<S: CatalogStore, P>(deps: &Deps<S, P>, region: &str) {
    deps.catalog.forget(region, CatalogKind::Images);
    if let Err(e) = deps.store.drop_catalog(region, CatalogKind::Images).await {
        tracing::warn!(region, error = %e, "the shared image copy was not dropped: it expires within a minute");
    }
}
