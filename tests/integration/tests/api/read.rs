use integration_tests::stack::*;
use openstack_emulator::Delays;
use serde_json::json;

#[tokio::test]
async fn get_reflects_the_provider_and_carries_an_etag() {
    let stack = Stack::start().await;
    stack.emulator.set_delays(Delays { build_ms: 300, ..Delays::default() });
    let id = stack.server("web").await;
    let admin = stack.admin();
    let path = format!("/api/v2/servers/{id}");
    let building = stack.call("GET", &path, Some(&admin), None).await;
    assert_eq!(building.status, 200);
    assert_eq!(building.body["metadata"]["provisioningStatus"], "provisioning");
    assert_eq!(building.body["status"]["powerState"], "Pending");
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    let ready = stack.call("GET", &path, Some(&admin), None).await;
    assert_eq!(ready.body["metadata"]["provisioningStatus"], "provisioned", "{}", ready.body);
    assert_eq!(ready.body["metadata"]["healthStatus"], "healthy");
    assert_eq!(ready.body["status"]["powerState"], "Running");
    assert!(ready.body["status"]["privateIP"].is_string());
    assert!(ready.body["status"]["macAddress"].is_string());
    let etag = ready.header("etag").unwrap_or_default();
    assert!(etag.starts_with('"') && etag != building.header("etag").unwrap_or_default());
    let lookups = stack.emulator.counter("GET /compute/v2.1/servers/{id}");
    let again = stack.call("GET", &path, Some(&admin), None).await;
    assert_eq!(again.header("etag"), Some(etag), "a settled server is served from the table");
    assert_eq!(stack.emulator.counter("GET /compute/v2.1/servers/{id}"), lookups, "no provider call once settled");
}

#[tokio::test]
async fn unknown_servers_are_404_and_malformed_ids_400() {
    let stack = Stack::start().await;
    let reply =
        stack.call("GET", "/api/v2/servers/00000000-0000-4000-8000-00000000abcd", Some(&stack.admin()), None).await;
    assert_eq!((reply.status, reply.error_code()), (404, "not_found"));
    assert!(reply.description().contains("00000000-0000-4000-8000-00000000abcd"));
    for (path, what) in [
        ("/api/v2/servers/not-a-uuid", "serverID"),
        ("/api/v2/servers/00000000000040008000000000000abcd/consoleoutput", "serverID"),
        ("/api/v2/networks/net-1", "networkID"),
    ] {
        let reply = stack.call("GET", path, Some(&stack.admin()), None).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{path}");
        assert!(reply.description().starts_with(what), "{}", reply.description());
    }
}

#[tokio::test]
async fn records_not_labelled_v2_are_404_on_every_v2_route() {
    let stack = Stack::start().await;
    let id = stack.server("legacy").await;
    stack.patch_server(&id, |_| {}, Some(1)).await;
    let admin = stack.admin();
    let path = format!("/api/v2/servers/{id}");
    let update = json!({"metadata": {"name": "legacy"}, "spec": {"flavorId": "2", "imageId": openstack_emulator::seed::IMAGE_UBUNTU}});
    for (method, body) in [("GET", None), ("PUT", Some(&update)), ("DELETE", None)] {
        let reply = stack.call(method, &path, Some(&admin), body).await;
        assert_eq!((reply.status, reply.error_code()), (404, "not_found"), "{method}");
        assert!(!reply.description().is_empty());
    }
    let list = stack.call("GET", "/api/v2/servers", Some(&admin), None).await;
    assert_eq!(list.body, json!([]), "list hides it too");
    assert_eq!(stack.emulator.counter("DELETE /compute/v2.1/servers/{id}"), 0);
}

#[tokio::test]
async fn other_organizations_and_projects_see_nothing() {
    let stack = Stack::start().await;
    let id = stack.server("private").await;
    let path = format!("/api/v2/servers/{id}");
    let other_org = stack.token("eve", &org_acl(ORG_2, &[("region:servers", ALL)]));
    let same_org_other_project = stack.token("eve", &project_acl(ORG, PROJECT_B, &[("region:servers", ALL)]));
    for (label, token, status) in
        [("other organization", &other_org, 404), ("other project", &same_org_other_project, 404)]
    {
        for method in ["GET", "DELETE"] {
            let reply = stack.call(method, &path, Some(token), None).await;
            assert_eq!(reply.status, status, "{label} {method}: {}", reply.body);
            assert!(reply.body.get("metadata").is_none(), "no data leaks");
        }
        let list = stack.call("GET", "/api/v2/servers", Some(token), None).await;
        assert_eq!(list.body, json!([]), "{label}");
    }
    assert_eq!(stack.emulator.counter("DELETE /compute/v2.1/servers/{id}"), 0);
    let reader = stack.token("rita", &project_acl(ORG, PROJECT, &[("region:servers", &["read"])]));
    assert_eq!(stack.call("GET", &path, Some(&reader), None).await.status, 200);
    assert_eq!(stack.call("DELETE", &path, Some(&reader), None).await.status, 403, "read is not delete");
}
