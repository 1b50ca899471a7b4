//! The token bucket as one number: the generic cell rate algorithm keeps, per bucket, the
//! theoretical arrival time (`tat`) of the next token: the instant at which the bucket would be
//! full again. Taking `n` tokens moves it `n` intervals later; a take is allowed while the bucket
//! would not have to hold more than `burst` tokens' worth of debt. One number means one
//! conditional update per take, with no read before it (see `Limiter`).
//!
//! The time a bucket owes is in its rate's intervals, so a bucket written at one rate is read at
//! another by converting the tokens it owes ([`Gcra::rescaled`]), never the seconds: an
//! organization whose limits are raised owes the same number of requests, now refilled faster.
//!
//! Times are microseconds since the epoch.

use super::Rate;

pub type Micros = i64;

/// A bucket as the table holds it: its arrival time and the interval of the rate that wrote it
/// (`None` for a bucket written before intervals were recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub tat: Micros,
    pub interval: Option<Micros>,
}

/// One bucket's arithmetic at a rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gcra {
    pub burst: u32,
    /// Microseconds between two refilled tokens.
    pub interval: Micros,
}

impl Gcra {
    pub fn new(rate: Rate) -> Self {
        let interval = (1_000_000.0 / rate.per_second).round().max(1.0) as Micros;
        Gcra { burst: rate.burst.max(1), interval }
    }

    /// Tokens refilled a second.
    pub fn per_second(&self) -> f64 {
        1_000_000.0 / self.interval as f64
    }

    /// The time `tokens` take to refill.
    pub fn span(&self, tokens: u32) -> Micros {
        self.interval.saturating_mul(Micros::from(tokens))
    }

    /// The arrival time of a bucket another rate wrote, in this rate's terms: the same number of
    /// tokens owed (rounded up, at most a burst). `None` when it needs no conversion: written at
    /// this rate, or full (owing nothing).
    pub fn rescaled(&self, now: Micros, level: Level) -> Option<Micros> {
        let from = level.interval.filter(|i| *i != self.interval && *i > 0)?;
        if level.tat <= now {
            return None;
        }
        let owed = ((level.tat - now + from - 1) / from).min(Micros::from(self.burst));
        Some(now + self.interval.saturating_mul(owed))
    }

    /// The latest `tat` from which `n` more tokens may still be taken at `now`.
    pub fn cap(&self, now: Micros, n: u32) -> Micros {
        now + self.span(self.burst.saturating_sub(n))
    }

    /// The `tat` after taking `n` tokens from a bucket that is full (its `tat` in the past).
    pub fn from_full(&self, now: Micros, n: u32) -> Micros {
        now + self.span(n)
    }

    /// Whole tokens left at `now` in a bucket at `tat`.
    pub fn available(&self, now: Micros, tat: Micros) -> u32 {
        let room = self.span(self.burst) - (tat.max(now) - now);
        (room.max(0) / self.interval).min(Micros::from(self.burst)) as u32
    }

    /// Whole seconds until the bucket at `tat` is full again.
    pub fn reset_seconds(&self, now: Micros, tat: Micros) -> u64 {
        seconds_up(tat - now)
    }

    /// Whole seconds (at least one) until one token is back in an empty bucket at `tat`.
    pub fn retry_after_seconds(&self, now: Micros, tat: Micros) -> u64 {
        seconds_up(tat - self.span(self.burst - 1) - now).max(1)
    }
}

fn seconds_up(micros: Micros) -> u64 {
    if micros <= 0 {
        return 0;
    }
    (micros as u64).div_ceil(1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Micros = 1_000_000;

    fn mutations() -> Gcra {
        Gcra::new(Rate { burst: 50, per_second: 2.0 })
    }

    #[test]
    fn a_full_bucket_holds_its_burst_and_refills_at_its_rate() {
        let g = mutations();
        assert_eq!(g.interval, S / 2);
        let now = 100 * S;
        assert_eq!(g.available(now, 0), 50, "an idle bucket is full, never fuller");
        let tat = g.from_full(now, 50);
        assert_eq!(g.available(now, tat), 0);
        assert_eq!(g.available(now + S, tat), 2, "two tokens a second");
        assert_eq!(g.reset_seconds(now, tat), 25, "full again after 50 tokens at 2/s");
        assert_eq!(g.retry_after_seconds(now, tat), 1, "the next token in half a second, said as 1");
    }

    #[test]
    fn a_take_is_allowed_while_the_debt_stays_within_the_burst() {
        let g = mutations();
        let now = 100 * S;
        let tat = g.from_full(now, 10);
        assert!(tat <= g.cap(now, 40), "40 more fit after 10");
        assert!(tat > g.cap(now, 41), "41 more do not");
        assert_eq!(g.available(now, tat), 40);
    }

    /// Regression: a bucket emptied at 0.01/s kept its 200 s of debt when the limits were raised,
    /// so the organization stayed throttled for minutes.
    #[test]
    fn a_bucket_written_at_another_rate_owes_the_same_tokens() {
        let slow = Gcra::new(Rate { burst: 2, per_second: 0.01 });
        let now = 1_000 * S;
        let tat = slow.from_full(now, 2);
        assert_eq!(tat - now, 200 * S, "two tokens at one per 100 s");
        let level = Level { tat, interval: Some(slow.interval) };
        let fast = Gcra::new(Rate { burst: 100_000, per_second: 1_000.0 });
        let converted = fast.rescaled(now + 60 * S, level).unwrap_or_default();
        assert_eq!(converted - (now + 60 * S), 2 * fast.interval, "two tokens owed, at the new rate");
        assert_eq!(fast.available(now + 60 * S, converted), 99_998);
        let small = Gcra::new(Rate { burst: 1, per_second: 0.5 });
        assert_eq!(small.rescaled(now, level), Some(now + 2 * S), "at most a burst owed");
        assert_eq!(slow.rescaled(now, level), None, "the same rate needs nothing");
        assert_eq!(fast.rescaled(tat + 1, level), None, "a full bucket owes nothing");
        assert_eq!(fast.rescaled(now, Level { tat, interval: None }), None, "written before intervals");
    }

    #[test]
    fn slow_rates_wait_whole_seconds() {
        let g = Gcra::new(Rate { burst: 1, per_second: 0.1 });
        let now = 10 * S;
        let tat = g.from_full(now, 1);
        assert_eq!((g.available(now, tat), g.retry_after_seconds(now, tat)), (0, 10));
        assert_eq!(g.available(now + 10 * S, tat), 1);
    }
}
