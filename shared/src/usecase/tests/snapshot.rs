//! Use-case unit tests: snapshot.

use super::*;

#[tokio::test]
async fn snapshots_check_both_permissions_before_any_provider_call() {
    let w = world().await;
    let record = create_server(&w.deps, &cx(admin()), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let calls = w.provider.calls().len();
    let input = || SnapshotInput {
        name: crate::domain::ResourceName::parse("n", "snap").unwrap_or_else(|e| panic!("{e}")),
        description: None,
        tags: Default::default(),
    };
    let reader = caller(
        serde_json::json!({"organizations": [{"id": "o", "endpoints": [{"name": "region:servers", "operations": ["read"]}]}]}),
    );
    let err = snapshot(&w.deps, &cx(reader.clone()), &record.id, input(), None).await.expect_err("no image create");
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    let imager = caller(
        serde_json::json!({"organizations": [{"id": "o", "endpoints": [{"name": "region:images", "operations": ["create"]}]}]}),
    );
    let err = snapshot(&w.deps, &cx(imager.clone()), &record.id, input(), None).await.expect_err("no read");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(w.provider.calls().len(), calls, "no provider call for refused snapshots");
    snapshot(&w.deps, &cx(admin()), &record.id, input(), None).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(w.provider.calls().contains(&"create_image".to_owned()));
}
