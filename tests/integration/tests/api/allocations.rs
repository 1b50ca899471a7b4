//! A v2 network holds one `networks` allocation in identity, made on the request path on the
//! caller's behalf: identity's refusal (the project's quota) is the caller's answer with nothing
//! written or made; the allocation is freed when the network goes.

use identity_emulator::{Fault, ALLOCATION};
use integration_tests::stack::*;
use serde_json::json;

fn body(name: &str) -> serde_json::Value {
    json!({"metadata": {"name": name}, "spec": {"organizationId": ORG, "projectId": PROJECT, "regionId": REGION,
        "prefix": "10.0.0.0/24", "dnsNameservers": []}})
}

#[tokio::test]
async fn a_network_holds_a_quota_allocation_until_it_is_gone_and_over_quota_is_identitys_403() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    stack.identity.set_quotas(ORG, PROJECT, &[("networks", 1)]);
    let id = stack.provisioned_network(&admin, "first", PROJECT).await;
    let held = stack.identity.allocations();
    assert_eq!(held.len(), 1, "{held:?}");
    let allocation = &held[0];
    assert_eq!((allocation.organization_id.as_str(), allocation.project_id.as_str()), (ORG, PROJECT));
    assert_eq!(
        (allocation.kind.as_str(), allocation.resource_id.as_str()),
        ("networks.region.unikorn-cloud.org", id.as_str())
    );
    assert_eq!(allocation.committed.get("networks"), Some(&1));
    let asked = stack.identity.received().into_iter().find(|r| r.route.starts_with("POST"));
    assert!(asked.and_then(|r| r.principal).is_some(), "made on the caller's behalf (X-Principal)");

    let before = stack.item_count().await;
    let refused = stack.call("POST", "/api/v2/networks", Some(&admin), Some(&body("second"))).await;
    assert_eq!((refused.status, refused.error_code()), (403, "forbidden"), "{}", refused.body);
    assert_eq!(refused.description(), "total networks allocation of 2 would exceed quota limit of 1");
    assert_eq!(stack.item_count().await, before, "nothing written for a refused network");
    assert_eq!(stack.identity.allocations().len(), 1);

    // Identity failing the free holds the teardown back (the network stays `deprovisioning`,
    // its project is kept) until a retry frees it: never a record gone with its quota still held.
    stack.identity.inject(Fault::status("allocations", 503));
    assert_eq!(stack.call("DELETE", &format!("/api/v2/networks/{id}"), Some(&admin), None).await.status, 202);
    stack.network_stage(&id, "gone").await;
    assert!(stack.identity.allocations().is_empty(), "freed with the network");
    assert_eq!(stack.identity.counter(ALLOCATION), 2, "the refused free, then the retry");
    let again = stack.call("POST", "/api/v2/networks", Some(&admin), Some(&body("second"))).await;
    assert_eq!(again.status, 201, "the quota is free again: {}", again.body);
}

#[tokio::test]
async fn identity_unavailable_for_the_allocation_is_503_and_nothing_is_written_or_made() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    // Authenticate once, so that the fault meets the allocation.
    assert_eq!(stack.call("GET", "/api/v2/networks", Some(&admin), None).await.status, 200);
    let before = stack.item_count().await;
    for fault in [Fault::status("allocations", 503), Fault::dropped("allocations")] {
        stack.identity.inject(fault);
        let reply = stack.call("POST", "/api/v2/networks", Some(&admin), Some(&body("n"))).await;
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert!(reply.header("retry-after").is_some());
    }
    assert_eq!(stack.item_count().await, before, "nothing written");
    assert!(stack.emulator.inventory().is_empty(), "nothing made at the cloud");
    assert!(stack.identity.allocations().is_empty());
}
