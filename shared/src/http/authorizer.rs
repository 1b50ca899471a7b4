//! The Lambda REQUEST authorizer (payload 2.0, simple responses).

use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};

use crate::auth::Verifier;

/// Always authorizes at the gateway and passes either the caller or the reason it is not one:
/// the function then answers 401 in the API's error format (see `auth`).
pub fn authorize(
    verifier: &Verifier,
    request: &ApiGatewayV2CustomAuthorizerV2Request,
) -> ApiGatewayV2CustomAuthorizerSimpleResponse {
    let authorization = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.identity_source.as_ref().and_then(|s| s.first().cloned()));
    let context = verifier.authorizer_context(authorization.as_deref());
    let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
    response.is_authorized = true;
    response.context = serde_json::json!(context);
    response
}
