//! Use-case unit tests: delete.

use super::*;

#[tokio::test]
async fn delete_releases_the_name_only_once_the_provider_is_done() {
    let w = world().await;
    let record = create_server(&w.deps, &cx(admin()), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    delete_server(&w.deps, &cx(admin()), &record.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(w.provider.calls().contains(&"delete_server".to_owned()));
    assert!(w.deps.store.get_server(&record.id).await.ok().flatten().is_none(), "gone at once: removed at once");
    assert_eq!(w.deps.store.claim_holder(&w.network, "web").await.ok().flatten(), None);
}
