//! What every emulator records (faults waiting, requests counted and logged), and the control-plane
//! routes that reach it.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use crate::faults::{take_fault, HasEffect};

/// The faults waiting for requests, the requests served per route key, and the request log.
#[derive(Debug)]
pub struct Log<F, R> {
    pub faults: Vec<F>,
    pub counters: BTreeMap<String, u64>,
    pub requests: Vec<R>,
}

impl<F, R> Default for Log<F, R> {
    fn default() -> Self {
        Log { faults: Vec::new(), counters: BTreeMap::new(), requests: Vec::new() }
    }
}

impl<F: HasEffect, R> Log<F, R> {
    pub fn count(&mut self, key: impl Into<String>) {
        *self.counters.entry(key.into()).or_default() += 1;
    }

    pub fn counter(&self, key: &str) -> u64 {
        self.counters.get(key).copied().unwrap_or(0)
    }

    /// The first waiting fault `matches` accepts, spent by one use.
    pub fn take_fault(&mut self, matches: impl Fn(&F) -> bool) -> Option<F> {
        take_fault(&mut self.faults, matches)
    }

    /// Forgets faults, counters and the request log.
    pub fn clear(&mut self) {
        self.faults.clear();
        self.counters.clear();
        self.requests.clear();
    }
}

/// An emulator's state, as the control plane reaches its [`Log`].
pub trait Recorder: Clone + Send + Sync + 'static {
    type Fault: DeserializeOwned + HasEffect + Send + 'static;
    type Request: Serialize;
    fn with_log<T>(&self, f: impl FnOnce(&mut Log<Self::Fault, Self::Request>) -> T) -> T;
}

/// `POST /_emulator/faults`, `GET /_emulator/counters`, `GET /_emulator/requests`.
pub fn control_routes<R: Recorder>() -> Router<R> {
    Router::new()
        .route("/_emulator/faults", post(add_fault::<R>))
        .route("/_emulator/counters", get(|State(r): State<R>| async move { Json(r.with_log(|l| json!(l.counters))) }))
        .route("/_emulator/requests", get(|State(r): State<R>| async move { Json(r.with_log(|l| json!(l.requests))) }))
}

async fn add_fault<R: Recorder>(State(recorder): State<R>, Json(fault): Json<R::Fault>) -> StatusCode {
    recorder.with_log(|log| log.faults.push(fault));
    StatusCode::CREATED
}
