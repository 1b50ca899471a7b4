//! Use-case unit tests: update.

use super::*;

#[tokio::test]
async fn an_update_that_changes_no_image_or_flavor_asks_the_provider_nothing() {
    let w = world().await;
    let record = create_server(&w.deps, &cx(admin()), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let calls = w.provider.calls().len();
    let body = br#"{"metadata": {"name": "web", "description": "d"}, "spec": {"flavorId": "f", "imageId": "i"}}"#;
    let input = parse_json::<ServerV2Update>(body).and_then(ServerV2Update::parse).unwrap_or_else(|e| panic!("{e}"));
    let updated = update_server(&w.deps, &cx(admin()), &record.id, None, input).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(updated.version, record.version + 1);
    assert_eq!(w.provider.calls().len(), calls);
    let body = br#"{"metadata": {"name": "web"}, "spec": {"flavorId": "f2", "imageId": "i"}}"#;
    let input = parse_json::<ServerV2Update>(body).and_then(ServerV2Update::parse).unwrap_or_else(|e| panic!("{e}"));
    let resized = update_server(&w.deps, &cx(admin()), &record.id, Some(&updated.etag()), input)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(resized.pending, Some(crate::domain::PendingChange::Resize { .. })), "recorded before the call");
    // The new flavor and the current one (a disk shrink is refused before Nova is asked) come
    // from the region's catalogue, fetched at create; the record was never read since create, so
    // it is refreshed once before the resize.
    assert_eq!(w.provider.calls()[calls..], ["get_server", "resize"].map(str::to_owned));
}
