//! `cleanup` Lambda: run every minute by an EventBridge schedule (reserved concurrency 1), and on
//! demand. One bounded pass that makes the table and the provider agree (`shared::usecase::cleanup`).
//! With a work queue (`WORK_QUEUE_URL`) the sweep is planned, one sweep per schedule tick, and its
//! slices matched by the worker function; without one this function matches every region itself.
//! [`deps`] builds what it runs on once per container; [`run`] is one pass, as the Lambda and the
//! local API (`local-api cleanup`) both call it.

use std::time::{Duration, Instant};

use shared::context::{CloudDeps, Keys, Needs};
use shared::error::Result;
use shared::events::eventbridge::EventBridgeBus;
use shared::usecase::cleanup::fan_out::FanOut;
use shared::usecase::cleanup::Report;

/// Work stops this long before the function's own deadline, so the run ends cleanly.
pub const MARGIN: Duration = Duration::from_secs(10);

/// Every run calls the provider (init takes the identities' tokens), and completing a network's
/// provisioning reads its identity's sealed secrets.
pub const NEEDS: Needs = Needs { keys: Keys::Sealing, warm_provider: true, kubeconfigs: false };

/// What a run needs: the table and the provider, and the bus events are published to.
pub struct CleanupDeps {
    pub deps: CloudDeps,
    pub bus: EventBridgeBus,
    /// The sweep is fanned out on the work queue.
    pub fan_out: bool,
}

/// Built once per container, outside the handler: clients, tokens and identities are reused.
pub async fn deps() -> Result<CleanupDeps> {
    let sdk = shared::aws::Sdk::from_env()?;
    let deps = shared::context::cloud_deps_on(&sdk, shared::context::store_from_env(&sdk)?, NEEDS).await?;
    let bus = shared::context::event_bus_from_env(&sdk)?;
    Ok(CleanupDeps { deps, bus, fan_out: std::env::var("WORK_QUEUE_URL").is_ok() })
}

/// The sweep of a schedule tick: every run for the same minute plans the same sweep (EventBridge
/// may invoke twice for one tick; an on-demand run names its own minute).
pub fn sweep_of(tick: chrono::DateTime<chrono::Utc>) -> String {
    tick.format("%Y-%m-%dT%H:%MZ").to_string()
}

/// One pass for the schedule's `tick`, with `left` until the invocation's deadline.
pub async fn run(deps: &CleanupDeps, left: Duration, tick: chrono::DateTime<chrono::Utc>) -> Result<Report> {
    use shared::usecase::cleanup::{run, run_fanned_out};
    let deadline = Instant::now() + left.saturating_sub(MARGIN);
    let report = if deps.fan_out {
        let fan = FanOut::new(sweep_of(tick));
        run_fanned_out(&deps.deps, &deps.bus, deadline, &fan).await?
    } else {
        run(&deps.deps, &deps.bus, deadline).await?
    };
    report.emit_metrics();
    Ok(report)
}
