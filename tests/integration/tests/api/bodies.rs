//! Every object in every body is a JSON object: the one rule of `shared/src/api/objects.rs`.
//! serde's derived structs also read a JSON array field by field, so before it
//! `"spec": ["<networkId>", "2", "<imageId>"]` made a server and `"networking": [[], true, [...]]`
//! allocated a public IP. Each route's valid body is taken apart here, every object in it replaced
//! by an array of its values in turn; each is a 400 naming the field, with nothing written in the
//! table and nothing made at the provider. A route that takes a body joins the table below.

use integration_tests::neutron::NeutronApi;
use integration_tests::stack::*;
use openstack_emulator::seed;
use serde_json::{json, Value};

const CA_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

/// The JSON pointers of every object in `value`, the root included.
fn objects(value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            out.push(at.to_owned());
            for (key, child) in map {
                objects(child, &format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                objects(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// A pointer as the API names a field in its errors: `/spec/networking` is `spec.networking`,
/// `/metadata/tags/0` is `metadata.tags[0]`; the root is the request body.
fn field(pointer: &str) -> String {
    let mut name = String::new();
    for segment in pointer.split('/').skip(1) {
        if segment.parse::<usize>().is_ok() {
            name += &format!("[{segment}]");
        } else if name.is_empty() {
            name += segment;
        } else {
            name += &format!(".{segment}");
        }
    }
    if name.is_empty() {
        "request body".into()
    } else {
        name
    }
}

/// `body` with the object at `pointer` replaced by an array of its values, in the body's order.
fn as_array(body: &Value, pointer: &str) -> Value {
    let mut changed = body.clone();
    if let Some(node) = changed.pointer_mut(pointer) {
        let values: Vec<Value> = node.as_object().map(|m| m.values().cloned().collect()).unwrap_or_default();
        *node = Value::Array(values);
    }
    changed
}

/// What the table, Nova and Neutron hold: unchanged by any refused body.
async fn footprint(stack: &Stack, neutron: &NeutronApi) -> (i32, u64, usize, usize) {
    (stack.item_count().await, stack.nova_creates(), neutron.ports().await.len(), neutron.floating_ips().await.len())
}

#[tokio::test]
async fn every_object_in_every_body_given_as_an_array_is_400_naming_it_and_changes_nothing() {
    let stack = Stack::start().await;
    let neutron = NeutronApi::connect(&stack.emulator).await;
    let admin = stack.admin();
    let id = stack.settled_server("array-target").await;
    let home = stack.v1_home(&admin, ORG, PROJECT).await;
    let v1_server = stack.create_v1_server(&admin, &home, "v1-target").await;
    assert_eq!(v1_server.status, 201, "{}", v1_server.body);
    let networking = json!({"securityGroups": [seed::SECURITY_GROUP_WEB], "publicIP": true,
        "allowedSourceAddresses": ["10.0.0.0/8"]});
    let tags = json!([{"name": "team", "value": "blue"}]);
    let v1_spec = json!({"flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU,
        "networks": [{"id": home.network_id, "allowedAddressPairs": [{"cidr": "10.8.0.0/16", "macAddress": "fa:16:3e:aa:bb:cc"}]}],
        "securityGroups": [{"id": seed::SECURITY_GROUP_WEB}], "publicIPAllocation": {"enabled": true}});
    let identities = format!("/api/v1/organizations/{ORG}/projects/{PROJECT}/identities");
    let routes: Vec<(&str, String, Value)> = vec![
        (
            "POST",
            "/api/v2/servers".into(),
            json!({"metadata": {"name": "new", "tags": tags}, "spec": {
            "networkId": stack.network_id, "flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU,
            "networking": networking}}),
        ),
        (
            "PUT",
            format!("/api/v2/servers/{id}"),
            json!({"metadata": {"name": "array-target", "tags": tags},
            "spec": {"flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU, "networking": networking}}),
        ),
        ("PUT", format!("/api/v2/servers/{id}/protection"), json!({"delete": true, "rebuild": true})),
        (
            "POST",
            format!("/api/v2/servers/{id}/snapshot"),
            json!({"metadata": {"name": "snap", "tags": tags}, "spec": {}}),
        ),
        (
            "POST",
            "/api/v2/networks".into(),
            json!({"metadata": {"name": "n", "tags": tags}, "spec": {
            "organizationId": ORG, "projectId": PROJECT, "regionId": REGION, "providerNetworkId": PROVIDER_NETWORK}}),
        ),
        (
            "POST",
            "/api/v2/sshcertificateauthorities".into(),
            json!({"metadata": {"name": "ca", "tags": tags},
            "spec": {"organizationId": ORG, "projectId": PROJECT, "publicKey": CA_KEY}}),
        ),
        ("POST", identities, json!({"metadata": {"name": "identity", "tags": tags}, "spec": {"regionId": REGION}})),
        (
            "POST",
            format!("{}/networks", home.path),
            json!({"metadata": {"name": "net2", "tags": tags}, "spec": {
            "prefix": "10.1.0.0/24", "dnsNameservers": ["8.8.8.8"], "providerNetworkId": PROVIDER_NETWORK}}),
        ),
        ("POST", home.servers(), json!({"metadata": {"name": "v1-new", "tags": tags}, "spec": v1_spec})),
        (
            "PUT",
            home.server(&v1_server.id()),
            json!({"metadata": {"name": "v1-target", "tags": tags}, "spec": v1_spec}),
        ),
    ];
    let before = footprint(&stack, &neutron).await;
    let mut cases = 0;
    for (method, path, body) in &routes {
        let mut pointers = Vec::new();
        objects(body, "", &mut pointers);
        for pointer in pointers {
            let reply = stack.call(method, path, Some(&admin), Some(&as_array(body, &pointer))).await;
            let label = format!("{method} {path} with {} as an array", field(&pointer));
            assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{label}: {}", reply.body);
            let expected = if pointer.is_empty() {
                "request body: must be a JSON object".to_owned()
            } else {
                format!("{}: must be a JSON object, not an array", field(&pointer))
            };
            assert_eq!(reply.description(), expected, "{label}");
            cases += 1;
        }
    }
    assert!(cases >= 40, "every object of every body: {cases}");
    assert_eq!(footprint(&stack, &neutron).await, before, "nothing written, nothing made");
    let protection = stack.call("GET", &format!("/api/v2/servers/{id}/protection"), Some(&admin), None).await;
    assert_eq!(protection.body, json!({"delete": false, "rebuild": false}), "protection unchanged");
}

/// The held-out reproductions: positional arrays in the order serde reads a struct's fields, which
/// were accepted and acted on (a server made, a public IP allocated, a tag stored).
#[tokio::test]
async fn positional_arrays_that_used_to_act_are_refused() {
    let stack = Stack::start().await;
    let neutron = NeutronApi::connect(&stack.emulator).await;
    let admin = stack.admin();
    let spec = json!({"networkId": stack.network_id, "flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU});
    let cases = [
        (
            "/api/v2/servers",
            json!({"metadata": {"name": "a1"}, "spec": [stack.network_id, seed::FLAVOR_SMALL, seed::IMAGE_UBUNTU]}),
            "spec",
        ),
        ("/api/v2/servers", json!({"metadata": ["a2"], "spec": spec}), "metadata"),
        (
            "/api/v2/servers",
            json!({"metadata": {"name": "a3"}, "spec": {"networkId": stack.network_id,
            "flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU, "networking": [[], true, ["10.0.0.0/8"]]}}),
            "spec.networking",
        ),
        (
            "/api/v2/servers",
            json!({"metadata": {"name": "a4", "tags": [["a", "b"]]}, "spec": spec}),
            "metadata.tags[0]",
        ),
        (
            "/api/v2/networks",
            json!({"metadata": {"name": "n"}, "spec": [ORG, PROJECT, REGION, PROVIDER_NETWORK]}),
            "spec",
        ),
        (
            "/api/v2/sshcertificateauthorities",
            json!({"metadata": {"name": "ca"}, "spec": [ORG, PROJECT, CA_KEY]}),
            "spec",
        ),
    ];
    let before = footprint(&stack, &neutron).await;
    for (path, body, field) in cases {
        let reply = stack.call("POST", path, Some(&admin), Some(&body)).await;
        assert_eq!(reply.status, 400, "{path} {body}: {}", reply.body);
        assert_eq!(reply.description(), format!("{field}: must be a JSON object, not an array"));
    }
    assert_eq!(footprint(&stack, &neutron).await, before, "no server, no public IP, no record");
}

/// A body sent without `Content-Type: application/json` is a 415 on every route that takes one.
#[tokio::test]
async fn bodies_without_a_json_content_type_are_415() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.server("typed-target").await;
    let items = stack.item_count().await;
    for (method, path) in [
        ("POST", "/api/v2/servers".to_owned()),
        ("PUT", format!("/api/v2/servers/{id}")),
        ("PUT", format!("/api/v2/servers/{id}/protection")),
        ("POST", format!("/api/v2/servers/{id}/snapshot")),
        ("POST", "/api/v2/networks".to_owned()),
        ("POST", "/api/v2/sshcertificateauthorities".to_owned()),
    ] {
        let untyped = stack
            .http
            .request(method.parse().unwrap_or(reqwest::Method::POST), format!("{}{path}", stack.url))
            .bearer_auth(&admin)
            .body(json!({"delete": true, "rebuild": true}).to_string());
        let reply = stack.send(untyped).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (415, "unsupported_media_type"),
            "{method} {path}: {}",
            reply.body
        );
    }
    assert_eq!(stack.item_count().await, items, "nothing written");
}
