//! A server intent followed up once the function that wrote it has surely ended (the writer
//! enqueues the follow-up, delayed past its own timeout, before it asks the provider): if the
//! record is still as that writer left it and still unsettled, it is settled now, as the cleanup
//! function would after its grace period: adopted or removed, a lost delete or change completed,
//! the port and public address brought to what the record asks. A record written over since is
//! left to its newer writer, whose own follow-up comes later.

use super::refresh::settle;
use super::server_port::{align_port, converge_public_ip, find_port, PortGroups};
use super::{catalog, server_credential, Deps};
use crate::error::Result;
use crate::provider::{Compute, Networking};
use crate::store::{CatalogStore, SecurityGroupStore, ServerStore};

/// What a follow-up found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowedUp {
    /// The record is gone (removed now, or before).
    Gone,
    /// Someone wrote over the intent since: theirs to settle.
    WrittenOver,
    /// The record is settled with the provider.
    Settled,
}

pub async fn follow_up_server<S, P>(deps: &Deps<S, P>, server_id: &str, version: u64) -> Result<FollowedUp>
where
    S: ServerStore + SecurityGroupStore + CatalogStore,
    P: Compute + Networking,
{
    let Some(record) = deps.store.get_server(server_id).await? else { return Ok(FollowedUp::Gone) };
    if record.version != version {
        return Ok(FollowedUp::WrittenOver);
    }
    // The writer has ended: nothing it does can still land, so no grace period applies.
    let mut now = deps.clone();
    now.timing.grace = chrono::Duration::zero();
    // A provider that cannot be reached fails the follow-up: the worker puts it off and tries again.
    let Some(record) = settle(&now, record).await? else {
        tracing::info!(server_id, "followed up: the server is gone, and its record with it");
        return Ok(FollowedUp::Gone);
    };
    if record.is_deleting() || record.provider_id.is_none() {
        return Ok(FollowedUp::Settled);
    }
    let cred = server_credential(deps, &record)?;
    if let Some(port) = find_port(&*deps.provider, &cred, &record.id).await? {
        let on = (&*deps.store, &*deps.provider);
        if align_port(on, &cred, &record, &port, &mut PortGroups::default()).await?.is_some() {
            tracing::info!(server_id, "followed up: the port brought to the record's networking");
        }
        let external = catalog::external_networks(deps, &record.region_id).await?.first().map(|n| n.id.clone());
        converge_public_ip(&*deps.provider, &cred, &record, &port.id, external).await?;
    }
    tracing::info!(server_id, "followed up: settled");
    Ok(FollowedUp::Settled)
}
