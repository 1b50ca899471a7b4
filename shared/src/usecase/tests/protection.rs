//! Use-case unit tests: protection.

use super::*;

#[tokio::test]
async fn a_protected_server_is_not_deleted_and_its_network_is_in_use() {
    use crate::domain::Protection;
    let w = world().await;
    let record = create_server(&w.deps, &cx(admin()), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let guarded = Protection { delete: true, rebuild: false };
    set_protection(&w.deps, &cx(admin()), &record.id, guarded).await.unwrap_or_else(|e| panic!("{e}"));
    let refused = delete_server(&w.deps, &cx(admin()), &record.id).await.expect_err("protected");
    assert_eq!(refused.status_and_code().0, 409, "{refused}");
    let in_use = networks::delete_network(&w.deps, &cx(admin()), &w.network).await.expect_err("in use");
    assert_eq!(in_use.status_and_code(), (403, "forbidden"), "{in_use}");
    assert!(!w.provider.calls().contains(&"delete_server".to_owned()), "nothing reached the provider");
    set_protection(&w.deps, &cx(admin()), &record.id, Protection::default()).await.unwrap_or_else(|e| panic!("{e}"));
    delete_server(&w.deps, &cx(admin()), &record.id).await.unwrap_or_else(|e| panic!("{e}"));
}
