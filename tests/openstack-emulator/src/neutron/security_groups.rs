//! `/v2.0/security-groups` and `/v2.0/security-group-rules` in the token's project, as Neutron
//! answers them: a group is made with its default egress rules (IPv4 and IPv6), a project's
//! `default` group on first use; a duplicate rule is 409 `SecurityGroupRuleExists`; a group a port
//! uses is 409 `SecurityGroupInUse`; `default` is 409 `SecurityGroupCannotRemoveDefault` (only an
//! admin may remove it, and the emulator's tokens are not admin).

use axum::extract::{Path, Query as AxumQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::model::{security_group_json, security_group_rule_json, SecurityGroupRule};
use super::{bad_request, listing, neutron, neutron_error, resource, text, Query};
use crate::common::Ctx;

fn group_missing(id: &str) -> Response {
    neutron_error(404, "SecurityGroupNotFound", format!("Security group {id} does not exist"))
}

pub async fn list_security_groups(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    AxumQuery(query): AxumQuery<Vec<(String, String)>>,
) -> Response {
    neutron(&ctx.clone(), &headers, |state, token| {
        state.net.default_group(&token.project_id);
        let admin = state.is_admin(token);
        let net = &state.net;
        let mine = net
            .security_groups
            .values()
            .filter(|g| admin || g.project_id == token.project_id)
            .map(|g| security_group_json(g, &net.security_group_rules))
            .collect();
        listing(&ctx, "security_groups", "security-groups", mine, &Query::new(&query))
    })
}

pub async fn show_security_group(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    neutron(&ctx, &headers, |state, token| match state.net.security_groups.get(&id) {
        Some(g) if g.project_id == token.project_id => {
            Json(json!({"security_group": security_group_json(g, &state.net.security_group_rules)})).into_response()
        }
        _ => group_missing(&id),
    })
}

pub async fn create_security_group(State(ctx): State<Ctx>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    neutron(&ctx, &headers, |state, token| {
        let g = match resource(&body, "security_group") {
            Ok(g) => g,
            Err(r) => return r,
        };
        let name = text(g, "name");
        if name == "default" {
            return neutron_error(409, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.");
        }
        state.net.default_group(&token.project_id);
        let id = state.net.add_group(&token.project_id, &name, &text(g, "description"));
        let made = state.net.security_groups.get(&id).map(|g| security_group_json(g, &state.net.security_group_rules));
        (StatusCode::CREATED, Json(json!({"security_group": made}))).into_response()
    })
}

pub async fn delete_security_group(State(ctx): State<Ctx>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    neutron(&ctx, &headers, |state, token| {
        let Some(group) = state.net.security_groups.get(&id).filter(|g| g.project_id == token.project_id) else {
            return group_missing(&id);
        };
        if state.net.ports.values().any(|p| p.security_groups.contains(&id)) {
            return neutron_error(409, "SecurityGroupInUse", format!("Security Group {id} in use."));
        }
        if group.name == "default" {
            return neutron_error(
                409,
                "SecurityGroupCannotRemoveDefault",
                "Insufficient rights for removing default security group.",
            );
        }
        state.net.security_groups.remove(&id);
        state.net.security_group_rules.retain(|_, r| r.security_group_id != id);
        StatusCode::NO_CONTENT.into_response()
    })
}

pub async fn list_security_group_rules(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    AxumQuery(query): AxumQuery<Vec<(String, String)>>,
) -> Response {
    neutron(&ctx.clone(), &headers, |state, token| {
        let mine = state
            .net
            .security_group_rules
            .values()
            .filter(|r| r.project_id == token.project_id)
            .map(security_group_rule_json)
            .collect();
        listing(&ctx, "security_group_rules", "security-group-rules", mine, &Query::new(&query))
    })
}

pub async fn create_security_group_rule(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    neutron(&ctx, &headers, |state, token| {
        let r = match resource(&body, "security_group_rule") {
            Ok(r) => r,
            Err(e) => return e,
        };
        let group = text(r, "security_group_id");
        if state.net.security_groups.get(&group).is_none_or(|g| g.project_id != token.project_id) {
            return group_missing(&group);
        }
        let direction = text(r, "direction");
        if direction != "ingress" && direction != "egress" {
            return bad_request(format!("Invalid input for direction. Reason: {direction} is not in valid_values."));
        }
        let port = |key: &str| r.get(key).and_then(Value::as_u64);
        let rule = SecurityGroupRule {
            id: uuid::Uuid::new_v4().to_string(),
            security_group_id: group,
            project_id: token.project_id.clone(),
            direction,
            ethertype: r.get("ethertype").and_then(Value::as_str).unwrap_or("IPv4").to_owned(),
            protocol: r.get("protocol").and_then(Value::as_str).map(str::to_owned),
            port_range_min: port("port_range_min"),
            port_range_max: port("port_range_max"),
            remote_ip_prefix: r.get("remote_ip_prefix").and_then(Value::as_str).map(str::to_owned),
        };
        if let Some(same) = state.net.security_group_rules.values().find(|held| held.same_as(&rule)) {
            return neutron_error(
                409,
                "SecurityGroupRuleExists",
                format!("Security group rule already exists. Rule id is {}.", same.id),
            );
        }
        let body = json!({"security_group_rule": security_group_rule_json(&rule)});
        state.net.security_group_rules.insert(rule.id.clone(), rule);
        (StatusCode::CREATED, Json(body)).into_response()
    })
}

pub async fn delete_security_group_rule(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    neutron(&ctx, &headers, |state, token| {
        if state.net.security_group_rules.get(&id).is_none_or(|r| r.project_id != token.project_id) {
            return neutron_error(404, "SecurityGroupRuleNotFound", format!("Security group rule {id} does not exist"));
        }
        state.net.security_group_rules.remove(&id);
        StatusCode::NO_CONTENT.into_response()
    })
}
