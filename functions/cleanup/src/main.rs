//! `cleanup` Lambda: see the crate's library.

use std::time::SystemTime;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let deps = cleanup::deps().await?;
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| async move {
        let left = event.context.deadline().duration_since(SystemTime::now()).unwrap_or_default();
        Ok::<_, lambda_runtime::Error>(
            cleanup::run(deps, left, event.payload.time.unwrap_or_else(chrono::Utc::now)).await?,
        )
    }))
    .await
}
