use super::refresh::refresh;
use super::{load_server, server_not_found, Deps, View};
use crate::domain::ServerRecord;
use crate::error::Result;
use crate::provider::Compute;
use crate::rbac::{Caller, Operation};
use crate::store::ServerStore;

pub async fn get_server<S: ServerStore, P: Compute>(
    deps: &Deps<S, P>,
    caller: &Caller,
    view: &View,
    id: &str,
) -> Result<ServerRecord> {
    let record = load_server(deps, caller, view, id, Operation::Read).await?;
    refresh(deps, record).await?.ok_or_else(|| server_not_found(id))
}
