//! The smallest `lambda_http` function: what the bench compares every function's start against.

use lambda_http::{service_fn, Body, Error, Request, Response};

async fn hello(_: Request) -> Result<Response<Body>, Error> {
    Ok(Response::new(Body::Text("hello".into())))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(hello)).await
}
