//! The local worker: what the worker Lambda's SQS event source does in AWS, on moto's SQS. It
//! receives from the work queue (short polls, a tenth of a second apart), runs the worker function's own code on each
//! message, and deletes what succeeded; a failed message comes back after the queue's visibility
//! timeout, as in AWS.

use shared::context::CloudDeps;

use crate::events::Sqs;

/// How long a failed item waits before it is offered again (the deployed queue's is longer).
pub const LOCAL_VISIBILITY_S: u32 = 2;

/// Creates (or finds) the work queue in moto at `endpoint`; answers its URL.
pub async fn ensure_queue(endpoint: &str, name: &str) -> Result<String, String> {
    Sqs::new(endpoint).create_work_queue(name, LOCAL_VISIBILITY_S).await.map_err(|e| e.to_string())
}

/// Works the queue in the background for as long as the process runs.
pub fn start(deps: CloudDeps, endpoint: &str, url: String) {
    let sqs = Sqs::new(endpoint);
    tokio::spawn(async move {
        loop {
            // Short polls: moto's long poll holds the server up for every other caller.
            let messages = match sqs.receive(&url, 0).await {
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
            for (body, receipt) in messages {
                // Its own task, as its own invocation: a crash (a test's crash point) ends that
                // item alone, and the message comes back.
                let job = {
                    let deps = deps.clone();
                    tokio::spawn(async move { worker::work(&deps, &body).await })
                };
                let done = job.await.unwrap_or_else(|e| Err(format!("the worker died: {e}")));
                match done {
                    Ok(()) => {
                        if let Err(e) = sqs.delete(&url, &receipt).await {
                            tracing::warn!(error = %e, "worked item not deleted; it comes back and changes nothing");
                        }
                    }
                    Err(why) => tracing::info!(why, "work item failed; offered again after the visibility timeout"),
                }
            }
        }
    });
}
