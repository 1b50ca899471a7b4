//! Nova: servers, server actions, remote consoles and flavors.

use std::collections::BTreeMap;

use base64::Engine as _;
use reqwest::Method;

use super::client::{to_value, OpenStackProvider, Service};
use super::convert::{flavor_from_wire, server_from_wire};
use super::wire::*;
use crate::provider::{
    Attach, Flavor, PowerAction, ProviderCredential, ProviderServer, Receipt, ServerCreate, ServerPage,
};
use crate::provider::{ProviderError, Result};
use crate::text::percent_encode as encode;

/// Nova's default `max_limit`: the largest page it serves.
const LIST_PAGE_SIZE: u32 = 1000;
const MAX_LIST_PAGES: usize = 100;

pub(super) async fn create_server(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    server: &ServerCreate,
) -> Result<(String, Receipt)> {
    let body = ServerCreateEnvelope {
        server: ServerCreateBody {
            name: server.name.clone(),
            image_ref: server.image_id.clone(),
            flavor_ref: server.flavor_id.clone(),
            networks: vec![match &server.attach {
                Attach::Port(id) => NetworkAttachment::Port(id.clone()),
                Attach::Network(id) => NetworkAttachment::Uuid(id.clone()),
            }],
            metadata: server.metadata.clone(),
            user_data: server.user_data.as_ref().map(|d| base64::engine::general_purpose::STANDARD.encode(d)),
            key_name: server.key_name.clone(),
        },
    };
    let what = format!("server {}", server.name);
    let (created, receipt): (ServerCreatedEnvelope, _) = p
        .json_receipt(cred, Service::Compute, Method::POST, "/servers", Some(&to_value(&body)?), &what)
        .await
        .map_err(|e| match e {
            // Nova's refusal of user data quotes the value: never carry it on (it can hold secrets).
            ProviderError::Rejected { what, detail } if detail.contains("user_data") => ProviderError::Rejected {
                what,
                detail: "Nova refused the user data (too long or malformed); its message is withheld".into(),
            },
            other => other,
        })?;
    Ok((created.server.id, receipt))
}

pub(super) async fn get_server(p: &OpenStackProvider, cred: &ProviderCredential, id: &str) -> Result<ProviderServer> {
    let what = format!("server {id}");
    let envelope: ServerEnvelope =
        p.json(cred, Service::Compute, Method::GET, &format!("/servers/{}", encode(id)), None, &what).await?;
    Ok(server_from_wire(envelope.server))
}

pub(super) async fn find_servers(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    key: &str,
    value: &str,
) -> Result<Vec<ProviderServer>> {
    // Nova has no metadata filter for project users: list details page by page and filter here.
    let mut found = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_LIST_PAGES {
        let page = list_servers(p, cred, (marker.as_deref(), LIST_PAGE_SIZE), false).await?;
        found.extend(page.servers.into_iter().filter(|s| s.metadata.get(key).map(String::as_str) == Some(value)));
        match page.next {
            Some(next) => marker = Some(next),
            None => return Ok(found),
        }
    }
    Err(ProviderError::unavailable("the server list did not end after 100 pages"))
}

pub(super) async fn list_servers(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    (marker, limit): (Option<&str>, u32),
    every_project: bool,
) -> Result<ServerPage> {
    let mut path = format!("/servers/detail?limit={limit}");
    if every_project {
        // In uuid order, so a listing split into ranges (each from a known server's uuid) covers
        // the region once.
        path.push_str("&all_tenants=1&sort_key=uuid&sort_dir=asc");
    }
    if let Some(marker) = marker {
        path.push_str(&format!("&marker={}", encode(marker)));
    }
    let list: ServersEnvelope = p.json(cred, Service::Compute, Method::GET, &path, None, "server list").await?;
    // Nova links the next page only when this one was full; the marker is its last server.
    let has_next = list.servers_links.iter().any(|l| l.rel == "next");
    let next = if has_next { list.servers.last().map(|s| s.id.clone()) } else { None };
    Ok(ServerPage { servers: list.servers.into_iter().map(server_from_wire).collect(), next })
}

pub(super) async fn delete_server(p: &OpenStackProvider, cred: &ProviderCredential, id: &str) -> Result<Receipt> {
    let what = format!("server {id}");
    let (_, receipt) =
        p.send(cred, Service::Compute, Method::DELETE, &format!("/servers/{}", encode(id)), None, &what).await?;
    Ok(receipt)
}

pub(super) async fn power(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    id: &str,
    action: PowerAction,
) -> Result<Receipt> {
    let body = match action {
        PowerAction::Start => ServerAction::Start(()),
        PowerAction::Stop => ServerAction::Stop(()),
        PowerAction::SoftReboot => ServerAction::Reboot { r#type: "SOFT".into() },
        PowerAction::HardReboot => ServerAction::Reboot { r#type: "HARD".into() },
    };
    p.action(cred, id, &body).await.map(|(_, receipt)| receipt)
}

pub(super) async fn resize(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    id: &str,
    flavor_id: &str,
) -> Result<Receipt> {
    p.action(cred, id, &ServerAction::Resize { flavor_ref: flavor_id.into() }).await.map(|(_, receipt)| receipt)
}

pub(super) async fn confirm_resize(p: &OpenStackProvider, cred: &ProviderCredential, id: &str) -> Result<Receipt> {
    p.action(cred, id, &ServerAction::ConfirmResize(())).await.map(|(_, receipt)| receipt)
}

pub(super) async fn rebuild(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    id: &str,
    image_id: &str,
) -> Result<Receipt> {
    p.action(cred, id, &ServerAction::Rebuild { image_ref: image_id.into() }).await.map(|(_, receipt)| receipt)
}

pub(super) async fn console_output(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    id: &str,
    length: Option<u32>,
) -> Result<String> {
    let (bytes, _) = p.action(cred, id, &ServerAction::ConsoleOutput { length }).await?;
    let parsed: ConsoleOutputResponse = serde_json::from_slice(&bytes)
        .map_err(|e| ProviderError::unavailable(format!("unreadable console output of server {id}: {e}")))?;
    Ok(parsed.output)
}

pub(super) async fn console_url(p: &OpenStackProvider, cred: &ProviderCredential, id: &str) -> Result<String> {
    let body = RemoteConsoleRequest {
        remote_console: RemoteConsoleSpec { protocol: "vnc".into(), console_type: "novnc".into() },
    };
    let what = format!("server {id}");
    let path = format!("/servers/{}/remote-consoles", encode(id));
    let parsed: RemoteConsoleResponse =
        p.json(cred, Service::Compute, Method::POST, &path, Some(&to_value(&body)?), &what).await?;
    Ok(parsed.remote_console.url)
}

pub(super) async fn create_image(
    p: &OpenStackProvider,
    cred: &ProviderCredential,
    server_id: &str,
    name: &str,
    metadata: &BTreeMap<String, String>,
) -> Result<(String, Receipt)> {
    let action = ServerAction::CreateImage { name: name.into(), metadata: metadata.clone() };
    let (bytes, receipt) = p.action(cred, server_id, &action).await?;
    let parsed: CreateImageResponse = serde_json::from_slice(&bytes).map_err(|e| {
        ProviderError::unavailable(format!("unreadable createImage response for server {server_id}: {e}"))
    })?;
    Ok((parsed.image_id, receipt))
}

/// Nova's flavors in name order, page by page (Nova pages at its `max_limit`, 1000 by default).
pub(super) async fn list_flavors(p: &OpenStackProvider, cred: &ProviderCredential) -> Result<Vec<Flavor>> {
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut path = "/flavors/detail?sort_key=name&limit=1000".to_owned();
        if let Some(m) = &marker {
            path.push_str(&format!("&marker={}", encode(m)));
        }
        let page: FlavorsEnvelope = p.json(cred, Service::Compute, Method::GET, &path, None, "flavor list").await?;
        let next = page.flavors_links.iter().any(|l| l.rel == "next");
        marker = page.flavors.last().map(|f| f.id.clone()).filter(|_| next);
        all.extend(page.flavors.into_iter().map(flavor_from_wire));
        if marker.is_none() {
            return Ok(all);
        }
    }
}

pub(super) async fn get_flavor(p: &OpenStackProvider, cred: &ProviderCredential, id: &str) -> Result<Flavor> {
    let what = format!("flavor {id}");
    let envelope: FlavorEnvelope =
        p.json(cred, Service::Compute, Method::GET, &format!("/flavors/{}", encode(id)), None, &what).await?;
    Ok(flavor_from_wire(envelope.flavor))
}
