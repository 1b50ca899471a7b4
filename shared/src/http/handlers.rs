//! Route -> use-case dispatch. Each arm reads its input, calls one use-case, shapes the response.

use lambda_http::{Body, Request, RequestExt, Response};
use tracing::Instrument;

use super::request::{
    caller, console_length, encode_page_token, header, json_body, list_params, next_link, request_id,
};
use super::response::{empty, error_response, json};
use super::routes::{resolve, Function, RouteId};
use crate::api::images::{ImageRead, SnapshotCreate};
use crate::api::networks::{NetworkV2Create, NetworkV2Read};
use crate::api::servers::{ServerV2Create, ServerV2Read, ServerV2Update};
use crate::domain::ServerRecord;
use crate::error::{Error, Result};
use crate::provider::PowerAction;
use crate::usecase::{self, networks, Deps};

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

fn param(params: &[(String, String)], name: &str) -> Result<String> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .ok_or_else(|| Error::internal(format!("route has no {name} parameter")))
}

fn server(status: u16, record: &ServerRecord) -> Response<Body> {
    json(status, &ServerV2Read::from(record), &[("etag", record.etag())])
}

async fn dispatch(deps: &Deps, function: Option<Function>, req: &Request) -> Result<Response<Body>> {
    let (route, params) = resolve(req.method().as_str(), req.uri().path(), function)?;
    let caller = caller(req, deps.clock.now().timestamp())?;
    match route.id {
        RouteId::CreateServer => {
            let input = json_body::<ServerV2Create>(req)?.parse()?;
            Ok(server(201, &usecase::create_server(deps, &caller, input).await?))
        }
        RouteId::GetServer => {
            let id = param(&params, "serverID")?;
            Ok(server(200, &usecase::get_server(deps, &caller, &id).await?))
        }
        RouteId::ListServers => {
            let list = list_params(req)?;
            let page = usecase::list_servers(deps, &caller, &list).await?;
            let body: Vec<ServerV2Read> = page.items.iter().map(ServerV2Read::from).collect();
            let link = match (page.more, page.items.last()) {
                (true, Some(last)) => vec![("link", next_link(req, &encode_page_token(&last.id)))],
                _ => vec![],
            };
            Ok(json(200, &body, &link))
        }
        RouteId::UpdateServer => {
            let id = param(&params, "serverID")?;
            let input = json_body::<ServerV2Update>(req)?.parse()?;
            let record = usecase::update_server(deps, &caller, &id, header(req, "if-match"), input).await?;
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
            if let Some((key, _)) = req.query_string_parameters().iter().next() {
                return Err(Error::invalid(format!("{key}: unknown query parameter")));
            }
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
        RouteId::CreateSnapshot => {
            let id = param(&params, "serverID")?;
            let input = json_body::<SnapshotCreate>(req)?.parse()?;
            let image = usecase::snapshot(deps, &caller, &id, input).await?;
            Ok(json(201, &ImageRead::from(&image), &[]))
        }
    }
}
