//! The HTTP edge: the only module that knows `lambda_http`. Routes, request extraction, the one
//! error-to-response mapping, and the dispatch from a route to its use-case.

mod authorizer;
mod handlers;
mod request;
mod response;
pub mod routes;

pub use authorizer::authorize;
pub use handlers::handle;
pub use response::error_response;
pub use routes::{Function, Route, RouteId, ROUTES};

use std::convert::Infallible;

use crate::usecase::Deps;

/// Runs one function: every request goes through [`handle`] restricted to its own routes.
pub async fn serve(deps: Deps, function: Function) -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(move |req| {
        let deps = deps.clone();
        async move { Ok::<_, Infallible>(handle(&deps, Some(function), req).await) }
    }))
    .await
}
