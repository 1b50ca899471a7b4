//! Bad input: every row gets its 4xx in the error format with a message naming the field, and
//! leaves the table unchanged with no Nova create.

use integration_tests::stack::*;
use openstack_emulator::seed;
use serde_json::{json, Value};

enum Body {
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

fn valid(network: &str) -> Value {
    json!({"metadata": {"name": "ok-name"}, "spec": {"networkId": network, "flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU}})
}

fn with(network: &str, pointer: &str, value: Value) -> Body {
    let mut body = valid(network);
    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    match body.pointer_mut(parent).and_then(Value::as_object_mut) {
        Some(object) if value.is_null() && key.starts_with('-') => {
            object.remove(&key[1..]);
        }
        Some(object) => {
            object.insert(key.to_owned(), value);
        }
        None => panic!("no object at {parent}"),
    }
    Body::Json(body)
}

fn without(network: &str, pointer: &str) -> Body {
    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    with(network, &format!("{parent}/-{key}"), Value::Null)
}

#[tokio::test]
async fn bad_create_requests_are_4xx_name_the_field_and_write_nothing() {
    let stack = Stack::start().await;
    let net = stack.network_id.as_str();
    let huge = "A".repeat(90_000);
    let over_1mib = format!(r#"{{"metadata": {{"name": "x", "description": "{}"}}}}"#, "d".repeat(1_100_000));
    let rows: Vec<(&str, Body, u16, &str)> = vec![
        ("empty body", Body::Raw("application/json", vec![]), 400, "empty"),
        ("not JSON", Body::Raw("application/json", b"{".to_vec()), 400, "request body"),
        ("a JSON array", Body::Json(json!([])), 400, "request body"),
        ("trailing garbage", Body::Raw("application/json", format!("{} x", valid(net)).into_bytes()), 400, "trailing"),
        ("text/plain", Body::Raw("text/plain", valid(net).to_string().into_bytes()), 415, "text/plain"),
        ("over 1 MiB", Body::Raw("application/json", over_1mib.into_bytes()), 400, "1 MiB"),
        ("no metadata", without(net, "/metadata"), 400, "metadata"),
        ("no spec", without(net, "/spec"), 400, "spec"),
        ("no name", without(net, "/metadata/name"), 400, "name"),
        ("null name", with(net, "/metadata/name", Value::Null), 400, "metadata.name"),
        ("numeric name", with(net, "/metadata/name", json!(7)), 400, "metadata.name"),
        ("name with a space", with(net, "/metadata/name", json!("web 1")), 400, "metadata.name"),
        ("name starting with a dash", with(net, "/metadata/name", json!("-web")), 400, "metadata.name"),
        ("name of 64 characters", with(net, "/metadata/name", json!("a".repeat(64))), 400, "metadata.name"),
        (
            "description over 1024",
            with(net, "/metadata/description", json!("d".repeat(1025))),
            400,
            "metadata.description",
        ),
        ("tags not a list", with(net, "/metadata/tags", json!({"a": "b"})), 400, "metadata.tags"),
        ("null tags", with(net, "/metadata/tags", Value::Null), 400, "metadata.tags: invalid type: null"),
        ("null userData", with(net, "/spec/userData", Value::Null), 400, "spec.userData: invalid type: null"),
        ("tag without value", with(net, "/metadata/tags", json!([{"name": "a"}])), 400, "value"),
        (
            "duplicate tags",
            with(net, "/metadata/tags", json!([{"name": "a", "value": "1"}, {"name": "a", "value": "2"}])),
            400,
            "metadata.tags[1]",
        ),
        ("unknown top-level field", with(net, "/status", json!({})), 400, "unknown field `status`"),
        (
            "organization in the body",
            with(net, "/spec/organizationId", json!(ORG)),
            400,
            "unknown field `organizationId`",
        ),
        ("no networkId", without(net, "/spec/networkId"), 400, "networkId"),
        ("no flavorId", without(net, "/spec/flavorId"), 400, "flavorId"),
        ("no imageId", without(net, "/spec/imageId"), 400, "imageId"),
        ("numeric flavorId", with(net, "/spec/flavorId", json!(2)), 400, "spec.flavorId"),
        ("empty imageId", with(net, "/spec/imageId", json!("")), 400, "spec.imageId"),
        ("networkId with spaces", with(net, "/spec/networkId", json!("a b")), 400, "spec.networkId"),
        ("userData not base64", with(net, "/spec/userData", json!("not base64!")), 400, "spec.userData"),
        ("userData over 64 KiB", with(net, "/spec/userData", json!(huge)), 422, "spec.userData"),
        (
            "networking unknown field",
            with(net, "/spec/networking", json!({"floating": true})),
            400,
            "unknown field `floating`",
        ),
        (
            "publicIP as a string",
            with(net, "/spec/networking", json!({"publicIP": "yes"})),
            400,
            "spec.networking.publicIP",
        ),
        (
            "securityGroups not a list",
            with(net, "/spec/networking", json!({"securityGroups": "default"})),
            400,
            "spec.networking.securityGroups",
        ),
        (
            "CIDR without a prefix",
            with(net, "/spec/networking", json!({"allowedSourceAddresses": ["10.0.0.1"]})),
            422,
            "allowedSourceAddresses[0]",
        ),
        (
            "CIDR prefix 33",
            with(net, "/spec/networking", json!({"allowedSourceAddresses": ["10.0.0.0/8", "10.0.0.0/33"]})),
            422,
            "allowedSourceAddresses[1]",
        ),
        (
            "CIDR of words",
            with(net, "/spec/networking", json!({"allowedSourceAddresses": ["any"]})),
            422,
            "allowedSourceAddresses[0]",
        ),
        ("unknown network", with(net, "/spec/networkId", json!("no-such-network")), 404, "no network found"),
        ("unknown image", with(net, "/spec/imageId", json!("no-such-image")), 422, "spec.imageId: region"),
        ("unknown flavor", with(net, "/spec/flavorId", json!("no-such-flavor")), 422, "spec.flavorId: region"),
        ("image too big for the flavor", with(net, "/spec/flavorId", json!(seed::FLAVOR_TINY)), 422, "GiB"),
        (
            "unknown SSH CA",
            with(net, "/spec/sshCertificateAuthorityId", json!("ca-9")),
            404,
            "SSH certificate authority",
        ),
    ];
    assert!(rows.len() >= 30);
    let before = stack.item_count().await;
    let admin = stack.admin();
    for (label, body, status, text) in rows {
        let request = stack.http.post(format!("{}/api/v2/servers", stack.url)).bearer_auth(&admin);
        let request = match body {
            Body::Json(v) => request.json(&v),
            Body::Raw(content_type, bytes) => request.header("content-type", content_type).body(bytes),
        };
        let reply = stack.send(request).await;
        assert_eq!(reply.status, status, "{label}: {}", reply.body);
        reply.error_code();
        assert!(reply.description().contains(text), "{label}: '{}' does not mention '{text}'", reply.description());
    }
    assert_eq!(stack.item_count().await, before, "bad input wrote nothing");
    assert_eq!(stack.nova_creates(), 0, "bad input reached no Nova create");
}

#[tokio::test]
async fn bad_update_requests_are_4xx_and_change_nothing() {
    let stack = Stack::start().await;
    let id = stack.server("web").await;
    let admin = stack.admin();
    let path = format!("/api/v2/servers/{id}");
    let before = stack.stored(&format!("SERVER#{id}"), "SERVER").await;
    let base =
        json!({"metadata": {"name": "web"}, "spec": {"flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU}});
    let mut network_change = base.clone();
    network_change["spec"]["networkId"] = json!("other");
    let mut bad_cidr = base.clone();
    bad_cidr["spec"]["networking"] = json!({"allowedSourceAddresses": ["300.0.0.0/8"]});
    let mut bad_user_data = base.clone();
    bad_user_data["spec"]["userData"] = json!("%%%");
    let rows = [
        ("network is immutable", network_change, 400, "unknown field `networkId`"),
        ("bad CIDR", bad_cidr, 422, "allowedSourceAddresses[0]"),
        ("bad user data", bad_user_data, 400, "spec.userData"),
        ("missing spec", json!({"metadata": {"name": "web"}}), 400, "spec"),
    ];
    for (label, body, status, text) in rows {
        let reply = stack.call("PUT", &path, Some(&admin), Some(&body)).await;
        assert_eq!(reply.status, status, "{label}: {}", reply.body);
        assert!(reply.description().contains(text), "{label}: {}", reply.description());
    }
    assert_eq!(stack.stored(&format!("SERVER#{id}"), "SERVER").await, before, "the record is untouched");
}

/// Single-valued query parameters given twice are refused, never silently chosen between; the
/// repeatable filters keep every value.
#[tokio::test]
async fn single_valued_query_parameters_given_twice_are_400() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.server("query-target").await;
    for path in [
        "/api/v2/servers?limit=1&limit=2".to_owned(),
        format!("/api/v2/servers/{id}/actions?limit=1&limit=2"),
        format!("/api/v2/servers/{id}/actions?status=running&status=success"),
        format!("/api/v2/servers/{id}/consoleoutput?length=5&length=6"),
        format!("/api/v1/organizations/{ORG}/servers?limit=5&limit=5"),
    ] {
        let reply = stack.call("GET", &path, Some(&admin), None).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{path}: {}", reply.body);
        assert!(reply.description().contains("given more than once"), "{path}: {}", reply.description());
    }
    let both = stack
        .call("GET", &format!("/api/v2/servers?projectID={PROJECT}&projectID={PROJECT_B}"), Some(&admin), None)
        .await;
    assert_eq!(both.status, 200, "{}", both.body);
    assert_eq!(both.body.as_array().map(Vec::len), Some(1), "repeatable filters keep both values: {}", both.body);
}

/// A wrong method on a path the API serves is Unikorn's 405 in the error body with `Allow`; a path
/// it does not serve is 404 in the error body; neither needs a token (the `$default` route).
#[tokio::test]
async fn a_wrong_method_is_405_and_an_unknown_path_404_in_the_error_body() {
    let stack = Stack::start().await;
    let id = stack.server("method-target").await;
    stack.identity.reset_counters();
    let cases = [
        ("POST", format!("/api/v2/servers/{id}/actions"), "GET"),
        ("DELETE", format!("/api/v2/servers/{id}/protection"), "GET, PUT"),
        ("PATCH", format!("/api/v2/servers/{id}"), "DELETE, GET, PUT"),
        ("PUT", "/api/v2/servers".to_owned(), "GET, POST"),
    ];
    for (method, path, allow) in cases {
        for token in [None, Some(stack.admin())] {
            let reply = stack.call(method, &path, token.as_deref(), None).await;
            assert_eq!(
                (reply.status, reply.error_code()),
                (405, "method_not_allowed"),
                "{method} {path}: {}",
                reply.body
            );
            assert_eq!(reply.header("allow").as_deref(), Some(allow), "{method} {path}");
        }
    }
    let unknown = stack.call("GET", "/api/v3/servers", None, None).await;
    assert_eq!((unknown.status, unknown.error_code()), (404, "not_found"), "{}", unknown.body);
    assert_eq!(stack.identity.counter(identity_emulator::USERINFO), 0, "no identity call for either");
}

/// Regression (found under faults): lists long enough to make DynamoDB refuse the item were a 500.
#[tokio::test]
async fn oversized_lists_are_refused_before_anything_is_written() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let before = stack.item_count().await;
    let groups: Vec<String> = (0..3000).map(|i| format!("group-{i}")).collect();
    let sources: Vec<String> = (0..45_000).map(|i| format!("10.{}.{}.0/24", i / 256 % 256, i % 256)).collect();
    for (field, value, name) in [
        ("securityGroups", json!(groups), "spec.networking.securityGroups"),
        ("allowedSourceAddresses", json!(sources), "spec.networking.allowedSourceAddresses"),
    ] {
        let mut body = stack.server_body("big", &stack.network_id);
        body["spec"]["networking"] = json!({ field: value });
        let reply = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&body)).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{field}");
        assert!(reply.description().starts_with(name), "{}", reply.description());
    }
    let id = stack.server("small").await;
    let after_create = stack.item_count().await;
    let mut body = stack.server_body("small", &stack.network_id);
    body["spec"].as_object_mut().map(|s| s.remove("networkId"));
    body["spec"]["networking"] = json!({"securityGroups": groups});
    let reply = stack.call("PUT", &format!("/api/v2/servers/{id}"), Some(&admin), Some(&body)).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(stack.nova_creates(), 1);
    assert_eq!(after_create, before + 2, "only the valid server was written");
}

/// Regression (found under faults): unknown query parameters, too many filter values and huge page tokens.
#[tokio::test]
async fn query_parameters_are_bounded_and_unknown_ones_refused() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.settled_server("web").await;
    let many: Vec<String> = (0..101).map(|i| format!("networkID=n{i}")).collect();
    let token = "A".repeat(10_000);
    for path in [
        format!("/api/v2/servers/{id}/consolesessions?verbose=1"),
        format!("/api/v2/servers/{id}/sshkey?format=pem"),
        format!("/api/v2/servers/{id}?x=1"),
        format!("/api/v2/servers?{}", many.join("&")),
        format!("/api/v2/servers?pageToken={token}"),
    ] {
        let reply = stack.call("GET", &path, Some(&admin), None).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (400, "invalid_request"),
            "{}: {}",
            &path[..60.min(path.len())],
            reply.body
        );
    }
    let hundred: Vec<String> = (0..100).map(|i| format!("networkID=n{i}")).collect();
    assert_eq!(
        stack.call("GET", &format!("/api/v2/servers?{}", hundred.join("&")), Some(&admin), None).await.status,
        200
    );
}
