//! Deletion and rebuild protection (`/api/v2/servers/{id}/protection`).

use integration_tests::stack::*;
use openstack_emulator::seed;
use serde_json::json;

fn protection(delete: bool, rebuild: bool) -> serde_json::Value {
    json!({"delete": delete, "rebuild": rebuild})
}

#[tokio::test]
async fn a_protected_server_refuses_delete_and_rebuild_until_unprotected() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.settled_server("web").await;
    let path = format!("/api/v2/servers/{id}");
    let shown = stack.call("GET", &format!("{path}/protection"), Some(&admin), None).await;
    assert_eq!((shown.status, shown.body.clone()), (200, protection(false, false)), "both off by default");

    let set = stack.call("PUT", &format!("{path}/protection"), Some(&admin), Some(&protection(true, true))).await;
    assert_eq!((set.status, set.body.clone()), (200, protection(true, true)));
    let server = stack.call("GET", &path, Some(&admin), None).await;
    assert!(server.body.get("protection").is_none(), "server bodies stay Unikorn's: {}", server.body);

    let delete = stack.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!((delete.status, delete.error_code()), (409, "conflict"), "{}", delete.body);
    assert!(delete.description().contains("protected from deletion"), "{}", delete.body);
    assert_eq!(stack.emulator.counter("DELETE /compute/v2.1/servers/{id}"), 0, "nothing reached Nova");
    assert_eq!(stack.call("GET", &path, Some(&admin), None).await.status, 200);

    let rebuild =
        json!({"metadata": {"name": "web"}, "spec": {"flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_LARGE}});
    let refused = stack.call("PUT", &path, Some(&admin), Some(&rebuild)).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.description().contains("protected from rebuilds"), "{}", refused.body);
    assert_eq!(stack.emulator.counter("action rebuild"), 0);
    let stored = stack.stored(&format!("SERVER#{id}"), "SERVER").await.unwrap_or_default();
    assert_eq!(stored["imageId"], seed::IMAGE_UBUNTU, "the image is unchanged");

    // Its network is in use (as any network a server holds): nothing is marked or deleted.
    let network = format!("/api/v2/networks/{}", stack.network_id);
    let in_use = stack.call("DELETE", &network, Some(&admin), None).await;
    assert_eq!(in_use.status, 403, "{}", in_use.body);
    assert_eq!(stack.cleanup(0).await.servers_marked_deleting, 0);
    assert_eq!(stack.call("GET", &path, Some(&admin), None).await.status, 200, "the server is untouched");
    let off = stack.call("PUT", &format!("{path}/protection"), Some(&admin), Some(&protection(false, true))).await;
    assert_eq!(off.status, 200);
    assert_eq!(stack.call("DELETE", &path, Some(&admin), None).await.status, 202, "no longer protected");
}

#[tokio::test]
async fn protection_needs_update_to_change_and_read_to_see_and_bad_bodies_write_nothing() {
    let stack = Stack::start().await;
    let id = stack.settled_server("web").await;
    let path = format!("/api/v2/servers/{id}/protection");
    let reader = stack.token("reader", &project_acl(ORG, PROJECT, &[("region:servers", &["read"])]));
    assert_eq!(stack.call("GET", &path, Some(&reader), None).await.status, 200);
    let denied = stack.call("PUT", &path, Some(&reader), Some(&protection(true, false))).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    let stranger = stack.token("stranger", &project_acl(ORG, PROJECT_B, &[("region:servers", ALL)]));
    assert_eq!(stack.call("GET", &path, Some(&stranger), None).await.status, 404);

    let before = stack.stored(&format!("SERVER#{id}"), "SERVER").await.unwrap_or_default();
    for bad in [
        json!({}),
        json!({"delete": true}),
        json!({"delete": "yes", "rebuild": false}),
        json!({"delete": true, "rebuild": true, "other": 1}),
        json!([true]),
    ] {
        let reply = stack.call("PUT", &path, Some(&stack.admin()), Some(&bad)).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{bad}: {}", reply.body);
    }
    let after = stack.stored(&format!("SERVER#{id}"), "SERVER").await.unwrap_or_default();
    assert_eq!(after, before, "nothing written");
    let missing = "/api/v2/servers/5b8d2c1e-3f4a-4e6b-9c7d-000000000000/protection";
    assert_eq!(stack.call("PUT", missing, Some(&stack.admin()), Some(&protection(true, true))).await.status, 404);
}

/// Protect and delete raced: never both succeed (the delete's write is conditional on the
/// protection it read, and protecting a deleting server is refused).
#[tokio::test]
async fn concurrent_protect_and_delete_never_delete_a_protected_server() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let mut outcomes = std::collections::BTreeMap::new();
    for round in 0..6 {
        let id = stack.settled_server(&format!("race-{round}")).await;
        let path = format!("/api/v2/servers/{id}");
        let protect_first = round % 2 == 0;
        let protect_call =
            || stack.spawn_call("PUT", &format!("{path}/protection"), Some(&admin), Some(&protection(true, false)));
        let delete_call = || stack.spawn_call("DELETE", &path, Some(&admin), None);
        let (protect, delete) = if protect_first {
            let p = protect_call();
            (p, delete_call())
        } else {
            let d = delete_call();
            (protect_call(), d)
        };
        let status = |r: Result<Reply, _>| r.map(|r: Reply| r.status).unwrap_or_default();
        let (protect, delete) = (status(protect.await), status(delete.await));
        *outcomes.entry((protect, delete)).or_insert(0) += 1;
        assert_ne!((protect, delete), (200, 202), "round {round}: a protected server was deleted");
        let stored = stack.stored(&format!("SERVER#{id}"), "SERVER").await;
        if let Some(stored) = stored {
            let deleting = stored["provisioningStatus"] == "deprovisioning";
            assert!(!(deleting && stored["protection"]["delete"] == true), "round {round}: {stored}");
        }
    }
    println!("protect vs delete outcomes: {outcomes:?}");

    // Unprotect raced with delete: the delete either saw the protection (409) or came after.
    let id = stack.settled_server("unprotect").await;
    let path = format!("/api/v2/servers/{id}");
    stack.call("PUT", &format!("{path}/protection"), Some(&admin), Some(&protection(true, false))).await;
    let unprotect =
        stack.spawn_call("PUT", &format!("{path}/protection"), Some(&admin), Some(&protection(false, false)));
    let delete = stack.spawn_call("DELETE", &path, Some(&admin), None);
    let status = |r: Result<Reply, _>| r.map(|r: Reply| r.status).unwrap_or_default();
    let (unprotect, delete) = (status(unprotect.await), status(delete.await));
    assert_eq!(unprotect, 200);
    assert!(delete == 202 || delete == 409, "{delete}");
}

/// The protection is a condition of the write itself, not only a check before it: a deleting or
/// rebuilding write built on the current version of a protected record is refused by DynamoDB.
#[tokio::test]
async fn the_store_refuses_deleting_and_rebuilding_writes_of_a_protected_record() {
    use shared::domain::{Effects, PendingChange, ProvisioningStatus};
    use shared::store::{ServerStore, StoreError};
    let stack = Stack::start().await;
    let id = stack.settled_server("guarded").await;
    let path = format!("/api/v2/servers/{id}/protection");
    stack.call("PUT", &path, Some(&stack.admin()), Some(&protection(true, true))).await;
    let store = stack.deps.store.clone();
    let current = store.get_server(&id).await.ok().flatten().unwrap_or_else(|| panic!("no record"));
    let mut dying = current.clone();
    dying.provisioning_status = ProvisioningStatus::Deprovisioning;
    dying.version = current.version + 1;
    let refused = store.replace_server(&dying, current.version, &Effects::default()).await;
    assert!(matches!(refused, Err(StoreError::Protected(..))), "{refused:?}");
    let mut rebuilding = current.clone();
    rebuilding.image_id = seed::IMAGE_LARGE.into();
    rebuilding.pending = Some(PendingChange::Rebuild {
        image_id: seed::IMAGE_LARGE.into(),
        previous_image_id: seed::IMAGE_UBUNTU.into(),
        since: chrono::Utc::now(),
    });
    rebuilding.version = current.version + 1;
    let refused = store.replace_server(&rebuilding, current.version, &Effects::default()).await;
    assert!(matches!(refused, Err(StoreError::Protected(..))), "{refused:?}");
    let mut described = current.clone();
    described.version = current.version + 1;
    assert!(store.replace_server(&described, current.version, &Effects::default()).await.is_ok(), "other writes pass");
}
