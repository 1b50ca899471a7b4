//! The local API: an HTTP server on 127.0.0.1 that does what API Gateway does for the deployed
//! stack. For each request it matches the route (the `$default` route, 405 or 404, otherwise),
//! runs the authorizer code (which asks identity), builds the API Gateway v2 event JSON, parses it
//! with `lambda_http` exactly as a Lambda does, and runs the route's function handler. Like the
//! deployed authorizer (no identity source), the authorizer runs for requests without a token too.
//!
//! Client certificates: API Gateway's mutual TLS puts the certificate it verified in
//! `requestContext.authentication.clientCert`. With [`Gateway::ingress_certificates`] the local API
//! stands in for Unikorn's ingress instead, which terminates TLS and passes the verified certificate
//! as `Ssl-Client-Cert` (URL-encoded PEM) with `Ssl-Client-Verify: SUCCESS`: those headers become the
//! request context. Without it (the deployed path) such headers are the client's own and count
//! for nothing.

pub mod events;
pub mod secrets;
pub mod token;
pub mod work;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{Request, Response, StatusCode};
use axum::Router;
use base64::Engine as _;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use serde_json::json;
use shared::context::{CloudDeps, StoreDeps};
use shared::http::routes::{match_path, Function, DEFAULT_ROUTE, ROUTES};
use shared::identity::authenticate::Authenticator;
use shared::identity::certificate::{common_name_of_pem, url_decode};

/// API Gateway's own payload limit; the functions enforce the API's smaller one.
const GATEWAY_BODY_LIMIT: usize = 10 * 1024 * 1024;

#[derive(Clone)]
struct Local {
    deps: CloudDeps,
    store: StoreDeps,
    gateway: Gateway,
}

/// What stands in for API Gateway and its authorizer.
#[derive(Clone)]
pub struct Gateway {
    pub authenticator: Arc<Authenticator>,
    /// Take verified client certificates from `Ssl-Client-Cert`/`Ssl-Client-Verify`, as Unikorn's
    /// ingress passes them (see the module's documentation).
    pub ingress_certificates: bool,
}

pub struct LocalApi {
    pub url: String,
}

/// Serves on `addr` (port 0 for an ephemeral port) in the background.
/// Each function gets what its Lambda would: functions that never call the provider run on the
/// same store without it.
pub async fn start(deps: CloudDeps, gateway: Gateway, addr: SocketAddr) -> std::io::Result<LocalApi> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let store = store_deps(&deps);
    let app = Router::new().fallback(serve_request).with_state(Local { deps, store, gateway });
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("local API stopped: {e}");
        }
    });
    Ok(LocalApi { url })
}

fn gateway_message(status: StatusCode, message: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(json!({ "message": message }).to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", axum::http::HeaderValue::from_static("application/json"));
    response
}

async fn serve_request(State(local): State<Local>, request: Request<Body>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, GATEWAY_BODY_LIMIT).await else {
        return gateway_message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.entry(name.as_str().to_owned()).and_modify(|v| *v = format!("{v},{value}")).or_insert(value);
    }
    let query = parts.uri.query().unwrap_or_default();
    let certificate = if local.gateway.ingress_certificates { ingress_certificate(&mut headers) } else { None };
    let call = api_call(parts.method.as_str(), parts.uri.path(), query, &headers, &bytes);
    let (mut event, mut authorizer_request) = (call.event, call.authorizer_request);
    if let Some(certificate) = certificate {
        event["requestContext"]["authentication"] = json!({"clientCert": certificate});
        authorizer_request["requestContext"]["authentication"] = json!({"clientCert": certificate});
    }
    if call.authorized {
        let authorized = match serde_json::from_value::<ApiGatewayV2CustomAuthorizerV2Request>(authorizer_request) {
            Ok(request) => shared::http::authorize(&local.gateway.authenticator, &request).await,
            Err(e) => return gateway_message(StatusCode::INTERNAL_SERVER_ERROR, &format!("authorizer event: {e}")),
        };
        if !authorized.is_authorized {
            return gateway_message(StatusCode::FORBIDDEN, "Forbidden");
        }
        event["requestContext"]["authorizer"] = json!({ "lambda": authorized.context });
    }
    let lambda_request = match lambda_http::request::from_str(&event.to_string()) {
        Ok(r) => r,
        Err(e) => return gateway_message(StatusCode::INTERNAL_SERVER_ERROR, &format!("event: {e}")),
    };
    let response = invoke(&local.deps, &local.store, call.function, lambda_request).await;
    let (parts, body) = response.into_parts();
    let bytes: Vec<u8> = match body {
        lambda_http::Body::Empty => Vec::new(),
        lambda_http::Body::Text(t) => t.into_bytes(),
        lambda_http::Body::Binary(b) => b,
        _ => Vec::new(),
    };
    Response::from_parts(parts, Body::from(bytes))
}

/// The certificate Unikorn's ingress verified, as API Gateway's `clientCert` (the ingress consumes
/// its headers: the function does not see them).
fn ingress_certificate(headers: &mut BTreeMap<String, String>) -> Option<serde_json::Value> {
    let verified = headers.remove("ssl-client-verify").is_some_and(|v| v.trim() == "SUCCESS");
    let pem = headers.remove("ssl-client-cert").and_then(|v| url_decode(&v))?;
    if !verified {
        return None;
    }
    let common_name = common_name_of_pem(&pem)?;
    Some(json!({
        "clientCertPem": pem,
        "subjectDN": format!("CN={common_name}"),
        "issuerDN": "local ingress",
        "serialNumber": "0",
        "validity": {"notBefore": "", "notAfter": ""},
    }))
}

/// What API Gateway makes of one request: the function it routes to, the function's event (without
/// the authorizer's context yet) and the authorizer's request, and whether the route runs the
/// authorizer (every route but `$default`).
pub struct ApiCall {
    pub function: Function,
    pub event: serde_json::Value,
    pub authorizer_request: serde_json::Value,
    pub authorized: bool,
}

/// Routes a request as API Gateway does and builds both events: a request no route matches goes
/// to the `$default` route (the `actions` function, without the authorizer), as deployed.
pub fn api_call(method: &str, path: &str, query: &str, headers: &BTreeMap<String, String>, body: &[u8]) -> ApiCall {
    let matched =
        ROUTES.iter().filter(|r| r.method() == method).find_map(|r| match_path(r.path(), path).map(|p| (r, p)));
    let (route_key, function, params) = match matched {
        Some((route, params)) => (route.key, route.function, params),
        None => (DEFAULT_ROUTE, Function::Actions, Vec::new()),
    };
    // The authorizer has no identity source (as deployed): it runs for every request, with or
    // without a token, and the function answers 401 in the API's format.
    let identity: Vec<String> = headers.get("authorization").filter(|v| !v.is_empty()).cloned().into_iter().collect();
    let now = chrono::Utc::now();
    let context = json!({
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": headers.get("host").cloned().unwrap_or_else(|| "localhost".into()),
        "domainPrefix": "local",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                 "userAgent": headers.get("user-agent").cloned().unwrap_or_default()},
        "requestId": uuid::Uuid::new_v4().to_string(),
        "routeKey": route_key,
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    let path_parameters: BTreeMap<String, String> = params.into_iter().collect();
    // What API Gateway puts in both the authorizer's request and the function's event.
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": context,
        "pathParameters": path_parameters,
    });
    let mut authorizer_request = event.clone();
    authorizer_request["type"] = json!("REQUEST");
    authorizer_request["routeArn"] =
        json!(format!("arn:aws:execute-api:local:000000000000:local/$default/{method}{path}"));
    authorizer_request["identitySource"] = json!(identity);
    match std::str::from_utf8(body) {
        Ok(text) => {
            event["isBase64Encoded"] = json!(false);
            if !text.is_empty() {
                event["body"] = json!(text);
            }
        }
        Err(_) => {
            event["isBase64Encoded"] = json!(true);
            event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
        }
    }
    ApiCall { function, event, authorizer_request, authorized: route_key != DEFAULT_ROUTE }
}

/// What the functions that never call the provider get: `deps` without it (and the sealing key,
/// which only the networks function of those holds, for a v1 identity's read).
pub fn store_deps(deps: &CloudDeps) -> StoreDeps {
    StoreDeps { sealer: deps.sealer.clone(), ..deps.without_provider() }
}

/// Runs a function's handler, as API Gateway invokes that function's Lambda: `store` is what the
/// functions that never call the provider get ([`store_deps`]).
pub async fn invoke(
    deps: &CloudDeps,
    store: &StoreDeps,
    function: Function,
    request: lambda_http::Request,
) -> lambda_http::Response<lambda_http::Body> {
    match function {
        Function::Create => create::handle(deps, request).await,
        Function::Get => get::handle(deps, request).await,
        Function::List => list::handle(store, request).await,
        Function::Update => update::handle(deps, request).await,
        Function::Delete => delete::handle(deps, request).await,
        Function::Networks => networks::handle(store, request).await,
        Function::Power => power::handle(deps, request).await,
        Function::Console => console::handle(deps, request).await,
        Function::Snapshot => snapshot::handle(deps, request).await,
        Function::Sshcas => sshcas::handle(store, request).await,
        Function::SecurityGroups => securitygroups::handle(store, request).await,
        Function::Protection => protection::handle(store, request).await,
        Function::Actions => actions::handle(store, request).await,
        Function::Regions => regions::handle(deps, request).await,
    }
}

/// Creates the DynamoDB table when it does not exist yet (the deployed stack's template does this).
pub async fn ensure_table(client: &aws_sdk_dynamodb::Client, table: &str) -> shared::Result<()> {
    shared::store::dynamodb::create_table(client, table).await.map_err(shared::Error::from)
}
