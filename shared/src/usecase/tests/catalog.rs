//! The region catalogue: which copy answers (this container's, the table's, the provider's), how
//! long each lives, and what a failing provider leaves; and the region routes' rules on top of it.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::clock::Clock;
use crate::usecase::regions::{self, ImageQuery, ImageScope};

/// A clock the test moves.
struct Manual(Mutex<DateTime<Utc>>);

impl Clock for Manual {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Manual {
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }
}

async fn world_at() -> (World, Arc<Manual>) {
    let mut world = world().await;
    let clock = Arc::new(Manual(Mutex::new(Utc::now())));
    world.deps.clock = clock.clone();
    (world, clock)
}

fn count(provider: &FakeProvider, name: &str) -> usize {
    provider.calls().iter().filter(|c| c.as_str() == name).count()
}

fn reader(org: &str, endpoints: &[&str]) -> Caller {
    let endpoints: Vec<serde_json::Value> =
        endpoints.iter().map(|e| serde_json::json!({"name": e, "operations": ["read"]})).collect();
    caller(serde_json::json!({"organizations": [{"id": org, "endpoints": endpoints}]}))
}

#[tokio::test]
async fn a_warm_read_calls_nothing_and_an_expired_copy_is_fetched_again() {
    let (w, clock) = world_at().await;
    let cx = cx(reader("o", &["region:flavors"]));
    let first = regions::list_flavors(&w.deps, &cx, "o", "r").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["f", "f2"]);
    assert_eq!(count(&w.provider, "list_flavors"), 1);
    let _ = regions::list_flavors(&w.deps, &cx, "o", "r").await;
    assert_eq!(count(&w.provider, "list_flavors"), 1, "warm: this container's copy");

    // Another container (an empty cache) reads the table's copy.
    let other = Deps { catalog: Default::default(), ..w.deps.clone() };
    let _ = regions::list_flavors(&other, &cx, "o", "r").await;
    assert_eq!(count(&w.provider, "list_flavors"), 1, "cold container: the table's copy");

    clock.advance(Duration::minutes(61));
    let _ = regions::list_flavors(&w.deps, &cx, "o", "r").await;
    assert_eq!(count(&w.provider, "list_flavors"), 2, "flavors live an hour");
}

#[tokio::test]
async fn images_live_a_minute_and_a_failing_provider_is_answered_from_the_last_copy() {
    let (w, clock) = world_at().await;
    let cx = cx(reader("o", &["region:images"]));
    let images = regions::list_images(&w.deps, &cx, "o", "r").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(images.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["i"]);
    clock.advance(Duration::seconds(61));
    w.provider.failing.lock().unwrap_or_else(|e| e.into_inner()).push("list_images");
    let stale = regions::list_images(&w.deps, &cx, "o", "r").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stale, images, "the last copy, however old");
    assert_eq!(count(&w.provider, "list_images"), 2, "it was asked again");

    // With no copy anywhere, the provider's failure is the answer.
    let empty = Deps { store: Arc::new(MemoryStore::default()), catalog: Default::default(), ..w.deps.clone() };
    let err = regions::list_images(&empty, &cx, "o", "r").await.err().map(|e| e.status_and_code().0);
    assert_eq!(err, Some(503));
}

#[tokio::test]
async fn region_routes_check_rbac_visibility_and_the_region_type_before_any_provider_call() {
    let w = world().await;
    let denied = cx(reader("o", &["region:images"]));
    let err = regions::list_flavors(&w.deps, &denied, "o", "r").await.err().map(|e| e.status_and_code().0);
    assert_eq!(err, Some(403), "region:flavors read is needed");
    let other_org = cx(reader("o2", &["region:flavors"]));
    let err = regions::list_flavors(&w.deps, &other_org, "o", "r").await.err().map(|e| e.status_and_code().0);
    assert_eq!(err, Some(403), "on the path's organization");
    let allowed = cx(reader("o", &["region:flavors"]));
    let err = regions::list_flavors(&w.deps, &allowed, "o", "nope").await.err().map(|e| e.status_and_code().0);
    assert_eq!(err, Some(404));
    assert_eq!(count(&w.provider, "list_flavors"), 0);
}

#[tokio::test]
async fn v2_images_keep_only_organizations_the_caller_reads() {
    let w = world().await;
    let cx = cx(reader("o", &["region:images"]));
    let query = |orgs: &[&str], scope| ImageQuery {
        organization_ids: orgs.iter().map(|o| o.to_string()).collect(),
        scope,
        states: Vec::new(),
    };
    let global = regions::list_images_v2(&w.deps, &cx, "r", &query(&[], None)).await.unwrap_or_default();
    assert_eq!(global.len(), 1, "the global image");
    let owned = regions::list_images_v2(&w.deps, &cx, "r", &query(&["o"], Some(ImageScope::Owned))).await;
    assert_eq!(owned.map(|v| v.len()).ok(), Some(0), "o owns none");
    let dropped = regions::list_images_v2(&w.deps, &cx, "r", &query(&["o2"], Some(ImageScope::Owned))).await;
    assert_eq!(dropped.map(|v| v.len()).ok(), Some(0), "o2 is dropped, not refused");
}
