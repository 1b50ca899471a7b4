//! Every crash point and every provider fault (503, timeout, dropped connection) on create, delete,
//! update (resize, rebuild, networking) and the power actions, at Nova and at Neutron (the port,
//! the public IP): the cleanup function, run at most three
//! times, must bring the table and the provider back to the invariants (`Stack::violations`).

use std::time::Duration;

use integration_tests::stack::*;
use openstack_emulator::{seed, Fault};
use serde_json::json;
use shared::crash;

#[derive(Debug, Clone, Copy)]
enum Trouble {
    Crash(&'static str),
    Status503,
    /// The provider answers after the client's 2 s timeout (and still does the work).
    Timeout,
    /// The provider does the work and the connection drops before the answer.
    Dropped,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Create,
    /// A create asking for every networking field; the fault hits the port.
    CreatePort,
    /// The same; the fault hits the public IP (after Nova accepted the server).
    CreatePublicIp,
    /// Networking changed (groups, sources, public IP turned on); the fault hits the port update.
    UpdateNetworking,
    /// The same; the fault hits the public IP.
    UpdatePublicIp,
    Delete,
    /// Deleting a server with a public IP; the fault hits the public IP's release.
    DeletePublicIp,
    Resize,
    Rebuild,
    Stop,
    Start,
}

impl Op {
    /// The provider call the fault hits, and the op's two crash points.
    fn target(self) -> (&'static str, &'static str, [&'static str; 2]) {
        match self {
            Op::Create => ("POST", "/compute/v2.1/servers", [crash::CREATE_AFTER_RECORD, crash::CREATE_AFTER_PROVIDER]),
            Op::CreatePort => ("POST", "/network/v2.0/ports", [crash::CREATE_AFTER_RECORD, crash::CREATE_AFTER_PORT]),
            Op::CreatePublicIp => {
                ("POST", "/network/v2.0/floatingips", [crash::CREATE_AFTER_PORT, crash::CREATE_AFTER_PROVIDER])
            }
            Op::UpdateNetworking => {
                ("PUT", "/network/v2.0/ports/*", [crash::UPDATE_NETWORK_AFTER_INTENT, crash::UPDATE_NETWORK_AFTER_PORT])
            }
            Op::UpdatePublicIp => (
                "POST",
                "/network/v2.0/floatingips",
                [crash::UPDATE_NETWORK_AFTER_INTENT, crash::UPDATE_NETWORK_AFTER_PORT],
            ),
            Op::DeletePublicIp => {
                ("DELETE", "/network/v2.0/floatingips/*", [crash::DELETE_AFTER_MARK, crash::DELETE_AFTER_PROVIDER])
            }
            Op::Delete => {
                ("DELETE", "/compute/v2.1/servers/*", [crash::DELETE_AFTER_MARK, crash::DELETE_AFTER_PROVIDER])
            }
            Op::Resize | Op::Rebuild => {
                ("POST", "/compute/v2.1/servers/*/action", [crash::UPDATE_AFTER_INTENT, crash::UPDATE_AFTER_PROVIDER])
            }
            Op::Stop | Op::Start => {
                ("POST", "/compute/v2.1/servers/*/action", [crash::POWER_AFTER_INTENT, crash::POWER_AFTER_PROVIDER])
            }
        }
    }
}

async fn run_case(op: Op, trouble: Trouble) -> Result<usize, Vec<String>> {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let groups =
        [stack.security_group(&stack.network_id, "web").await, stack.security_group(&stack.network_id, "ssh").await];
    let networking = networking(&[&groups[0], &groups[1]]);
    let networked = json!({"metadata": {"name": "web"}, "spec": {"networkId": stack.network_id,
        "flavorId": seed::FLAVOR_SMALL, "imageId": seed::IMAGE_UBUNTU, "networking": networking}});
    let id = match op {
        Op::Create | Op::CreatePort | Op::CreatePublicIp => None,
        Op::DeletePublicIp => {
            let created = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&networked)).await;
            assert_eq!(created.status, 201, "{}", created.body);
            Some(created.id())
        }
        _ => Some(stack.settled_server("web").await),
    };
    if let (Op::Start, Some(id)) = (op, &id) {
        assert_eq!(stack.call("POST", &format!("/api/v2/servers/{id}/stop"), Some(&admin), None).await.status, 202);
        assert_eq!(stack.converge(300, 1).await, Ok(1), "stopped before the case starts");
    }
    let (method, path, _) = op.target();
    match trouble {
        Trouble::Crash(point) => stack.deps.crash.arm(point),
        Trouble::Status503 => stack.emulator.inject(Fault::status(method, path, 503)),
        Trouble::Timeout => stack.emulator.inject(Fault::delay(method, path, 2500)),
        Trouble::Dropped => stack.emulator.inject(Fault::dropped(method, path)),
    }
    let server = |suffix: &str| format!("/api/v2/servers/{}{suffix}", id.clone().unwrap_or_default());
    let update = |flavor: &str, image: &str| json!({"metadata": {"name": "web"}, "spec": {"flavorId": flavor, "imageId": image}});
    let reply = match op {
        Op::Create => {
            stack
                .try_call("POST", "/api/v2/servers", Some(&admin), Some(&stack.server_body("web", &stack.network_id)))
                .await
        }
        Op::CreatePort | Op::CreatePublicIp => {
            stack.try_call("POST", "/api/v2/servers", Some(&admin), Some(&networked)).await
        }
        Op::UpdateNetworking | Op::UpdatePublicIp => {
            let body = json!({"metadata": {"name": "web"}, "spec": {"flavorId": seed::FLAVOR_SMALL,
                "imageId": seed::IMAGE_UBUNTU, "networking": networking}});
            stack.try_call("PUT", &server(""), Some(&admin), Some(&body)).await
        }
        Op::Delete | Op::DeletePublicIp => stack.try_call("DELETE", &server(""), Some(&admin), None).await,
        Op::Resize => {
            stack
                .try_call("PUT", &server(""), Some(&admin), Some(&update(seed::FLAVOR_LARGE, seed::IMAGE_UBUNTU)))
                .await
        }
        Op::Rebuild => {
            stack.try_call("PUT", &server(""), Some(&admin), Some(&update(seed::FLAVOR_SMALL, seed::IMAGE_LARGE))).await
        }
        Op::Stop => stack.try_call("POST", &server("/stop"), Some(&admin), None).await,
        Op::Start => stack.try_call("POST", &server("/start"), Some(&admin), None).await,
    };
    if let Some(reply) = &reply {
        assert!(reply.status < 500 || reply.status == 503, "{op:?} {trouble:?}: {} {}", reply.status, reply.body);
    }
    if let Trouble::Timeout = trouble {
        // The provider finishes what it accepted after the client gave up.
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    stack.converge(0, 3).await
}

fn networking(groups: &[&Group]) -> serde_json::Value {
    let ids: Vec<&str> = groups.iter().map(|g| g.id.as_str()).collect();
    json!({"securityGroups": ids, "publicIP": true, "allowedSourceAddresses": ["10.9.0.0/16"]})
}

async fn matrix(op: Op) {
    let [first, second] = op.target().2;
    let troubles =
        [Trouble::Crash(first), Trouble::Crash(second), Trouble::Status503, Trouble::Timeout, Trouble::Dropped];
    let results = futures::future::join_all(troubles.iter().map(|t| run_case(op, *t))).await;
    let mut failed = Vec::new();
    for (trouble, result) in troubles.iter().zip(results) {
        match result {
            Ok(runs) => println!("convergence: {op:?} with {trouble:?}: invariants hold after {runs} cleanup run(s)"),
            Err(violations) => failed.push(format!("{op:?} with {trouble:?}: {violations:?}")),
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

#[tokio::test]
async fn create_converges_after_every_crash_and_fault() {
    matrix(Op::Create).await;
}

#[tokio::test]
async fn create_converges_after_every_crash_and_fault_at_the_port() {
    matrix(Op::CreatePort).await;
}

#[tokio::test]
async fn create_converges_after_every_crash_and_fault_at_the_public_ip() {
    matrix(Op::CreatePublicIp).await;
}

#[tokio::test]
async fn a_networking_update_converges_after_every_crash_and_fault_at_the_port() {
    matrix(Op::UpdateNetworking).await;
}

#[tokio::test]
async fn a_networking_update_converges_after_every_crash_and_fault_at_the_public_ip() {
    matrix(Op::UpdatePublicIp).await;
}

#[tokio::test]
async fn delete_converges_after_every_crash_and_fault_at_the_public_ip() {
    matrix(Op::DeletePublicIp).await;
}

#[tokio::test]
async fn delete_converges_after_every_crash_and_fault() {
    matrix(Op::Delete).await;
}

#[tokio::test]
async fn resize_converges_after_every_crash_and_fault() {
    matrix(Op::Resize).await;
}

#[tokio::test]
async fn rebuild_converges_after_every_crash_and_fault() {
    matrix(Op::Rebuild).await;
}

#[tokio::test]
async fn stop_converges_after_every_crash_and_fault() {
    matrix(Op::Stop).await;
}

#[tokio::test]
async fn start_converges_after_every_crash_and_fault() {
    matrix(Op::Start).await;
}

/// Regression (found under faults): a provider status outside the mapped set was a 500.
#[tokio::test]
async fn an_unexpected_provider_status_is_502_with_the_providers_message() {
    let stack = Stack::start().await;
    let id = stack.settled_server("web").await;
    stack.emulator.inject(Fault::status("POST", NOVA_ACTIONS, 418));
    let reply = stack.call("POST", &format!("/api/v2/servers/{id}/stop"), Some(&stack.admin()), None).await;
    assert_eq!((reply.status, reply.error_code()), (502, "server_error"), "{}", reply.body);
    assert!(
        reply.description().contains("418") && reply.description().contains("injected fault"),
        "{}",
        reply.description()
    );
}

/// Regression (found against real Nova): every 403 of Nova's (an exceeded quota, a flavor's
/// constraint) was a 500 "the cloud provider rejected the platform's credential".
#[tokio::test]
async fn a_nova_403_is_422_with_novas_reason_and_leaves_nothing() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    stack.emulator.inject(Fault::status("POST", "/compute/v2.1/servers", 403));
    let body = stack.server_body("web", &stack.network_id);
    let reply = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&body)).await;
    assert_eq!((reply.status, reply.error_code()), (422, "unprocessable_content"), "{}", reply.body);
    assert!(reply.description().contains("injected fault 403"), "{}", reply.description());
    assert_eq!(stack.converge(0, 1).await, Ok(1), "no record, no port left");

    let id = stack.settled_server("web").await;
    stack.emulator.inject(Fault::status("POST", NOVA_ACTIONS, 403));
    let reply = stack.call("POST", &format!("/api/v2/servers/{id}/stop"), Some(&admin), None).await;
    assert_eq!((reply.status, reply.error_code()), (422, "unprocessable_content"), "{}", reply.body);
    let provider_id = stack.provider_id(&id).unwrap_or_default();
    assert!(!reply.description().contains(&provider_id), "our id, not Nova's: {}", reply.description());
    assert_eq!(stack.converge(0, 1).await, Ok(1), "the stop is undone");
}
