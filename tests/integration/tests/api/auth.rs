use integration_tests::stack::*;
use local_api::token::{mint, mint_claims, Signer, AUDIENCE, ISSUER};
use serde_json::json;

#[tokio::test]
async fn missing_forged_and_expired_tokens_are_401() {
    let stack = Stack::start().await;
    let acl = admin_acl();
    let now = chrono::Utc::now().timestamp();
    let claims = |iss: &str, aud: &str| json!({"iss": iss, "aud": aud, "sub": "x", "exp": now + 600, "acl": acl});
    let cases = [
        ("forged signature", mint(Signer::Untrusted, "mallory", &acl, 600).unwrap_or_default()),
        ("expired", mint(Signer::Es256, "alice", &acl, -120).unwrap_or_default()),
        ("wrong issuer", mint_claims(Signer::Es256, claims("https://evil", AUDIENCE)).unwrap_or_default()),
        ("wrong audience", mint_claims(Signer::Es256, claims(ISSUER, "other-api")).unwrap_or_default()),
        ("not a JWT", "hello".to_owned()),
    ];
    for (label, token) in cases {
        for (method, path) in [("GET", "/api/v2/servers"), ("POST", "/api/v2/servers"), ("DELETE", "/api/v2/servers/x")]
        {
            let reply = stack.call(method, path, Some(&token), Some(&json!({}))).await;
            assert_eq!((reply.status, reply.error_code()), (401, "access_denied"), "{label} {method} {path}");
        }
    }
    let missing = stack.call("GET", "/api/v2/servers", None, None).await;
    // The authorizer has no identity source: a missing token is the API's own 401, as Unikorn's.
    assert_eq!((missing.status, missing.error_code()), (401, "access_denied"), "{}", missing.body);
    assert!(missing.description().contains("bearer token"), "{}", missing.description());
    assert_eq!(stack.nova_creates(), 0);
}

#[tokio::test]
async fn rs256_and_es256_tokens_are_both_accepted() {
    let stack = Stack::start().await;
    for signer in [Signer::Es256, Signer::Rs256] {
        let token = mint(signer, "alice", &admin_acl(), 600).unwrap_or_default();
        assert_eq!(stack.call("GET", "/api/v2/servers", Some(&token), None).await.status, 200, "{signer:?}");
    }
}

/// A function invoked without the authorizer's context (misconfigured route, direct invoke) is 401.
#[tokio::test]
async fn a_function_without_authorizer_context_answers_401() {
    let stack = Stack::start().await;
    let event = json!({
        "version": "2.0", "routeKey": "GET /api/v2/servers", "rawPath": "/api/v2/servers", "rawQueryString": "",
        "headers": {"authorization": "Bearer whatever"},
        "requestContext": {"accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d",
            "http": {"method": "GET", "path": "/api/v2/servers", "protocol": "HTTP/1.1", "sourceIp": "1.1.1.1", "userAgent": "t"},
            "requestId": "r", "routeKey": "GET /api/v2/servers", "stage": "$default", "time": "t", "timeEpoch": 0},
        "isBase64Encoded": false
    });
    let request = lambda_http::request::from_str(&event.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let response = list::handle(&stack.deps.without_provider(), request).await;
    assert_eq!(response.status().as_u16(), 401);
    let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap_or_default();
    assert_eq!(body["error"], "access_denied");
}

#[tokio::test]
async fn unknown_routes_are_404_at_the_gateway() {
    let stack = Stack::start().await;
    let reply = stack.call("GET", "/api/v3/servers", Some(&stack.admin()), None).await;
    assert_eq!((reply.status, reply.body), (404, json!({"message": "Not Found"})));
}

/// CloudFormation parameters are one line: keys may arrive with `\n` escapes.
#[test]
fn public_keys_on_one_line_with_escaped_newlines_verify_tokens() {
    let keys = local_api::token::trusted_public_keys().unwrap_or_default().replace('\n', "\\n");
    assert!(!keys.contains('\n'));
    let verifier = shared::auth::Verifier::new(&keys, ISSUER, AUDIENCE).unwrap_or_else(|e| panic!("{e}"));
    for signer in [Signer::Es256, Signer::Rs256] {
        let token = mint(signer, "alice", &admin_acl(), 600).unwrap_or_default();
        let (caller, _) = verifier.verify(&token).unwrap_or_else(|e| panic!("{signer:?}: {e}"));
        assert_eq!(caller.subject, "alice");
    }
}
