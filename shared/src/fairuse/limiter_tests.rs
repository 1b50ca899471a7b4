//! The limiter on the in-memory store and a manual clock: leases, refusals, limits that change.

use super::*;
use crate::store::memory::MemoryStore;
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

struct Manual(AtomicI64);

impl Clock for Manual {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.0.load(Ordering::SeqCst)).unwrap_or_default()
    }
}

fn limiter(store: Arc<MemoryStore>, clock: Arc<Manual>) -> Limiter {
    let limits = Limits { read: Rate { burst: 200, per_second: 20.0 }, mutation: Rate { burst: 50, per_second: 2.0 } };
    Limiter::new(store, limits, clock)
}

async fn run(limiter: &Limiter, org: &str, class: Class, n: usize) -> (usize, Vec<Quota>) {
    let mut admitted = 0;
    let mut quotas = Vec::new();
    for _ in 0..n {
        match limiter.admit(org, class).await {
            Ok(Some(Admission::Admitted(q, _))) => {
                admitted += 1;
                quotas.push(q);
            }
            Ok(Some(Admission::Refused(q))) => quotas.push(q),
            other => panic!("{}", other.err().unwrap_or_default()),
        }
    }
    (admitted, quotas)
}

#[tokio::test]
async fn a_burst_passes_exactly_the_bucket_and_headers_count_down() {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(Manual(AtomicI64::new(1_000_000_000_000)));
    let limiter = limiter(store.clone(), clock.clone());
    let (admitted, quotas) = run(&limiter, "o1", Class::Mutation, 80).await;
    assert_eq!(admitted, 50, "a frozen clock refills nothing");
    let remaining: Vec<u32> = quotas.iter().map(|q| q.remaining).collect();
    assert_eq!(remaining[..50], (0..50).rev().collect::<Vec<_>>()[..], "one less per request");
    assert!(quotas[50..].iter().all(|q| q.remaining == 0 && q.retry_after == Some(1)));
    // Leases of 1, 2, 4 and then 5 (a tenth of the bucket), a short last one, and the update
    // that finds the bucket empty.
    let writes = store.bucket_writes();
    assert!(writes <= 14, "leases, not a write per request: {writes}");
    let (other, _) = run(&limiter, "o2", Class::Mutation, 10).await;
    assert_eq!(other, 10, "another organization has its own bucket");
    let (reads, _) = run(&limiter, "o1", Class::Read, 10).await;
    assert_eq!(reads, 10, "reads keep answering when mutations are spent");
    clock.0.fetch_add(5_000_000, Ordering::SeqCst);
    let (refilled, _) = run(&limiter, "o1", Class::Mutation, 20).await;
    assert_eq!(refilled, 10, "five seconds at two a second");
}

#[tokio::test]
async fn containers_sharing_the_store_hold_the_limit_and_refusals_cost_nothing() {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(Manual(AtomicI64::new(1_000_000_000_000)));
    let containers: Vec<Limiter> = (0..4).map(|_| limiter(store.clone(), clock.clone())).collect();
    let mut admitted = 0;
    for round in 0..40 {
        admitted += run(&containers[round % 4], "o1", Class::Mutation, 3).await.0;
    }
    assert_eq!(admitted, 50, "four containers, one bucket");
    let before = store.bucket_writes() + store.bucket_reads();
    for limiter in &containers {
        run(limiter, "o1", Class::Mutation, 5).await;
    }
    assert_eq!(store.bucket_writes() + store.bucket_reads(), before, "an empty bucket is refused locally");
}

#[tokio::test]
async fn a_given_back_token_is_spent_again_and_overrides_apply() {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(Manual(AtomicI64::new(1_000_000_000_000)));
    store.set_overrides("small", Overrides { mutation: Some(Rate { burst: 3, per_second: 0.1 }), read: None });
    let limiter = limiter(store.clone(), clock.clone());
    let Ok(Some(Admission::Admitted(q, ticket))) = limiter.admit("small", Class::Mutation).await else {
        panic!("admitted")
    };
    assert_eq!((q.limit, q.remaining), (3, 2));
    ticket.give_back().await;
    let (admitted, quotas) = run(&limiter, "small", Class::Mutation, 5).await;
    assert_eq!(admitted, 3, "the given back token counts once");
    assert_eq!(quotas[4].retry_after, Some(10), "one token every ten seconds");
}

async fn one(limiter: &Limiter, org: &str) -> Result<Quota, Quota> {
    match limiter.admit(org, Class::Mutation).await {
        Ok(Some(Admission::Admitted(q, _))) => Ok(q),
        Ok(Some(Admission::Refused(q))) => Err(q),
        other => panic!("{}", other.err().unwrap_or_default()),
    }
}

/// Regression: with burst 2 at 0.01/s spent and the limits then deleted, mutations stayed
/// refused for minutes, naming the new limit, with a `Retry-After` unrelated to the wait.
#[tokio::test]
async fn raised_limits_apply_within_the_bound_and_retry_after_is_the_real_wait() {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(Manual(AtomicI64::new(1_000_000_000_000)));
    let slow = Rate { burst: 2, per_second: 0.01 };
    store.set_overrides("o", Overrides { mutation: Some(slow), read: None });
    let first = limiter(store.clone(), clock.clone());
    assert!(one(&first, "o").await.is_ok() && one(&first, "o").await.is_ok());
    let refused = one(&first, "o").await.expect_err("the third is over burst 2");
    assert_eq!((refused.limit, refused.retry_after), (2, Some(100)), "the next token in 100 s");
    assert_eq!(refused.describe(Class::Mutation), "2 mutation requests, refilled at one every 100 s");
    // Retry-After is the real wait: refused a second before it, admitted at it.
    clock.0.fetch_add(99_000_000, Ordering::SeqCst);
    assert!(one(&first, "o").await.is_err(), "still refused at 99 s");
    clock.0.fetch_add(1_000_000, Ordering::SeqCst);
    assert!(one(&first, "o").await.is_ok(), "admitted at 100 s");
    let refused = one(&first, "o").await.expect_err("empty again");
    assert_eq!(refused.retry_after, Some(100));

    // The operator deletes the item: within LIMITS_TTL the deployment's limits apply, the
    // two tokens owed are owed at 2 a second, and nothing waits for the old rate.
    store.clear_overrides("o");
    clock.0.fetch_add(LIMITS_TTL, Ordering::SeqCst);
    let admitted = one(&first, "o").await.expect("admitted under the raised limits");
    assert_eq!(admitted.limit, 50);
    assert!(admitted.remaining >= 47, "the debt converted, not the seconds: {admitted:?}");
    let (more, _) = run(&first, "o", Class::Mutation, 60).await;
    assert!((47..=49).contains(&more), "the rest of the new burst: {more}");

    // Lowered again: the new, smaller bucket is what is in force, on another container too.
    store.set_overrides("o", Overrides { mutation: Some(Rate { burst: 1, per_second: 0.5 }), read: None });
    let other = limiter(store.clone(), clock.clone());
    clock.0.fetch_add(LIMITS_TTL, Ordering::SeqCst);
    let refused = one(&other, "o").await.expect_err("still owing at the new, lower rate");
    assert_eq!(refused.limit, 1);
    let wait = refused.retry_after.unwrap_or_default();
    assert!(wait <= 2, "at most a burst owed at 0.5/s: {wait}");
    clock.0.fetch_add(wait as i64 * 1_000_000, Ordering::SeqCst);
    assert!(one(&other, "o").await.is_ok(), "admitted after Retry-After");
}

/// A container's first request for an organization reads its limits beside the take (one
/// write and one read, no round trip of the read's own); where the guess (the deployment's
/// rate) is wrong, the take is given back exactly: new containers never over-charge.
#[tokio::test]
async fn the_limits_are_read_beside_the_take_and_a_wrong_guess_costs_nothing() {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(Manual(AtomicI64::new(1_000_000_000_000)));
    let admitted = one(&limiter(store.clone(), clock.clone()), "plain").await.expect("admitted");
    assert_eq!(admitted.remaining, 49);
    assert_eq!((store.bucket_writes(), store.bucket_reads()), (1, 1), "a start and the limits read");

    store.set_overrides("tight", Overrides { mutation: Some(Rate { burst: 3, per_second: 0.01 }), read: None });
    let mut remaining = Vec::new();
    for _ in 0..3 {
        // A new container each time: each guesses the deployment's rate first.
        remaining.push(one(&limiter(store.clone(), clock.clone()), "tight").await.expect("admitted").remaining);
    }
    assert_eq!(remaining, vec![2, 1, 0], "each container charged exactly one token");
    let refused = one(&limiter(store.clone(), clock.clone()), "tight").await.expect_err("the burst of 3 is spent");
    assert_eq!(refused.limit, 3);
}

/// A bucket the table dropped (its TTL) while a container still remembers it is started again,
/// not refused.
#[tokio::test]
async fn a_bucket_gone_from_the_table_starts_full() {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(Manual(AtomicI64::new(1_000_000_000_000)));
    let limiter = limiter(store.clone(), clock.clone());
    run(&limiter, "o", Class::Mutation, 5).await;
    store.forget_buckets();
    clock.0.fetch_add(LEASE_TTL, Ordering::SeqCst);
    let (admitted, _) = run(&limiter, "o", Class::Mutation, 10).await;
    assert_eq!(admitted, 10);
}

#[test]
fn batches_grow_while_used_up_and_shrink_to_use() {
    let gcra = Gcra::new(Rate { burst: 200, per_second: 20.0 });
    let mut lease = Lease { tokens: 0, taken_at: 0, batch: 4, used: 4, ..Lease::default() };
    assert_eq!(next_batch(&lease, gcra, 500_000), 8);
    lease.batch = 16;
    lease.used = 16;
    assert_eq!(next_batch(&lease, gcra, 500_000), 20, "a tenth of the bucket at most");
    lease.tokens = 10;
    lease.used = 6;
    assert_eq!(next_batch(&lease, gcra, 2_000_000), 6, "what an expired lease used");
}
