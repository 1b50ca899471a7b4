//! `sshcas` Lambda: POST/GET /api/v2/sshcertificateauthorities, GET/DELETE
//! /api/v2/sshcertificateauthorities/{sshCertificateAuthorityID}.

use shared::http::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    // Built once per container, outside the handler, so warm invocations reuse the client.
    let deps = shared::context::deps_from_env(shared::context::Access::StoreOnly).await?;
    shared::http::serve(deps, Function::Sshcas).await
}
