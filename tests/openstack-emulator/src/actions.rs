//! Nova's server actions (`POST /servers/{id}/action`), one function each, with Nova's state rules:
//! what vm_state and task_state allow the action, the task it starts and the transition it ends in.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::common::nova_fault;
use crate::model::{now, Image, Server, Transition};
use crate::nova::{invalid_state, not_found, server_json, visible_image};
use crate::state::Inner;

/// One action request: the server (visible to the caller), the action's arguments, the microversion.
pub(crate) struct Call<'a> {
    pub id: &'a str,
    pub args: &'a Value,
    pub minor: u32,
    pub base_url: &'a str,
}

pub(crate) fn dispatch(state: &mut Inner, action: &str, call: &Call<'_>) -> Response {
    match action {
        "os-start" => start(state, call),
        "os-stop" => stop(state, call),
        "reboot" => reboot(state, call),
        "createImage" => create_image(state, call),
        "os-getConsoleOutput" => console_output(state, call),
        "resize" => resize(state, call),
        "confirmResize" => confirm_resize(state, call),
        "rebuild" => rebuild(state, call),
        other => nova_fault(400, format!("There is no such action: {other}")),
    }
}

/// The server and when an action it starts is due.
fn server<'s>(state: &'s mut Inner, id: &str) -> Result<(&'s mut Server, std::time::Instant), Response> {
    let due = state.due(state.delays.action_ms);
    let server = state.servers.get_mut(id).ok_or_else(|| not_found(id))?;
    Ok((server, due))
}

fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
}

fn start(state: &mut Inner, call: &Call<'_>) -> Response {
    let (server, due) = match server(state, call.id) {
        Ok(found) => found,
        Err(r) => return r,
    };
    if server.vm_state != "stopped" || server.task_state.is_some() {
        return invalid_state("start", server);
    }
    server.task_state = Some("powering-on");
    server.pending = Some((due, Transition::PoweredOn));
    accepted()
}

fn stop(state: &mut Inner, call: &Call<'_>) -> Response {
    let (server, due) = match server(state, call.id) {
        Ok(found) => found,
        Err(r) => return r,
    };
    if !matches!(server.vm_state, "active" | "error") || server.task_state.is_some() {
        return invalid_state("stop", server);
    }
    server.task_state = Some("powering-off");
    server.pending = Some((due, Transition::PoweredOff));
    accepted()
}

fn reboot(state: &mut Inner, call: &Call<'_>) -> Response {
    let hard = match call.args["type"].as_str() {
        Some("HARD") => true,
        Some("SOFT") => false,
        _ => return nova_fault(400, "Invalid input for field/attribute type."),
    };
    let (server, due) = match server(state, call.id) {
        Ok(found) => found,
        Err(r) => return r,
    };
    let idle = server.task_state.is_none();
    let allowed = if hard {
        matches!(server.vm_state, "active" | "error" | "stopped" | "paused" | "suspended")
            && (idle || matches!(server.task_state, Some("rebooting" | "rebooting_hard")))
    } else {
        server.vm_state == "active" && idle
    };
    if !allowed {
        return invalid_state("reboot", server);
    }
    server.task_state = Some(if hard { "rebooting_hard" } else { "rebooting" });
    server.pending = Some((due, Transition::Rebooted));
    accepted()
}

fn create_image(state: &mut Inner, call: &Call<'_>) -> Response {
    let image_due = state.due(state.delays.image_ms);
    let (server, due) = match server(state, call.id) {
        Ok(found) => found,
        Err(r) => return r,
    };
    if !matches!(server.vm_state, "active" | "stopped" | "paused" | "suspended") || server.task_state.is_some() {
        return invalid_state("createImage", server);
    }
    let Some(name) = call.args["name"].as_str() else {
        return nova_fault(400, "Invalid input for field/attribute name.");
    };
    let mut properties: BTreeMap<String, String> = call.args["metadata"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
        .unwrap_or_default();
    properties.insert("image_type".into(), "snapshot".into());
    properties.insert("instance_uuid".into(), server.id.clone());
    properties.insert("base_image_ref".into(), server.image_id.clone());
    properties.insert("user_id".into(), server.user_id.clone());
    let source = server.image_id.clone();
    let image_id = uuid::Uuid::new_v4().to_string();
    server.task_state = Some("image_snapshot");
    server.pending = Some((due, Transition::Snapshotted));
    server.pending_image = Some(image_id.clone());
    let project = server.project_id.clone();
    // Nova copies the source image's custom properties onto the snapshot.
    if let Some(src) = state.images.get(&source) {
        for (k, v) in &src.properties {
            properties.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let min_disk = state.images.get(&source).map(|i| i.min_disk).unwrap_or(0);
    let image = Image {
        id: image_id.clone(),
        name: name.to_owned(),
        status: "queued".into(),
        owner: Some(project),
        visibility: "private".into(),
        min_disk,
        size: Some(0),
        virtual_size: None,
        tags: vec![],
        properties,
        created_at: now(),
        active_at: Some(image_due),
    };
    state.images.insert(image_id.clone(), image);
    // Microversion 2.45 answers the image id; before it, a Location header names the image.
    if call.minor >= 45 {
        return (StatusCode::ACCEPTED, Json(json!({"image_id": image_id}))).into_response();
    }
    let mut response = accepted();
    if let Ok(v) = format!("{}/image/v2/images/{image_id}", call.base_url).parse() {
        response.headers_mut().insert("location", v);
    }
    response
}

fn console_output(state: &mut Inner, call: &Call<'_>) -> Response {
    let (server, _) = match server(state, call.id) {
        Ok(found) => found,
        Err(r) => return r,
    };
    if server.vm_state == "building" {
        return invalid_state("get_console_output", server);
    }
    let length = match &call.args["length"] {
        Value::Null => None,
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse::<i64>().ok(),
        _ => return nova_fault(400, "Invalid input for field/attribute length."),
    };
    let lines = &server.console;
    let start = match length {
        Some(n) if n >= 0 => lines.len().saturating_sub(n as usize),
        _ => 0,
    };
    Json(json!({"output": lines[start..].join("\n")})).into_response()
}

fn resize(state: &mut Inner, call: &Call<'_>) -> Response {
    let flavor_id = call.args["flavorRef"].as_str().unwrap_or_default().to_owned();
    let flavor = state.flavors.get(&flavor_id).cloned();
    let (server, due) = match server(state, call.id) {
        Ok(found) => found,
        Err(r) => return r,
    };
    if !matches!(server.vm_state, "active" | "stopped") || server.task_state.is_some() {
        return invalid_state("resize", server);
    }
    if flavor_id == server.flavor.id {
        return nova_fault(400, "When resizing, instances must change flavor!");
    }
    let Some(flavor) = flavor else {
        return nova_fault(400, format!("Flavor {flavor_id} could not be found."));
    };
    // Real Nova (libvirt and the fake driver alike) refuses any root disk shrink.
    if flavor.disk < server.flavor.disk {
        return nova_fault(400, "Resize error: Unable to resize disk down.");
    }
    server.old_flavor = Some(std::mem::replace(&mut server.flavor, flavor));
    server.task_state = Some("resize_prep");
    server.pending = Some((due, Transition::Resized));
    accepted()
}

fn confirm_resize(state: &mut Inner, call: &Call<'_>) -> Response {
    let (server, _) = match server(state, call.id) {
        Ok(found) => found,
        Err(r) => return r,
    };
    if server.vm_state != "resized" {
        return invalid_state("confirmResize", server);
    }
    server.old_flavor = None;
    server.vm_state = if server.power_state == 4 { "stopped" } else { "active" };
    StatusCode::NO_CONTENT.into_response()
}

fn rebuild(state: &mut Inner, call: &Call<'_>) -> Response {
    let image_id = call.args["imageRef"].as_str().unwrap_or_default().to_owned();
    let project = state.servers.get(call.id).map(|s| s.project_id.clone()).unwrap_or_default();
    let image_visible = visible_image(state, &project, &image_id).is_some();
    let (server, due) = match server(state, call.id) {
        Ok(found) => found,
        Err(r) => return r,
    };
    if !matches!(server.vm_state, "active" | "stopped" | "error") || server.task_state.is_some() {
        return invalid_state("rebuild", server);
    }
    if !image_visible {
        return nova_fault(400, format!("Image {image_id} could not be found."));
    }
    server.image_id = image_id;
    if let Some(name) = call.args["name"].as_str() {
        server.name = name.to_owned();
    }
    if let Some(metadata) = call.args["metadata"].as_object() {
        server.metadata =
            metadata.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect();
    }
    server.task_state = Some("rebuilding");
    server.pending = Some((due, Transition::Rebuilt));
    let server = server.clone();
    (StatusCode::ACCEPTED, Json(json!({"server": server_json(&server, &state.net, call.base_url, call.minor)})))
        .into_response()
}
