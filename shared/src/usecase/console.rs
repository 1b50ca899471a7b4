use super::steps::actionable;
use super::Context;
use super::{load_server, translate, Deps, CONSOLE_OUTPUT};
use crate::error::Result;
use crate::provider::{Compute, Networking};
use crate::rbac::Operation;
use crate::store::ServerStore;

/// The last `length` lines of the console log (the provider's default when absent).
pub async fn console_output<S: ServerStore, P: Compute + Networking>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
    length: Option<u32>,
) -> Result<String> {
    let record = load_server(deps, cx, id, Operation::Read).await?;
    let (record, pid) = actionable(deps, record, CONSOLE_OUTPUT).await?;
    let cred = super::server_credential(deps, &record)?;
    deps.provider.console_output(&cred, &pid, length).await.map_err(|e| translate(e, id, &pid, CONSOLE_OUTPUT))
}

/// A noVNC remote console URL.
pub async fn console_session<S: ServerStore, P: Compute + Networking>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
) -> Result<String> {
    let record = load_server(deps, cx, id, Operation::Read).await?;
    let (record, pid) = actionable(deps, record, "accessed").await?;
    let cred = super::server_credential(deps, &record)?;
    deps.provider.console_url(&cred, &pid).await.map_err(|e| translate(e, id, &pid, "accessed"))
}
