//! `cleanup` Lambda: run every minute by an EventBridge schedule (reserved concurrency 1), and on
//! demand. One bounded pass that makes the table and the provider agree; see
//! `shared::usecase::cleanup`.

use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{service_fn, LambdaEvent};

/// Work stops this long before the function's own deadline, so the run ends cleanly.
const MARGIN: Duration = Duration::from_secs(10);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    // Built once per container, outside the handler: clients, tokens and identities are reused.
    let needs = shared::context::Needs { keys: shared::context::Keys::None, warm_provider: true };
    let sdk = shared::aws::Sdk::from_env()?;
    let deps = shared::context::cloud_deps_on(&sdk, shared::context::store_from_env(&sdk)?, needs).await?;
    let bus = shared::context::event_bus_from_env(&sdk)?;
    let (deps, bus) = (&deps, &bus);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| async move {
        let left = event.context.deadline().duration_since(SystemTime::now()).unwrap_or_default();
        let deadline = Instant::now() + left.saturating_sub(MARGIN);
        let report = shared::usecase::cleanup::run(deps, bus, deadline).await?;
        Ok::<_, lambda_runtime::Error>(report)
    }))
    .await
}
