//! `regions` Lambda: see the crate's library for its routes.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    shared::http::serve(regions::deps().await?, regions::handle).await
}
