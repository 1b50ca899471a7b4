//! `sshcas` Lambda: POST/GET /api/v2/sshcertificateauthorities, GET/DELETE
//! /api/v2/sshcertificateauthorities/{sshCertificateAuthorityID}.
//! The handler reads what API Gateway resolved (`routeKey`, `pathParameters`), calls the
//! use-case, and shapes the response; `main` builds [`deps`] once per container.

use lambda_http::{Body, Request, Response};
use shared::api::v2::sshcas::{SshCertificateAuthorityV2Create, SshCertificateAuthorityV2Read};
use shared::context::StoreDeps;
use shared::error::Result;
use shared::http;
use shared::http::routes::{CREATE_SSH_CA, DELETE_SSH_CA, GET_SSH_CA, LIST_SSH_CAS};
use shared::http::Function;
use shared::usecase::sshcas;

pub async fn handle(deps: &StoreDeps, req: Request) -> Response<Body> {
    http::answer(&req, route(deps, &req)).await
}

async fn route(deps: &StoreDeps, req: &Request) -> Result<Response<Body>> {
    let api = http::api(req, Function::Sshcas)?;
    let cx = api.context(req)?;
    match api.route.key {
        CREATE_SSH_CA => {
            http::no_query(req)?;
            let input = http::json_body::<SshCertificateAuthorityV2Create>(req)?.parse()?;
            let ca = sshcas::create(deps, &cx, input).await?;
            Ok(http::json(201, &SshCertificateAuthorityV2Read::from(&ca), &[]))
        }
        LIST_SSH_CAS => {
            let list = sshcas::list(deps, &cx, &http::ca_list_params(req)?).await?;
            Ok(http::json(200, &list.iter().map(SshCertificateAuthorityV2Read::from).collect::<Vec<_>>(), &[]))
        }
        GET_SSH_CA => {
            http::no_query(req)?;
            let id = http::path_id(req, "sshCertificateAuthorityID")?;
            Ok(http::json(200, &SshCertificateAuthorityV2Read::from(&sshcas::get(deps, &cx, &id).await?), &[]))
        }
        DELETE_SSH_CA => {
            http::no_query(req)?;
            let id = http::path_id(req, "sshCertificateAuthorityID")?;
            sshcas::delete(deps, &cx, &id).await?;
            Ok(http::empty(202))
        }
        _ => Err(http::unknown_route(req)),
    }
}

/// What this function runs on, built once per container before the first event.
pub async fn deps() -> Result<StoreDeps> {
    shared::context::store_deps().await
}
