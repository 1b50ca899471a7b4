//! A server's action history (`/api/v2/servers/{id}/actions`). Readable by whoever may read the
//! server, and after the server is gone by whoever could read its project (the actions carry it).

use super::Context;
use super::{server_not_found, Deps, Placed, Placement};
use crate::domain::{ActionError, ActionRecord, ActionStatus, ApiVersion};
use crate::error::{Error, Result};
use crate::rbac::{Operation, SERVERS};
use crate::store::{ActionQuery, ActionStore, Page, ServerStore};

impl Placed for ActionRecord {
    fn placement(&self) -> Placement<'_> {
        Placement {
            // A provider server that never had a record is shown on the flat routes.
            version: self.api_version.unwrap_or(ApiVersion::V2),
            organization_id: &self.organization_id,
            project_id: &self.project_id,
            identity_id: None,
        }
    }
}

pub struct ActionListParams {
    pub status: Option<ActionStatus>,
    pub after: Option<String>,
    pub limit: usize,
}

pub async fn list_actions<S: ServerStore + ActionStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    server_id: &str,
    params: ActionListParams,
) -> Result<Page<ActionRecord>> {
    authorize(deps, cx, server_id).await?;
    let status = params.status;
    let query = ActionQuery { status, after: params.after, limit: params.limit };
    let mut page = deps.store.list_actions(server_id, &query).await?;
    for action in &mut page.items {
        expire(action, deps);
    }
    page.items.retain(|a| status.is_none_or(|s| a.action.status == s));
    Ok(page)
}

/// A running action past the action timeout reads as failed by it, whether or not a write has
/// said so yet (sync completes tracked ones; one whose last write was lost only reads so).
fn expire<S, P>(action: &mut ActionRecord, deps: &Deps<S, P>) {
    let now = deps.clock.now();
    let timeout = deps.timing.action_timeout;
    if action.action.is_running() && now - action.action.started >= timeout {
        action.action.finish(now, Err(ActionError::timeout(timeout)));
    }
}

pub async fn get_action<S: ServerStore + ActionStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    server_id: &str,
    action_id: &str,
) -> Result<ActionRecord> {
    authorize(deps, cx, server_id).await?;
    let mut action = deps
        .store
        .get_action(server_id, action_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("no action found with id {action_id} on server {server_id}")))?;
    expire(&mut action, deps);
    Ok(action)
}

/// Read permission on the server; once it is gone, on the project its newest action names.
async fn authorize<S: ServerStore + ActionStore, P>(deps: &Deps<S, P>, cx: &Context, server_id: &str) -> Result<()> {
    let missing = || server_not_found(server_id);
    let read = (SERVERS, Operation::Read);
    // The server as read here is the one checked: no second read through `load_server`.
    match deps.store.get_server(server_id).await? {
        Some(server) => {
            let server = cx.view.load(&cx.caller, read, async { Ok(Some(server)) }, missing).await?;
            super::admit(deps, &server.organization_id).await?;
        }
        None => {
            let newest = ActionQuery { status: None, after: None, limit: 1 };
            let action = async { Ok(deps.store.list_actions(server_id, &newest).await?.items.into_iter().next()) };
            let action = cx.view.load(&cx.caller, read, action, missing).await?;
            super::admit(deps, &action.organization_id).await?;
        }
    }
    tracing::Span::current().record("server_id", server_id);
    Ok(())
}
