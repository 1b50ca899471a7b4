//! Route -> use-case dispatch. Each arm reads its input, calls one use-case, shapes the response.

use lambda_http::{Body, Request, Response};
use tracing::Instrument;

use super::request::{
    ca_list_params, caller, console_length, encode_page_token, idempotency_key, if_match, json_body, list_params,
    next_link, no_query, raw_body, request_id,
};
use super::response::{empty, error_response, json};
use super::routes::{resolve, Function, RouteId};
use crate::api::images::{ImageRead, SnapshotCreate};
use crate::api::networks::{NetworkV2Create, NetworkV2Read};
use crate::api::servers::{ServerV2Create, ServerV2Read, ServerV2Update};
use crate::api::sshcas::{SshCertificateAuthorityV2Create, SshCertificateAuthorityV2Read};
use crate::domain::ServerRecord;
use crate::error::{Error, Result};
use crate::provider::PowerAction;
use crate::store::StoredResponse;
use crate::usecase::{self, idempotency, networks, sshcas, Deps};

/// Handles one API request. `function` restricts the routes to one Lambda's (None: all, for tools).
pub async fn handle(deps: &Deps, function: Option<Function>, req: Request) -> Response<Body> {
    let span = tracing::info_span!(
        "request",
        request_id = %request_id(&req),
        method = %req.method(),
        path = %req.uri().path(),
        server_id = tracing::field::Empty,
    );
    async move {
        let response = match dispatch(deps, function, &req).await {
            Ok(response) => response,
            Err(e) => error_response(&e),
        };
        tracing::info!(status = response.status().as_u16(), "handled");
        response
    }
    .instrument(span)
    .await
}

/// A path id: resource ids are UUIDs (hyphenated), and anything else is a 400, as in Unikorn.
fn param(params: &[(String, String)], name: &str) -> Result<String> {
    let value = params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .ok_or_else(|| Error::internal(format!("route has no {name} parameter")))?;
    if value.len() != 36 || uuid::Uuid::try_parse(&value).is_err() {
        let shown: String = value.chars().take(64).collect();
        return Err(Error::invalid(format!("{name}: '{shown}' is not a UUID")));
    }
    Ok(value)
}

fn server(status: u16, record: &ServerRecord) -> Response<Body> {
    json(status, &ServerV2Read::from(record), &[("etag", record.etag())])
}

fn stored<T: serde::Serialize>(status: u16, body: &T, etag: Option<String>) -> Result<StoredResponse> {
    let body = serde_json::to_value(body).map_err(|e| Error::internal(format!("cannot encode response: {e}")))?;
    Ok(StoredResponse { status, body, etag })
}

fn replay(response: &StoredResponse) -> Response<Body> {
    let headers: Vec<(&str, String)> = response.etag.iter().map(|e| ("etag", e.clone())).collect();
    json(response.status, &response.body, &headers)
}

async fn dispatch(deps: &Deps, function: Option<Function>, req: &Request) -> Result<Response<Body>> {
    let (route, params) = resolve(req.method().as_str(), req.uri().path(), function)?;
    let caller = caller(req, deps.clock.now().timestamp())?;
    // Only the lists and the console output read query parameters (and refuse unknown ones
    // themselves); every other route refuses any.
    if !matches!(route.id, RouteId::ListServers | RouteId::ListSshCas | RouteId::ConsoleOutput) {
        no_query(req)?;
    }
    match route.id {
        RouteId::CreateServer => {
            let key = idempotency_key(req)?;
            let input = json_body::<ServerV2Create>(req)?.parse()?;
            let response = idempotency::once(deps, &caller, "create-server", key.as_ref(), raw_body(req), || async {
                let record = usecase::create_server(deps, &caller, input).await?;
                stored(201, &ServerV2Read::from(&record), Some(record.etag()))
            })
            .await?;
            Ok(replay(&response))
        }
        RouteId::GetServer => {
            let id = param(&params, "serverID")?;
            Ok(server(200, &usecase::get_server(deps, &caller, &id).await?))
        }
        RouteId::ListServers => {
            let list = list_params(req)?;
            let page = usecase::list_servers(deps, &caller, &list).await?;
            let body: Vec<ServerV2Read> = page.items.iter().map(ServerV2Read::from).collect();
            let link = match &page.next {
                Some(next) => vec![("link", next_link(req, &encode_page_token(next)))],
                None => vec![],
            };
            Ok(json(200, &body, &link))
        }
        RouteId::UpdateServer => {
            let id = param(&params, "serverID")?;
            let condition = if_match(req)?;
            let input = json_body::<ServerV2Update>(req)?.parse()?;
            let record = usecase::update_server(deps, &caller, &id, condition, input).await?;
            Ok(server(202, &record))
        }
        RouteId::DeleteServer => {
            let id = param(&params, "serverID")?;
            usecase::delete_server(deps, &caller, &id).await?;
            Ok(empty(202))
        }
        RouteId::CreateNetwork => {
            let input = json_body::<NetworkV2Create>(req)?.parse()?;
            let record = networks::create_network(deps, &caller, input).await?;
            Ok(json(201, &NetworkV2Read::from(&record), &[]))
        }
        RouteId::ListNetworks => {
            let list = networks::list_networks(deps, &caller).await?;
            Ok(json(200, &list.iter().map(NetworkV2Read::from).collect::<Vec<_>>(), &[]))
        }
        RouteId::GetNetwork => {
            let id = param(&params, "networkID")?;
            Ok(json(200, &NetworkV2Read::from(&networks::get_network(deps, &caller, &id).await?), &[]))
        }
        RouteId::DeleteNetwork => {
            let id = param(&params, "networkID")?;
            networks::delete_network(deps, &caller, &id).await?;
            Ok(empty(202))
        }
        RouteId::StartServer | RouteId::StopServer | RouteId::SoftRebootServer | RouteId::HardRebootServer => {
            let id = param(&params, "serverID")?;
            let action = match route.id {
                RouteId::StartServer => PowerAction::Start,
                RouteId::StopServer => PowerAction::Stop,
                RouteId::SoftRebootServer => PowerAction::SoftReboot,
                _ => PowerAction::HardReboot,
            };
            usecase::power(deps, &caller, &id, action).await?;
            Ok(empty(202))
        }
        RouteId::ConsoleOutput => {
            let id = param(&params, "serverID")?;
            let length = console_length(req)?;
            let contents = usecase::console_output(deps, &caller, &id, length).await?;
            Ok(json(200, &serde_json::json!({ "contents": contents }), &[]))
        }
        RouteId::ConsoleSession => {
            let id = param(&params, "serverID")?;
            let url = usecase::console_session(deps, &caller, &id).await?;
            Ok(json(200, &serde_json::json!({ "url": url }), &[]))
        }
        RouteId::SshKey => {
            let id = param(&params, "serverID")?;
            let key = usecase::ssh_private_key(deps, &caller, &id).await?;
            Ok(json(200, &serde_json::json!({ "privateKey": key }), &[("cache-control", "no-store".to_owned())]))
        }
        RouteId::CreateSshCa => {
            let input = json_body::<SshCertificateAuthorityV2Create>(req)?.parse()?;
            let ca = sshcas::create(deps, &caller, input).await?;
            Ok(json(201, &SshCertificateAuthorityV2Read::from(&ca), &[]))
        }
        RouteId::ListSshCas => {
            let list = sshcas::list(deps, &caller, &ca_list_params(req)?).await?;
            Ok(json(200, &list.iter().map(SshCertificateAuthorityV2Read::from).collect::<Vec<_>>(), &[]))
        }
        RouteId::GetSshCa => {
            let id = param(&params, "sshCertificateAuthorityID")?;
            Ok(json(200, &SshCertificateAuthorityV2Read::from(&sshcas::get(deps, &caller, &id).await?), &[]))
        }
        RouteId::DeleteSshCa => {
            let id = param(&params, "sshCertificateAuthorityID")?;
            sshcas::delete(deps, &caller, &id).await?;
            Ok(empty(202))
        }
        RouteId::CreateSnapshot => {
            let id = param(&params, "serverID")?;
            let key = idempotency_key(req)?;
            let input = json_body::<SnapshotCreate>(req)?.parse()?;
            let operation = format!("snapshot#{id}");
            let response = idempotency::once(deps, &caller, &operation, key.as_ref(), raw_body(req), || async {
                let image = usecase::snapshot(deps, &caller, &id, input).await?;
                stored(201, &ImageRead::from(&image), None)
            })
            .await?;
            Ok(replay(&response))
        }
    }
}
