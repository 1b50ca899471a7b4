//! The v1 surface (Unikorn's path-scoped routes) through the local API: the v2 behaviour table
//! through v1 paths, versions invisible to each other, the path as the scope, Unikorn's v1 RBAC,
//! identities and v1 networks, and the same cleanup, idempotency and fault guarantees.

use integration_tests::stack::*;
use openstack_emulator::{seed, Fault};
use serde_json::{json, Value};

const MISSING: &str = "00000000-0000-4000-8000-000000000000";

fn ids(body: &Value) -> Vec<String> {
    body.as_array().into_iter().flatten().filter_map(|s| s["metadata"]["id"].as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn the_v2_behaviour_table_through_v1_paths() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let home = stack.v1_home(&admin, ORG, PROJECT).await;

    // Create: 201 in v1's shape, the network restated, organization and project from the path.
    let mut body = stack.v1_server_body("web", &home.network_id);
    body["spec"]["publicIPAllocation"] = json!({"enabled": true});
    body["spec"]["networks"][0]["allowedAddressPairs"] = json!([{"cidr": "192.168.192.0/24"}]);
    body["spec"]["userData"] = json!("I2Nsb3VkLWNvbmZpZw==");
    let created = stack.call("POST", &home.servers(), Some(&admin), Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.id();
    let shown = &created.body;
    assert_eq!(
        shown["spec"]["networks"],
        json!([{"id": home.network_id, "allowedAddressPairs": [{"cidr": "192.168.192.0/24"}]}])
    );
    assert_eq!(shown["spec"]["publicIPAllocation"], json!({"enabled": true}));
    assert_eq!(shown["spec"]["userData"], "I2Nsb3VkLWNvbmZpZw==");
    assert_eq!(
        (shown["metadata"]["organizationId"].as_str(), shown["metadata"]["projectId"].as_str()),
        (Some(ORG), Some(PROJECT))
    );
    assert!(shown.get("status").is_some_and(|s| s.get("networkId").is_none()), "v1's status: {shown}");
    assert_eq!(created.header("etag").as_deref(), Some("\"2\""));
    let stored = stack.stored(&format!("SERVER#{id}"), "SERVER").await.unwrap_or_default();
    assert_eq!(
        (stored["apiVersion"].as_u64(), stored["parentIdentityId"].as_str()),
        (Some(1), Some(home.identity_id.as_str()))
    );
    let nova = stack.emulator.servers().into_iter().find(|(_, _, _, m)| m.get("unikorn:server:id") == Some(&id));
    assert!(nova.is_some(), "the provider has the server, with our metadata");

    // Duplicate name on the network: 409, and no second provider server.
    let creates = stack.nova_creates();
    let again = stack.create_v1_server(&admin, &home, "web").await;
    assert_eq!((again.status, again.error_code()), (409, "conflict"), "{}", again.body);
    assert_eq!(stack.nova_creates(), creates);

    // Get, both lists.
    let got = stack.call("GET", &home.server(&id), Some(&admin), None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["status"]["phase"], "Running", "{}", got.body);
    let listed = stack.call("GET", &home.servers(), Some(&admin), None).await;
    assert_eq!((listed.status, ids(&listed.body)), (200, vec![id.clone()]));
    let org_list = stack.call("GET", &format!("/api/v1/organizations/{ORG}/servers"), Some(&admin), None).await;
    assert_eq!((org_list.status, ids(&org_list.body)), (200, vec![id.clone()]));
    let tagged = stack.call("GET", &format!("/api/v1/organizations/{ORG}/servers?tag=a%3Db"), Some(&admin), None).await;
    assert_eq!((tagged.status, ids(&tagged.body)), (200, vec![]));
    let filter = stack.call("GET", &format!("{}?projectID={PROJECT}", home.servers()), Some(&admin), None).await;
    assert_eq!((filter.status, filter.error_code()), (400, "invalid_request"), "the path is the scope");

    // Update: 202 with the new spec; rename and a move to another network are 422.
    let mut update = stack.v1_server_body("web", &home.network_id);
    update["metadata"]["description"] = json!("front");
    update["spec"]["publicIPAllocation"] = json!({"enabled": false});
    let updated = stack.call("PUT", &home.server(&id), Some(&admin), Some(&update)).await;
    assert_eq!(updated.status, 202, "{}", updated.body);
    assert_eq!(
        (updated.body["metadata"]["description"].as_str(), updated.body["spec"]["publicIPAllocation"].clone()),
        (Some("front"), json!({"enabled": false}))
    );
    let renamed = stack
        .call("PUT", &home.server(&id), Some(&admin), Some(&stack.v1_server_body("other", &home.network_id)))
        .await;
    assert_eq!((renamed.status, renamed.error_code()), (422, "unprocessable_content"));
    let moved = stack.call("PUT", &home.server(&id), Some(&admin), Some(&stack.v1_server_body("web", MISSING))).await;
    assert_eq!(moved.status, 422, "{}", moved.body);

    // Power and console.
    assert_eq!(stack.call("POST", &format!("{}/stop", home.server(&id)), Some(&admin), None).await.status, 202);
    assert_eq!(stack.converge(300, 1).await, Ok(1));
    let wrong = stack.call("POST", &format!("{}/stop", home.server(&id)), Some(&admin), None).await;
    assert_eq!((wrong.status, wrong.description()), (400, "server cannot be stopped in its current state"));
    assert_eq!(stack.call("POST", &format!("{}/start", home.server(&id)), Some(&admin), None).await.status, 202);
    stack.cleanup(300).await;
    for verb in ["softreboot", "hardreboot"] {
        let reply = stack.call("POST", &format!("{}/{verb}", home.server(&id)), Some(&admin), None).await;
        assert_eq!(reply.status, 202, "{verb}: {}", reply.body);
        stack.cleanup(300).await;
    }
    let output = stack.call("GET", &format!("{}/consoleoutput?length=5", home.server(&id)), Some(&admin), None).await;
    assert_eq!(output.status, 200, "{}", output.body);
    assert!(output.body["contents"].is_string());
    let session = stack.call("GET", &format!("{}/consolesessions", home.server(&id)), Some(&admin), None).await;
    assert!(session.status == 200 && session.body["url"].is_string(), "{}", session.body);
    let sshkey = stack.call("GET", &format!("{}/sshkey", home.server(&id)), Some(&admin), None).await;
    assert_eq!(sshkey.status, 404, "v1 has no sshkey route");

    // Bad input: clear 400s, nothing written.
    let items = stack.item_count().await;
    for bad in [
        json!({"metadata": {"name": "x"}, "spec": {"flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU, "networks": []}}),
        json!({"metadata": {"name": "x"}, "spec": {"flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU, "networkId": home.network_id}}),
        json!({"metadata": {"name": "-bad-"}, "spec": {"flavorId": "f", "imageId": "i", "networks": [{"id": home.network_id}]}}),
        json!({"spec": {}}),
    ] {
        let reply = stack.call("POST", &home.servers(), Some(&admin), Some(&bad)).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{bad}: {}", reply.body);
    }
    let not_uuid = stack.call("GET", &home.server("not-a-uuid"), Some(&admin), None).await;
    assert_eq!(not_uuid.status, 400);
    assert_eq!(stack.item_count().await, items, "bad input writes nothing");

    // Delete: 202, then gone (name released: the same name is free again).
    assert_eq!(stack.call("DELETE", &home.server(&id), Some(&admin), None).await.status, 202);
    stack.cleanup(300).await;
    assert_eq!(stack.call("GET", &home.server(&id), Some(&admin), None).await.status, 404);
    let reused = stack.create_v1_server(&admin, &home, "web").await;
    assert_eq!(reused.status, 201, "{}", reused.body);
    assert_eq!(stack.call("DELETE", &home.server(&reused.id()), Some(&admin), None).await.status, 202);
    assert_eq!(stack.converge(300, 3).await.map(|_| ()), Ok(()));
}

#[tokio::test]
async fn versions_never_see_each_other() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let home = stack.v1_home(&admin, ORG, PROJECT).await;
    let v1 = stack.create_v1_server(&admin, &home, "web").await;
    assert_eq!(v1.status, 201, "{}", v1.body);
    let v2 = stack.server("web").await;

    let seen = stack.call("GET", &format!("/api/v2/servers/{}", v1.id()), Some(&admin), None).await;
    assert_eq!((seen.status, seen.error_code()), (404, "not_found"), "a v1 server through v2");
    for (method, suffix) in
        [("PUT", ""), ("DELETE", ""), ("POST", "/stop"), ("GET", "/consoleoutput"), ("GET", "/sshkey")]
    {
        let path = format!("/api/v2/servers/{}{suffix}", v1.id());
        let body =
            (method == "PUT").then(|| json!({"metadata": {"name": "web"}, "spec": {"flavorId": "f", "imageId": "i"}}));
        assert_eq!(stack.call(method, &path, Some(&admin), body.as_ref()).await.status, 404, "{method} {path}");
    }
    let seen = stack.call("GET", &home.server(&v2), Some(&admin), None).await;
    assert_eq!(seen.status, 404, "a v2 server through v1");
    assert_eq!(stack.call("DELETE", &home.server(&v2), Some(&admin), None).await.status, 404);
    let v2_list = stack.call("GET", "/api/v2/servers", Some(&admin), None).await;
    assert_eq!(ids(&v2_list.body), vec![v2.clone()]);
    let v1_list = stack.call("GET", &format!("/api/v1/organizations/{ORG}/servers"), Some(&admin), None).await;
    assert_eq!(ids(&v1_list.body), vec![v1.id()]);

    // Networks too: a v2 create on a v1 network and the reverse are 404; so are cross reads.
    let cross =
        stack.call("POST", "/api/v2/servers", Some(&admin), Some(&stack.server_body("x", &home.network_id))).await;
    assert_eq!(cross.status, 404, "{}", cross.body);
    let cross =
        stack.call("POST", &home.servers(), Some(&admin), Some(&stack.v1_server_body("x", &stack.network_id))).await;
    assert_eq!(cross.status, 404, "{}", cross.body);
    assert_eq!(
        stack.call("GET", &format!("/api/v2/networks/{}", home.network_id), Some(&admin), None).await.status,
        404
    );
    assert_eq!(
        stack.call("GET", &format!("{}/networks/{}", home.path, stack.network_id), Some(&admin), None).await.status,
        404
    );
    let v2_networks = stack.call("GET", "/api/v2/networks", Some(&admin), None).await;
    assert_eq!(ids(&v2_networks.body), vec![stack.network_id.clone()]);
}

#[tokio::test]
async fn the_path_is_authoritative() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let home = stack.v1_home(&admin, ORG, PROJECT).await;
    let sibling = stack.v1_home(&admin, ORG, PROJECT).await;
    let id = stack.create_v1_server(&admin, &home, "web").await.id();

    let elsewhere = [
        sibling.server(&id),
        format!("/api/v1/organizations/{ORG}/projects/{PROJECT_B}/identities/{}/servers/{id}", home.identity_id),
        format!("/api/v1/organizations/{ORG_2}/projects/{PROJECT}/identities/{}/servers/{id}", home.identity_id),
    ];
    for path in &elsewhere {
        for (method, suffix) in [("GET", ""), ("DELETE", ""), ("POST", "/stop"), ("GET", "/consolesessions")] {
            let reply = stack.call(method, &format!("{path}{suffix}"), Some(&admin), None).await;
            assert_eq!((reply.status, reply.error_code()), (404, "not_found"), "{method} {path}{suffix}");
        }
        let update = stack.call("PUT", path, Some(&admin), Some(&stack.v1_server_body("web", &home.network_id))).await;
        assert_eq!(update.status, 404, "PUT {path}");
    }
    // A server on another identity's network, or under another identity's path, is not created.
    let cross =
        stack.call("POST", &sibling.servers(), Some(&admin), Some(&stack.v1_server_body("x", &home.network_id))).await;
    assert_eq!((cross.status, cross.error_code()), (404, "not_found"), "{}", cross.body);
    let listed = stack.call("GET", &sibling.servers(), Some(&admin), None).await;
    assert_eq!(ids(&listed.body), Vec::<String>::new());
    let wrong_network =
        stack.call("GET", &format!("{}/networks/{}", sibling.path, home.network_id), Some(&admin), None).await;
    assert_eq!(wrong_network.status, 404);
    assert_eq!(
        stack.call("GET", &home.server(&id), Some(&admin), None).await.status,
        200,
        "the right path still works"
    );
}

#[tokio::test]
async fn unikorns_v1_rbac_takes_the_project_from_the_path() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let home = stack.v1_home(&admin, ORG, PROJECT).await;
    let id = stack.create_v1_server(&admin, &home, "web").await.id();
    let reader = stack.token("reader", &project_acl(ORG, PROJECT, &[("region:servers", &["read"])]));
    let updater = stack.token("updater", &project_acl(ORG, PROJECT, &[("region:servers", &["read", "update"])]));
    let creator = stack.token("creator", &project_acl(ORG, PROJECT, &[("region:servers", &["read", "create"])]));
    let stranger = stack.token("stranger", &project_acl(ORG, PROJECT_B, &[("region:servers", ALL)]));

    assert_eq!(stack.call("GET", &home.server(&id), Some(&reader), None).await.status, 200);
    let update = stack.v1_server_body("web", &home.network_id);
    // Unikorn's v1 PUT checks create, not update; power checks update; console read.
    let denied = stack.call("PUT", &home.server(&id), Some(&updater), Some(&update)).await;
    assert_eq!((denied.status, denied.error_code()), (403, "forbidden"), "{}", denied.body);
    assert_eq!(stack.call("PUT", &home.server(&id), Some(&creator), Some(&update)).await.status, 202);
    assert_eq!(
        stack.call("GET", &format!("{}/consolesessions", home.server(&id)), Some(&reader), None).await.status,
        200
    );
    assert_eq!(stack.call("POST", &format!("{}/stop", home.server(&id)), Some(&creator), None).await.status, 403);
    assert_eq!(stack.call("POST", &format!("{}/stop", home.server(&id)), Some(&updater), None).await.status, 202);
    assert_eq!(stack.call("DELETE", &home.server(&id), Some(&updater), None).await.status, 403);
    // Without a grant in the path's project: 403 before anything is read, existing or not.
    for path in [home.server(&id), home.server(MISSING)] {
        let reply = stack.call("GET", &path, Some(&stranger), None).await;
        assert_eq!((reply.status, reply.error_code()), (403, "forbidden"), "{path}");
    }
    assert_eq!(stack.call("GET", &home.servers(), Some(&stranger), None).await.status, 403);
    let create =
        stack.call("POST", &home.servers(), Some(&reader), Some(&stack.v1_server_body("x", &home.network_id))).await;
    assert_eq!(create.status, 403);
    // The organization list: project readers see their projects; a caller with nothing there is 403.
    let org_list = format!("/api/v1/organizations/{ORG}/servers");
    assert_eq!(ids(&stack.call("GET", &org_list, Some(&reader), None).await.body), vec![id.clone()]);
    assert_eq!(ids(&stack.call("GET", &org_list, Some(&stranger), None).await.body), Vec::<String>::new());
    let nobody = stack.token("nobody", &project_acl(ORG_2, PROJECT_C, &[("region:servers", ALL)]));
    let reply = stack.call("GET", &org_list, Some(&nobody), None).await;
    assert_eq!((reply.status, reply.error_code()), (403, "forbidden"));
}

#[tokio::test]
async fn identities_and_v1_networks_keep_their_children() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let identities = format!("/api/v1/organizations/{ORG}/projects/{PROJECT}/identities");
    let home = stack.v1_home(&admin, ORG, PROJECT).await;

    let shown = stack.call("GET", &home.path, Some(&admin), None).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(
        (shown.body["spec"]["type"].as_str(), shown.body["spec"]["regionId"].as_str()),
        (Some("openstack"), Some(REGION))
    );
    assert!(shown.body["spec"].get("openstack").is_none(), "credentials are never shown: {}", shown.body);
    assert_eq!(ids(&stack.call("GET", &identities, Some(&admin), None).await.body), vec![home.identity_id.clone()]);
    let network = stack.call("GET", &format!("{}/networks/{}", home.path, home.network_id), Some(&admin), None).await;
    assert_eq!(network.status, 200);
    assert_eq!(
        network.body["spec"],
        json!({"prefix": "10.0.0.0/24", "dnsNameservers": ["8.8.8.8"], "regionId": REGION,
        "openstack": {"networkId": PROVIDER_NETWORK}})
    );
    assert_eq!(
        ids(&stack.call("GET", &format!("{}/networks", home.path), Some(&admin), None).await.body),
        vec![home.network_id.clone()]
    );
    let org_identities =
        stack.call("GET", &format!("/api/v1/organizations/{ORG}/identities"), Some(&admin), None).await;
    assert_eq!(ids(&org_identities.body), vec![home.identity_id.clone()]);
    let org_networks = stack.call("GET", &format!("/api/v1/organizations/{ORG}/networks"), Some(&admin), None).await;
    assert_eq!(ids(&org_networks.body), vec![home.network_id.clone()], "v1 networks only");
    let elsewhere = stack.call("GET", &format!("/api/v1/organizations/{ORG_2}/networks"), Some(&admin), None).await;
    assert_eq!((elsewhere.status, ids(&elsewhere.body)), (200, vec![]));
    let outsider = stack.token("outsider", &project_acl(ORG_2, PROJECT_C, &[("region:networks", ALL)]));
    let denied = stack.call("GET", &format!("/api/v1/organizations/{ORG}/networks"), Some(&outsider), None).await;
    assert_eq!((denied.status, denied.error_code()), (403, "forbidden"));

    // Bad identity and network bodies: 400, nothing written.
    let items = stack.item_count().await;
    // A region the caller cannot see is 404, as Unikorn's region check answers.
    let nowhere = json!({"metadata": {"name": "x"}, "spec": {"regionId": "nowhere"}});
    let reply = stack.call("POST", &identities, Some(&admin), Some(&nowhere)).await;
    assert_eq!((reply.status, reply.error_code()), (404, "not_found"), "{}", reply.body);
    for (path, bad) in [
        (identities.clone(), json!({"metadata": {"name": "x"}, "spec": {}})),
        (
            format!("{}/networks", home.path),
            json!({"metadata": {"name": "n"}, "spec": {"prefix": "10.0.0.0/33", "dnsNameservers": [], "providerNetworkId": "p"}}),
        ),
        (
            format!("{}/networks", home.path),
            json!({"metadata": {"name": "n"}, "spec": {"prefix": "2001:db8::/64", "dnsNameservers": [], "providerNetworkId": "p"}}),
        ),
        (
            format!("{}/networks", home.path),
            json!({"metadata": {"name": "n"}, "spec": {"prefix": "10.0.0.0/24", "dnsNameservers": ["dns.example"], "providerNetworkId": "p"}}),
        ),
    ] {
        let reply = stack.call("POST", &path, Some(&admin), Some(&bad)).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{bad}: {}", reply.body);
    }
    let orphan = format!("{identities}/{MISSING}/networks");
    let body = json!({"metadata": {"name": "n"}, "spec": {"prefix": "10.0.0.0/24", "dnsNameservers": [], "providerNetworkId": "p"}});
    assert_eq!(stack.call("POST", &orphan, Some(&admin), Some(&body)).await.status, 404);
    assert_eq!(stack.item_count().await, items);

    // A network goes with its last server (Unikorn's foreground delete).
    let id = stack.create_v1_server(&admin, &home, "web").await.id();
    let network_path = format!("{}/networks/{}", home.path, home.network_id);
    assert_eq!(stack.call("DELETE", &network_path, Some(&admin), None).await.status, 202);
    let dying = stack.call("GET", &network_path, Some(&admin), None).await;
    assert_eq!(dying.body["metadata"]["provisioningStatus"], "deprovisioning");
    assert_eq!(stack.create_v1_server(&admin, &home, "new").await.status, 409);
    assert_eq!(stack.converge(300, 3).await.map(|_| ()), Ok(()));
    assert_eq!(
        stack.call("GET", &home.server(&id), Some(&admin), None).await.status,
        404,
        "the cascade took the server"
    );
    assert_eq!(stack.call("GET", &network_path, Some(&admin), None).await.status, 404);

    // An identity delete takes everything under it (uni-compute's cluster teardown): 202, its
    // networks and their servers go, then the identity.
    let network = json!({"metadata": {"name": "net-2"}, "spec": {"prefix": "10.0.0.0/24", "dnsNameservers": [],
        "providerNetworkId": PROVIDER_NETWORK}});
    let second = stack.call("POST", &format!("{}/networks", home.path), Some(&admin), Some(&network)).await;
    assert_eq!(second.status, 201, "{}", second.body);
    let empty = stack
        .call(
            "POST",
            &format!("{}/networks", home.path),
            Some(&admin),
            Some(&json!({"metadata": {"name": "net-3"},
        "spec": {"prefix": "10.1.0.0/24", "dnsNameservers": [], "providerNetworkId": PROVIDER_NETWORK}})),
        )
        .await;
    assert_eq!(empty.status, 201, "{}", empty.body);
    let body = stack.v1_server_body("db", &second.id());
    let server = stack.call("POST", &home.servers(), Some(&admin), Some(&body)).await;
    assert_eq!(server.status, 201, "{}", server.body);
    assert_eq!(stack.call("DELETE", &home.path, Some(&admin), None).await.status, 202);
    let dying = stack.call("GET", &home.path, Some(&admin), None).await;
    assert_eq!(dying.body["metadata"]["provisioningStatus"], "deprovisioning", "{}", dying.body);
    assert_eq!(
        stack.call("GET", &format!("{}/networks/{}", home.path, empty.id()), Some(&admin), None).await.status,
        404,
        "an empty network goes at once"
    );
    let late = stack.call("POST", &format!("{}/networks", home.path), Some(&admin), Some(&network)).await;
    assert_eq!(
        (late.status, late.error_code()),
        (409, "conflict"),
        "a deleting identity takes no network: {}",
        late.body
    );
    assert_eq!(stack.call("DELETE", &home.path, Some(&admin), None).await.status, 202, "a repeated delete is fine");
    let mut runs = 0;
    while stack.call("GET", &home.path, Some(&admin), None).await.status != 404 {
        runs += 1;
        assert!(runs <= 3, "the identity is still there after three cleanup runs");
        stack.cleanup(300).await;
    }
    assert_eq!(stack.call("GET", &home.server(&server.id()), Some(&admin), None).await.status, 404);
    assert!(stack.provider_id(&server.id()).is_none(), "its server is gone at Nova");
    assert!(stack.violations().await.is_empty(), "{:?}", stack.violations().await);
}

#[tokio::test]
async fn v1_creates_keep_the_idempotency_and_fault_guarantees() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let home = stack.v1_home(&admin, ORG, PROJECT).await;
    let body = stack.v1_server_body("web", &home.network_id);
    let keyed = || stack.request("POST", &home.servers(), Some(&admin), Some(&body)).header("idempotency-key", "k-1");
    let first = stack.send(keyed()).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let replay = stack.send(keyed()).await;
    assert_eq!((replay.status, &replay.body), (201, &first.body), "the same answer, in v1's shape");
    assert_eq!(stack.nova_creates(), 1);

    // The provider does not answer: 503, the record stays provisioning, and cleanup settles it.
    stack.emulator.inject(Fault::status("POST", "/compute/v2.1/servers", 503));
    let lost = stack.create_v1_server(&admin, &home, "db").await;
    assert_eq!((lost.status, lost.error_code()), (503, "server_error"), "{}", lost.body);
    let listed = stack.call("GET", &home.servers(), Some(&admin), None).await;
    assert_eq!(ids(&listed.body).len(), 2, "the intent is listed: {}", listed.body);
    assert_eq!(stack.converge(-1, 3).await.map(|_| ()), Ok(()), "cleanup removes what the provider never made");
    assert_eq!(ids(&stack.call("GET", &home.servers(), Some(&admin), None).await.body), vec![first.id()]);
}
