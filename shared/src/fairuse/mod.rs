//! Fair use: every organization has two token buckets, one for reads and one for mutations, shared
//! by every container of every function through the table. A container leases tokens in batches
//! (one conditional update per batch, see [`Limiter`]) and spends them locally; a request is
//! charged when the organization it acts in is known and the caller is authorized there, and a
//! request refused for its own content (400, 403, 404, 412, 415) gets its token back. The answer
//! carries `RateLimit-*` headers; over the limit it is 429 with `Retry-After` and nothing is
//! written or asked of the provider. See docs/fair-use.md for the over-run bound.

mod gcra;
mod limiter;
mod meter;

pub use gcra::{Gcra, Level, Micros};
pub use limiter::{Admission, Limiter, Ticket, LEASE_TTL, LIMITS_TTL, MAX_BATCH_SHARE};
pub use meter::{Meter, METER};

use async_trait::async_trait;

use crate::error::{Error, Result};

/// The two buckets of an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    Read,
    Mutation,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Read => "read",
            Class::Mutation => "mutation",
        }
    }

    /// The class of a request by its method: `GET` reads, every other method mutates.
    pub fn of_method(method: &str) -> Class {
        if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") {
            Class::Read
        } else {
            Class::Mutation
        }
    }
}

/// A bucket's size and refill rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub burst: u32,
    pub per_second: f64,
}

/// Bounds every configured rate must keep (deployment parameters and per-organization overrides).
pub const MAX_BURST: u32 = 100_000;
pub const MAX_PER_SECOND: f64 = 10_000.0;
pub const MIN_PER_SECOND: f64 = 0.001;

impl Rate {
    /// A rate within the bounds, or why not.
    pub fn checked(burst: u32, per_second: f64) -> std::result::Result<Rate, String> {
        if !(1..=MAX_BURST).contains(&burst) {
            return Err(format!("a burst must be 1 to {MAX_BURST} requests, not {burst}"));
        }
        if !(MIN_PER_SECOND..=MAX_PER_SECOND).contains(&per_second) {
            return Err(format!(
                "a refill rate must be {MIN_PER_SECOND} to {MAX_PER_SECOND} per second, not {per_second}"
            ));
        }
        Ok(Rate { burst, per_second })
    }
}

/// The deployment's limits (every organization's, unless the table overrides them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub read: Rate,
    pub mutation: Rate,
}

impl Default for Limits {
    /// Reads a burst of 200 refilled at 20 a second; mutations a burst of 50 at 2 a second.
    fn default() -> Self {
        Limits { read: Rate { burst: 200, per_second: 20.0 }, mutation: Rate { burst: 50, per_second: 2.0 } }
    }
}

impl Limits {
    pub fn of(&self, class: Class) -> Rate {
        match class {
            Class::Read => self.read,
            Class::Mutation => self.mutation,
        }
    }

    /// `RATE_LIMIT_{READ,MUTATION}_{BURST,PER_SECOND}`, each defaulting to [`Limits::default`].
    pub fn from_env() -> Result<Limits> {
        let defaults = Limits::default();
        let rate = |class: &str, default: Rate| -> Result<Rate> {
            let var = |what: &str| std::env::var(format!("RATE_LIMIT_{class}_{what}")).ok();
            let burst = match var("BURST") {
                Some(v) => v.parse::<u32>().map_err(|_| Error::internal(format!("RATE_LIMIT_{class}_BURST: {v}")))?,
                None => default.burst,
            };
            let per_second = match var("PER_SECOND") {
                Some(v) => {
                    v.parse::<f64>().map_err(|_| Error::internal(format!("RATE_LIMIT_{class}_PER_SECOND: {v}")))?
                }
                None => default.per_second,
            };
            Rate::checked(burst, per_second).map_err(|e| Error::internal(format!("RATE_LIMIT_{class}: {e}")))
        };
        Ok(Limits { read: rate("READ", defaults.read)?, mutation: rate("MUTATION", defaults.mutation)? })
    }
}

/// An organization's own limits, where the table holds them (`LIMITS#<organization>`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Overrides {
    pub read: Option<Rate>,
    pub mutation: Option<Rate>,
}

impl Overrides {
    pub fn of(&self, class: Class) -> Option<Rate> {
        match class {
            Class::Read => self.read,
            Class::Mutation => self.mutation,
        }
    }
}

/// What a request is told about its bucket: the `RateLimit-*` headers, and the rate in force.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    /// The bucket's size.
    pub limit: u32,
    /// Its refill rate.
    pub per_second: f64,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset: u64,
    /// Seconds until a refused request may be tried again.
    pub retry_after: Option<u64>,
}

impl Quota {
    /// The headers of an answer charged to this bucket.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("ratelimit-limit", self.limit.to_string()),
            ("ratelimit-remaining", self.remaining.to_string()),
            ("ratelimit-reset", self.reset.to_string()),
        ];
        if let Some(after) = self.retry_after {
            headers.push(("retry-after", after.to_string()));
        }
        headers
    }

    /// The limit in force, in words: `50 mutation requests, refilled at 2 a second`.
    pub fn describe(&self, class: Class) -> String {
        let refill = if self.per_second >= 1.0 {
            format!("refilled at {} a second", self.per_second)
        } else {
            format!("refilled at one every {} s", (1.0 / self.per_second * 10.0).round() / 10.0)
        };
        let requests = if self.limit == 1 { "request" } else { "requests" };
        format!("{} {} {requests}, {refill}", self.limit, class.as_str())
    }
}

/// A bucket in the table: an organization's bucket of one class.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BucketKey {
    pub organization: String,
    pub class: Class,
}

/// Where the buckets live. Each call is one conditional write or one read; the adapter knows
/// nothing of rates (the arithmetic is [`Gcra`]'s). Every write records the `interval` of the
/// rate it was computed at, so a limiter at another rate can convert the bucket ([`Gcra::rescaled`]).
#[async_trait]
pub trait BucketStore: Send + Sync {
    /// Sets the bucket to `tat` at `interval` if it has none or its arrival time is not after `now`
    /// (a full bucket); false when it is not.
    async fn start(
        &self,
        key: &BucketKey,
        tat: Micros,
        interval: Micros,
        now: Micros,
    ) -> std::result::Result<bool, String>;
    /// Moves the bucket's arrival time `by` later if it lies in `[now, cap]` and was written at
    /// `interval` (or before intervals were recorded); answers the new time, or `None` when not.
    async fn advance(
        &self,
        key: &BucketKey,
        by: Micros,
        interval: Micros,
        now: Micros,
        cap: Micros,
    ) -> std::result::Result<Option<Micros>, String>;
    /// Moves the bucket's arrival time `by` earlier if it was written at `interval`: a take made
    /// at a rate that turned out not to be in force, undone exactly. False when it was not.
    async fn give_back(&self, key: &BucketKey, by: Micros, interval: Micros) -> std::result::Result<bool, String>;
    /// The bucket, if it has one.
    async fn peek(&self, key: &BucketKey) -> std::result::Result<Option<Level>, String>;
    /// Replaces the bucket read as `from` with `tat` at `interval` (the same debt at another rate);
    /// false when the bucket moved since it was read.
    async fn rescale(
        &self,
        key: &BucketKey,
        from: Level,
        tat: Micros,
        interval: Micros,
    ) -> std::result::Result<bool, String>;
    /// The organization's own limits (none set: the deployment's).
    async fn overrides(&self, organization: &str) -> std::result::Result<Overrides, String>;
}
