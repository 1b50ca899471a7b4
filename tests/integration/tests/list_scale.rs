//! What a filtered list page costs at 5,000 servers in one project: the tag filter runs in
//! DynamoDB (never a Scan), and one page reads a bounded number of Query pages however rare the
//! tag is; a short page's `next` resumes exactly where the reading stopped.

use std::sync::Arc;

use integration_tests::calls::{bulk_load, seeded_server, Calls};
use serde_json::json;
use shared::domain::ServerRecord;
use shared::rbac::Caller;
use shared::store::dynamodb::{items, DynamoStore};
use shared::store::ServerStore;
use shared::usecase::list::MAX_READS_PER_PAGE;
use shared::usecase::{list_servers, Context, ListParams};

const SERVERS: usize = 5000;

fn record(i: usize, tags: serde_json::Value) -> ServerRecord {
    seeded_server(json!({"id": format!("{i:08}-0000-4000-8000-000000000000"), "name": format!("s{i}"),
        "tags": tags, "providerId": format!("nova-{i}"), "privateIp": "10.0.0.1", "macAddress": "fa:16:3e:00:00:01"}))
}

#[tokio::test]
async fn a_filtered_page_costs_a_bounded_number_of_queries_at_five_thousand_servers() {
    let calls = Calls::default();
    let dynamo = calls.client().await;
    let table = format!("list-{}", uuid::Uuid::new_v4().simple());
    shared::store::dynamodb::create_table(&dynamo, &table).await.unwrap_or_else(|e| panic!("{e}"));
    // Every 500th server is blue (10 in all, spread over the partition); the rest are red.
    let mut blue = Vec::new();
    let mut load = Vec::new();
    for i in 0..SERVERS {
        let colour = if i % 500 == 7 { "blue" } else { "red" };
        let r = record(i, json!([{"name": "team", "value": colour}, {"name": "tier", "value": "web"}]));
        if colour == "blue" {
            blue.push(r.id.clone());
        }
        load.push(items::server_item(&r).unwrap_or_else(|e| panic!("{e}")));
    }
    bulk_load(&dynamo, &table, &load).await;
    calls.take();

    let mut deps =
        integration_tests::stack::local_deps(shared::regions::Regions::default(), Arc::new(shared::clock::RandomIds))
            .await
            .0;
    deps.store = Arc::new(DynamoStore::new(dynamo, table));
    let caller: Caller = Caller {
        subject: "reader".into(),
        acl: serde_json::from_value(json!({"organizations": [{"id": "o", "projects": [{"id": "p",
            "endpoints": [{"name": "region:servers", "operations": ["read"]}]}]}]}))
        .unwrap_or_else(|e| panic!("{e}")),
    };
    let cx = Context { caller, view: shared::http::v2_view() };

    let unfiltered = ListParams { limit: 100, ..ListParams::default() };
    let page = list_servers(&deps, &cx, &unfiltered).await.unwrap_or_else(|e| panic!("{e}"));
    let plain_queries = calls.take().get("Query").copied().unwrap_or(0);
    assert_eq!((page.items.len(), plain_queries), (100, 1), "an unfiltered page is one Query");

    let filtered = ListParams {
        limit: 100,
        tags: vec![("team".into(), "blue".into()), ("tier".into(), "web".into())],
        ..unfiltered
    };
    let mut found = Vec::new();
    let mut per_page = Vec::new();
    let mut params = filtered.clone();
    loop {
        let page = list_servers(&deps, &cx, &params).await.unwrap_or_else(|e| panic!("{e}"));
        let queries = calls.take().get("Query").copied().unwrap_or(0);
        per_page.push((page.items.len(), queries));
        found.extend(page.items.iter().map(|s| s.id.clone()));
        match page.next {
            Some(next) => params.after = Some(next),
            None => break,
        }
    }
    println!(
        "tag filter at {SERVERS} servers in one project: (servers, Queries) per page {per_page:?}; \
         an unfiltered page of 100: {plain_queries} Query"
    );
    assert!(per_page.iter().all(|(_, q)| *q as usize <= MAX_READS_PER_PAGE), "bounded: {per_page:?}");
    assert_eq!(found, blue, "every blue server, once, in id order");
    // With one read per page, pages are short but chained exactly: every match, once, in order.
    let mut query = shared::store::RecordQuery {
        scopes: vec![shared::rbac::Scope::Project("o".into(), "p".into())],
        api_version: Some(shared::domain::ApiVersion::V2),
        tags: vec![("team".into(), "blue".into())],
        limit: 100,
        max_reads: Some(1),
        ..Default::default()
    };
    let mut chained = Vec::new();
    let mut pages = 0;
    loop {
        let page = deps.store.list_servers(&query).await.unwrap_or_else(|e| panic!("{e}"));
        pages += 1;
        chained.extend(page.items.iter().map(|s| s.id.clone()));
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    println!("with one read per page: {pages} pages to find {} blue servers", chained.len());
    assert!(pages > 1);
    assert_eq!(chained, blue);
    let none = ListParams { tags: vec![("team".into(), "green".into())], ..filtered };
    let page = list_servers(&deps, &cx, &none).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(page.items.is_empty());
}
