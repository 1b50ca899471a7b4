//! The work queue on SQS (moto's locally).

use async_trait::async_trait;

use super::{QueueError, WorkItem, WorkQueue};

pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: String) -> Self {
        SqsQueue { client, url }
    }
}

#[async_trait]
impl WorkQueue for SqsQueue {
    async fn enqueue(&self, item: &WorkItem) -> Result<(), QueueError> {
        self.enqueue_after(item, std::time::Duration::ZERO).await
    }

    async fn enqueue_after(&self, item: &WorkItem, delay: std::time::Duration) -> Result<(), QueueError> {
        let body = serde_json::to_string(item).map_err(|e| QueueError(e.to_string()))?;
        // SQS delays a message 15 minutes at the most.
        let delay = i32::try_from(delay.as_secs().min(900)).unwrap_or(900);
        let send = self.client.send_message().queue_url(&self.url).message_body(body).delay_seconds(delay).send();
        match tokio::time::timeout(std::time::Duration::from_secs(5), send).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(QueueError(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())),
            Err(_) => Err(QueueError("SQS did not answer within 5 s".into())),
        }
    }
}
