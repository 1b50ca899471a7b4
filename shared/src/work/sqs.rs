//! The work queue on SQS (moto's locally), with its dead-letter queue: what requests enqueue to,
//! and what the worker's runtime needs to put a failed message off (its visibility) or away (the
//! dead-letter queue, with the reason as a message attribute).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};

use super::{QueueError, WorkItem, WorkQueue};

/// Every SQS call's limit.
const TIMEOUT: Duration = Duration::from_secs(5);

pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
    dead_letter_url: Option<String>,
}

async fn answered<T, E>(call: impl std::future::Future<Output = Result<T, E>>) -> Result<T, QueueError>
where
    E: std::error::Error + 'static,
{
    match tokio::time::timeout(TIMEOUT, call).await {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(e)) => Err(QueueError(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())),
        Err(_) => Err(QueueError(format!("SQS did not answer within {} s", TIMEOUT.as_secs()))),
    }
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: String) -> Self {
        SqsQueue { client, url, dead_letter_url: None }
    }

    /// The queue's dead-letter queue, for the worker's runtime and the sweep's report.
    pub fn with_dead_letters(mut self, url: Option<String>) -> Self {
        self.dead_letter_url = url;
        self
    }

    /// Hides a received message for `delay` (a failed item's backoff) before it is offered again.
    pub async fn retry_later(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        let seconds = i32::try_from(delay.as_secs().min(43_200)).unwrap_or(43_200);
        let change = self.client.change_message_visibility().queue_url(&self.url).receipt_handle(receipt);
        answered(change.visibility_timeout(seconds).send()).await.map(drop)
    }

    /// Puts a message's body on the dead-letter queue with `reason` (the caller then lets the
    /// original go): what a reader of the dead letters sees first.
    pub async fn dead_letter(&self, body: &str, reason: &str) -> Result<(), QueueError> {
        let url = self.dead_letter_url.as_deref().ok_or_else(|| QueueError("no dead-letter queue is set".into()))?;
        let reason: String = reason.chars().take(1000).collect();
        let attribute = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(reason)
            .build()
            .map_err(|e| QueueError(e.to_string()))?;
        let send = self.client.send_message().queue_url(url).message_body(body).message_attributes("reason", attribute);
        answered(send.send()).await.map(drop)
    }
}

#[async_trait]
impl WorkQueue for SqsQueue {
    async fn enqueue(&self, item: &WorkItem) -> Result<(), QueueError> {
        self.enqueue_after(item, Duration::ZERO).await
    }

    async fn enqueue_after(&self, item: &WorkItem, delay: Duration) -> Result<(), QueueError> {
        let body = serde_json::to_string(item).map_err(|e| QueueError(e.to_string()))?;
        // SQS delays a message 15 minutes at the most.
        let delay = i32::try_from(delay.as_secs().min(900)).unwrap_or(900);
        answered(self.client.send_message().queue_url(&self.url).message_body(body).delay_seconds(delay).send())
            .await
            .map(drop)
    }

    async fn dead_letters(&self) -> Result<Option<u64>, QueueError> {
        let Some(url) = &self.dead_letter_url else { return Ok(None) };
        let ask = self.client.get_queue_attributes().queue_url(url);
        let out = answered(ask.attribute_names(QueueAttributeName::ApproximateNumberOfMessages).send()).await?;
        let count = out.attributes().and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages));
        Ok(count.and_then(|c| c.parse().ok()))
    }
}
