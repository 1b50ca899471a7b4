//! `snapshot` Lambda: POST /api/v2/servers/{serverID}/snapshot.

use shared::http::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    // Built once per container, outside the handler, so warm invocations reuse clients and tokens.
    let deps = shared::context::deps_from_env(shared::context::Access::Provider).await?;
    shared::http::serve(deps, Function::Snapshot).await
}
