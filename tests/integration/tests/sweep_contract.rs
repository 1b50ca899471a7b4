//! The fanned-out sweep's bookkeeping, the same on the in-memory store and on DynamoDB (moto): one
//! planner per sweep, one holder per slice until its lease runs out, a slice finished once and
//! counted once; and a slice's records read by key.

use chrono::{Duration, Utc};
use integration_tests::records::{network, server};
use integration_tests::stack::moto_client;
use shared::domain::Effects;
use shared::store::dynamodb::DynamoStore;
use shared::store::memory::MemoryStore;
use shared::store::{Lease, NetworkStore, ServerStore, SweepClaim, SweepStore};

async fn contract<S: SweepStore + ServerStore + NetworkStore>(store: &S, label: &str) {
    // Leases are kept to the millisecond.
    let now = chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap_or_default();
    let sweep = format!("s-{}", uuid::Uuid::new_v4().simple());
    // Two planners of one tick: the first plans, the second does not.
    let first = format!("{sweep}-0");
    assert!(matches!(store.claim_sweep(&first, now).await, Ok(SweepClaim::Ours { .. })), "{label}");
    let claimed = store.claim_sweep(&sweep, now).await.ok();
    assert_eq!(claimed, Some(SweepClaim::Ours { previous: Some(first) }), "{label}: the one before is named");
    assert_eq!(store.claim_sweep(&sweep, now).await.ok(), Some(SweepClaim::Taken), "{label}: a second planner");
    store.set_sweep_slices(&sweep, 2).await.unwrap_or_else(|e| panic!("{label}: {e}"));

    // A lease is one holder's until it runs out; its holder may renew it.
    let until = now + Duration::seconds(60);
    let lease = |holder: &'static str, at: chrono::DateTime<Utc>| {
        let sweep = sweep.clone();
        async move { store.lease_slice(&sweep, 0, holder, at, at + Duration::seconds(60)).await }
    };
    assert_eq!(lease("a", now).await.ok(), Some(Lease::Granted), "{label}");
    assert_eq!(lease("b", now).await.ok(), Some(Lease::Held { until }), "{label}: held by a");
    assert_eq!(lease("a", now).await.ok(), Some(Lease::Granted), "{label}: renewed by its holder");
    // a dies: once its lease ran out, b takes the slice, and a can no longer finish it.
    let later = now + Duration::seconds(61);
    assert_eq!(lease("b", later).await.ok(), Some(Lease::Granted), "{label}: taken over");
    assert_eq!(store.finish_slice(&sweep, 0, "a", later).await.ok(), Some(false), "{label}: a lost it");
    assert_eq!(store.finish_slice(&sweep, 0, "b", later).await.ok(), Some(true), "{label}");
    assert_eq!(store.finish_slice(&sweep, 0, "b", later).await.ok(), Some(false), "{label}: counted once");
    assert_eq!(lease("c", later).await.ok(), Some(Lease::Finished), "{label}");

    // A failed attempt gives its lease back: the retry need not wait for it.
    let slice1 = |holder: &'static str| {
        let sweep = sweep.clone();
        async move { store.lease_slice(&sweep, 1, holder, now, now + Duration::seconds(60)).await }
    };
    assert_eq!(slice1("a").await.ok(), Some(Lease::Granted), "{label}");
    store.release_slice(&sweep, 1, "b", now).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    assert!(matches!(slice1("b").await, Ok(Lease::Held { .. })), "{label}: only its holder gives it back");
    store.release_slice(&sweep, 1, "a", now).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(slice1("b").await.ok(), Some(Lease::Granted), "{label}: given back");

    let summary = store.sweep_summary(&sweep).await.ok().flatten();
    let summary = summary.unwrap_or_else(|| panic!("{label}: no summary"));
    assert_eq!((summary.slices, summary.finished, summary.unfinished()), (Some(2), 1, 1), "{label}: {summary:?}");
    assert_eq!(summary.planned_at.map(|t| t.timestamp()), Some(now.timestamp()), "{label}");
    assert_eq!(store.sweep_summary("never").await.ok(), Some(None), "{label}");

    // A slice's records, by key: those that exist, whatever else is asked for.
    let net = format!("n-{}", uuid::Uuid::new_v4().simple());
    store.create_network(&network(&net)).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let mut ids = Vec::new();
    for i in 0..130 {
        let record = server(&format!("{net}-s{i}"), &format!("s{i}"), &net);
        store.create_server(&record, now, &Effects::default()).await.unwrap_or_else(|e| panic!("{label}: {e}"));
        ids.push(record.id.clone());
    }
    ids.push("no-such-server".into());
    let mut read: Vec<String> = store.get_servers(&ids).await.unwrap_or_default().into_iter().map(|r| r.id).collect();
    read.sort();
    ids.pop();
    ids.sort();
    assert_eq!(read, ids, "{label}: more than one batch, the missing id left out");

    // A region's records page after page, in id order, each once; another region's never.
    let elsewhere = integration_tests::calls::seeded_server(serde_json::json!({"id": format!("{net}-x"),
        "name": "x", "networkId": net, "regionId": "elsewhere"}));
    store.create_server(&elsewhere, now, &Effects::default()).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let (mut paged, mut after, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let page =
            store.list_region_servers("r", after.as_deref(), 50).await.unwrap_or_else(|e| panic!("{label}: {e}"));
        pages += 1;
        paged.extend(page.items.into_iter().map(|r| r.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!((paged, pages), (ids, 3), "{label}: the region's 130 records in three pages");
}

#[tokio::test]
async fn the_memory_and_dynamodb_sweep_bookkeeping_keep_one_contract() {
    contract(&MemoryStore::default(), "memory").await;
    // A table of its own: the latest sweep is one per table.
    let client = moto_client();
    let table = format!("t-{}", uuid::Uuid::new_v4().simple());
    local_api::ensure_table(&client, &table).await.unwrap_or_else(|e| panic!("{e}"));
    contract(&DynamoStore::new(client, table), "dynamodb").await;
}
