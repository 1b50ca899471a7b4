//! Authentication and authorization through Unikorn's identity service (the identity emulator):
//! Unikorn's 401 texts, the token and ACL caches and their bounds, identity's faults, principals
//! and impersonation, services over mutual TLS, and that no token is ever logged or stored.

use std::time::Duration;

use base64::Engine as _;
use identity_emulator::{Fault, TokenGrant, ACL, ORGANIZATION_ACL, USERINFO};
use integration_tests::stack::*;
use serde_json::{json, Value};
use shared::identity::authenticate::CacheSettings;

const UNI_COMPUTE_CERT: &str = include_str!("../../../fixtures/mtls/uni-compute.crt");

fn short_caches(token_seconds: u64, acl_seconds: u64) -> GatewayOptions {
    GatewayOptions {
        caches: CacheSettings {
            token_ttl: Duration::from_secs(token_seconds),
            acl_ttl: Duration::from_secs(acl_seconds),
            ..CacheSettings::default()
        },
        ..GatewayOptions::default()
    }
}

/// Unikorn's ingress passes a verified client certificate as URL-encoded PEM.
fn url_encoded(pem: &str) -> String {
    shared::text::percent_encode(pem)
}

fn principal(actor: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"organizationId": ORG, "projectId": PROJECT, "type": "user", "actor": actor}).to_string())
}

async fn with_headers(
    stack: &Stack,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Reply {
    let mut request = stack.request(method, path, None, body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    stack.send(request).await
}

#[tokio::test]
async fn missing_malformed_and_refused_credentials_are_401_with_unikorns_texts() {
    let stack = Stack::start().await;
    let items = stack.item_count().await;
    let cases = [
        (None, "authorization header missing"),
        (Some("Bearer"), "authorization header malformed"),
        (Some("Bearer a b"), "authorization header malformed"),
        (Some("Basic dXNlcjpwYXNz"), "authorization scheme not allowed"),
        (Some("Bearer not-a-token-identity-issued"), "token is invalid or has expired"),
    ];
    for (header, text) in cases {
        for (method, path) in [("GET", "/api/v2/servers"), ("POST", "/api/v2/servers"), ("DELETE", "/api/v2/servers/x")]
        {
            let headers: Vec<(&str, &str)> = header.map(|h| ("authorization", h)).into_iter().collect();
            let body = stack.server_body("web", &stack.network_id);
            let reply = with_headers(&stack, method, path, &headers, Some(&body)).await;
            assert_eq!((reply.status, reply.error_code()), (401, "access_denied"), "{header:?} {method} {path}");
            assert_eq!(reply.description(), text, "{header:?} {method} {path}");
        }
    }
    // A lower-case scheme is a bearer token all the same, as in Unikorn.
    let token = stack.admin();
    let reply =
        with_headers(&stack, "GET", "/api/v2/servers", &[("authorization", &format!("bearer {token}"))], None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(stack.item_count().await, items, "nothing written");
    assert_eq!(stack.nova_creates(), 0);
}

#[tokio::test]
async fn twenty_requests_with_one_token_ask_identity_once_per_scope() {
    let stack = Stack::start().await;
    let token = stack.token("judy", &admin_acl());
    stack.identity.reset_counters();
    for _ in 0..20 {
        assert_eq!(stack.call("GET", "/api/v2/servers", Some(&token), None).await.status, 200);
        let v1 = stack.call("GET", &format!("/api/v1/organizations/{ORG}/servers"), Some(&token), None).await;
        assert_eq!(v1.status, 200, "{}", v1.body);
    }
    assert_eq!(stack.identity.counter(USERINFO), 1, "{:?}", stack.identity.counters());
    assert_eq!(stack.identity.counter(ACL), 1, "v2 routes ask the global ACL: {:?}", stack.identity.counters());
    assert_eq!(
        stack.identity.counter(ORGANIZATION_ACL),
        1,
        "v1 routes ask the organization's: {:?}",
        stack.identity.counters()
    );
    // Another organization is another scope.
    let other = stack.call("GET", &format!("/api/v1/organizations/{ORG_2}/servers"), Some(&token), None).await;
    assert_eq!(other.status, 200, "{}", other.body);
    assert_eq!(stack.identity.counter(ORGANIZATION_ACL), 2);
    assert_eq!(stack.identity.counter(USERINFO), 1);
}

#[tokio::test]
async fn a_revoked_token_is_refused_once_its_cache_lifetime_passes_and_not_before() {
    let stack = Stack::start_with(short_caches(2, 60)).await;
    let token = stack.admin();
    assert_eq!(stack.call("GET", "/api/v2/servers", Some(&token), None).await.status, 200);
    assert!(stack.identity.revoke(&token));
    let cached = stack.call("GET", "/api/v2/servers", Some(&token), None).await;
    assert_eq!(cached.status, 200, "within the token cache's lifetime the answer stands: {}", cached.body);
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let refused = stack.call("GET", "/api/v2/servers", Some(&token), None).await;
    assert_eq!((refused.status, refused.description()), (401, "token is invalid or has expired"), "{}", refused.body);
}

#[tokio::test]
async fn an_acl_change_takes_effect_within_the_acl_lifetime() {
    let stack = Stack::start_with(short_caches(3600, 2)).await;
    let token =
        stack.token("carol", &org_acl(ORG, &[("region:servers", &["read"]), ("region:networks:v2", &["read"])]));
    let body = stack.server_body("acl-change", &stack.network_id);
    let before = stack.call("POST", "/api/v2/servers", Some(&token), Some(&body)).await;
    assert_eq!(before.status, 403, "{}", before.body);
    stack.identity.set_acl("carol", &admin_acl());
    let cached = stack.call("POST", "/api/v2/servers", Some(&token), Some(&body)).await;
    assert_eq!(cached.status, 403, "the cached ACL stands within its lifetime: {}", cached.body);
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let after = stack.call("POST", "/api/v2/servers", Some(&token), Some(&body)).await;
    assert_eq!(after.status, 201, "{}", after.body);
    assert_eq!(after.body["metadata"]["createdBy"], "carol");
    // A permission removed is gone within the same bound.
    stack.identity.set_acl("carol", &json!({}));
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let id = after.id();
    let hidden = stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&token), None).await;
    assert_eq!(hidden.status, 404, "{}", hidden.body);
}

#[tokio::test]
async fn identity_unavailable_is_503_with_retry_after_and_nothing_written() {
    let stack = Stack::start().await;
    let items = stack.item_count().await;
    let faults = [
        ("userinfo 503", Fault::status("userinfo", 503)),
        ("userinfo timeout", Fault::delay("userinfo", 3000)),
        ("userinfo dropped", Fault::dropped("userinfo")),
        ("acl 503", Fault::status("acl", 503)),
        ("acl timeout", Fault::delay("acl", 3000)),
        ("acl dropped", Fault::dropped("acl")),
    ];
    for (label, fault) in faults {
        // A new token and subject each time: nothing about them is cached.
        let token = stack.token(&format!("user-{}", uuid::Uuid::new_v4().simple()), &admin_acl());
        stack.identity.inject(fault);
        let body = stack.server_body("during-outage", &stack.network_id);
        let started = std::time::Instant::now();
        let reply = stack.call("POST", "/api/v2/servers", Some(&token), Some(&body)).await;
        assert_eq!((reply.status, reply.error_code()), (503, "server_error"), "{label}: {}", reply.body);
        assert!(reply.header("retry-after").is_some_and(|v| v.parse::<u64>().is_ok()), "{label}: no Retry-After");
        assert!(started.elapsed() < Duration::from_millis(2900), "{label}: took {:?}", started.elapsed());
        assert_eq!(stack.item_count().await, items, "{label}: nothing written");
        assert_eq!(stack.nova_creates(), 0, "{label}");
        // Identity recovered: the same token works (a failure is never cached).
        let after = stack.call("GET", "/api/v2/servers", Some(&token), None).await;
        assert_eq!(after.status, 200, "{label}: {}", after.body);
    }
}

/// Discovery runs once per container: a container whose discovery fails answers 503 and tries
/// again on its next request.
#[tokio::test]
async fn a_failed_discovery_is_503_and_retried_by_the_next_request() {
    let stack = Stack::start().await;
    let token = stack.admin();
    let authenticator = authenticator(&stack.identity.url, &stack.dynamo, &stack.table, CacheSettings::default());
    let authorize = |token: &str| {
        let headers = std::collections::BTreeMap::from([("authorization".to_owned(), format!("Bearer {token}"))]);
        let call = local_api::api_call("GET", "/api/v2/servers", "", &headers, b"");
        serde_json::from_value::<lambda_http::aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request>(
            call.authorizer_request,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    // A token no container has seen, so the shared cache cannot answer for identity.
    let fresh = stack.token("ivan", &admin_acl());
    stack.identity.inject(Fault::status("discovery", 500));
    let down = shared::http::authorize(&authenticator, &authorize(&fresh)).await;
    assert_eq!(
        (down.context["status"].as_u64(), down.context["retryAfter"].as_u64()),
        (Some(503), Some(2)),
        "{}",
        down.context
    );
    let up = shared::http::authorize(&authenticator, &authorize(&token)).await;
    assert!(up.context.get("sub").is_some(), "{}", up.context);
}

#[tokio::test]
async fn identity_errors_other_than_401_are_passed_on() {
    let stack = Stack::start().await;
    let token = stack.token("dave", &admin_acl());
    stack.identity.inject(Fault::status("userinfo", 403));
    let reply = stack.call("GET", "/api/v2/servers", Some(&token), None).await;
    assert_eq!((reply.status, reply.error_code()), (403, "forbidden"), "{}", reply.body);
    assert_eq!(reply.description(), "injected fault 403");
    stack.identity.inject(Fault::status("acl", 401));
    let other = stack.token("erin", &admin_acl());
    let refused = stack.call("GET", "/api/v2/servers", Some(&other), None).await;
    assert_eq!((refused.status, refused.description()), (401, "token is invalid or has expired"), "{}", refused.body);
}

#[tokio::test]
async fn a_service_over_mutual_tls_is_its_certificate_and_its_principal_reaches_identity() {
    let stack = Stack::start().await;
    stack.identity.add_system(UNI_COMPUTE_CERT, "uni-compute", &admin_acl());
    stack.identity.reset_counters();
    let cert = url_encoded(UNI_COMPUTE_CERT);
    let mtls = [("ssl-client-cert", cert.as_str()), ("ssl-client-verify", "SUCCESS")];
    let body = stack.server_body("from-compute", &stack.network_id);
    let created = with_headers(&stack, "POST", "/api/v2/servers", &mtls, Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["metadata"]["createdBy"], "uni-compute", "the certificate's common name");
    let asked = stack.identity.received();
    assert!(asked.iter().any(|r| r.client_certificate && r.subject.as_deref() == Some("uni-compute")), "{asked:?}");
    assert_eq!(stack.identity.counter(USERINFO), 0, "a certificate is not a token: no userinfo");

    // Acting for a user: the principal and the impersonation flag reach identity, the ACL is the
    // user's, and the record says the user created it.
    stack.identity.set_acl(
        "frank@example.com",
        &project_acl(ORG, PROJECT, &[("region:servers", ALL), ("region:networks:v2", &["read"])]),
    );
    let on_behalf = principal("frank@example.com");
    let mut headers = mtls.to_vec();
    headers.extend([("x-principal", on_behalf.as_str()), ("x-impersonate", "true")]);
    let body = stack.server_body("for-frank", &stack.network_id);
    let created = with_headers(&stack, "POST", "/api/v2/servers", &headers, Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["metadata"]["createdBy"], "frank@example.com");
    let received = stack.identity.received();
    let acl_call = received.iter().rev().find(|r| r.route == ACL).cloned();
    let acl_call = acl_call.unwrap_or_else(|| panic!("no ACL call: {received:?}"));
    assert_eq!(acl_call.principal.as_deref(), Some(on_behalf.as_str()));
    assert!(acl_call.impersonate && acl_call.client_certificate, "{acl_call:?}");
    // Frank's ACL is project-scoped: impersonating him reaches no further than he does.
    let body = json!({"metadata": {"name": "elsewhere"}, "spec": {"organizationId": ORG, "projectId": PROJECT_B,
        "regionId": REGION, "providerNetworkId": PROVIDER_NETWORK}});
    let denied = with_headers(&stack, "POST", "/api/v2/networks", &headers, Some(&body)).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
}

#[tokio::test]
async fn a_user_token_with_a_principal_forwards_it_but_stays_the_subject() {
    let stack = Stack::start().await;
    let token = stack.token("grace", &admin_acl());
    let on_behalf = principal("mallory@example.com");
    let mut request =
        stack.request("POST", "/api/v2/servers", Some(&token), Some(&stack.server_body("g", &stack.network_id)));
    request = request.header("x-principal", &on_behalf);
    let created = stack.send(request).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["metadata"]["createdBy"], "grace", "only a system account names another actor");
    let received = stack.identity.received();
    assert!(
        received.iter().any(|r| r.principal.as_deref() == Some(on_behalf.as_str()) && !r.impersonate),
        "{received:?}"
    );
}

/// Deployed, only a certificate API Gateway verified counts: the same headers from a client are
/// the client's own and authenticate nobody.
#[tokio::test]
async fn a_forged_client_certificate_header_is_401_through_the_deployed_path() {
    let stack = Stack::start_with(GatewayOptions { ingress_certificates: false, ..GatewayOptions::default() }).await;
    stack.identity.add_system(UNI_COMPUTE_CERT, "uni-compute", &admin_acl());
    stack.identity.reset_counters();
    let cert = url_encoded(UNI_COMPUTE_CERT);
    let forged = [("ssl-client-cert", cert.as_str()), ("ssl-client-verify", "SUCCESS")];
    let reply = with_headers(&stack, "GET", "/api/v2/servers", &forged, None).await;
    assert_eq!((reply.status, reply.description()), (401, "authorization header missing"), "{}", reply.body);
    assert_eq!(stack.identity.counter(ACL), 0, "identity was not asked on the forger's behalf");
}

/// A certificate API Gateway verified arrives in the request context (mutual TLS on a custom
/// domain): the authorizer reads it there, with no header involved.
#[tokio::test]
async fn the_gateways_verified_certificate_authenticates_the_service() {
    let stack = Stack::start().await;
    stack.identity.add_system(UNI_COMPUTE_CERT, "uni-compute", &admin_acl());
    let mut call = local_api::api_call("GET", "/api/v2/servers", "", &Default::default(), b"");
    call.authorizer_request["requestContext"]["authentication"] = json!({"clientCert": {
        "clientCertPem": UNI_COMPUTE_CERT, "subjectDN": "CN=uni-compute,O=Test", "issuerDN": "CN=Test CA,O=Test",
        "serialNumber": "1", "validity": {"notBefore": "May 28 12:30:02 2019 GMT", "notAfter": "Aug  5 09:36:04 2121 GMT"}}});
    let request = serde_json::from_value(call.authorizer_request).unwrap_or_else(|e| panic!("{e}"));
    let authenticator = authenticator(&stack.identity.url, &stack.dynamo, &stack.table, CacheSettings::default());
    let answer = shared::http::authorize(&authenticator, &request).await;
    assert!(answer.is_authorized);
    assert_eq!(answer.context["sub"], "uni-compute", "{}", answer.context);
    assert_eq!(answer.context["acctype"], "system");
}

#[tokio::test]
async fn a_global_grant_lists_the_organization_it_names() {
    let stack = Stack::start().await;
    let id = stack.server("global-1").await;
    let everywhere = json!({"global": [{"name": "region:servers", "operations": ["read"]}]});
    let token = stack.token("platform-reader", &everywhere);
    let shown = stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&token), None).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    let listed = stack.call("GET", &format!("/api/v2/servers?organizationID={ORG}"), Some(&token), None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1), "{}", listed.body);
    let unnamed = stack.call("GET", "/api/v2/servers", Some(&token), None).await;
    assert_eq!((unnamed.status, unnamed.error_code()), (400, "invalid_request"), "{}", unnamed.body);
    assert!(unnamed.description().starts_with("organizationID"), "{}", unnamed.description());
    let changed = stack.call("DELETE", &format!("/api/v2/servers/{id}"), Some(&token), None).await;
    assert_eq!(changed.status, 403, "read is not delete: {}", changed.body);
}

#[tokio::test]
async fn a_token_never_appears_in_a_log_line_or_a_table_item() {
    crate::logs::install();
    let stack = Stack::start().await;
    let token = stack.identity.grant(TokenGrant {
        token: Some(format!("uat-secret-{}", uuid::Uuid::new_v4().simple())),
        sub: "heidi".into(),
        email: Some("heidi@example.com".into()),
        acctype: "user".into(),
        org_ids: vec![ORG.into()],
        acl: Some(admin_acl()),
    });
    let created = stack.create_server(&token, "logged").await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(stack.call("GET", "/api/v2/servers", Some(&token), None).await.status, 200);
    stack.identity.inject(Fault::status("acl", 503));
    let other = stack.token("heidi-2", &admin_acl());
    assert_eq!(stack.call("GET", "/api/v2/servers", Some(&other), None).await.status, 503);
    let logs = crate::logs::text();
    assert!(!logs.is_empty(), "the handlers logged nothing: the capture is broken");
    for secret in [token.as_str(), other.as_str(), "heidi@example.com"] {
        assert!(!logs.contains(secret), "{secret} appears in the logs");
    }
    let items = stack.dynamo.scan().table_name(&stack.table).send().await.unwrap_or_else(|e| panic!("scan: {e}"));
    let dump = format!("{:?}", items.items());
    assert!(dump.contains("AUTHCACHE#token#"), "the shared cache holds the token's digest");
    for secret in [token.as_str(), other.as_str(), "heidi@example.com"] {
        assert!(!dump.contains(secret), "{secret} is stored in the table");
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

/// `events/authorizer/request.json` (for `sam local invoke AuthorizerFunction`) is the authorizer's
/// event as API Gateway sends it: with its token registered at identity, it names the caller.
#[tokio::test]
async fn the_authorizer_event_authenticates_its_token() {
    let stack = Stack::start().await;
    let path = integration_tests::repo_root().join("events/authorizer/request.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let request: lambda_http::aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let header = request.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let token = header.strip_prefix("Bearer ").unwrap_or_else(|| panic!("no bearer token in the event"));
    let authenticator = authenticator(&stack.identity.url, &stack.dynamo, &stack.table, CacheSettings::default());
    let unknown = shared::http::authorize(&authenticator, &request).await;
    assert_eq!(unknown.context["status"], 401, "{}", unknown.context);
    stack.identity.grant(TokenGrant {
        token: Some(token.to_owned()),
        sub: "demo-admin".into(),
        email: None,
        acctype: "user".into(),
        org_ids: Vec::new(),
        acl: Some(admin_acl()),
    });
    let known = shared::http::authorize(&authenticator, &request).await;
    assert_eq!(known.context["sub"], "demo-admin", "{}", known.context);
}
