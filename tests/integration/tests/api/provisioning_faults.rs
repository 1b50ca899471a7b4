//! Provisioning and teardown converge without a human: a worker killed after any provider step
//! (before it recorded what it made), and a fault, a lost answer or a slow answer at any step, end
//! with the network provisioned (or gone) within two cleanup runs, and with exactly one of each
//! object at the cloud (or none), read back from the emulator.

use integration_tests::stack::*;
use openstack_emulator::Fault;
use serde_json::json;
use shared::crash;

/// What the cloud holds for network `id` (and its identity): projects, users, credentials,
/// networks, subnets, routers, router interfaces.
fn counts(stack: &Stack, id: &str, identity: &str) -> [usize; 7] {
    let cloud = stack.emulator.inventory();
    let ident = format!("unikorn-identity-{identity}");
    let net = format!("network-{id}");
    let networks: Vec<_> = cloud.networks.iter().filter(|n| n.name == net).collect();
    let routers: Vec<_> = cloud.routers.iter().filter(|r| r.name == net).collect();
    [
        cloud.projects.iter().filter(|p| p.name == ident).count(),
        cloud.users.iter().filter(|(_, n)| *n == ident).count(),
        cloud.credentials.iter().filter(|(_, n, _)| *n == ident).count(),
        networks.len(),
        cloud.subnets.iter().filter(|s| networks.iter().any(|n| n.id == s.network_id)).count(),
        routers.len(),
        cloud.ports.iter().filter(|p| routers.iter().any(|r| r.id == p.device_id)).count(),
    ]
}

async fn create(stack: &Stack) -> (String, String) {
    let body = json!({"metadata": {"name": "n"}, "spec": {"organizationId": ORG, "projectId": PROJECT,
        "regionId": REGION, "prefix": "10.0.0.0/24", "dnsNameservers": []}});
    let reply = stack.call("POST", "/api/v2/networks", Some(&stack.admin()), Some(&body)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let id = reply.id();
    let stored = stack.stored(&format!("NETWORK#{id}"), "NETWORK").await.unwrap_or_default();
    (id, stored["identityId"].as_str().unwrap_or_default().to_owned())
}

/// At most two cleanup runs (no grace period) after the fault, the network reads `stage`.
async fn settles_within_two_runs(stack: &Stack, id: &str, stage: &str, label: &str) {
    stack.settles_at(&format!("/api/v2/networks/{id}"), stage, label).await
}

#[tokio::test]
async fn a_worker_killed_after_any_provider_step_leaves_a_network_cleanup_completes_once() {
    let stack = Stack::start().await;
    for point in [
        crash::PROVISION_AFTER_PROJECT,
        crash::PROVISION_AFTER_USER,
        crash::PROVISION_AFTER_CREDENTIAL,
        crash::PROVISION_AFTER_NETWORK,
        crash::PROVISION_AFTER_SUBNET,
        crash::PROVISION_AFTER_ROUTER,
    ] {
        stack.deps.crash.arm(point);
        let (id, identity) = create(&stack).await;
        stack.reached(point).await;
        settles_within_two_runs(&stack, &id, "provisioned", point).await;
        assert_eq!(counts(&stack, &id, &identity), [1; 7], "{point}: one of each, nothing made twice");
    }
    // A teardown killed after the cloud is clean but before the records go.
    let (id, identity) = create(&stack).await;
    stack.network_stage(&id, "provisioned").await;
    stack.deps.crash.arm(crash::TEARDOWN_AFTER_PROVIDER);
    assert_eq!(stack.call("DELETE", &format!("/api/v2/networks/{id}"), Some(&stack.admin()), None).await.status, 202);
    stack.reached(crash::TEARDOWN_AFTER_PROVIDER).await;
    settles_within_two_runs(&stack, &id, "gone", "teardown").await;
    assert_eq!(counts(&stack, &id, &identity), [0; 7], "nothing left of it");
}

/// Every provisioning step answered 503, or its answer lost, once: the network ends provisioned
/// with one of each object; every teardown step likewise ends with nothing.
#[tokio::test]
async fn a_fault_or_a_lost_answer_at_any_step_ends_provisioned_or_gone_with_nothing_twice() {
    let stack = Stack::start().await;
    let make = [
        ("POST", "/identity/v3/projects"),
        ("PUT", "/identity/v3/projects/*/users/*/roles/*"),
        ("PUT", "/compute/v2.1/os-quota-sets/*"),
        ("PUT", "/network/v2.0/quotas/*"),
        ("POST", "/identity/v3/users"),
        ("POST", "/identity/v3/users/*/application_credentials"),
        ("POST", "/network/v2.0/networks"),
        ("POST", "/network/v2.0/subnets"),
        ("POST", "/network/v2.0/routers"),
        ("PUT", "/network/v2.0/routers/*/add_router_interface"),
    ];
    let take_down = [
        ("PUT", "/network/v2.0/routers/*/remove_router_interface"),
        ("DELETE", "/network/v2.0/routers/*"),
        ("DELETE", "/network/v2.0/subnets/*"),
        ("DELETE", "/network/v2.0/networks/*"),
        ("DELETE", "/identity/v3/users/*/application_credentials/*"),
        ("DELETE", "/identity/v3/users/*"),
        ("DELETE", "/identity/v3/projects/*"),
    ];
    let mut figures = Vec::new();
    for (method, path) in make {
        for (kind, fault) in [("503", Fault::status(method, path, 503)), ("lost answer", Fault::dropped(method, path))]
        {
            stack.emulator.inject(fault);
            let (id, identity) = create(&stack).await;
            let label = format!("{kind} at {method} {path}");
            stack.network_stage(&id, "provisioned").await;
            assert_eq!(counts(&stack, &id, &identity), [1; 7], "{label}: one of each");
            stack.emulator.clear_faults();
            figures.push(label);
        }
    }
    for (method, path) in take_down {
        for (kind, fault) in [("503", Fault::status(method, path, 503)), ("lost answer", Fault::dropped(method, path))]
        {
            let (id, identity) = create(&stack).await;
            stack.network_stage(&id, "provisioned").await;
            stack.emulator.inject(fault);
            assert_eq!(
                stack.call("DELETE", &format!("/api/v2/networks/{id}"), Some(&stack.admin()), None).await.status,
                202
            );
            let label = format!("{kind} at {method} {path}");
            stack.network_stage(&id, "gone").await;
            assert_eq!(counts(&stack, &id, &identity), [0; 7], "{label}: nothing left");
            stack.emulator.clear_faults();
            figures.push(label);
        }
    }
    println!("fault matrix: {} cases converged, nothing made twice or left", figures.len());
    let left = stack.emulator.inventory();
    assert!(
        left.networks.len() == make.len() * 2 && left.projects.len() == make.len() * 2,
        "only the provisioned ones remain"
    );
}

/// v1: a network in its identity's project converges after a worker killed after any Neutron step,
/// or a fault or lost answer at any Neutron step, with one of each of its objects (or none); the
/// identity's project, user and credential are never touched; the identity's delete then leaves nothing.
#[tokio::test]
async fn a_v1_network_converges_after_any_neutron_fault_and_leaves_its_identity_whole() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let (identity, home) = stack.v1_identity(&admin, ORG, PROJECT).await;
    stack.until_stage(&home, "provisioned").await;
    let create = || async {
        let body = json!({"metadata": {"name": "n"}, "spec": {"prefix": "10.0.0.0/24", "dnsNameservers": []}});
        let reply = stack.call("POST", &format!("{home}/networks"), Some(&stack.admin()), Some(&body)).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        (reply.id(), format!("{home}/networks/{}", reply.id()))
    };
    for point in [crash::PROVISION_AFTER_NETWORK, crash::PROVISION_AFTER_SUBNET, crash::PROVISION_AFTER_ROUTER] {
        stack.deps.crash.arm(point);
        let (id, path) = create().await;
        stack.reached(point).await;
        stack.settles_at(&path, "provisioned", point).await;
        assert_eq!(counts(&stack, &id, &identity), [1; 7], "{point}: one of each, nothing made twice");
    }
    let make = [
        ("POST", "/network/v2.0/networks"),
        ("POST", "/network/v2.0/subnets"),
        ("POST", "/network/v2.0/routers"),
        ("PUT", "/network/v2.0/routers/*/add_router_interface"),
    ];
    let take_down = [
        ("PUT", "/network/v2.0/routers/*/remove_router_interface"),
        ("DELETE", "/network/v2.0/routers/*"),
        ("DELETE", "/network/v2.0/subnets/*"),
        ("DELETE", "/network/v2.0/networks/*"),
    ];
    for (method, route) in make {
        for fault in [Fault::status(method, route, 503), Fault::dropped(method, route)] {
            stack.emulator.inject(fault);
            let (id, path) = create().await;
            stack.until_stage(&path, "provisioned").await;
            assert_eq!(counts(&stack, &id, &identity), [1; 7], "fault at {method} {route}: one of each");
            stack.emulator.clear_faults();
        }
    }
    for (method, route) in take_down {
        for fault in [Fault::status(method, route, 503), Fault::dropped(method, route)] {
            let (id, path) = create().await;
            stack.until_stage(&path, "provisioned").await;
            stack.emulator.inject(fault);
            assert_eq!(stack.call("DELETE", &path, Some(&admin), None).await.status, 202);
            stack.until_stage(&path, "gone").await;
            let label = format!("fault at {method} {route}");
            assert_eq!(counts(&stack, &id, &identity), [1, 1, 1, 0, 0, 0, 0], "{label}: its own objects gone");
            stack.emulator.clear_faults();
        }
    }
    let (id, path) = create().await;
    stack.until_stage(&path, "provisioned").await;
    stack.deps.crash.arm(crash::TEARDOWN_AFTER_PROVIDER);
    assert_eq!(stack.call("DELETE", &path, Some(&admin), None).await.status, 202);
    stack.reached(crash::TEARDOWN_AFTER_PROVIDER).await;
    stack.settles_at(&path, "gone", "teardown").await;
    assert_eq!(counts(&stack, &id, &identity), [1, 1, 1, 0, 0, 0, 0], "nothing left of it");

    assert_eq!(stack.call("DELETE", &home, Some(&admin), None).await.status, 202);
    stack.until_stage(&home, "gone").await;
    let left = stack.emulator.inventory();
    assert!(left.is_empty(), "nothing left at the cloud: {left:?}");
}
