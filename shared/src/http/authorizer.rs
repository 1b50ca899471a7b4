//! The Lambda REQUEST authorizer (payload 2.0, simple responses) and the context it hands the
//! functions: both sides of that contract live here.
//!
//! API Gateway HTTP APIs turn a denied simple response into their own `403 {"message":"Forbidden"}`,
//! so the authorizer always allows and passes either the caller (`sub`, `acl`, `acctype`) or what
//! the caller is to be told (`error`, `status`, `code`, `retryAfter`); the function answers it in
//! the API's error format. The authorizer has no identity source, so API Gateway does not cache its
//! answers: the caches are the authenticator's ([`crate::identity::authenticate`]).

use std::collections::HashMap;
use std::time::Duration;

use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::identity::authenticate::{Authenticator, Presented, VerifiedCertificate};
use crate::identity::Principal;
use crate::rbac::{Acl, Caller};

/// What the request presents, as API Gateway passed it: only a certificate the gateway verified
/// (`requestContext.authentication.clientCert`) counts, never a header claiming one.
pub fn presented(request: &ApiGatewayV2CustomAuthorizerV2Request) -> Presented {
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let certificate = request
        .request_context
        .authentication
        .as_ref()
        .and_then(|a| a.client_cert.as_ref())
        .map(|c| VerifiedCertificate { pem: c.client_cert_pem.clone(), subject_dn: c.subject_dn.clone() });
    Presented {
        authorization: header("authorization").or_else(|| request.identity_source.as_ref()?.first().cloned()),
        certificate,
        principal: Principal {
            header: header("x-principal").filter(|p| !p.is_empty() && p.len() <= 8192),
            impersonate: header("x-impersonate").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
        },
        organization: request.path_parameters.get("organizationID").cloned(),
    }
}

/// Always authorizes at the gateway, passing the caller or what it is to be told.
pub async fn authorize(
    authenticator: &Authenticator,
    request: &ApiGatewayV2CustomAuthorizerV2Request,
) -> ApiGatewayV2CustomAuthorizerSimpleResponse {
    let context = match authenticator.authenticate(&presented(request)).await {
        Ok(authenticated) => HashMap::from([
            ("sub".to_owned(), json!(authenticated.caller.subject)),
            // Context values must be scalars: the ACL travels as a JSON string.
            ("acl".to_owned(), json!(serde_json::to_string(&authenticated.caller.acl).unwrap_or_default())),
            ("acctype".to_owned(), json!(authenticated.acctype)),
        ]),
        Err(e) => {
            let (status, code) = e.status_and_code();
            let mut context = HashMap::from([
                ("error".to_owned(), json!(e.public_description())),
                ("status".to_owned(), json!(status)),
                ("code".to_owned(), json!(code)),
            ]);
            if let Some(after) = e.retry_after() {
                context.insert("retryAfter".to_owned(), json!(after.as_secs().max(1)));
            }
            context
        }
    };
    let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
    response.is_authorized = true;
    response.context = json!(context);
    response
}

fn number(context: &HashMap<String, Value>, key: &str) -> Option<u64> {
    context.get(key).and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
}

/// The caller from an authorizer context, or what the authorizer said the caller is to be told.
pub fn caller_from_context(context: Option<&HashMap<String, Value>>) -> Result<Caller> {
    let unauthenticated = |m: &str| Error::Unauthenticated(m.to_owned());
    let context = context.ok_or_else(|| unauthenticated("the request carries no authorizer context"))?;
    if let Some(message) = context.get("error").and_then(Value::as_str) {
        let status = number(context, "status").and_then(|s| u16::try_from(s).ok()).unwrap_or(401);
        let code = context.get("code").and_then(Value::as_str);
        return Err(match status {
            401 => unauthenticated(message),
            502 => Error::BadGateway(message.to_owned()),
            500..=599 => Error::Unavailable {
                message: message.to_owned(),
                retry_after: Some(Duration::from_secs(number(context, "retryAfter").unwrap_or(2))),
            },
            _ => Error::passed_on(status, code, message),
        });
    }
    let subject = context.get("sub").and_then(Value::as_str).ok_or_else(|| unauthenticated("no subject"))?;
    let acl: Acl = context
        .get("acl")
        .and_then(Value::as_str)
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| unauthenticated("the authorizer context has no readable ACL"))?;
    Ok(Caller { subject: subject.to_owned(), acl })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_without_a_caller_are_what_the_authorizer_said() {
        assert!(matches!(caller_from_context(None), Err(Error::Unauthenticated(_))));
        let denied = HashMap::from([
            ("error".to_owned(), json!("token is invalid or has expired")),
            ("status".to_owned(), json!(401)),
        ]);
        assert_eq!(
            caller_from_context(Some(&denied)).err().map(|e| e.to_string()).as_deref(),
            Some("token is invalid or has expired")
        );
        let down = HashMap::from([
            ("error".to_owned(), json!("the identity service is unavailable")),
            ("status".to_owned(), json!(503)),
            ("retryAfter".to_owned(), json!(2)),
        ]);
        let err = caller_from_context(Some(&down)).err().unwrap_or_else(|| Error::internal("no error"));
        assert_eq!((err.status_and_code().0, err.retry_after()), (503, Some(Duration::from_secs(2))));
        let fresh =
            HashMap::from([("sub".to_owned(), json!("alice")), ("acl".to_owned(), json!(r#"{"organizations":[]}"#))]);
        assert_eq!(caller_from_context(Some(&fresh)).map(|c| c.subject).ok().as_deref(), Some("alice"));
    }
}
