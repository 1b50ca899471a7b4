//! Counting DynamoDB calls by operation, with an SDK interceptor on a client of the shared moto,
//! and the round trips a caller waited for (calls in flight together count once).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use shared::store::dynamodb::items::Item;

#[derive(Debug, Default)]
struct Counted {
    by_operation: BTreeMap<String, u64>,
    /// When each call was sent and answered.
    spans: Vec<(Instant, Instant)>,
}

/// DynamoDB requests by operation (`x-amz-target`), since the last `take`.
#[derive(Debug, Clone, Default)]
pub struct Calls(Arc<Mutex<Counted>>);

/// When the request in flight was sent (kept in its operation's config bag).
#[derive(Debug, Clone)]
struct SentAt(Instant);

impl Storable for SentAt {
    type Storer = StoreReplace<Self>;
}

impl Calls {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counted> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut self.lock().by_operation)
    }

    /// The round trips waited for since the last call: calls in flight at the same time (sent
    /// together, however the server queues them) are one wait.
    pub fn take_waits(&self) -> usize {
        let mut spans = std::mem::take(&mut self.lock().spans);
        spans.sort();
        let mut waits = 0;
        let mut until: Option<Instant> = None;
        for (sent, answered) in spans {
            match until {
                Some(end) if sent <= end => until = Some(end.max(answered)),
                _ => {
                    waits += 1;
                    until = Some(answered);
                }
            }
        }
        waits
    }

    /// A client of the shared moto that counts its calls here.
    pub async fn client(&self) -> aws_sdk_dynamodb::Client {
        let plain = crate::stack::moto_client();
        aws_sdk_dynamodb::Client::from_conf(plain.config().to_builder().interceptor(self.clone()).build())
    }

    /// [`Calls::client`] with minutes, not seconds, to answer: moto scans its whole table for
    /// every Query page, which at tens of thousands of records (the convergence bench's largest
    /// region) takes longer than the product's two-second attempt timeout; DynamoDB does not.
    pub async fn patient_client(&self) -> aws_sdk_dynamodb::Client {
        use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
        let patient = TimeoutConfig::builder()
            .operation_timeout(std::time::Duration::from_secs(600))
            .operation_attempt_timeout(std::time::Duration::from_secs(300))
            .connect_timeout(std::time::Duration::from_secs(5))
            .build();
        let plain = crate::stack::moto_client();
        let config = plain.config().to_builder().interceptor(self.clone()).timeout_config(patient);
        aws_sdk_dynamodb::Client::from_conf(config.build())
    }
}

impl Intercept for Calls {
    fn name(&self) -> &'static str {
        "call counter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context.request().headers().get("x-amz-target").unwrap_or("unknown");
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        *self.lock().by_operation.entry(operation).or_default() += 1;
        Ok(())
    }

    fn modify_before_transmit(
        &self,
        _: &mut aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(SentAt(Instant::now()));
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _: &aws_sdk_dynamodb::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(SentAt(sent)) = cfg.load::<SentAt>().cloned() {
            self.lock().spans.push((sent, Instant::now()));
        }
        Ok(())
    }
}

/// A provisioned, running server record for bulk loads: `fields` (camelCase, as stored) override
/// the defaults.
pub fn seeded_server(fields: serde_json::Value) -> shared::domain::ServerRecord {
    let mut record = serde_json::json!({"apiVersion": 2, "description": null, "tags": [], "organizationId": "o",
        "projectId": "p", "regionId": "r", "networkId": "n", "identityId": "i", "flavorId": "2", "imageId": "img",
        "imageMinDiskGib": 1, "networking": null, "userData": null, "sshCertificateAuthorityId": null,
        "infrastructureRef": null, "createdBy": "seed", "creationTime": "2026-01-01T00:00:00Z", "modifiedBy": null,
        "modifiedTime": null, "deletionTime": null, "provisioningStatus": "provisioned", "healthStatus": "healthy",
        "powerState": "Running", "privateIp": null, "publicIp": null, "macAddress": null, "version": 1});
    for (key, value) in fields.as_object().into_iter().flatten() {
        record[key] = value.clone();
    }
    serde_json::from_value(record).unwrap_or_else(|e| panic!("seeded server: {e}"))
}

/// Loads items with BatchWriteItem, 25 at a time (moto copies a whole table per transaction, so
/// bulk loads through the transactional path would be quadratic).
pub async fn bulk_load(client: &aws_sdk_dynamodb::Client, table: &str, items: &[Item]) {
    for chunk in items.chunks(25) {
        let writes = chunk
            .iter()
            .map(|item| {
                let put = PutRequest::builder().set_item(Some(item.clone())).build().unwrap_or_else(|e| panic!("{e}"));
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        client.batch_write_item().request_items(table, writes).send().await.unwrap_or_else(|e| panic!("{e}"));
    }
}
