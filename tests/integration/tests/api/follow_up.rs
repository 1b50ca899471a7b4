//! Server intents followed up at once, not at the next sweep: each server intent asks the worker
//! (a delayed queue message, sent before the provider is asked) to look again once its writer has
//! surely ended. A create whose writer died before or after Nova made the server, and one whose
//! answer Nova lost, are settled within seconds with no cleanup run: the record removed with
//! nothing at Nova, or the server adopted. A record written over since is its newer writer's.

use std::time::{Duration, Instant};

use integration_tests::stack::*;
use openstack_emulator::Fault;
use shared::crash;

/// The stack's worker follows intents up a second after they are written (in production: past
/// the writing function's timeout).
async fn stack() -> Stack {
    Stack::start_with(GatewayOptions { follow_up: Some(chrono::Duration::seconds(1)), ..GatewayOptions::default() })
        .await
}

/// The only server record's id (the create's answer may not have come).
async fn only_record(stack: &Stack) -> String {
    let listed = stack.call("GET", "/api/v2/servers", Some(&stack.admin()), None).await;
    let ids: Vec<String> = listed
        .body
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["metadata"]["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 1, "{}", listed.body);
    ids[0].clone()
}

/// Waits until `settled` holds of the record's stored document (None: the record is gone);
/// answers how long it took.
async fn settles(stack: &Stack, id: &str, settled: impl Fn(Option<&serde_json::Value>) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let stored = stack.stored(&format!("SERVER#{id}"), "SERVER").await;
        if settled(stored.as_ref()) {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(15), "{id} never settled: {stored:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_create_whose_writer_died_before_nova_is_removed_within_seconds_without_a_sweep() {
    let stack = stack().await;
    stack.deps.crash.arm(crash::CREATE_AFTER_RECORD);
    let reply = stack
        .try_call("POST", "/api/v2/servers", Some(&stack.admin()), Some(&stack.server_body("web", &stack.network_id)))
        .await;
    assert!(reply.is_none_or(|r| r.status >= 500), "the writer died");
    stack.reached(crash::CREATE_AFTER_RECORD).await;
    let id = only_record(&stack).await;
    let took = settles(&stack, &id, |stored| stored.is_none()).await;
    println!("settled in {took:?}");
    assert_eq!(stack.nova_creates(), 0, "nothing at Nova");
    let claim = stack.stored(&format!("CLAIM#{}#web", stack.network_id), "CLAIM").await;
    assert!(claim.is_none(), "its name is free again");
}

#[tokio::test]
async fn a_create_whose_writer_died_after_nova_or_lost_novas_answer_is_adopted_within_seconds() {
    let stack = stack().await;
    stack.deps.crash.arm(crash::CREATE_AFTER_PROVIDER);
    let body = stack.server_body("web", &stack.network_id);
    let reply = stack.try_call("POST", "/api/v2/servers", Some(&stack.admin()), Some(&body)).await;
    assert!(reply.is_none_or(|r| r.status >= 500), "the writer died");
    stack.reached(crash::CREATE_AFTER_PROVIDER).await;
    let id = only_record(&stack).await;
    let adopted = |stored: Option<&serde_json::Value>| stored.is_some_and(|s| s["providerId"].is_string());
    let took = settles(&stack, &id, adopted).await;
    println!("adopted in {took:?}");
    assert_eq!(stack.nova_creates(), 1, "made once");

    // Nova makes the server but its answer is lost, and so is the create's one look for it: 503 to
    // the caller, adopted by the follow-up.
    stack.emulator.inject(Fault::dropped("POST", "/compute/v2.1/servers"));
    stack.emulator.inject(Fault::status("GET", "/compute/v2.1/servers/detail", 503));
    let body = stack.server_body("db", &stack.network_id);
    let reply = stack.call("POST", "/api/v2/servers", Some(&stack.admin()), Some(&body)).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    let listed =
        stack.call("GET", &format!("/api/v2/servers?networkID={}", stack.network_id), Some(&stack.admin()), None).await;
    let db = listed
        .body
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["metadata"]["name"] == "db")
        .map(|s| s["metadata"]["id"].as_str().unwrap_or_default().to_owned());
    let db = db.unwrap_or_else(|| panic!("no record for the lost create: {}", listed.body));
    let took = settles(&stack, &db, adopted).await;
    println!("lost answer adopted in {took:?}");
    assert_eq!(stack.nova_creates(), 2);
}

/// Regression: a follow-up that could not reach the provider reported the record settled and
/// consumed its message, leaving the record to the next sweep. Now it fails, is put off (10 s) and
/// settles the record once the provider answers again: still without a sweep.
#[tokio::test]
async fn a_follow_up_that_cannot_reach_the_provider_is_put_off_and_settles_when_it_can() {
    let stack = stack().await;
    // Nova makes the server, its answer is lost, and every look for it fails for a while.
    stack.emulator.inject(Fault::dropped("POST", "/compute/v2.1/servers"));
    stack.emulator.inject(Fault::status("GET", "/compute/v2.1/servers/detail", 503).forever());
    let body = stack.server_body("web", &stack.network_id);
    let reply = stack.call("POST", "/api/v2/servers", Some(&stack.admin()), Some(&body)).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    let id = only_record(&stack).await;
    // Past the follow-up's delay: it found Nova unavailable and left the record as it was.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stored = stack.stored(&format!("SERVER#{id}"), "SERVER").await;
    assert!(stored.as_ref().is_some_and(|s| s["providerId"].is_null()), "not adopted yet: {stored:?}");
    stack.emulator.clear_faults();
    let started = Instant::now();
    loop {
        let stored = stack.stored(&format!("SERVER#{id}"), "SERVER").await;
        if stored.as_ref().is_some_and(|s| s["providerId"].is_string()) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(40), "the follow-up never came back: {stored:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("adopted {:?} after Nova answered again", started.elapsed());
    assert_eq!(stack.nova_creates(), 1, "made once, adopted: not made again");
}
