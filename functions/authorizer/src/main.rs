//! `authorizer` Lambda: API Gateway REQUEST authorizer (payload 2.0, simple responses) that asks
//! Unikorn's identity service who the caller is and what it may do (`shared::identity`).

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init();
    let sdk = shared::aws::Sdk::from_env()?;
    let authenticator = shared::context::authenticator_from_env(&sdk).await?;
    let authenticator = &authenticator;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayV2CustomAuthorizerV2Request>| async move {
        Ok::<_, lambda_runtime::Error>(shared::http::authorize(authenticator, &event.payload).await)
    }))
    .await
}
