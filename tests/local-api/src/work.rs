//! The local worker: what the worker Lambda's SQS event source does in AWS, on moto's SQS. It
//! receives from the work queue (short polls, a tenth of a second apart), runs the worker function's
//! own code on each message, as many at once as the worker's reserved concurrency would
//! (`WORKER_CONCURRENCY`, 4 by default), and settles each as the Lambda does (`worker::settle`):
//! deleted once done, put off for its backoff when it failed, to the dead-letter queue with its
//! reason when it cannot be read or failed its last try. A message whose worker died comes back
//! after the queue's visibility timeout, as in AWS.

use std::sync::Arc;

use shared::context::CloudDeps;
use shared::work::sqs::SqsQueue;

use crate::events::Sqs;

/// How long a message whose worker died waits before it is offered again (the deployed queue's is
/// longer; a failed item's backoff is the worker's own).
pub const LOCAL_VISIBILITY_S: u32 = 2;

/// The work queue and its dead-letter queue.
#[derive(Debug, Clone)]
pub struct Queues {
    pub work: String,
    pub dead_letters: String,
}

/// Creates (or finds) the work queue in moto at `endpoint`, with its dead-letter queue
/// (`<name>-dlq`, the deployed queue's redrive: five receipts).
pub async fn ensure_queue(endpoint: &str, name: &str) -> Result<Queues, String> {
    let sqs = Sqs::new(endpoint);
    let dead_letters = sqs.create_queue(&format!("{name}-dlq")).await.map_err(|e| e.to_string())?;
    let arn = sqs.queue_arn(&dead_letters).await.map_err(|e| e.to_string())?;
    let redrive = (arn.as_str(), shared::work::MAX_RECEIVES);
    let work = sqs.create_work_queue(name, LOCAL_VISIBILITY_S, redrive).await.map_err(|e| e.to_string())?;
    Ok(Queues { work, dead_letters })
}

/// The SDK's view of the queues (what requests enqueue to, and what the worker settles with).
pub fn sdk_queue(endpoint: &str, queues: &Queues) -> Result<SqsQueue, String> {
    let sdk = shared::aws::Sdk::from_env().map_err(|e| e.to_string())?;
    Ok(SqsQueue::new(sdk.sqs(Some(endpoint)), queues.work.clone()).with_dead_letters(Some(queues.dead_letters.clone())))
}

/// How many items the local worker works at once.
fn concurrency() -> usize {
    std::env::var("WORKER_CONCURRENCY").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(4)
}

/// Works the queue in the background for as long as the process runs.
pub fn start(deps: CloudDeps, endpoint: &str, queues: Queues) {
    start_with(deps, endpoint, queues, concurrency())
}

/// Works the queue in the background, `concurrency` items at once.
pub fn start_with(deps: CloudDeps, endpoint: &str, queues: Queues, concurrency: usize) {
    let sqs = Arc::new(Sqs::new(endpoint));
    let settler = match sdk_queue(endpoint, &queues) {
        Ok(queue) => Arc::new(queue),
        Err(e) => return tracing::error!(error = %e, "the local worker cannot reach SQS"),
    };
    let slots = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    tokio::spawn(async move {
        loop {
            let free = slots.available_permits().min(10);
            if free == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
            // Short polls: moto's long poll holds the server up for every other caller.
            let messages = match sqs.receive_counted(&queues.work, free).await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "work queue not read; trying again");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    continue;
                }
            };
            if messages.is_empty() {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            for (body, receipt, receives) in messages {
                let Ok(slot) = slots.clone().acquire_owned().await else { return };
                let (deps, sqs, settler, url) = (deps.clone(), sqs.clone(), settler.clone(), queues.work.clone());
                tokio::spawn(async move {
                    // Its own task, as its own invocation: a crash (a test's crash point) ends that
                    // item alone, and the message comes back after the visibility timeout.
                    let job = {
                        let (deps, body) = (deps.clone(), body.clone());
                        tokio::spawn(async move { worker::work(&deps, &body).await })
                    };
                    let Ok(worked) = job.await else {
                        tracing::info!("the worker died; the message comes back");
                        drop(slot);
                        return;
                    };
                    if worker::settle(Some(&settler), &body, &receipt, receives, worked).await {
                        if let Err(e) = sqs.delete(&url, &receipt).await {
                            tracing::warn!(error = %e, "worked item not deleted; it comes back and changes nothing");
                        }
                    }
                    drop(slot);
                });
            }
        }
    });
}
