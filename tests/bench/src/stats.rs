//! Order statistics of measured durations.

use std::time::Duration;

fn sorted(samples: &[Duration]) -> Vec<Duration> {
    let mut v = samples.to_vec();
    v.sort();
    v
}

pub fn median(samples: &[Duration]) -> Duration {
    let v = sorted(samples);
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// The nearest-rank 99th percentile.
pub fn p99(samples: &[Duration]) -> Duration {
    let v = sorted(samples);
    let rank = (v.len() * 99).div_ceil(100).max(1);
    v.get(rank - 1).copied().unwrap_or_default()
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
