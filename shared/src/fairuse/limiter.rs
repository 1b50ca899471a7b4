//! Leasing tokens from the shared buckets. A container takes a batch of tokens with one
//! conditional update of the bucket's arrival time and spends them locally; the batch doubles
//! while leases are used up within [`LEASE_TTL`] and shrinks to what was used otherwise, never
//! above a tenth of the bucket ([`MAX_BATCH_SHARE`]). Every leased token was charged to the shared
//! bucket when it was leased, so the long-run rate never exceeds the refill rate; what a lease can
//! add to a window is the unspent tokens containers hold at its start (at most one batch each, for
//! at most [`LEASE_TTL`]): see docs/fair-use.md. A container that finds a bucket empty refuses
//! locally until the next token is due, without asking the table again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::gcra::{Gcra, Micros};
use super::{BucketKey, BucketStore, Class, Limits, Overrides, Quota, Rate};
use crate::clock::Clock;

/// How long leased tokens may be spent; what is left then is dropped.
pub const LEASE_TTL: Micros = 1_000_000;
/// A lease takes at most a tenth of the bucket.
pub const MAX_BATCH_SHARE: u32 = 10;
/// How long a container trusts an organization's overrides before reading them again.
const OVERRIDES_TTL: Micros = 60_000_000;
/// Buckets a container tracks before it forgets idle ones.
const MAX_TRACKED: usize = 4096;

#[derive(Debug, Default)]
struct Lease {
    /// Leased and not yet spent.
    tokens: u32,
    taken_at: Micros,
    batch: u32,
    /// Spent from the current lease.
    used: u32,
    /// The bucket's arrival time as the last lease saw it.
    tat: Micros,
    /// The bucket was empty: refuse without asking until then.
    blocked_until: Micros,
}

type Cell = Arc<tokio::sync::Mutex<Lease>>;

/// A spent token, which a request refused for its own content gives back (to the local lease it
/// came from, at no cost).
pub struct Ticket {
    cell: Cell,
    taken_at: Micros,
}

impl Ticket {
    pub async fn give_back(self) {
        let mut lease = self.cell.lock().await;
        if lease.taken_at == self.taken_at && lease.used > 0 {
            lease.used -= 1;
            lease.tokens += 1;
        }
    }
}

pub enum Admission {
    Admitted(Quota, Ticket),
    Refused(Quota),
}

pub struct Limiter {
    /// `None`: fair use is off (the cleanup function, unit tests).
    store: Option<Arc<dyn BucketStore>>,
    limits: Limits,
    clock: Arc<dyn Clock>,
    cells: Mutex<HashMap<BucketKey, Cell>>,
    overrides: Mutex<HashMap<String, (Micros, Overrides)>>,
}

enum Taken {
    Some { n: u32, tat: Micros },
    Empty { tat: Micros },
}

impl Limiter {
    pub fn new(store: Arc<dyn BucketStore>, limits: Limits, clock: Arc<dyn Clock>) -> Self {
        Limiter { store: Some(store), limits, clock, cells: Mutex::default(), overrides: Mutex::default() }
    }

    /// A limiter that admits everything and reports nothing.
    pub fn off() -> Self {
        Limiter {
            store: None,
            limits: Limits::default(),
            clock: Arc::new(crate::clock::SystemClock),
            cells: Mutex::default(),
            overrides: Mutex::default(),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn now(&self) -> Micros {
        self.clock.now().timestamp_micros()
    }

    /// Charges one request to the organization's bucket of `class`: `None` when fair use is off.
    pub async fn admit(&self, organization: &str, class: Class) -> Result<Option<Admission>, String> {
        let Some(store) = &self.store else { return Ok(None) };
        let gcra = Gcra::new(self.rate(store.as_ref(), organization, class).await?);
        let key = BucketKey { organization: organization.to_owned(), class };
        let cell = self.cell(&key);
        let mut lease = cell.lock().await;
        let now = self.now();
        if lease.tokens > 0 && now < lease.taken_at + LEASE_TTL {
            return Ok(Some(spend(&cell, &mut lease, gcra, now)));
        }
        if now < lease.blocked_until {
            return Ok(Some(Admission::Refused(refusal(gcra, now, lease.tat, lease.blocked_until))));
        }
        let wanted = next_batch(&lease, gcra, now);
        match take(store.as_ref(), &key, gcra, wanted, now, lease.tat).await? {
            Taken::Some { n, tat } => {
                *lease = Lease { tokens: n, taken_at: now, batch: n, used: 0, tat, blocked_until: 0 };
                Ok(Some(spend(&cell, &mut lease, gcra, now)))
            }
            Taken::Empty { tat } => {
                lease.tokens = 0;
                lease.tat = tat;
                lease.blocked_until = tat - gcra.interval * Micros::from(gcra.burst - 1);
                Ok(Some(Admission::Refused(refusal(gcra, now, tat, lease.blocked_until))))
            }
        }
    }

    async fn rate(&self, store: &dyn BucketStore, organization: &str, class: Class) -> Result<Rate, String> {
        let now = self.now();
        let cached = self.overrides.lock().map_err(|_| "overrides cache poisoned")?.get(organization).copied();
        let overrides = match cached {
            Some((at, overrides)) if now - at < OVERRIDES_TTL => overrides,
            _ => {
                let overrides = store.overrides(organization).await?;
                let mut cache = self.overrides.lock().map_err(|_| "overrides cache poisoned")?;
                if cache.len() >= MAX_TRACKED {
                    cache.retain(|_, (at, _)| now - *at < OVERRIDES_TTL);
                }
                cache.insert(organization.to_owned(), (now, overrides));
                overrides
            }
        };
        Ok(overrides.of(class).unwrap_or(self.limits.of(class)))
    }

    fn cell(&self, key: &BucketKey) -> Cell {
        let Ok(mut cells) = self.cells.lock() else { return Cell::default() };
        if let Some(cell) = cells.get(key) {
            return cell.clone();
        }
        if cells.len() >= MAX_TRACKED {
            let now = self.now();
            cells.retain(|_, cell| {
                cell.try_lock().map_or(true, |lease| now < lease.taken_at + LEASE_TTL || now < lease.blocked_until)
            });
        }
        cells.entry(key.clone()).or_default().clone()
    }
}

fn spend(cell: &Cell, lease: &mut Lease, gcra: Gcra, now: Micros) -> Admission {
    lease.tokens -= 1;
    lease.used += 1;
    let quota = Quota {
        limit: gcra.burst,
        remaining: gcra.available(now, lease.tat).saturating_add(lease.tokens).min(gcra.burst),
        reset: gcra.reset_seconds(now, lease.tat),
        retry_after: None,
    };
    Admission::Admitted(quota, Ticket { cell: cell.clone(), taken_at: lease.taken_at })
}

fn refusal(gcra: Gcra, now: Micros, tat: Micros, until: Micros) -> Quota {
    let after = (until - now).max(1) as u64;
    Quota {
        limit: gcra.burst,
        remaining: 0,
        reset: gcra.reset_seconds(now, tat),
        retry_after: Some(after.div_ceil(1_000_000).max(1)),
    }
}

/// The next lease's size: double the last one when it was used up within its lifetime, else what
/// was used of it; between one and a tenth of the bucket.
fn next_batch(lease: &Lease, gcra: Gcra, now: Micros) -> u32 {
    let max = (gcra.burst / MAX_BATCH_SHARE).max(1);
    let used_up = lease.tokens == 0 && lease.used > 0 && now - lease.taken_at < LEASE_TTL;
    if used_up {
        (lease.batch * 2).clamp(1, max)
    } else {
        lease.used.clamp(1, max)
    }
}

/// Takes `n` tokens (fewer when fewer are left) with one conditional update in the usual case. A
/// bucket's arrival time never moves back, so one last seen at or after `now` cannot be full: it is
/// advanced; one last seen before it may be, and is started afresh first. When neither fits, a
/// read learns what is left.
async fn take(
    store: &dyn BucketStore,
    key: &BucketKey,
    gcra: Gcra,
    n: u32,
    now: Micros,
    last_seen: Micros,
) -> Result<Taken, String> {
    if last_seen < now {
        let tat = gcra.from_full(now, n);
        if store.start(key, tat, now).await? {
            return Ok(Taken::Some { n, tat });
        }
    }
    if let Some(tat) = store.advance(key, gcra.interval * Micros::from(n), now, gcra.cap(now, n)).await? {
        return Ok(Taken::Some { n, tat });
    }
    let tat = store.peek(key).await?.unwrap_or(now).max(now);
    let left = gcra.available(now, tat).min(n);
    if left > 0 {
        let by = gcra.interval * Micros::from(left);
        if let Some(tat) = store.advance(key, by, now, gcra.cap(now, left)).await? {
            return Ok(Taken::Some { n: left, tat });
        }
    }
    Ok(Taken::Empty { tat })
}

#[cfg(test)]
mod tests {
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
        let limits =
            Limits { read: Rate { burst: 200, per_second: 20.0 }, mutation: Rate { burst: 50, per_second: 2.0 } };
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

    #[test]
    fn batches_grow_while_used_up_and_shrink_to_use() {
        let gcra = Gcra::new(Rate { burst: 200, per_second: 20.0 });
        let mut lease = Lease { tokens: 0, taken_at: 0, batch: 4, used: 4, tat: 0, blocked_until: 0 };
        assert_eq!(next_batch(&lease, gcra, 500_000), 8);
        lease.batch = 16;
        lease.used = 16;
        assert_eq!(next_batch(&lease, gcra, 500_000), 20, "a tenth of the bucket at most");
        lease.tokens = 10;
        lease.used = 6;
        assert_eq!(next_batch(&lease, gcra, 2_000_000), 6, "what an expired lease used");
    }
}
