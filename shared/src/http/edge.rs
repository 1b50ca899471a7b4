//! What every function's handler shares: serving events, the request span, the route API Gateway
//! resolved, path ids, and the server and replayed responses.

use std::convert::Infallible;
use std::future::Future;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::Instrument;

use super::request::{raw_body, request_id};
use super::response::{error_response, json};
use crate::error::{Error, Result};
use crate::fairuse::{Class, Meter, METER};
use crate::rbac::Caller;
use crate::store::{IdempotencyStore, StoredResponse};
use crate::usecase::idempotency::{self, IdempotencyKey};
use crate::usecase::Deps;

/// Runs a function: `deps` is built once per container (before the first event) and lives as
/// long as the process, so every invocation borrows it.
pub async fn serve<D, F, Fut>(deps: D, handler: F) -> std::result::Result<(), lambda_http::Error>
where
    D: Send + Sync + 'static,
    F: Fn(&'static D, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let deps: &'static D = Box::leak(Box::new(deps));
    lambda_http::run(lambda_http::service_fn(move |req| {
        let work = handler(deps, req);
        async move { Ok::<_, Infallible>(work.await) }
    }))
    .await
}

/// Answers one request: runs `work` inside the request's span (request id, route, server id) and
/// its fair-use meter, turns its error, if any, into the API's error response, and adds the
/// `RateLimit-*` headers of the bucket it was charged to.
pub async fn answer(req: &Request, work: impl Future<Output = Result<Response<Body>>>) -> Response<Body> {
    let meter = Meter::new(Class::of_method(req.method().as_str()));
    let span = tracing::info_span!(
        "request",
        request_id = %request_id(req),
        route = %route_key(req),
        server_id = tracing::field::Empty,
    );
    async move {
        let result = METER.scope(meter.clone(), work).await;
        let give_back = result.as_ref().err().is_some_and(Error::costs_nothing);
        let mut response = result.unwrap_or_else(|e| error_response(&e));
        if response.status() == http::StatusCode::SERVICE_UNAVAILABLE {
            // Identity or the provider did not answer: what the template's alarm counts.
            let function = super::routes::Route::find(route_key(req)).map_or("unknown", |r| r.function.name());
            crate::metrics::emit(
                &[("Function", function)],
                &[crate::metrics::Metric::count("DependencyUnavailable", 1)],
            );
        }
        if let Some(quota) = meter.finish(give_back).await {
            for (name, value) in quota.headers() {
                if let Ok(value) = http::HeaderValue::from_str(&value) {
                    response.headers_mut().insert(name, value);
                }
            }
        }
        tracing::info!(status = response.status().as_u16(), "handled");
        response
    }
    .instrument(span)
    .await
}

/// The route API Gateway matched (`METHOD /path/{param}`); empty when the event has none.
pub fn route_key(req: &Request) -> &str {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.as_deref().unwrap_or_default(),
        _ => "",
    }
}

/// Refuses an event for another route than `key` (the only one a single-route function serves).
pub fn expect_route(req: &Request, key: &str) -> Result<()> {
    if route_key(req) == key {
        Ok(())
    } else {
        Err(unknown_route(req))
    }
}

/// A route this function does not serve (the template sent it an event it has no handler for).
pub fn unknown_route(req: &Request) -> Error {
    Error::not_found(format!("no route for {}", route_key(req)))
}

/// The answer of the `$default` route (a request no route matches): 405 `method_not_allowed` with
/// `Allow` when the path is one the API serves with other methods, else 404 `not_found`. Unikorn
/// answers both in its error body; so does this, never the gateway's `{"message": ...}`.
pub fn fallback(req: &Request) -> Response<Body> {
    let method = req.method().as_str();
    let path = req.uri().path();
    let shown: String = path.chars().take(256).collect();
    let allowed = super::routes::allowed_methods(path);
    if allowed.is_empty() {
        return error_response(&Error::not_found(format!("no route for {method} {shown}")));
    }
    let err = Error::MethodNotAllowed(format!("{method} is not allowed on {shown}: use {}", allowed.join(", ")));
    let mut response = error_response(&err);
    if let Ok(value) = http::HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert("allow", value);
    }
    response
}

/// A path id API Gateway extracted: resource ids are UUIDs (hyphenated), and anything else is a
/// 400, as in Unikorn.
pub fn path_id(req: &Request, name: &str) -> Result<String> {
    let value = path_param(req, name)?;
    if value.len() != 36 || uuid::Uuid::try_parse(&value).is_err() {
        return Err(Error::invalid(format!("{name}: '{}' is not a UUID", shown(&value))));
    }
    Ok(value)
}

/// A path parameter that may carry an escaped `/` (`%2F`, as Unikorn's clients send a network
/// reference), decoded once; at most 1024 bytes before decoding.
pub fn path_text(req: &Request, name: &str) -> Result<String> {
    let raw = path_param(req, name)?;
    if raw.len() > 1024 {
        return Err(Error::invalid(format!("{name}: at most 1024 characters")));
    }
    crate::text::percent_decode(&raw)
        .ok_or_else(|| Error::invalid(format!("{name}: '{}' is not valid UTF-8 once decoded", shown(&raw))))
}

/// A path parameter as API Gateway resolved it; a route without it is this service's mistake.
pub(crate) fn path_param(req: &Request, name: &str) -> Result<String> {
    let params = req.path_parameters();
    params.first(name).map(str::to_owned).ok_or_else(|| Error::internal(format!("route has no {name} parameter")))
}

/// At most 64 characters of a refused path parameter, for its error message.
pub(crate) fn shown(value: &str) -> String {
    value.chars().take(64).collect()
}

/// The key a keyed create leaves on what it makes, so a retry finds it (see [`idempotency`]).
pub fn request_key(caller: &Caller, operation: &str, key: &IdempotencyKey, req: &Request) -> crate::domain::RequestKey {
    idempotency::request_key(caller, operation, key, raw_body(req))
}

/// Runs a create once per `Idempotency-Key` (see [`idempotency::once`]) and answers its response:
/// the first one, replayed, for a retry. `respond` gives the status, body and entity tag.
pub async fn idempotent<S, P, T, Fut>(
    deps: &Deps<S, P>,
    caller: &Caller,
    operation: &str,
    key: Option<&IdempotencyKey>,
    req: &Request,
    respond: impl FnOnce() -> Fut,
) -> Result<Response<Body>>
where
    S: IdempotencyStore,
    T: serde::Serialize,
    Fut: Future<Output = Result<(u16, T, Option<String>)>>,
{
    let response = idempotency::once(deps, caller, operation, key, raw_body(req), || async {
        let (status, body, etag) = respond().await?;
        let body = serde_json::to_value(&body).map_err(|e| Error::internal(format!("cannot encode response: {e}")))?;
        Ok(StoredResponse { status, body, etag })
    })
    .await?;
    let headers: Vec<(&str, String)> = response.etag.iter().map(|e| ("etag", e.clone())).collect();
    Ok(json(response.status, &response.body, &headers))
}
