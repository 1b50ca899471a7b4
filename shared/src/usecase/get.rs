use super::refresh::refresh;
use super::Context;
use super::{load_server, server_not_found, Deps};
use crate::domain::ServerRecord;
use crate::error::Result;
use crate::provider::{Compute, Networking};
use crate::rbac::Operation;
use crate::store::ServerStore;

pub async fn get_server<S: ServerStore, P: Compute + Networking>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
) -> Result<ServerRecord> {
    let record = load_server(deps, cx, id, Operation::Read).await?;
    refresh(deps, record).await?.ok_or_else(|| server_not_found(id))
}
