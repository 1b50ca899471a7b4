//! Reconciling a record with the provider on the read path, while the provider is still moving it.

use super::reconcile::{apply, plan};
use super::{Deps, META_SERVER_ID};
use crate::domain::ServerRecord;
use crate::error::Result;
use crate::provider::{Compute, Networking, ProviderError};
use crate::store::ServerStore;

/// The provider's id for a record: the stored one, or found by our id in the provider metadata.
pub(crate) async fn provider_id<S, P: Compute + Networking>(
    deps: &Deps<S, P>,
    record: &ServerRecord,
) -> Result<Option<String>> {
    if let Some(id) = &record.provider_id {
        return Ok(Some(id.clone()));
    }
    let cred = super::server_credential(deps, record)?;
    let found = deps.provider.find_servers(&cred, META_SERVER_ID, &record.id).await?;
    Ok(found.into_iter().next().map(|s| s.id))
}

/// Asks the provider about a record in a transitional state and stores what it reports.
/// `None` means the server is gone: its record and name claim are removed.
/// A provider that cannot be reached leaves the stored state as the answer (a reader is served
/// what is stored).
pub(crate) async fn refresh<S: ServerStore, P: Compute + Networking>(
    deps: &Deps<S, P>,
    record: ServerRecord,
) -> Result<Option<ServerRecord>> {
    observe(deps, record, true).await
}

/// As [`refresh`], except that a provider that cannot be reached is an error: for a caller whose
/// job is to settle the record (a follow-up), not to read it, and which must try again.
pub(crate) async fn settle<S: ServerStore, P: Compute + Networking>(
    deps: &Deps<S, P>,
    record: ServerRecord,
) -> Result<Option<ServerRecord>> {
    observe(deps, record, false).await
}

async fn observe<S: ServerStore, P: Compute + Networking>(
    deps: &Deps<S, P>,
    record: ServerRecord,
    stored_when_unavailable: bool,
) -> Result<Option<ServerRecord>> {
    if !record.is_transitional() {
        return Ok(Some(record));
    }
    let cred = super::server_credential(deps, &record)?;
    let observed = match &record.provider_id {
        Some(id) => deps.provider.get_server(&cred, id).await.map(Some),
        None => {
            deps.provider.find_servers(&cred, META_SERVER_ID, &record.id).await.map(|found| found.into_iter().next())
        }
    };
    let observed = match observed {
        Ok(found) => found,
        Err(ProviderError::NotFound { .. }) => None,
        Err(e @ ProviderError::Unavailable(_)) if stored_when_unavailable => {
            tracing::warn!(server_id = %record.id, error = %e, "provider unavailable; serving the stored state");
            return Ok(Some(record));
        }
        Err(e) => return Err(e.into()),
    };
    let decided = plan(&record, observed.as_ref(), deps.clock.now(), deps.timing);
    apply(deps, &cred, &record, decided).await
}
