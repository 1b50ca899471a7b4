//! Fair use through the local API: per-organization buckets for reads and mutations, their
//! headers, 429s that write nothing and ask nothing of the provider, two containers holding one
//! limit, refusals and replays that cost nothing, and an organization's own limits.

use std::time::Instant;

use std::time::Duration;

use integration_tests::stack::{org_acl, GatewayOptions, Reply, Stack, ALL, ORG, ORG_2, PROJECT_C};
use serde_json::json;
use shared::fairuse::{Limits, Rate, LEASE_TTL, LIMITS_TTL, MAX_BATCH_SHARE};

fn header(reply: &Reply, name: &str) -> u32 {
    reply.header(name).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no {name} on {}", reply.status))
}

fn script_token(stack: &Stack, org: &str) -> String {
    let acl = org_acl(org, &[("region:servers", ALL), ("region:networks:v2", ALL), ("region:images", ALL)]);
    stack.token(&format!("script-{org}"), &acl)
}

/// What one container may pass beyond the bucket in a window (docs/fair-use.md): one lease.
fn lease(rate: Rate) -> f64 {
    f64::from((rate.burst / MAX_BATCH_SHARE).max(1))
}

/// A refusal as the API answers it: 429, the error body with Unikorn's `invalid_request`,
/// `Retry-After`, and the bucket's headers at zero.
fn assert_refused(reply: &Reply, limit: u32) {
    assert_eq!(reply.status, 429, "{}", reply.body);
    assert_eq!(reply.error_code(), "invalid_request");
    assert!(reply.description().contains("allowance"), "{}", reply.description());
    assert!(header(reply, "retry-after") >= 1);
    assert_eq!((header(reply, "ratelimit-remaining"), header(reply, "ratelimit-limit")), (0, limit));
}

#[tokio::test]
async fn a_burst_of_reads_then_mutations_passes_each_bucket_and_no_more() {
    let limits = Limits::default();
    let stack = Stack::start_with(GatewayOptions { limits, ..GatewayOptions::default() }).await;
    let other_network = stack.create_network(&stack.admin(), "net-c", ORG_2, PROJECT_C).await;
    let token = script_token(&stack, ORG);
    let network = format!("/api/v2/networks/{}", stack.network_id);

    // 300 reads: the bucket of 200, what refills meanwhile, and no more.
    let started = Instant::now();
    let (mut passed, mut remaining) = (0, Vec::new());
    for _ in 0..300 {
        let reply = stack.call("GET", &network, Some(&token), None).await;
        assert_eq!(header(&reply, "ratelimit-limit"), 200);
        match reply.status {
            200 => {
                passed += 1;
                remaining.push(header(&reply, "ratelimit-remaining"));
            }
            _ => assert_refused(&reply, 200),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let refilled = limits.read.per_second * elapsed;
    assert!(passed >= 200, "the whole burst passes: {passed}");
    assert!(f64::from(passed) <= 200.0 + refilled + lease(limits.read), "{passed} in {elapsed:.1} s");
    assert_eq!(remaining[0], 199, "a fresh bucket less this request");
    // Each answer one less than the one before, but for what refilled between them.
    let rises: f64 = remaining.windows(2).map(|w| f64::from((w[1] + 1).saturating_sub(w[0]))).sum();
    assert!(rises <= refilled + 1.0, "the count rose by {rises} with {refilled:.1} refilled");

    // 300 creates, ten at a time: the mutation bucket (less the network made at start).
    let body = |i: usize| {
        json!({"metadata": {"name": format!("s-{i}")}, "spec": {"networkId": stack.network_id,
        "flavorId": openstack_emulator::seed::FLAVOR_SMALL, "imageId": openstack_emulator::seed::IMAGE_UBUNTU}})
    };
    let started = Instant::now();
    let mut created: u64 = 0;
    for chunk in (0..300).collect::<Vec<_>>().chunks(10) {
        let calls = chunk.iter().map(|i| stack.spawn_call("POST", "/api/v2/servers", Some(&token), Some(&body(*i))));
        for reply in futures::future::join_all(calls).await {
            let reply = reply.unwrap_or_else(|e| panic!("{e}"));
            match reply.status {
                201 => created += 1,
                _ => assert_refused(&reply, 50),
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert!(created >= 49, "{created}");
    let bound = 49.0 + limits.mutation.per_second * elapsed + lease(limits.mutation);
    assert!(created as f64 <= bound, "{created} created in {elapsed:.1} s (bound {bound:.1})");
    assert_eq!(stack.nova_creates(), created, "a 429 never reaches the provider");
    let listed = stack.call("GET", &format!("/api/v2/servers?organizationID={ORG}"), Some(&token), None).await;
    assert_eq!(listed.status, 200, "reads keep answering when mutations are spent: {}", listed.body);
    assert_eq!(listed.body.as_array().map(Vec::len), Some(created as usize), "a 429 writes nothing");

    // Another organization has buckets of its own.
    let other = script_token(&stack, ORG_2);
    let read = stack.call("GET", &format!("/api/v2/networks/{other_network}"), Some(&other), None).await;
    assert_eq!((read.status, header(&read, "ratelimit-remaining")), (200, 199));
    let made = stack
        .call("POST", "/api/v2/servers", Some(&other), Some(&stack.server_body("elsewhere", &other_network)))
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(header(&made, "ratelimit-limit"), 50);
}

#[tokio::test]
async fn two_containers_sharing_the_table_hold_one_limit() {
    let limits = Limits { mutation: Rate { burst: 20, per_second: 0.5 }, ..Limits::default() };
    let stack = Stack::start_with(GatewayOptions { limits, ..GatewayOptions::default() }).await;
    let second = stack.second_api(limits).await;
    let id = stack.server("target").await;
    let token = script_token(&stack, ORG);
    let path = format!("/api/v2/servers/{id}/protection");
    let before = stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&token), None).await;
    let started = Instant::now();
    let (mut passed, mut writes, mut protected) = (0u32, 0u32, false);
    for i in 0..60 {
        let base = if i % 2 == 0 { stack.url.clone() } else { second.clone() };
        let body = json!({"delete": i % 2 == 0, "rebuild": false});
        let request = stack.http.put(format!("{base}{path}")).bearer_auth(&token).json(&body);
        let reply = stack.send(request).await;
        match reply.status {
            200 => {
                passed += 1;
                // Setting what is already set writes nothing.
                writes += u32::from(protected != (i % 2 == 0));
                protected = i % 2 == 0;
            }
            _ => assert_refused(&reply, 20),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // The network and the server made at start took two tokens.
    let bound = 18.0 + limits.mutation.per_second * elapsed + 2.0 * lease(limits.mutation);
    assert!(passed >= 18 && f64::from(passed) <= bound, "{passed} passed in {elapsed:.1} s (bound {bound:.1})");
    let after = stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&token), None).await;
    let version = |r: &Reply| r.header("etag").unwrap_or_default().trim_matches('"').parse::<u32>().unwrap_or(0);
    assert_eq!(version(&after), version(&before) + writes, "every passed change written, no refused one");
}

#[tokio::test]
async fn refusals_decided_from_the_request_and_replays_cost_nothing_and_overrides_apply() {
    let stack = Stack::start().await;
    // An operator gives this organization four mutations, one back every 100 seconds.
    stack.set_limits(ORG_2, "mutation", 4, 0.01).await;
    let network = stack.create_network(&stack.admin(), "net-c", ORG_2, PROJECT_C).await;
    let token = script_token(&stack, ORG_2);
    let created = stack.call("POST", "/api/v2/servers", Some(&token), Some(&stack.server_body("a", &network))).await;
    assert_eq!((created.status, header(&created, "ratelimit-limit")), (201, 4), "{}", created.body);
    assert_eq!(header(&created, "ratelimit-remaining"), 2);
    let id = created.id();

    // Refused for their own content: a stale If-Match, a missing network, a malformed body.
    let update = json!({"metadata": {"name": "a"}, "spec": {"flavorId": openstack_emulator::seed::FLAVOR_SMALL,
        "imageId": openstack_emulator::seed::IMAGE_UBUNTU}});
    for _ in 0..3 {
        let stale = stack
            .request("PUT", &format!("/api/v2/servers/{id}"), Some(&token), Some(&update))
            .header("if-match", "\"999\"");
        let reply = stack.send(stale).await;
        assert_eq!(reply.status, 412, "{}", reply.body);
        assert_eq!(header(&reply, "ratelimit-remaining"), 2, "given back");
        let nowhere = stack.server_body("b", "00000000-0000-4000-8000-000000000000");
        assert_eq!(stack.call("POST", "/api/v2/servers", Some(&token), Some(&nowhere)).await.status, 404);
        assert_eq!(stack.call("POST", "/api/v2/servers", Some(&token), Some(&json!({}))).await.status, 400);
    }
    // A keyed create, then its replays.
    let keyed = |stack: &Stack| {
        stack
            .request("POST", "/api/v2/servers", Some(&token), Some(&stack.server_body("k", &network)))
            .header("idempotency-key", "fair-use-1")
    };
    let first = stack.send(keyed(&stack)).await;
    assert_eq!(first.status, 201, "{}", first.body);
    for _ in 0..3 {
        let replay = stack.send(keyed(&stack)).await;
        assert_eq!((replay.status, replay.id()), (201, first.id()), "a replay answers the first create");
    }
    let last = stack.call("POST", "/api/v2/servers", Some(&token), Some(&stack.server_body("c", &network))).await;
    assert_eq!((last.status, header(&last, "ratelimit-remaining")), (201, 0), "{}", last.body);
    let refused = stack.call("POST", "/api/v2/servers", Some(&token), Some(&stack.server_body("d", &network))).await;
    assert_refused(&refused, 4);
    assert!(header(&refused, "retry-after") > 50, "one token every 100 s");
    assert_eq!(stack.nova_creates(), 3);
    // Organizations without an override keep the deployment's limits.
    let mine = stack.create_server(&script_token(&stack, ORG), "mine").await;
    assert_eq!((mine.status, header(&mine, "ratelimit-limit")), (201, 500), "{}", mine.body);
}

/// Regression: with burst 2 at 0.01/s spent and the organization's limits then deleted, mutations
/// stayed 429 for minutes, the message naming the new limit and `Retry-After` unrelated to the
/// real wait. A change of limits now applies within `LIMITS_TTL` + `LEASE_TTL` (docs/fair-use.md).
#[tokio::test]
async fn changed_limits_apply_within_the_bound_and_retry_after_is_the_real_wait() {
    let stack = Stack::start().await;
    let network = stack.create_network(&stack.admin(), "net-c", ORG_2, PROJECT_C).await;
    let token = script_token(&stack, ORG_2);
    let create = |name: &str| {
        let body = stack.server_body(name, &network);
        let token = token.clone();
        let stack = &stack;
        async move { stack.call("POST", "/api/v2/servers", Some(&token), Some(&body)).await }
    };
    let bound = Duration::from_micros((LIMITS_TTL + LEASE_TTL) as u64);

    // Two mutations, one back every 100 s: the third is refused, naming that limit.
    stack.set_limits(ORG_2, "mutation", 2, 0.01).await;
    tokio::time::sleep(bound).await;
    for name in ["a", "b"] {
        let made = create(name).await;
        assert_eq!((made.status, header(&made, "ratelimit-limit")), (201, 2), "{}", made.body);
    }
    let refused = create("c").await;
    assert_refused(&refused, 2);
    assert!(
        refused.description().contains("allowance of 2 mutation requests, refilled at one every 100 s"),
        "{}",
        refused.description()
    );
    let wait = header(&refused, "retry-after");
    assert!((90..=100).contains(&wait), "the next token is 100 s after the last: {wait}");

    // The operator deletes the item: within the bound the deployment's limits (500) apply, and the
    // two requests owed are owed at the new rate, not for 200 s.
    stack.clear_limits(ORG_2).await;
    tokio::time::sleep(bound).await;
    let made = create("d").await;
    assert_eq!((made.status, header(&made, "ratelimit-limit")), (201, 500), "{}", made.body);
    assert!(header(&made, "ratelimit-remaining") >= 490, "{}", header(&made, "ratelimit-remaining"));

    // Lowered to one at 0.5/s: a refusal's Retry-After is the real wait.
    stack.set_limits(ORG_2, "mutation", 1, 0.5).await;
    tokio::time::sleep(bound).await;
    let mut refused = None;
    for name in ["e", "f", "g"] {
        let reply = create(name).await;
        if reply.status == 429 {
            refused = Some(reply);
            break;
        }
    }
    let refused = refused.unwrap_or_else(|| panic!("a burst of one refuses within three"));
    assert_refused(&refused, 1);
    assert!(refused.description().contains("allowance of 1 mutation request, refilled at one every 2 s"));
    let wait = header(&refused, "retry-after");
    assert!((1..=2).contains(&wait), "{wait}");
    tokio::time::sleep(Duration::from_secs(wait.into())).await;
    let made = create("h").await;
    assert_eq!(made.status, 201, "admitted once Retry-After has passed: {}", made.body);
}
