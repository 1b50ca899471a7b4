//! `worker` Lambda: see the crate's library.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let deps = worker::deps().await?;
    let queue = worker::runtime_queue()?;
    let (deps, queue) = (&deps, queue.as_ref());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let mut response = SqsBatchResponse::default();
        for message in event.payload.records {
            let body = message.body.unwrap_or_default();
            let receipt = message.receipt_handle.unwrap_or_default();
            let receives = message.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1);
            let worked = worker::work(deps, &body).await;
            if !worker::settle(queue, &body, &receipt, receives, worked).await {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message.message_id.unwrap_or_default();
                response.batch_item_failures.push(failure);
            }
        }
        Ok::<_, lambda_runtime::Error>(response)
    }))
    .await
}
