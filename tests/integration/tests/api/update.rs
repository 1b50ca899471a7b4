use integration_tests::stack::*;
use openstack_emulator::{seed, Delays};
use serde_json::json;

const GLANCE_SHOW: &str = "GET /image/v2/images/{id}";
const GLANCE_LIST: &str = "GET /image/v2/images";
const FLAVOR_SHOW: &str = "GET /compute/v2.1/flavors/{id}";
const NOVA_ACTION: &str = "POST /compute/v2.1/servers/{id}/action";

fn update_body(name: &str, flavor: &str, image: &str) -> serde_json::Value {
    json!({"metadata": {"name": name, "description": "updated", "tags": [{"name": "env", "value": "prod"}]},
           "spec": {"flavorId": flavor, "imageId": image, "networking": {"publicIP": false}, "userData": "ZWNobyBoaQ=="}})
}

#[tokio::test]
async fn update_answers_202_with_the_new_record_and_asks_the_provider_nothing_unchanged() {
    let stack = Stack::start().await;
    let id = stack.server("web").await;
    let path = format!("/api/v2/servers/{id}");
    let editor = stack.token("ed", &admin_acl());
    let (images, flavors) = (stack.emulator.counter(GLANCE_SHOW), stack.emulator.counter(FLAVOR_SHOW));
    let reply = stack
        .call("PUT", &path, Some(&editor), Some(&update_body("web", seed::FLAVOR_SMALL, seed::IMAGE_UBUNTU)))
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(reply.body["metadata"]["description"], "updated");
    assert_eq!(reply.body["metadata"]["tags"], json!([{"name": "env", "value": "prod"}]));
    assert_eq!(reply.body["metadata"]["modifiedBy"], "ed");
    assert!(reply.body["metadata"]["modifiedTime"].is_string());
    assert_eq!(reply.body["spec"]["userData"], "ZWNobyBoaQ==");
    assert_eq!(reply.body["spec"]["networking"], json!({"publicIP": false}));
    assert_eq!(reply.header("etag").as_deref(), Some("\"3\""));
    assert_eq!(stack.emulator.counter(GLANCE_SHOW), images, "unchanged image: no Glance call");
    assert_eq!(stack.emulator.counter(FLAVOR_SHOW), flavors, "unchanged flavor: no Nova flavor call");
    let stored = stack.stored(&format!("SERVER#{id}"), "SERVER").await.unwrap_or_default();
    assert_eq!(stored["description"], "updated");
    assert_eq!(stored["_version"], 3);
}

#[tokio::test]
async fn a_changed_image_or_flavor_is_revalidated() {
    let stack = Stack::start().await;
    let id = stack.server("web").await;
    let path = format!("/api/v2/servers/{id}");
    let admin = stack.admin();
    let glance = stack.emulator.counter(GLANCE_SHOW) + stack.emulator.counter(GLANCE_LIST);
    let missing =
        stack.call("PUT", &path, Some(&admin), Some(&update_body("web", seed::FLAVOR_SMALL, "gone-image"))).await;
    assert_eq!((missing.status, missing.error_code()), (422, "unprocessable_content"), "{}", missing.body);
    assert!(missing.description().starts_with("spec.imageId: region region-1 offers no image"), "{}", missing.body);
    let after = stack.emulator.counter(GLANCE_SHOW) + stack.emulator.counter(GLANCE_LIST);
    assert_eq!(after, glance, "a changed image is checked against the region's catalogue, not looked up");
    let forged =
        stack.call("PUT", &path, Some(&admin), Some(&update_body("web", seed::FLAVOR_SMALL, seed::IMAGE_FORGED))).await;
    assert_eq!(forged.status, 422, "an image whose signature fails is never offered: {}", forged.body);
    let too_big =
        stack.call("PUT", &path, Some(&admin), Some(&update_body("web", seed::FLAVOR_SMALL, seed::IMAGE_LARGE))).await;
    assert_eq!(too_big.status, 422, "{}", too_big.body);
    let small_flavor =
        stack.call("PUT", &path, Some(&admin), Some(&update_body("web", seed::FLAVOR_TINY, seed::IMAGE_UBUNTU))).await;
    assert_eq!(
        small_flavor.status, 422,
        "a flavor change is checked against the stored image size: {}",
        small_flavor.body
    );
    let no_flavor = stack.call("PUT", &path, Some(&admin), Some(&update_body("web", "nope", seed::IMAGE_UBUNTU))).await;
    assert_eq!(no_flavor.status, 422);
    assert!(
        no_flavor.description().starts_with("spec.flavorId: region region-1 offers no flavor"),
        "{}",
        no_flavor.body
    );
    let large = |image| update_body("web", seed::FLAVOR_LARGE, image);
    let both = stack.call("PUT", &path, Some(&admin), Some(&large(seed::IMAGE_LARGE))).await;
    assert_eq!(both.status, 422, "flavor and image change in separate updates: {}", both.body);
    let resized = stack.call("PUT", &path, Some(&admin), Some(&large(seed::IMAGE_UBUNTU))).await;
    assert_eq!(resized.status, 202, "{}", resized.body);
    let _ = stack.call("GET", &path, Some(&admin), None).await;
    let rebuilt = stack.call("PUT", &path, Some(&admin), Some(&large(seed::IMAGE_LARGE))).await;
    assert_eq!(rebuilt.status, 202, "{}", rebuilt.body);
    assert_eq!(rebuilt.body["spec"]["imageId"], seed::IMAGE_LARGE);
    assert_eq!(rebuilt.body["spec"]["flavorId"], seed::FLAVOR_LARGE);
}

#[tokio::test]
async fn renames_are_422_and_unknown_or_forbidden_updates_refused() {
    let stack = Stack::start().await;
    let id = stack.server("web").await;
    let path = format!("/api/v2/servers/{id}");
    let admin = stack.admin();
    let renamed = stack
        .call("PUT", &path, Some(&admin), Some(&update_body("web-2", seed::FLAVOR_SMALL, seed::IMAGE_UBUNTU)))
        .await;
    assert_eq!((renamed.status, renamed.error_code()), (422, "unprocessable_content"));
    let unknown = stack
        .call(
            "PUT",
            "/api/v2/servers/00000000-0000-4000-8000-00000000abcd",
            Some(&admin),
            Some(&update_body("web", "2", "x")),
        )
        .await;
    assert_eq!(unknown.status, 404);
    let reader = stack.token("r", &project_acl(ORG, PROJECT, &[("region:servers", &["read"])]));
    let forbidden = stack
        .call("PUT", &path, Some(&reader), Some(&update_body("web", seed::FLAVOR_SMALL, seed::IMAGE_UBUNTU)))
        .await;
    assert_eq!((forbidden.status, forbidden.error_code()), (403, "forbidden"));
}

#[tokio::test]
async fn if_match_guards_against_lost_updates() {
    let stack = Stack::start().await;
    let id = stack.server("web").await;
    let path = format!("/api/v2/servers/{id}");
    let admin = stack.admin();
    let current = stack.call("GET", &path, Some(&admin), None).await.header("etag").unwrap_or_default();
    let body = update_body("web", seed::FLAVOR_SMALL, seed::IMAGE_UBUNTU);
    let stale = stack
        .send(
            stack.http.put(format!("{}{path}", stack.url)).bearer_auth(&admin).header("if-match", "\"1\"").json(&body),
        )
        .await;
    assert_eq!((stale.status, stale.error_code()), (412, "conflict"));
    let fresh = stack
        .send(
            stack.http.put(format!("{}{path}", stack.url)).bearer_auth(&admin).header("if-match", &current).json(&body),
        )
        .await;
    assert_eq!(fresh.status, 202, "{}", fresh.body);
    let replay = stack
        .send(
            stack.http.put(format!("{}{path}", stack.url)).bearer_auth(&admin).header("if-match", &current).json(&body),
        )
        .await;
    assert_eq!(replay.status, 412, "the same If-Match twice loses the second time");
}

#[tokio::test]
async fn updates_while_deleting_are_400_and_without_a_network_404() {
    let stack = Stack::start().await;
    stack.emulator.set_delays(Delays { delete_ms: 60_000, ..Delays::default() });
    let admin = stack.admin();
    let dying = stack.server("dying").await;
    assert_eq!(stack.call("DELETE", &format!("/api/v2/servers/{dying}"), Some(&admin), None).await.status, 202);
    let reply = stack
        .call(
            "PUT",
            &format!("/api/v2/servers/{dying}"),
            Some(&admin),
            Some(&update_body("dying", "2", seed::IMAGE_UBUNTU)),
        )
        .await;
    assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"));
    assert!(reply.description().contains("being deleted"));

    let orphan = stack.server("orphan").await;
    use aws_sdk_dynamodb::types::AttributeValue as A;
    stack
        .dynamo
        .delete_item()
        .table_name(&stack.table)
        .key("PK", A::S(format!("NETWORK#{}", stack.network_id)))
        .key("SK", A::S("NETWORK".into()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let reply = stack
        .call(
            "PUT",
            &format!("/api/v2/servers/{orphan}"),
            Some(&admin),
            Some(&update_body("orphan", "2", seed::IMAGE_UBUNTU)),
        )
        .await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert!(reply.description().contains("network"));
}

/// Regression (found under faults): an unreadable `If-Match` was treated as absent and the update applied unconditionally.
#[tokio::test]
async fn an_if_match_that_is_not_an_entity_tag_is_400_and_changes_nothing() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.server("web").await;
    let path = format!("/api/v2/servers/{id}");
    let mut body = stack.server_body("web", &stack.network_id);
    body["spec"].as_object_mut().map(|s| s.remove("networkId"));
    body["metadata"]["description"] = json!("must not apply");
    let before = stack.stored(&format!("SERVER#{id}"), "SERVER").await.unwrap_or_default();
    for value in [&b"\"\xe9t\xe9\""[..], b"3", b"\"1\", 2"] {
        let header = reqwest::header::HeaderValue::from_bytes(value).unwrap_or_else(|e| panic!("{e}"));
        let request = stack.request("PUT", &path, Some(&admin), Some(&body)).header("if-match", header);
        let reply = stack.send(request).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{value:?}: {}", reply.body);
        assert!(reply.description().starts_with("If-Match"), "{}", reply.description());
    }
    let after = stack.stored(&format!("SERVER#{id}"), "SERVER").await.unwrap_or_default();
    assert_eq!(before["version"], after["version"], "nothing was written");
}

/// Regression (found against real Nova): a root-disk shrink was sent to Nova (which refuses any),
/// and a provider refusal of an update answered 400 where 422 is documented.
#[tokio::test]
async fn a_flavor_with_a_smaller_disk_is_422_before_anything_is_asked() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.settled_server("web").await;
    let path = format!("/api/v2/servers/{id}");
    let grow =
        stack.call("PUT", &path, Some(&admin), Some(&update_body("web", seed::FLAVOR_LARGE, seed::IMAGE_UBUNTU))).await;
    assert_eq!(grow.status, 202, "{}", grow.body);
    assert_eq!(stack.converge(0, 2).await.map(|_| ()), Ok(()), "the resize is confirmed");
    let actions = stack.emulator.counter(NOVA_ACTION);
    let shrink =
        stack.call("PUT", &path, Some(&admin), Some(&update_body("web", seed::FLAVOR_SMALL, seed::IMAGE_UBUNTU))).await;
    assert_eq!((shrink.status, shrink.error_code()), (422, "unprocessable_content"), "{}", shrink.body);
    assert!(shrink.description().starts_with("spec.flavorId"), "{}", shrink.description());
    assert_eq!(stack.emulator.counter(NOVA_ACTION), actions, "Nova is not asked");
    let shown = stack.call("GET", &path, Some(&admin), None).await;
    assert_eq!(shown.body["spec"]["flavorId"], seed::FLAVOR_LARGE, "nothing changed");
}
