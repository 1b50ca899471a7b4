//! `authorizer` Lambda: API Gateway REQUEST authorizer (payload 2.0, simple responses) that turns
//! the bearer token into the caller's subject and ACL.

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let verifier = shared::auth::Verifier::from_env()?;
    let verifier = &verifier;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayV2CustomAuthorizerV2Request>| async move {
        Ok::<_, lambda_runtime::Error>(shared::http::authorize(verifier, &event.payload))
    }))
    .await
}
