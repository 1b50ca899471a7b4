//! Counting DynamoDB calls by operation, with an SDK interceptor on a client of the shared moto.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use shared::store::dynamodb::items::Item;

/// DynamoDB requests by operation (`x-amz-target`), since the last `take`.
#[derive(Debug, Clone, Default)]
pub struct Calls(Arc<Mutex<BTreeMap<String, u64>>>);

impl Calls {
    pub fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A client of the shared moto that counts its calls here.
    pub async fn client(&self) -> aws_sdk_dynamodb::Client {
        let plain = crate::stack::moto_client();
        aws_sdk_dynamodb::Client::from_conf(plain.config().to_builder().interceptor(self.clone()).build())
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
        *self.0.lock().unwrap_or_else(|e| e.into_inner()).entry(operation).or_default() += 1;
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
