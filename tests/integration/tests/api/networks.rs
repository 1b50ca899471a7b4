use integration_tests::stack::*;
use serde_json::json;

#[tokio::test]
async fn networks_are_created_read_listed_and_deleted() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.create_network(&admin, "extra", ORG, PROJECT).await;
    let shown = stack.call("GET", &format!("/api/v2/networks/{id}"), Some(&admin), None).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.body["metadata"]["organizationId"], ORG);
    assert_eq!(shown.body["spec"]["providerNetworkId"], PROVIDER_NETWORK);
    assert_eq!(shown.body["status"]["regionId"], REGION);
    let list = stack.call("GET", "/api/v2/networks", Some(&admin), None).await;
    let ids: Vec<&str> =
        list.body.as_array().into_iter().flatten().filter_map(|n| n["metadata"]["id"].as_str()).collect();
    assert!(ids.contains(&id.as_str()) && ids.contains(&stack.network_id.as_str()), "{ids:?}");
    assert_eq!(stack.call("DELETE", &format!("/api/v2/networks/{id}"), Some(&admin), None).await.status, 202);
    assert_eq!(stack.call("GET", &format!("/api/v2/networks/{id}"), Some(&admin), None).await.status, 404);
}

/// Unikorn's rule for v2: a network a server holds is in use (403, nothing changes); an empty one
/// goes at once.
#[tokio::test]
async fn a_network_servers_hold_is_in_use_and_an_empty_one_goes_at_once() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let server = stack.server("web").await;
    let path = format!("/api/v2/networks/{}", stack.network_id);
    let reply = stack.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!((reply.status, reply.error_code()), (403, "forbidden"), "{}", reply.body);
    assert_eq!(reply.description(), "network is in use and cannot be deleted");
    let shown = stack.call("GET", &path, Some(&admin), None).await;
    assert_eq!(shown.body["metadata"]["provisioningStatus"], "provisioned", "nothing changed: {}", shown.body);
    assert_eq!(stack.create_server(&admin, "another").await.status, 201, "it still takes servers");
    assert_eq!(stack.call("GET", &format!("/api/v2/servers/{server}"), Some(&admin), None).await.status, 200);
    let empty = stack.create_network(&admin, "empty", ORG, PROJECT).await;
    let path = format!("/api/v2/networks/{empty}");
    assert_eq!(stack.call("DELETE", &path, Some(&admin), None).await.status, 202);
    assert_eq!(stack.call("GET", &path, Some(&admin), None).await.status, 404, "no servers: gone at once");
}

#[tokio::test]
async fn network_creation_is_checked() {
    let stack = Stack::start().await;
    let body = |org: &str, project: &str, region: &str| json!({"metadata": {"name": "n"}, "spec": {"organizationId": org, "projectId": project, "regionId": region, "providerNetworkId": "p"}});
    let admin = stack.admin();
    let cases = [
        ("unknown region", admin.clone(), body(ORG, PROJECT, "mars"), 404),
        (
            "no permission",
            stack.token("x", &project_acl(ORG, PROJECT, &[("region:networks:v2", &["read"])])),
            body(ORG, PROJECT, REGION),
            403,
        ),
        (
            "bad name",
            admin.clone(),
            json!({"metadata": {"name": "no spaces"}, "spec": {"organizationId": ORG, "projectId": PROJECT, "regionId": REGION, "providerNetworkId": "p"}}),
            400,
        ),
        ("unknown field", admin.clone(), json!({"metadata": {"name": "n"}, "spec": {"identityId": "ident-a"}}), 400),
    ];
    let before = stack.item_count().await;
    for (label, token, body, status) in cases {
        let reply = stack.call("POST", "/api/v2/networks", Some(&token), Some(&body)).await;
        assert_eq!(reply.status, status, "{label}: {}", reply.body);
        reply.error_code();
    }
    assert_eq!(stack.item_count().await, before);
    let other_org = stack.token("o", &org_acl(ORG_2, &[("region:networks:v2", &["read"])]));
    let hidden = stack.call("GET", &format!("/api/v2/networks/{}", stack.network_id), Some(&other_org), None).await;
    assert_eq!(hidden.status, 404);
}
