//! Leasing tokens from the shared buckets. A container takes a batch of tokens with one
//! conditional update of the bucket's arrival time and spends them locally; the batch doubles
//! while leases are used up within [`LEASE_TTL`] and shrinks to what was used otherwise, never
//! above a tenth of the bucket ([`MAX_BATCH_SHARE`]). Every leased token was charged to the shared
//! bucket when it was leased, so the long-run rate never exceeds the refill rate; what a lease can
//! add to a window is the unspent tokens containers hold at its start (at most one batch each, for
//! at most [`LEASE_TTL`]): see docs/fair-use.md. A container that finds a bucket empty refuses
//! locally until the next token is due, without asking the table again.
//!
//! Limits change (an operator writes or deletes `LIMITS#<organization>`) within a bound: a
//! container reads an organization's limits again after [`LIMITS_TTL`], drops what it leased or
//! refused under the old ones, and converts a bucket written at the old rate into the tokens it
//! owes at the new one. So a request made [`LIMITS_TTL`] + [`LEASE_TTL`] after the change is
//! metered by the new limits, on every container.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::gcra::{Gcra, Micros};
use super::{BucketKey, BucketStore, Class, Limits, Overrides, Quota, Rate};
use crate::clock::Clock;

/// How long leased tokens may be spent; what is left then is dropped.
pub const LEASE_TTL: Micros = 1_000_000;
/// A lease takes at most a tenth of the bucket.
pub const MAX_BATCH_SHARE: u32 = 10;
/// How long a container trusts an organization's limits before reading them again: the bound on
/// how late a change of limits takes effect (plus [`LEASE_TTL`]).
pub const LIMITS_TTL: Micros = 10_000_000;
/// Reads and writes a take tries when other containers move the bucket between them.
const CONTENDED: usize = 3;
/// Buckets a container tracks before it forgets idle ones.
const MAX_TRACKED: usize = 4096;

#[derive(Debug, Default)]
struct Lease {
    /// The rate this lease and its refusals were computed at: another rate starts afresh.
    gcra: Option<Gcra>,
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
        let store = store.as_ref();
        let key = BucketKey { organization: organization.to_owned(), class };
        let cell = self.cell(&key);
        let mut lease = cell.lock().await;
        let now = self.now();
        let (mut rate, mut fresh) = self.known_rate(organization, class, now);
        // Answered from the lease: a leased token, or a refusal until the next token is due.
        if lease.gcra == Some(Gcra::new(rate)) {
            let gcra = Gcra::new(rate);
            if lease.tokens > 0 && now < lease.taken_at + LEASE_TTL {
                return Ok(Some(spend(&cell, &mut lease, gcra, now)));
            }
            if now < lease.blocked_until {
                if fresh {
                    return Ok(Some(Admission::Refused(refusal(gcra, now, lease.tat, lease.blocked_until))));
                }
                // A refusal outlives the limits it was decided under only until they are read again.
                rate = self.read_rate(store, organization, class, now).await?;
                fresh = true;
                if Gcra::new(rate) == gcra {
                    return Ok(Some(Admission::Refused(refusal(gcra, now, lease.tat, lease.blocked_until))));
                }
            }
        }
        if fresh {
            return self.take_lease(store, &key, &cell, &mut lease, Gcra::new(rate), now).await.map(Some);
        }
        // The limits are due for a read. It runs beside a quick take at the rate last known (the
        // deployment's, for an organization this container has not seen yet), which is almost
        // always the rate in force: then the read costs no round trip of its own. A quick take only
        // starts a full bucket or advances one written at that rate (never a conversion), so when
        // the rate read differs it is given back exactly, and the request is metered at the rate
        // read.
        let guess = Gcra::new(rate);
        if lease.gcra != Some(guess) {
            *lease = Lease { gcra: Some(guess), tat: lease.tat, ..Lease::default() };
        }
        let wanted = next_batch(&lease, guess, now);
        let (read, quick) = tokio::join!(
            self.read_rate(store, organization, class, now),
            quick_take(store, &key, guess, wanted, now, lease.tat)
        );
        let in_force = read?;
        match quick? {
            Some((n, tat)) if in_force == rate => {
                *lease =
                    Lease { gcra: Some(guess), tokens: n, taken_at: now, batch: n, used: 0, tat, blocked_until: 0 };
                return Ok(Some(spend(&cell, &mut lease, guess, now)));
            }
            Some((n, _)) => {
                store.give_back(&key, guess.span(n), guess.interval).await?;
            }
            None => {}
        }
        self.take_lease(store, &key, &cell, &mut lease, Gcra::new(in_force), self.now()).await.map(Some)
    }

    /// A new lease from the bucket at `gcra`, and this request's token from it (or the refusal).
    async fn take_lease(
        &self,
        store: &dyn BucketStore,
        key: &BucketKey,
        cell: &Cell,
        lease: &mut Lease,
        gcra: Gcra,
        now: Micros,
    ) -> Result<Admission, String> {
        if lease.gcra != Some(gcra) {
            // New limits (or a first request): tokens leased and refusals decided under the old
            // ones no longer hold. The leased tokens were charged to the bucket; they lapse as
            // an expired lease's do.
            *lease = Lease { gcra: Some(gcra), tat: lease.tat, ..Lease::default() };
        }
        let wanted = next_batch(lease, gcra, now);
        match take(store, key, gcra, wanted, now, lease.tat).await? {
            Taken::Some { n, tat } => {
                *lease = Lease { gcra: Some(gcra), tokens: n, taken_at: now, batch: n, used: 0, tat, blocked_until: 0 };
                Ok(spend(cell, lease, gcra, now))
            }
            Taken::Empty { tat } => {
                lease.tokens = 0;
                lease.tat = tat;
                lease.blocked_until = tat - gcra.interval * Micros::from(gcra.burst - 1);
                Ok(Admission::Refused(refusal(gcra, now, tat, lease.blocked_until)))
            }
        }
    }

    /// The organization's rate of `class` as this container last read it (the deployment's when
    /// it has not), and whether that read is younger than [`LIMITS_TTL`].
    fn known_rate(&self, organization: &str, class: Class, now: Micros) -> (Rate, bool) {
        let cached = self.overrides.lock().ok().and_then(|cache| cache.get(organization).copied());
        match cached {
            Some((at, overrides)) => (overrides.of(class).unwrap_or(self.limits.of(class)), now - at < LIMITS_TTL),
            None => (self.limits.of(class), false),
        }
    }

    /// Reads the organization's limits from the table (and remembers them): its rate of `class`.
    async fn read_rate(
        &self,
        store: &dyn BucketStore,
        organization: &str,
        class: Class,
        now: Micros,
    ) -> Result<Rate, String> {
        let overrides = store.overrides(organization).await?;
        let mut cache = self.overrides.lock().map_err(|_| "overrides cache poisoned")?;
        if cache.len() >= MAX_TRACKED {
            cache.retain(|_, (at, _)| now - *at < LIMITS_TTL);
        }
        cache.insert(organization.to_owned(), (now, overrides));
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
        per_second: gcra.per_second(),
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
        per_second: gcra.per_second(),
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

/// Takes `n` tokens with one conditional write where the bucket allows it: a bucket last seen
/// before `now` may be full and is started afresh, one seen at or after it is advanced. `None` when
/// neither fits (the bucket is low, or was written at another rate).
async fn quick_take(
    store: &dyn BucketStore,
    key: &BucketKey,
    gcra: Gcra,
    n: u32,
    now: Micros,
    last_seen: Micros,
) -> Result<Option<(u32, Micros)>, String> {
    if last_seen <= now {
        if let Some(Taken::Some { n, tat }) = start(store, key, gcra, n, now).await? {
            return Ok(Some((n, tat)));
        }
    }
    Ok(store.advance(key, gcra.span(n), gcra.interval, now, gcra.cap(now, n)).await?.map(|tat| (n, tat)))
}

/// Takes `n` tokens (fewer when fewer are left) with one conditional write in the usual case
/// ([`quick_take`]). When that does not fit, a read learns the bucket's level (converting a bucket
/// another rate wrote) and what is left is taken.
async fn take(
    store: &dyn BucketStore,
    key: &BucketKey,
    gcra: Gcra,
    n: u32,
    now: Micros,
    last_seen: Micros,
) -> Result<Taken, String> {
    if let Some((n, tat)) = quick_take(store, key, gcra, n, now, last_seen).await? {
        return Ok(Taken::Some { n, tat });
    }
    for _ in 0..CONTENDED {
        let level = store.peek(key).await?.filter(|level| level.tat > now);
        let tat = match level {
            // Gone (its TTL) or full: start it, unless another container just did.
            None => match start(store, key, gcra, n, now).await? {
                Some(taken) => return Ok(taken),
                None => continue,
            },
            Some(level) => match gcra.rescaled(now, level) {
                Some(tat) if store.rescale(key, level, tat, gcra.interval).await? => tat,
                Some(_) => continue,
                None => level.tat,
            },
        };
        let left = gcra.available(now, tat).min(n);
        if left == 0 {
            return Ok(Taken::Empty { tat });
        }
        if let Some(tat) = store.advance(key, gcra.span(left), gcra.interval, now, gcra.cap(now, left)).await? {
            return Ok(Taken::Some { n: left, tat });
        }
    }
    // Other containers moved the bucket at every step: refuse for one interval, then look again.
    Ok(Taken::Empty { tat: now + gcra.span(gcra.burst) })
}

/// Starts a full bucket (or one the table no longer holds) with `n` tokens taken.
async fn start(
    store: &dyn BucketStore,
    key: &BucketKey,
    gcra: Gcra,
    n: u32,
    now: Micros,
) -> Result<Option<Taken>, String> {
    let tat = gcra.from_full(now, n);
    Ok(store.start(key, tat, gcra.interval, now).await?.then_some(Taken::Some { n, tat }))
}

#[cfg(test)]
#[path = "limiter_tests.rs"]
mod tests;
