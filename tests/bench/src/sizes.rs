//! How big each section runs. The defaults give the published figures; `BENCH_SIZE=tiny` is the
//! run `make test` makes (every section to its end on a few events: proof that the bench works,
//! not figures). Each knob's own variable overrides either.

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn number(name: &str, full: usize, tiny: usize, is_tiny: bool) -> usize {
    var(name).and_then(|v| v.parse().ok()).unwrap_or(if is_tiny { tiny } else { full })
}

fn list(name: &str, full: &[usize], tiny: &[usize], is_tiny: bool) -> Vec<usize> {
    var(name).map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect()).unwrap_or_else(|| {
        if is_tiny {
            tiny.to_vec()
        } else {
            full.to_vec()
        }
    })
}

#[derive(Debug, Clone)]
pub struct Sizes {
    /// Cold starts per function (`BENCH_COLD`).
    pub cold: usize,
    /// Warm events to one process (`BENCH_WARM`).
    pub warm: usize,
    /// `get` requests through the handler and raw `GetItem`s (`BENCH_OVERHEAD`).
    pub overhead: usize,
    /// Items in the moto section's table (`BENCH_MOTO_ITEMS`).
    pub moto_items: usize,
    /// Transactions through the project's launcher and moto's own path (`BENCH_MOTO_TRANSACTIONS`,
    /// `BENCH_MOTO_FULL_COPY`).
    pub moto_transactions: usize,
    pub moto_full_copy: usize,
    /// Servers in the project `list` pages (`BENCH_SCALING`, comma-separated; the first is the base).
    pub scaling: Vec<usize>,
    /// Requests per fair-use case, back to back and paced (`BENCH_FAIRUSE`, `BENCH_FAIRUSE_PACED`).
    pub fairuse: usize,
    pub fairuse_paced: usize,
    /// Seconds and container counts of the over-run runs (`BENCH_OVERRUN_SECONDS`, `BENCH_OVERRUN`).
    pub overrun_seconds: usize,
    pub overrun_containers: Vec<usize>,
    /// Networks provisioned and deleted in the networks section (`BENCH_NETWORKS`).
    pub networks: usize,
    /// Identities (projects of 1 to 5 servers) each convergence sweep covers (`BENCH_CONVERGENCE`;
    /// `BENCH_CONVERGENCE_MEMBER_MAX` leaves the member's sweeps out above that many).
    pub convergence: Vec<usize>,
}

impl Sizes {
    pub fn from_env() -> Sizes {
        let tiny = var("BENCH_SIZE").is_some_and(|v| v == "tiny");
        Sizes {
            cold: number("BENCH_COLD", 20, 1, tiny),
            warm: number("BENCH_WARM", 50, 2, tiny),
            overhead: number("BENCH_OVERHEAD", 1000, 5, tiny),
            moto_items: number("BENCH_MOTO_ITEMS", 10_000, 50, tiny),
            moto_transactions: number("BENCH_MOTO_TRANSACTIONS", 10_000, 5, tiny),
            moto_full_copy: number("BENCH_MOTO_FULL_COPY", 100, 2, tiny),
            scaling: list("BENCH_SCALING", &[100, 1_000, 10_000], &[100, 150], tiny),
            fairuse: number("BENCH_FAIRUSE", 100, 10, tiny),
            fairuse_paced: number("BENCH_FAIRUSE_PACED", 20, 2, tiny),
            overrun_seconds: number("BENCH_OVERRUN_SECONDS", 3, 1, tiny),
            overrun_containers: list("BENCH_OVERRUN", &[1, 4, 16], &[2], tiny),
            networks: number("BENCH_NETWORKS", 20, 2, tiny),
            convergence: list("BENCH_CONVERGENCE", &[100, 1_000, 10_000], &[10], tiny),
        }
    }
}
