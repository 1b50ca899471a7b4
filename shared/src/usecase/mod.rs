//! Use-cases: one file per verb. Each takes the dependencies, the caller and already-parsed input,
//! checks permissions, then talks to the store and the provider through their ports.

pub mod actions;
mod admission;
pub mod catalog;
pub mod cleanup;
mod console;
pub(crate) mod create;
mod delete;
pub mod follow_up;
mod get;
pub mod idempotency;
pub mod identities;
mod intent;
mod keys;
pub mod list;
pub mod networks;
mod outcomes;
mod power;
mod protection;
mod reconcile;
mod refresh;
pub mod regions;
pub mod security_groups;
mod server_port;
mod snapshot;
pub mod sshcas;
mod steps;
#[cfg(test)]
mod tests;
mod update;
pub mod view;

use std::sync::Arc;

pub use console::{console_output, console_session};
pub use create::create_server;
pub use delete::delete_server;
pub use get::get_server;
pub use keys::ssh_private_key;
pub use list::{list_servers, ListParams};
pub use power::power;
pub use protection::{get_protection, set_protection};
pub use snapshot::{snapshot, SnapshotInput};
pub use update::update_server;
pub use view::{Context, PathScope, Placed, Placement, Rules, View};

/// Where a provisioned resource (a network, an identity) ended up after one run of the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Converged {
    /// Its record is gone (taken down, or never there).
    Gone,
    Settled(crate::domain::Stage),
}

pub(crate) use admission::{admit, admit_scopes};

use crate::clock::{Clock, IdSource};
use crate::crash::CrashPoints;
use crate::domain::lifecycle::{on_remove, on_write};
use crate::domain::{ActionError, ActionRef, ServerRecord};
use crate::error::{Error, Result};
use crate::fairuse::Limiter;
use crate::provider::{NoProvider, ProviderCredential, ProviderError, Receipt};
use crate::rbac::{Operation, SERVERS};
use crate::regions::Regions;
use crate::sealing::Sealer;
use crate::store::{ServerStore, StoreError};

/// Provider metadata keys tying a provider server back to its record.
pub const META_SERVER_ID: &str = "unikorn:server:id";
pub const META_ORGANIZATION_ID: &str = "unikorn:organization:id";
pub const META_PROJECT_ID: &str = "unikorn:project:id";

/// Everything a use-case may touch; built once per warm container. The store and the provider
/// are type parameters, not trait objects: each use-case asks only for the parts of the ports it
/// calls, and a function's binary links only the adapter code its verbs reach (a trait object
/// would link every method of the adapter).
pub struct Deps<S, P = NoProvider> {
    pub store: Arc<S>,
    pub provider: Arc<P>,
    pub regions: Arc<Regions>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    /// Only functions that seal or open SSH private keys (create, console) hold the key.
    pub sealer: Option<Arc<Sealer>>,
    pub timing: Timing,
    pub crash: CrashPoints,
    /// The fair-use buckets (off where nothing is served over HTTP).
    pub limiter: Arc<Limiter>,
    /// This container's copies of what regions offer.
    pub catalog: Arc<catalog::CatalogCache>,
    /// Where work left for the worker function goes.
    pub work: Arc<dyn crate::work::WorkQueue>,
    /// Identity's quota allocations (the networks a project holds).
    pub allocations: Arc<dyn crate::identity::allocations::Allocations>,
}

impl<S, P> Clone for Deps<S, P> {
    fn clone(&self) -> Self {
        Deps {
            store: self.store.clone(),
            provider: self.provider.clone(),
            regions: self.regions.clone(),
            clock: self.clock.clone(),
            ids: self.ids.clone(),
            sealer: self.sealer.clone(),
            timing: self.timing,
            crash: self.crash.clone(),
            limiter: self.limiter.clone(),
            catalog: self.catalog.clone(),
            work: self.work.clone(),
            allocations: self.allocations.clone(),
        }
    }
}

impl<S, P> Deps<S, P> {
    /// The same dependencies for a function that never calls the provider.
    pub fn without_provider(&self) -> Deps<S, NoProvider> {
        Deps {
            store: self.store.clone(),
            provider: Arc::new(NoProvider),
            regions: self.regions.clone(),
            clock: self.clock.clone(),
            ids: self.ids.clone(),
            sealer: None,
            timing: self.timing,
            crash: self.crash.clone(),
            limiter: self.limiter.clone(),
            catalog: self.catalog.clone(),
            work: self.work.clone(),
            allocations: self.allocations.clone(),
        }
    }

    pub(crate) fn sealer(&self) -> Result<&Sealer> {
        self.sealer.as_deref().ok_or_else(|| Error::internal("this function was built without the sealing key"))
    }
}

/// How long the platform waits before it treats silence as an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Longer than any function runs: a record younger than this may still be acted on by the
    /// function that wrote it (a create still reaching the provider, a resize just asked for), so
    /// the cleanup function leaves it alone until then.
    pub grace: chrono::Duration,
    /// A running action whose target the server has not reached by then fails (`timeout`).
    pub action_timeout: chrono::Duration,
    /// How long the cleanup function waits before placing again a server the provider had no
    /// capacity for; doubled for each attempt already made (see [`MAX_RESCHEDULES`]).
    pub reschedule_backoff: chrono::Duration,
    /// When set, every server intent is followed up this long after it is written (longer than the
    /// writing function can run): a worker settles it then if the writer could not, rather than the
    /// next sweep after the grace period.
    pub follow_up: Option<chrono::Duration>,
    /// How long a worker holds a sweep's slice (longer than the worker function runs): a worker
    /// that dies mid-slice leaves a lease that runs out this long after it was taken.
    pub slice_lease: chrono::Duration,
}

/// The most times a server that never booted is placed again for lack of capacity; after the
/// last, it is in error (`capacity`).
pub const MAX_RESCHEDULES: u8 = 3;

impl Default for Timing {
    fn default() -> Self {
        Timing {
            grace: chrono::Duration::minutes(5),
            action_timeout: chrono::Duration::minutes(30),
            reschedule_backoff: chrono::Duration::seconds(30),
            follow_up: None,
            slice_lease: chrono::Duration::seconds(90),
        }
    }
}

pub(crate) fn server_not_found(id: &str) -> Error {
    Error::not_found(format!("no server found with id {id}"))
}

/// Unikorn's answer to an action on a server in the wrong state: 400 `invalid_request` with its
/// wording ("server cannot be started in its current state").
pub(crate) fn wrong_state(verb: &str) -> Error {
    if verb == CONSOLE_OUTPUT {
        return Error::invalid("server console output cannot be retrieved in its current state");
    }
    Error::invalid(format!("server cannot be {verb} in its current state"))
}

/// The verb of console output reads, whose wrong-state message Unikorn words differently.
pub(crate) const CONSOLE_OUTPUT: &str = "read";

/// Provider answers about one server, in the caller's terms: the server's id, not the provider's
/// (`pid`, which the provider's own messages name).
pub(crate) fn translate(err: ProviderError, id: &str, pid: &str, verb: &str) -> Error {
    let ours = |detail: String| in_our_terms(detail, id, pid);
    match err {
        ProviderError::NotFound { .. } => Error::not_found(format!("no server found with id {id} at the provider")),
        ProviderError::Conflict { detail, .. } => {
            tracing::info!(server_id = %id, provider = %ours(detail), "the provider refused the action in this state");
            wrong_state(verb)
        }
        ProviderError::Rejected { detail, .. } | ProviderError::Refused { detail, .. } => {
            Error::unprocessable(format!("server {id} cannot be {verb}: the provider refused it: {}", ours(detail)))
        }
        other => other.into(),
    }
}

/// A provider's message with its server id (`pid`) replaced by ours (`id`): callers know only ours.
pub(crate) fn in_our_terms(detail: String, id: &str, pid: &str) -> String {
    if pid.is_empty() {
        detail
    } else {
        detail.replace(pid, id)
    }
}

/// Writes `next` in place of `base` if the stored record is still at `base`'s version
/// (`Changed` otherwise, `Missing` if it is gone), and answers it as written: one version on.
/// The transition and the actions the change means are written with it.
pub(crate) async fn write_over<S: ServerStore, P>(
    deps: &Deps<S, P>,
    base: &ServerRecord,
    next: ServerRecord,
) -> Result<ServerRecord, StoreError> {
    write_observed(deps, base, next, None).await
}

/// [`write_over`], recording with it an action the platform observed (an adoption, a provider change).
pub(crate) async fn write_observed<S: ServerStore, P>(
    deps: &Deps<S, P>,
    base: &ServerRecord,
    mut next: ServerRecord,
    observed: Option<ActionRef>,
) -> Result<ServerRecord, StoreError> {
    next.version = base.version + 1;
    let effects = on_write(base, &mut next, deps.clock.now(), observed);
    deps.store.replace_server(&next, base.version, &effects).await?;
    Ok(next)
}

/// Removes the record (and its name claim), publishing its deletion and completing its running
/// action (with `outcome`, when the caller knows why it ends).
pub(crate) async fn remove_record<S: ServerStore, P>(
    deps: &Deps<S, P>,
    record: &ServerRecord,
    outcome: Option<Result<(), ActionError>>,
) -> Result<bool, StoreError> {
    deps.store.remove_server(record, &on_remove(record, deps.clock.now(), outcome)).await
}

/// Stores the provider's request id on the action that made the call. The id is a detail of the
/// action, not a state anything converges on: a failed write is logged, not retried.
pub(crate) async fn note_receipt<S: ServerStore, P>(
    deps: &Deps<S, P>,
    server_id: &str,
    action: Option<&ActionRef>,
    receipt: &Receipt,
) {
    let (Some(action), Some(request_id)) = (action, &receipt.request_id) else { return };
    if let Err(e) = deps.store.note_request_id(server_id, &action.id, request_id).await {
        tracing::warn!(error = %e, action_id = %action.id, "provider request id not recorded on the action");
    }
}

/// The credential a region's own provider objects (its catalogue, its images) are read and removed
/// with: the region's user in the region's project.
pub(crate) fn credential<S, P>(deps: &Deps<S, P>, region_id: &str) -> Result<ProviderCredential> {
    deps.regions.project_credential(region_id)
}

/// The credential a server's provider objects are made, read and removed with: the region's user in
/// the project of the server's network (a provisioned network's own, where the user holds its role),
/// or the region's project for a bound network.
pub(crate) fn server_credential<S, P>(deps: &Deps<S, P>, record: &ServerRecord) -> Result<ProviderCredential> {
    deps.regions.credential_in(&record.region_id, record.provider_project_id.as_deref())
}

/// Loads a server the view shows and checks `op` on it: 404 when it is missing, of another API
/// version, outside the path's scope, or (flat routes) not readable by the caller; 403 when `op` is
/// not granted (on path-scoped routes, before anything is read). The request is charged in the
/// server's organization, beside the read where that organization is known in advance.
pub(crate) async fn load_server<S: ServerStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
    op: Operation,
) -> Result<ServerRecord> {
    let read = deps.store.get_server(id);
    let load = cx.view.load(&cx.caller, (SERVERS, op), read, || server_not_found(id));
    let record = admission::charged_beside(deps, cx, SERVERS, load, |r: &ServerRecord| &r.organization_id).await?;
    tracing::Span::current().record("server_id", id);
    Ok(record)
}
