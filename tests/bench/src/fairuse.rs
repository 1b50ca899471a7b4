//! The fair-use limiter on moto: the DynamoDB calls it makes per 100 requests (the batch adapts to
//! the rate), the time it adds to a warm request, and how far N warm containers sharing one bucket
//! get past the limit in a burst (the over-run docs/fair-use.md bounds).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use shared::clock::SystemClock;
use shared::fairuse::{
    Admission, BucketKey, BucketStore, Class, Level, Limiter, Limits, Micros, Overrides, MAX_BATCH_SHARE,
};
use shared::store::dynamodb::DynamoStore;

use crate::stats::{median, ms, p99};

/// The table's bucket port, counting what it is asked.
struct Counted {
    inner: DynamoStore,
    writes: AtomicU64,
    reads: AtomicU64,
}

#[async_trait]
impl BucketStore for Counted {
    async fn start(&self, key: &BucketKey, tat: Micros, interval: Micros, now: Micros) -> Result<bool, String> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.inner.start(key, tat, interval, now).await
    }
    async fn advance(
        &self,
        key: &BucketKey,
        by: Micros,
        interval: Micros,
        now: Micros,
        cap: Micros,
    ) -> Result<Option<Micros>, String> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.inner.advance(key, by, interval, now, cap).await
    }
    async fn give_back(&self, key: &BucketKey, by: Micros, interval: Micros) -> Result<bool, String> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.inner.give_back(key, by, interval).await
    }
    async fn peek(&self, key: &BucketKey) -> Result<Option<Level>, String> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.peek(key).await
    }
    async fn rescale(&self, key: &BucketKey, from: Level, tat: Micros, interval: Micros) -> Result<bool, String> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.inner.rescale(key, from, tat, interval).await
    }
    async fn overrides(&self, organization: &str) -> Result<Overrides, String> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.overrides(organization).await
    }
}

async fn table() -> DynamoStore {
    let client = integration_tests::stack::moto_client();
    let table = format!("fairuse-{}", uuid::Uuid::new_v4().simple());
    shared::store::dynamodb::create_table(&client, &table).await.unwrap_or_else(|e| panic!("{e}"));
    DynamoStore::new(client, table)
}

fn counted(inner: DynamoStore) -> Arc<Counted> {
    Arc::new(Counted { inner, writes: AtomicU64::new(0), reads: AtomicU64::new(0) })
}

/// `n` requests of one organization, one every `gap`, spread over `containers`: calls per 100
/// requests, admitted, and the time each admission took.
async fn run(class: Class, n: usize, gap: Duration, containers: usize) -> (f64, f64, usize, Vec<Duration>) {
    let store = counted(table().await);
    let limiters: Vec<Limiter> =
        (0..containers).map(|_| Limiter::new(store.clone(), Limits::default(), Arc::new(SystemClock))).collect();
    let org = format!("org-{}", uuid::Uuid::new_v4().simple());
    let (mut admitted, mut took) = (0, Vec::new());
    for i in 0..n {
        let started = Instant::now();
        let answer = limiters[i % containers].admit(&org, class).await;
        took.push(started.elapsed());
        if matches!(answer, Ok(Some(Admission::Admitted(..)))) {
            admitted += 1;
        }
        tokio::time::sleep(gap).await;
    }
    let per_100 = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64 * 100.0 / n as f64;
    (per_100(&store.writes), per_100(&store.reads), admitted, took)
}

/// `containers` containers sending mutations of one organization as fast as they can for `secs`:
/// admitted, against what the bucket allows in that time.
async fn overrun(containers: usize, secs: f64) -> (usize, f64) {
    let store = counted(table().await);
    let org = format!("org-{}", uuid::Uuid::new_v4().simple());
    let limits = Limits::default();
    let started = Instant::now();
    let tasks = (0..containers).map(|_| {
        let store = store.clone();
        let org = org.clone();
        tokio::spawn(async move {
            let limiter = Limiter::new(store, limits, Arc::new(SystemClock));
            let mut admitted = 0;
            while started.elapsed().as_secs_f64() < secs {
                match limiter.admit(&org, Class::Mutation).await {
                    Ok(Some(Admission::Admitted(..))) => admitted += 1,
                    _ => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
            admitted
        })
    });
    let admitted: usize = futures::future::join_all(tasks).await.into_iter().map(|r| r.unwrap_or(0)).sum();
    let allowed = f64::from(limits.mutation.burst) + limits.mutation.per_second * started.elapsed().as_secs_f64();
    (admitted, allowed)
}

pub async fn section(sizes: &crate::sizes::Sizes) -> String {
    let mut out = String::from(
        "## Fair use (limiter on moto)\n\n\
         DynamoDB calls the limiter makes per 100 requests of one organization (conditional updates; \
         reads: an organization's limits every 10 s per container, beside a take; a read when a bucket runs dry), and the time \
         an admission takes (the added latency of a warm request).\n\n\
         | class | pace | containers | updates /100 | reads /100 | admitted | admit median ms | admit p99 ms |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let cases = [
        (Class::Read, "back to back", Duration::ZERO, 1),
        (Class::Read, "back to back", Duration::ZERO, 4),
        (Class::Read, "20/s", Duration::from_millis(50), 1),
        (Class::Read, "2/s", Duration::from_millis(500), 1),
        (Class::Mutation, "back to back", Duration::ZERO, 1),
        (Class::Mutation, "2/s", Duration::from_millis(500), 1),
    ];
    for (class, pace, gap, containers) in cases {
        let n = if gap >= Duration::from_millis(500) { sizes.fairuse_paced } else { sizes.fairuse };
        let (writes, reads, admitted, took) = run(class, n, gap, containers).await;
        out += &format!(
            "| {} | {pace} | {containers} | {writes:.0} | {reads:.0} | {admitted}/{n} | {:.2} | {:.2} |\n",
            class.as_str(),
            ms(median(&took)),
            ms(p99(&took))
        );
    }
    let batch = (Limits::default().mutation.burst / MAX_BATCH_SHARE).max(1);
    out += &format!(
        "\nOver-run: containers sending mutations of one organization as fast as they can for {} s \
         (bucket 50, 2/s; a lease holds at most {batch}; bound: containers x {batch}).\n\n\
         | containers | admitted | bucket allows | over-run | bound |\n| ---: | ---: | ---: | ---: | ---: |\n",
        sizes.overrun_seconds
    );
    for containers in sizes.overrun_containers.iter().copied() {
        let (admitted, allowed) = overrun(containers, sizes.overrun_seconds as f64).await;
        out += &format!(
            "| {containers} | {admitted} | {allowed:.1} | {:.1} | {} |\n",
            admitted as f64 - allowed,
            containers * batch as usize
        );
    }
    out
}
