//! The intent pattern, written once: every provider side effect is preceded by a record of what is
//! about to happen, so a crash, a timeout or a lost answer leaves a state a read or the cleanup
//! function completes, and a definite refusal is undone.
//!
//! 1. [`record`]: read the server, plan the intent from it, write it conditionally on the version
//!    read, and on a concurrent write (or a protection change) read again, a bounded number of times.
//! 2. [`enact`]: the crash point after the intent, exactly one provider call, the crash point after
//!    it, and the provider's request id noted on the action. Its answer says which of three things
//!    happened: accepted, unknown (no answer: the intent stays for a read or cleanup to settle), or
//!    refused (a definite answer: the verb undoes the intent with [`undo`], or keeps it).

use std::future::Future;

use super::outcomes::action_error;
use super::{note_receipt, write_over, Deps};
use crate::domain::{ActionRef, ServerRecord};
use crate::error::Result;
use crate::provider::{ProviderError, Receipt};
use crate::store::{ServerStore, StoreError};
use crate::work::WorkItem;

/// What the intent is, planned from the record as read.
pub(crate) enum Plan {
    /// Write this record over the one read.
    Write(Box<ServerRecord>),
    /// The record already says it (a delete repeated): nothing to write.
    Keep,
}

/// The intent as written, beside the record it was written over, and what the read found.
pub(crate) struct Recorded<X> {
    pub base: ServerRecord,
    pub intent: ServerRecord,
    pub found: X,
}

/// Reads with `load` and writes what `plan` makes of it, retrying `retries` times when the write
/// meets a concurrent change (`Changed`) or a protection change (`Protected`: the next plan sees
/// it). A refusal from `load` or `plan` is the outer error; a store error that outlasted the
/// retries is the inner one, for the verb to word.
pub(crate) async fn record<S, P, X, L, LF, F>(
    deps: &Deps<S, P>,
    retries: usize,
    mut load: L,
    mut plan: F,
) -> Result<Result<Recorded<X>, StoreError>>
where
    S: ServerStore,
    L: FnMut() -> LF,
    LF: Future<Output = Result<(ServerRecord, X)>>,
    F: FnMut(&ServerRecord, &X) -> Result<Plan>,
{
    let mut attempts = 0;
    loop {
        let (base, found) = load().await?;
        let next = match plan(&base, &found)? {
            Plan::Write(next) => *next,
            Plan::Keep => return Ok(Ok(Recorded { intent: base.clone(), base, found })),
        };
        match write_over(deps, &base, next).await {
            Ok(intent) => return Ok(Ok(Recorded { base, intent, found })),
            Err(StoreError::Changed(..) | StoreError::Protected(..)) if attempts < retries => attempts += 1,
            Err(e) => return Ok(Err(e)),
        }
    }
}

/// The crash points around one provider call (test builds stop there; release builds ignore them).
pub(crate) struct Steps {
    pub after_intent: &'static str,
    pub after_provider: &'static str,
}

/// What the provider made of the call.
pub(crate) enum Answer<T> {
    Accepted(T),
    /// No answer (timeout, dropped connection, 5xx): the provider may have acted.
    Unknown(ProviderError),
    /// A definite refusal: nothing happened at the provider.
    Refused(ProviderError),
}

/// What an intent is about: the server and the action that records it (a server record written
/// over, or an action recorded on its own, as a snapshot's is).
#[derive(Clone, Copy)]
pub(crate) struct Subject<'a> {
    pub server_id: &'a str,
    pub action: Option<&'a ActionRef>,
    /// The version the intent was written at, when it is a record write.
    pub version: Option<u64>,
}

impl<'a> From<&'a ServerRecord> for Subject<'a> {
    fn from(intent: &'a ServerRecord) -> Self {
        Subject { server_id: &intent.id, action: intent.action.as_ref(), version: Some(intent.version) }
    }
}

/// Asks a worker to follow the intent up once its writer has surely ended (`Timing::follow_up`).
/// A message that is not taken only leaves the intent to the sweeps, as before.
async fn follow_up<S, P>(deps: &Deps<S, P>, intent: &Subject<'_>) {
    let (Some(delay), Some(version)) = (deps.timing.follow_up, intent.version) else { return };
    let item = WorkItem::Server { server_id: intent.server_id.to_owned(), version };
    let delay = delay.to_std().unwrap_or_default();
    if let Err(e) = deps.work.enqueue_after(&item, delay).await {
        tracing::warn!(error = %e, "intent follow-up not queued; the cleanup function settles it");
    }
}

/// Makes the one provider call an intent was recorded for.
pub(crate) async fn enact<'a, S, P, T, Fut>(
    deps: &Deps<S, P>,
    steps: Steps,
    intent: impl Into<Subject<'a>>,
    call: Fut,
) -> Answer<T>
where
    S: ServerStore,
    Fut: Future<Output = Result<(T, Receipt), ProviderError>>,
{
    let intent = intent.into();
    follow_up(deps, &intent).await;
    deps.crash.hit(steps.after_intent);
    match call.await {
        Ok((value, receipt)) => {
            deps.crash.hit(steps.after_provider);
            note_receipt(deps, intent.server_id, intent.action, &receipt).await;
            Answer::Accepted(value)
        }
        Err(e @ ProviderError::Unavailable(_)) => Answer::Unknown(e),
        Err(e) => Answer::Refused(e),
    }
}

/// Undoes a refused intent: writes `back` over it with its action failed by the refusal. A write
/// that fails leaves the intent, which the next read or cleanup run settles (the action completes
/// or times out when the state is next observed).
pub(crate) async fn undo<S: ServerStore, P>(
    deps: &Deps<S, P>,
    intent: &ServerRecord,
    mut back: ServerRecord,
    refusal: &ProviderError,
) {
    if let Some(action) = &mut back.action {
        action.finish(deps.clock.now(), Err(action_error(refusal)));
    }
    if let Err(write) = write_over(deps, intent, back).await {
        tracing::info!(error = %write, "a refused intent was not undone; the next read or cleanup run settles it");
    }
}
