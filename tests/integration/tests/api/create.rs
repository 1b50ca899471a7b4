use integration_tests::neutron::{groups_of, pairs_of, NeutronApi};
use integration_tests::stack::*;
use openstack_emulator::{seed, Fault};
use serde_json::json;

const MISSING: &str = "00000000-0000-4000-8000-000000000000";

#[tokio::test]
async fn create_answers_201_in_the_reference_wire_format_and_tells_nova_who_it_is() {
    let stack = Stack::start().await;
    let web = stack.security_group(&stack.network_id, "web").await;
    let body = json!({
        "metadata": {"name": "web-1", "description": "front end", "tags": [{"name": "tier", "value": "web"}]},
        "spec": {
            "networkId": stack.network_id, "flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU,
            "userData": "I2Nsb3VkLWNvbmZpZwo=",
            "networking": {"securityGroups": [web.id], "publicIP": true, "allowedSourceAddresses": ["192.0.2.0/24"]},
            "infrastructureRef": "cluster-7"
        }
    });
    let token = stack.token("alice@example.com", &admin_acl());
    let reply = stack.call("POST", "/api/v2/servers", Some(&token), Some(&body)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let b = &reply.body;
    let id = reply.id();
    assert_eq!(b["metadata"]["name"], "web-1");
    assert_eq!(b["metadata"]["description"], "front end");
    assert_eq!(b["metadata"]["tags"], json!([{"name": "tier", "value": "web"}]));
    assert_eq!(b["metadata"]["createdBy"], "alice@example.com");
    assert_eq!(b["metadata"]["organizationId"], ORG, "inherited from the network");
    assert_eq!(b["metadata"]["projectId"], PROJECT);
    assert_eq!(b["metadata"]["provisioningStatus"], "provisioning");
    assert_eq!(b["metadata"]["healthStatus"], "unknown");
    assert!(b["metadata"]["creationTime"].as_str().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()));
    assert_eq!(b["spec"]["userData"], "I2Nsb3VkLWNvbmZpZwo=");
    assert_eq!(b["spec"]["networking"]["publicIP"], true);
    assert_eq!(b["spec"]["networking"]["allowedSourceAddresses"], json!(["192.0.2.0/24"]));
    assert_eq!(b["status"]["regionId"], REGION);
    assert_eq!(b["status"]["networkId"], stack.network_id);
    assert_eq!(b["status"]["infrastructureRef"], "cluster-7");
    assert_eq!(reply.header("etag").as_deref(), Some("\"2\""));

    let stored = stack.stored(&format!("SERVER#{id}"), "SERVER").await.unwrap_or_else(|| panic!("not stored"));
    assert_eq!(stored["apiVersion"], 2);
    assert!(stored["providerId"].is_string(), "the provider id is recorded");
    let claim = stack.stored(&format!("CLAIM#{}#web-1", stack.network_id), "CLAIM").await;
    assert_eq!(claim.map(|c| c["_serverId"].clone()), Some(json!(id)));

    let sent = stack.emulator.requests().into_iter().find(|r| r.method == "POST" && r.path.ends_with("/servers"));
    let sent = sent.and_then(|r| r.body).unwrap_or_else(|| panic!("no Nova create"));
    assert_eq!(sent["server"]["metadata"]["unikorn:server:id"], json!(id));
    assert_eq!(sent["server"]["metadata"]["unikorn:organization:id"], ORG);
    assert_eq!(sent["server"]["metadata"]["unikorn:project:id"], PROJECT);
    assert_eq!(sent["server"]["user_data"], "I2Nsb3VkLWNvbmZpZwo=");
    assert_eq!(stack.emulator.servers().len(), 1);

    // Nova boots it on the port made for it, which carries the networking asked for.
    let neutron = NeutronApi::connect(&stack.emulator).await;
    let port = neutron.port_of(&id).await;
    assert_eq!(sent["server"]["networks"], json!([{"port": port["id"]}]));
    assert!(sent["server"].get("security_groups").is_none(), "the groups are the port's: {sent}");
    assert_eq!(port["network_id"], PROVIDER_NETWORK);
    assert_eq!(groups_of(&port), vec![web.neutron_id.clone()], "the group's Neutron id");
    assert_eq!(pairs_of(&port), vec!["192.0.2.0/24".to_owned()]);
    let fips = neutron.floating_ips_of(port["id"].as_str().unwrap_or_default()).await;
    assert_eq!(fips.len(), 1, "one public IP: {fips:?}");
    assert_eq!(fips[0]["floating_network_id"], seed::EXTERNAL_NETWORK);
    assert_eq!(b["status"]["publicIP"], fips[0]["floating_ip_address"]);
    assert_eq!(b["status"]["privateIP"], port["fixed_ips"][0]["ip_address"]);
    assert_eq!(b["status"]["macAddress"], port["mac_address"]);
}

#[tokio::test]
async fn a_missing_or_non_v2_network_is_404() {
    let stack = Stack::start().await;
    let reply =
        stack.call("POST", "/api/v2/servers", Some(&stack.admin()), Some(&stack.server_body("a", "no-such-net"))).await;
    assert_eq!((reply.status, reply.error_code()), (404, "not_found"));

    use aws_sdk_dynamodb::types::AttributeValue as A;
    let doc = json!({"id": "v1net", "apiVersion": 1, "name": "old", "description": null, "tags": [],
        "organizationId": ORG, "projectId": PROJECT, "regionId": REGION, "identityId": "ident-a",
        "providerNetworkId": PROVIDER_NETWORK, "createdBy": "x", "creationTime": "2026-01-01T00:00:00Z"});
    stack
        .dynamo
        .put_item()
        .table_name(&stack.table)
        .item("PK", A::S("NETWORK#v1net".into()))
        .item("SK", A::S("NETWORK".into()))
        .item("doc", A::S(doc.to_string()))
        .item("apiVersion", A::N("1".into()))
        .item("serverCount", A::N("0".into()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let reply =
        stack.call("POST", "/api/v2/servers", Some(&stack.admin()), Some(&stack.server_body("a", "v1net"))).await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert_eq!(stack.nova_creates(), 0);
}

#[tokio::test]
async fn create_needs_servers_create_and_networks_read_in_the_network_project() {
    let stack = Stack::start().await;
    let cases = [
        (
            "no servers create",
            project_acl(ORG, PROJECT, &[("region:networks:v2", &["read"]), ("region:servers", &["read"])]),
            403,
        ),
        // Read rules first: a network the caller cannot read is not found.
        ("no network read", project_acl(ORG, PROJECT, &[("region:servers", &["create", "read"])]), 404),
        (
            "other project only",
            project_acl(ORG, PROJECT_B, &[("region:servers", ALL), ("region:networks:v2", ALL)]),
            404,
        ),
        ("other organization", org_acl(ORG_2, &[("region:servers", ALL), ("region:networks:v2", ALL)]), 404),
        ("organization named, nothing granted", json!({"organizations": [{"id": ORG}]}), 404),
    ];
    // One subject per ACL: identity's answers are cached per subject (a minute, as Unikorn's).
    for (label, acl, status) in cases {
        let reply = stack.create_server(&stack.token(&format!("bob {label}"), &acl), "web").await;
        assert_eq!(reply.status, status, "{label}: {}", reply.body);
        reply.error_code();
    }
    let ok = project_acl(ORG, PROJECT, &[("region:servers", &["create"]), ("region:networks:v2", &["read"])]);
    assert_eq!(stack.create_server(&stack.token("bob", &ok), "web").await.status, 201);
    assert_eq!(stack.nova_creates(), 1, "refused creates never reached Nova");
}

#[tokio::test]
async fn only_an_image_and_a_flavor_the_region_offers_boot() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let offers_no_image = "spec.imageId: region region-1 offers no image";
    let cases = [
        ("missing image", seed::FLAVOR_SMALL, "no-such-image", offers_no_image),
        ("image not active", seed::FLAVOR_SMALL, seed::IMAGE_QUEUED, "is pending: only a ready image boots"),
        ("other project's private image", seed::FLAVOR_SMALL, seed::IMAGE_PRIVATE_OTHER, offers_no_image),
        ("public image without Unikorn's properties", seed::FLAVOR_SMALL, seed::IMAGE_PLAIN, offers_no_image),
        ("image whose signature fails", seed::FLAVOR_SMALL, seed::IMAGE_FORGED, offers_no_image),
        ("missing flavor", "no-such-flavor", seed::IMAGE_UBUNTU, "spec.flavorId: region region-1 offers no flavor"),
        ("private flavor", seed::FLAVOR_PRIVATE, seed::IMAGE_UBUNTU, "spec.flavorId: region region-1 offers no flavor"),
        ("image larger than the flavor disk", seed::FLAVOR_TINY, seed::IMAGE_UBUNTU, "spec.flavorId: image"),
        ("large image on a small flavor", seed::FLAVOR_SMALL, seed::IMAGE_LARGE, "needs a 200 GiB disk"),
    ];
    let before = stack.item_count().await;
    for (label, flavor, image, text) in cases {
        let body = json!({"metadata": {"name": "v"}, "spec": {"networkId": stack.network_id, "flavorId": flavor, "imageId": image}});
        let reply = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&body)).await;
        assert_eq!((reply.status, reply.error_code()), (422, "unprocessable_content"), "{label}: {}", reply.body);
        assert!(reply.description().contains(text), "{label}: {}", reply.body);
    }
    assert_eq!(stack.item_count().await, before);
    assert_eq!(stack.nova_creates(), 0);
    let body = json!({"metadata": {"name": "big"}, "spec": {"networkId": stack.network_id, "flavorId": seed::FLAVOR_LARGE, "imageId": seed::IMAGE_LARGE}});
    assert_eq!(stack.call("POST", "/api/v2/servers", Some(&admin), Some(&body)).await.status, 201);
}

#[tokio::test]
async fn names_are_unique_per_network_only() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    stack.server("web").await;
    let again = stack.create_server(&admin, "web").await;
    assert_eq!((again.status, again.error_code()), (409, "conflict"));
    let other = stack.create_network(&admin, "net-2", ORG, PROJECT).await;
    let reply = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&stack.server_body("web", &other))).await;
    assert_eq!(reply.status, 201, "same name on another network: {}", reply.body);
    assert_eq!(stack.nova_creates(), 2);
}

#[tokio::test]
async fn a_provider_refusal_removes_the_record_and_the_claim() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let before = stack.item_count().await;
    for (status, code) in [(409, "conflict"), (404, "not_found")] {
        stack.emulator.inject(Fault::status("POST", "/compute/v2.1/servers", status));
        let reply = stack.create_server(&admin, "flaky").await;
        assert_eq!((reply.status, reply.error_code()), (status, code), "{}", reply.body);
        assert_eq!(stack.item_count().await, before, "no record or claim left after provider {status}");
    }
    let reply = stack.create_server(&admin, "flaky").await;
    assert_eq!(reply.status, 201, "the name is free again: {}", reply.body);
}

/// A 503 says nothing about whether the provider created the server: the record (provisioning)
/// stays until the cleanup function has looked, then goes (nothing was created).
#[tokio::test]
async fn a_provider_503_keeps_the_record_until_cleanup_settles_it() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let before = stack.item_count().await;
    stack.emulator.inject(Fault::status("POST", "/compute/v2.1/servers", 503));
    let reply = stack.create_server(&admin, "flaky").await;
    assert_eq!((reply.status, reply.error_code()), (503, "server_error"), "{}", reply.body);
    assert!(reply.header("retry-after").is_some(), "503 carries Retry-After");
    assert!(reply.description().contains("provisioning"), "{}", reply.description());
    assert_eq!(stack.item_count().await, before + 2, "record and claim stay while the outcome is unknown");
    let listed = stack.call("GET", "/api/v2/servers", Some(&admin), None).await;
    assert_eq!(listed.body[0]["metadata"]["provisioningStatus"], "provisioning");
    assert_eq!(stack.converge(0, 1).await, Ok(1));
    assert_eq!(stack.item_count().await, before);
    assert_eq!(stack.create_server(&admin, "flaky").await.status, 201, "the name is free again");
}

/// Nova finishes a create the client gave up on (emulator fidelity): the cleanup function adopts it.
#[tokio::test]
async fn a_provider_timeout_on_create_is_503_and_the_server_is_adopted() {
    let stack = Stack::start().await;
    stack.emulator.inject(Fault::delay("POST", "/compute/v2.1/servers", 2500));
    let reply = stack.create_server(&stack.admin(), "slow").await;
    assert_eq!((reply.status, reply.error_code()), (503, "server_error"), "{}", reply.body);
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(stack.emulator.servers().len(), 1, "the provider created it after the client gave up");
    let report = stack.cleanup(300).await;
    assert_eq!(report.records_adopted, 1, "{report:?}");
    let listed = stack.call("GET", "/api/v2/servers", Some(&stack.admin()), None).await;
    assert_eq!(listed.body[0]["metadata"]["provisioningStatus"], "provisioned", "{}", listed.body);
    assert_eq!(stack.violations().await, Vec::<String>::new());
}

#[tokio::test]
async fn ssh_certificate_authorities_that_do_not_exist_are_404() {
    let stack = Stack::start().await;
    let mut body = stack.server_body("ca", &stack.network_id);
    body["spec"]["sshCertificateAuthorityId"] = json!("ca-1");
    let reply = stack.call("POST", "/api/v2/servers", Some(&stack.admin()), Some(&body)).await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert!(reply.description().contains("SSH certificate authority"));
    assert_eq!(stack.nova_creates(), 0);
}

#[tokio::test]
async fn a_network_whose_region_the_operator_removed_is_404() {
    let stack = Stack::start().await;
    let stale = stack.create_network(&stack.admin(), "stale", ORG, PROJECT).await;
    use aws_sdk_dynamodb::types::AttributeValue as A;
    // Re-point the network at a region the document no longer has, as after an operator removed it.
    let key = |k: &str, v: String| (k.to_owned(), A::S(v));
    let out = stack
        .dynamo
        .get_item()
        .table_name(&stack.table)
        .set_key(Some([key("PK", format!("NETWORK#{stale}")), key("SK", "NETWORK".into())].into_iter().collect()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut item = out.item().cloned().unwrap_or_default();
    let mut doc: serde_json::Value =
        serde_json::from_str(item["doc"].as_s().unwrap_or_else(|_| panic!("doc"))).unwrap_or_default();
    doc["regionId"] = json!("region-removed");
    item.insert("doc".into(), A::S(doc.to_string()));
    stack
        .dynamo
        .put_item()
        .table_name(&stack.table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let reply =
        stack.call("POST", "/api/v2/servers", Some(&stack.admin()), Some(&stack.server_body("x", &stale))).await;
    assert_eq!((reply.status, reply.error_code()), (404, "not_found"), "{}", reply.body);
    assert!(reply.description().contains("no region found with id region-removed"), "{}", reply.description());
    assert_eq!(stack.nova_creates(), 0);
}

/// A keyed create whose provider call had no answer: a retry with the same key and body gets the
/// first attempt's server as it stands (never 409 from its own name claim, never a second server);
/// the same key with another body is 422.
#[tokio::test]
async fn a_keyed_retry_after_an_unknown_outcome_gets_the_first_attempts_server() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    // The create looks once by metadata after a lost answer; here that look fails too.
    let lookup = || Fault::status("GET", "/compute/v2.1/servers*", 503);
    for (label, faults) in [
        ("503", vec![Fault::status("POST", "/compute/v2.1/servers", 503), lookup()]),
        ("dropped", vec![Fault::dropped("POST", "/compute/v2.1/servers"), lookup()]),
    ] {
        let body = stack.server_body(&format!("keyed-{label}"), &stack.network_id);
        let key = format!("retry-{label}");
        let keyed = |body: &serde_json::Value| {
            stack.request("POST", "/api/v2/servers", Some(&admin), Some(body)).header("idempotency-key", &key)
        };
        faults.into_iter().for_each(|f| stack.emulator.inject(f));
        let first = stack.send(keyed(&body)).await;
        assert_eq!(first.status, 503, "{label}: {}", first.body);
        let retried = stack.send(keyed(&body)).await;
        assert_eq!(retried.status, 201, "{label}: {}", retried.body);
        let again = stack.send(keyed(&body)).await;
        assert_eq!((again.status, again.id()), (201, retried.id()), "{label}: the same server again");
        let mut other = body.clone();
        other["metadata"]["description"] = json!("another body");
        let refused = stack.send(keyed(&other)).await;
        assert_eq!((refused.status, refused.error_code()), (422, "unprocessable_content"), "{label}: {}", refused.body);
        let listed = stack.call("GET", "/api/v2/servers", Some(&admin), None).await;
        let named: Vec<_> = listed
            .body
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["metadata"]["name"] == body["metadata"]["name"])
            .collect();
        assert_eq!(named.len(), 1, "{label}: one server of that name: {}", listed.body);
    }
    // Nova got one create per attempt that reached it: none after the 503, one (finished) after the
    // dropped connection, which the retry adopted.
    assert_eq!(stack.nova_creates(), 2, "the two faulted attempts only");
    let retried = stack.call("GET", "/api/v2/servers", Some(&admin), None).await;
    let dropped =
        retried.body.as_array().into_iter().flatten().find(|s| s["metadata"]["name"] == "keyed-dropped").cloned();
    let dropped = dropped.unwrap_or_else(|| panic!("no keyed-dropped: {}", retried.body));
    assert!(stack.provider_id(dropped["metadata"]["id"].as_str().unwrap_or_default()).is_some(), "adopted: {dropped}");
}

/// A server names security groups of its own network: a missing one is 404 naming it, another
/// network's is 422 (Unikorn v1.18.3's words), on create and on update, before anything is written
/// or created.
#[tokio::test]
async fn a_security_group_missing_or_of_another_network_is_refused_and_nothing_is_written() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let web = stack.security_group(&stack.network_id, "web").await;
    let elsewhere = stack.create_network(&admin, "net-b", ORG, PROJECT).await;
    let foreign = stack.security_group(&elsewhere, "web").await;
    let before = stack.item_count().await;
    let mut body = stack.server_body("web", &stack.network_id);
    body["spec"]["networking"] = json!({"securityGroups": [web.id, MISSING]});
    let reply = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&body)).await;
    assert_eq!((reply.status, reply.error_code()), (404, "not_found"), "{}", reply.body);
    assert_eq!(reply.description(), format!("no security group found with id {MISSING}"));
    body["spec"]["networking"] = json!({"securityGroups": [web.id, foreign.id]});
    let reply = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&body)).await;
    assert_eq!((reply.status, reply.error_code()), (422, "unprocessable_content"), "{}", reply.body);
    assert_eq!(
        reply.description(),
        "spec.networking.securityGroups[1]: a referenced security group must belong to the same network as the server"
    );
    assert_eq!(stack.item_count().await, before, "nothing written");
    assert_eq!(stack.nova_creates(), 0, "nothing created");

    let id = stack.server("web").await;
    let path = format!("/api/v2/servers/{id}");
    let mut update = stack.server_body("web", &stack.network_id);
    update["spec"].as_object_mut().map(|s| s.remove("networkId"));
    update["spec"]["networking"] = json!({"securityGroups": [foreign.id]});
    let reply = stack.call("PUT", &path, Some(&admin), Some(&update)).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let stored = stack.stored(&format!("SERVER#{id}"), "SERVER").await.unwrap_or_default();
    assert_eq!(stored["networking"], serde_json::Value::Null, "the refused update changed nothing");
}
