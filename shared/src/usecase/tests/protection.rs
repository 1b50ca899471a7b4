//! Use-case unit tests: protection.

use super::*;

#[tokio::test]
async fn a_protected_server_is_neither_deleted_nor_cascaded() {
    use crate::domain::Protection;
    let w = world().await;
    let record = create_server(&w.deps, &cx(admin()), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let guarded = Protection { delete: true, rebuild: false };
    set_protection(&w.deps, &cx(admin()), &record.id, guarded).await.unwrap_or_else(|e| panic!("{e}"));
    let refused = delete_server(&w.deps, &cx(admin()), &record.id).await.expect_err("protected");
    assert_eq!(refused.status_and_code().0, 409, "{refused}");
    let cascade = networks::delete_network(&w.deps, &cx(admin()), &w.network).await.expect_err("protected");
    assert!(cascade.to_string().contains(&record.id), "{cascade}");
    assert!(!w.provider.calls().contains(&"delete_server".to_owned()), "nothing reached the provider");
    set_protection(&w.deps, &cx(admin()), &record.id, Protection::default()).await.unwrap_or_else(|e| panic!("{e}"));
    delete_server(&w.deps, &cx(admin()), &record.id).await.unwrap_or_else(|e| panic!("{e}"));
}
