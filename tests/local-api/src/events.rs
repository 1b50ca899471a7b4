//! The local event plumbing: the EventBridge bus in moto, an SQS queue, and a rule sending every
//! server event to it, so anyone can watch events with any SQS client. SQS is spoken with its JSON
//! protocol over plain HTTP (moto checks no signature), so no SQS SDK is built for this.

use serde_json::{json, Value};

type Fallible<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// An SQS queue in moto.
pub struct Sqs {
    http: reqwest::Client,
    endpoint: String,
}

impl Sqs {
    pub fn new(endpoint: &str) -> Self {
        // reqwest is built without a default crypto provider: the process's is ring.
        shared::aws::install_tls_provider();
        Sqs { http: reqwest::Client::new(), endpoint: endpoint.trim_end_matches('/').to_owned() }
    }

    async fn call(&self, operation: &str, body: Value) -> Fallible<Value> {
        let response = self
            .http
            .post(&self.endpoint)
            .header("x-amz-target", format!("AmazonSQS.{operation}"))
            .header("content-type", "application/x-amz-json-1.0")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(body.to_string())
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            return Err(format!("SQS {operation}: {status} {text}").into());
        }
        Ok(if text.is_empty() { json!({}) } else { serde_json::from_str(&text)? })
    }

    pub async fn create_queue(&self, name: &str) -> Fallible<String> {
        let out = self.call("CreateQueue", json!({"QueueName": name})).await?;
        out["QueueUrl"].as_str().map(str::to_owned).ok_or_else(|| "CreateQueue answered no QueueUrl".into())
    }

    /// A queue whose messages come back `visibility_s` seconds after a receive that did not delete
    /// them, and go to the dead-letter queue `(arn, receipts)` after that many receipts.
    pub async fn create_work_queue(&self, name: &str, visibility_s: u32, redrive: (&str, u32)) -> Fallible<String> {
        let policy = json!({"deadLetterTargetArn": redrive.0, "maxReceiveCount": redrive.1}).to_string();
        let attributes = json!({"VisibilityTimeout": visibility_s.to_string(), "RedrivePolicy": policy});
        let out = self.call("CreateQueue", json!({"QueueName": name, "Attributes": attributes})).await?;
        out["QueueUrl"].as_str().map(str::to_owned).ok_or_else(|| "CreateQueue answered no QueueUrl".into())
    }

    /// At most `max` messages (body, receipt handle, how many times each was received), at once.
    pub async fn receive_counted(&self, url: &str, max: usize) -> Fallible<Vec<(String, String, u32)>> {
        let ask = json!({"QueueUrl": url, "MaxNumberOfMessages": max.clamp(1, 10),
            "AttributeNames": ["ApproximateReceiveCount"]});
        let out = self.call("ReceiveMessage", ask).await?;
        let messages = out["Messages"].as_array().cloned().unwrap_or_default();
        Ok(messages
            .iter()
            .map(|m| {
                let receives = m["Attributes"]["ApproximateReceiveCount"].as_str().and_then(|c| c.parse().ok());
                (
                    m["Body"].as_str().unwrap_or_default().to_owned(),
                    m["ReceiptHandle"].as_str().unwrap_or_default().to_owned(),
                    receives.unwrap_or(1),
                )
            })
            .collect())
    }

    /// Every message waiting in a queue (body, `reason` attribute), without taking them: each is
    /// offered again at once.
    pub async fn peek(&self, url: &str) -> Fallible<Vec<(String, Option<String>)>> {
        let ask = json!({"QueueUrl": url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 0,
            "MessageAttributeNames": ["All"]});
        let out = self.call("ReceiveMessage", ask).await?;
        let messages = out["Messages"].as_array().cloned().unwrap_or_default();
        Ok(messages
            .iter()
            .map(|m| {
                let reason = m["MessageAttributes"]["reason"]["StringValue"].as_str().map(str::to_owned);
                (m["Body"].as_str().unwrap_or_default().to_owned(), reason)
            })
            .collect())
    }

    pub async fn send(&self, url: &str, body: &str) -> Fallible<()> {
        self.call("SendMessage", json!({"QueueUrl": url, "MessageBody": body})).await.map(drop)
    }

    pub async fn delete(&self, url: &str, receipt: &str) -> Fallible<()> {
        self.call("DeleteMessage", json!({"QueueUrl": url, "ReceiptHandle": receipt})).await.map(drop)
    }

    pub async fn queue_arn(&self, url: &str) -> Fallible<String> {
        let out = self.call("GetQueueAttributes", json!({"QueueUrl": url, "AttributeNames": ["QueueArn"]})).await?;
        out["Attributes"]["QueueArn"].as_str().map(str::to_owned).ok_or_else(|| "no QueueArn".into())
    }

    /// Every message now in the queue (each EventBridge event, as its JSON), deleting what it read.
    pub async fn drain(&self, url: &str) -> Fallible<Vec<Value>> {
        let mut all = Vec::new();
        loop {
            let out = self.call("ReceiveMessage", json!({"QueueUrl": url, "MaxNumberOfMessages": 10})).await?;
            let messages = out["Messages"].as_array().cloned().unwrap_or_default();
            if messages.is_empty() {
                return Ok(all);
            }
            for m in messages {
                let body: Value = serde_json::from_str(m["Body"].as_str().unwrap_or("null"))?;
                all.push(body);
                self.call("DeleteMessage", json!({"QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"]})).await?;
            }
        }
    }
}

/// Creates (or finds) the bus, the queue and the rule; answers the queue's URL.
pub async fn ensure_bus_to_queue(sdk: &shared::aws::Sdk, endpoint: &str, bus: &str, queue: &str) -> Fallible<String> {
    let events = sdk.eventbridge(Some(endpoint));
    if let Err(e) = events.create_event_bus().name(bus).send().await {
        let exists = e.as_service_error().is_some_and(|s| s.is_resource_already_exists_exception());
        if !exists {
            return Err(aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string().into());
        }
    }
    let sqs = Sqs::new(endpoint);
    let url = sqs.create_queue(queue).await?;
    let arn = sqs.queue_arn(&url).await?;
    let pattern = json!({"source": [shared::events::SOURCE]}).to_string();
    let rule = format!("{queue}-all");
    events
        .put_rule()
        .name(&rule)
        .event_bus_name(bus)
        .event_pattern(pattern)
        .send()
        .await
        .map_err(|e| aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string())?;
    let target = aws_sdk_eventbridge::types::Target::builder().id("queue").arn(arn).build()?;
    events
        .put_targets()
        .rule(&rule)
        .event_bus_name(bus)
        .targets(target)
        .send()
        .await
        .map_err(|e| aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string())?;
    Ok(url)
}
