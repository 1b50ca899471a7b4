//! Use-case unit tests: list.

use super::*;

#[tokio::test]
async fn list_merges_scopes_in_id_order_and_pages() {
    let w = world().await;
    let mut ids = Vec::new();
    for name in ["a", "b", "c", "d", "e"] {
        ids.push(
            create_server(&w.deps, &cx(admin()), create_input(&w.network, name), None)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .id,
        );
    }
    ids.sort();
    let page = list_servers(&w.deps, &cx(admin()), &ListParams { limit: 2, ..ListParams::default() })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (page.items.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), page.next.clone()),
        (ids[..2].to_vec(), Some(ids[1].clone()))
    );
    let rest = ListParams { limit: 10, after: Some(ids[1].clone()), ..ListParams::default() };
    let page = list_servers(&w.deps, &cx(admin()), &rest).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((page.items.len(), page.next), (3, None));
    let nobody = caller(serde_json::json!({"organizations": []}));
    let page = list_servers(&w.deps, &cx(nobody.clone()), &ListParams { limit: 10, ..ListParams::default() })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(page.items.is_empty());
}
