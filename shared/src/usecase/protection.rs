//! Deletion and rebuild protection (`/api/v2/servers/{id}/protection`). The protection is stored
//! on the record and is a condition of the writes it guards (see `ServerStore::replace_server`);
//! delete protection is also counted on the server's network, which a network delete checks in
//! its own conditional write.

use super::Context;
use super::{load_server, Deps};
use crate::domain::{Protection, ServerRecord};
use crate::error::{Error, Result};
use crate::rbac::Operation;
use crate::store::{Kind, ServerStore, StoreError};

pub async fn get_protection<S: ServerStore, P>(deps: &Deps<S, P>, cx: &Context, id: &str) -> Result<Protection> {
    Ok(load_server(deps, cx, id, Operation::Read).await?.protection)
}

/// Sets the protection; answers the record as written (unchanged when it already had it).
pub async fn set_protection<S: ServerStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
    protection: Protection,
) -> Result<ServerRecord> {
    let mut attempts = 0;
    loop {
        let record = load_server(deps, cx, id, Operation::Update).await?;
        if record.protection == protection {
            return Ok(record);
        }
        if record.is_deleting() {
            return Err(Error::conflict(format!("server {id} is being deleted: its protection cannot change")));
        }
        let mut next = record.clone();
        next.protection = protection;
        next.version = record.version + 1;
        next.modified_by = Some(cx.caller.subject.clone());
        next.modified_time = Some(deps.clock.now());
        match deps.store.set_protection(&record, &next).await {
            Ok(()) => {
                tracing::info!(delete = protection.delete, rebuild = protection.rebuild, "server protection changed");
                return Ok(next);
            }
            Err(StoreError::Changed(..)) if attempts < 3 => attempts += 1,
            Err(StoreError::Closing(Kind::Network, network)) => {
                return Err(Error::conflict(format!(
                    "network {network} is being deleted: its servers cannot be protected from deletion"
                )))
            }
            Err(e) => return Err(e.into()),
        }
    }
}
