//! Reconciling a record with the provider while the provider is still moving it.

use super::{Deps, META_SERVER_ID};
use crate::domain::{HealthStatus, ServerRecord};
use crate::error::{Error, Result};

/// The provider's id for a record: the stored one, or found by our id in the provider metadata.
pub(crate) async fn provider_id(deps: &Deps, record: &ServerRecord) -> Result<Option<String>> {
    if let Some(id) = &record.provider_id {
        return Ok(Some(id.clone()));
    }
    let cred = deps.identities.credential(&record.identity_id)?;
    let found = deps.provider.find_servers(&cred, META_SERVER_ID, &record.id).await?;
    Ok(found.into_iter().next().map(|s| s.id))
}

/// Asks the provider about a record in a transitional state and stores what it reports.
/// `None` means the server is gone: its deletion finished and the record and name claim are removed.
/// A provider that cannot be reached leaves the stored state as the answer.
pub(crate) async fn refresh(deps: &Deps, record: ServerRecord) -> Result<Option<ServerRecord>> {
    if !record.is_transitional() {
        return Ok(Some(record));
    }
    let cred = deps.identities.credential(&record.identity_id)?;
    let observed = match provider_id(deps, &record).await {
        Ok(Some(id)) => deps.provider.get_server(&cred, &id).await.map(|s| (id, s)),
        Ok(None) if record.is_deleting() => Err(Error::not_found("no provider server")),
        // Still being created: the create call has not recorded the provider id yet.
        Ok(None) => return Ok(Some(record)),
        Err(e) => Err(e),
    };
    let mut next = record.clone();
    match observed {
        Ok((id, server)) => {
            if record.resize_pending && server.status == "VERIFY_RESIZE" {
                match deps.provider.confirm_resize(&cred, &id).await {
                    Ok(()) => next.resize_pending = false,
                    Err(e) => {
                        tracing::warn!(server_id = %record.id, error = %e, "resize confirmation failed; will retry")
                    }
                }
            }
            next.provider_id = Some(id);
            next.observe(&server);
        }
        Err(Error::NotFound(_)) if record.is_deleting() => {
            deps.store.remove_server(&record).await?;
            tracing::info!(server_id = %record.id, "deletion finished at the provider; name released");
            return Ok(None);
        }
        Err(Error::NotFound(_)) => next.health_status = HealthStatus::Degraded,
        Err(e @ Error::Unavailable { .. }) => {
            tracing::warn!(server_id = %record.id, error = %e, "provider unavailable; serving the stored state");
            return Ok(Some(record));
        }
        Err(e) => return Err(e),
    }
    if next == record {
        return Ok(Some(record));
    }
    next.version = record.version + 1;
    match deps.store.replace_server(&next, record.version).await {
        Ok(()) => Ok(Some(next)),
        // Another request wrote first; its copy is at least as new as ours.
        Err(Error::PreconditionFailed(_)) => deps.store.get_server(&record.id).await,
        Err(e) => Err(e),
    }
}
