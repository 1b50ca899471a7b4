//! `securitygroups` Lambda: see the crate's library for its routes.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    shared::http::serve(securitygroups::deps().await?, securitygroups::handle).await
}
