//! Fair use as an operator and a second container see it: another local API on the same table,
//! and an organization's own limits written into the table.

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use shared::clock::SystemClock;
use shared::fairuse::{Limiter, Limits};

use super::Stack;

impl Stack {
    /// Another local API on the stack's table and emulator, with its own fair-use leases: what a
    /// second warm container of every function is. Answers its URL.
    pub async fn second_api(&self, limits: Limits) -> String {
        let mut deps = self.deps.clone();
        deps.limiter = Arc::new(Limiter::new(deps.store.clone(), limits, Arc::new(SystemClock)));
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let api = local_api::start(deps, self.gateway.clone(), addr).await.unwrap_or_else(|e| panic!("{e}"));
        api.url
    }

    /// Writes an organization's own limits into the table, as docs/fair-use.md tells an operator to.
    pub async fn set_limits(&self, org: &str, class: &str, burst: u32, per_second: f64) {
        self.dynamo
            .update_item()
            .table_name(&self.table)
            .key("PK", AttributeValue::S(format!("LIMITS#{org}")))
            .key("SK", AttributeValue::S("LIMITS".into()))
            .update_expression("SET #burst = :burst, #rate = :rate")
            .expression_attribute_names("#burst", format!("{class}Burst"))
            .expression_attribute_names("#rate", format!("{class}PerSecond"))
            .expression_attribute_values(":burst", AttributeValue::N(burst.to_string()))
            .expression_attribute_values(":rate", AttributeValue::N(per_second.to_string()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("set limits: {e}"));
    }

    /// Deletes an organization's own limits, as an operator returns it to the deployment's.
    pub async fn clear_limits(&self, org: &str) {
        self.dynamo
            .delete_item()
            .table_name(&self.table)
            .key("PK", AttributeValue::S(format!("LIMITS#{org}")))
            .key("SK", AttributeValue::S("LIMITS".into()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("clear limits: {e}"));
    }
}
