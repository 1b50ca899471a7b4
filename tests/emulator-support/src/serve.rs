//! The accept loop: each connection is served by a handler that answers a response or drops the
//! connection (an injected fault), as a broken network would.

use std::convert::Infallible;
use std::future::Future;

use axum::body::Body;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tower::ServiceExt;

/// The handler's answer when a fault drops the connection.
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by injected fault")
    }
}

impl std::error::Error for Dropped {}

/// Serves every connection `listener` accepts with `handler`, until the runtime stops.
pub async fn serve<H, F>(listener: TcpListener, handler: H)
where
    H: Fn(hyper::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response, Dropped>> + Send + 'static,
{
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        tokio::spawn(serve_connection(stream, handler.clone()));
    }
}

/// Serves one connection (plain or already TLS-accepted) with `handler`.
pub async fn serve_connection<S, H, F>(stream: S, handler: H)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Fn(hyper::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response, Dropped>> + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| handler.clone()(req));
    // A dropped-connection fault surfaces here as a service error; nothing to report.
    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
}

/// Lets `router` answer a request (routers cannot fail: their error type is `Infallible`).
pub async fn route(router: Router, request: axum::http::Request<Body>) -> Response {
    let response: Result<Response, Infallible> = router.oneshot(request).await;
    response.unwrap_or_else(|never| match never {})
}

/// The connection handler that passes each request, with `router` and `ctx`, to `handle`.
pub fn handler<C, H, F>(
    router: Router,
    ctx: C,
    handle: H,
) -> impl Fn(hyper::Request<Incoming>) -> F + Clone + Send + Sync
where
    C: Clone + Send + Sync + 'static,
    H: Fn(Router, C, hyper::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response, Dropped>> + Send + 'static,
{
    move |req| handle(router.clone(), ctx.clone(), req)
}
