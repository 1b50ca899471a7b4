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
        ("unknown image", with(net, "/spec/imageId", json!("no-such-image")), 404, "no image found"),
        ("unknown flavor", with(net, "/spec/flavorId", json!("no-such-flavor")), 404, "no flavor found"),
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
