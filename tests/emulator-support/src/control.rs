//! The control-plane routes every emulator answers, over whatever state it keeps.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// An emulator's fault queue, counters and request log, as the control plane reaches them.
pub trait Recorder: Clone + Send + Sync + 'static {
    type Fault: DeserializeOwned + Send + 'static;
    fn add_fault(&self, fault: Self::Fault);
    /// Requests served per route key.
    fn counters(&self) -> Value;
    /// The requests received, oldest first.
    fn requests(&self) -> Value;
}

/// `POST /_emulator/faults`, `GET /_emulator/counters`, `GET /_emulator/requests`.
pub fn control_routes<R: Recorder>() -> Router<R> {
    Router::new()
        .route("/_emulator/faults", post(add_fault::<R>))
        .route("/_emulator/counters", get(|State(r): State<R>| async move { Json(r.counters()) }))
        .route("/_emulator/requests", get(|State(r): State<R>| async move { Json(r.requests()) }))
}

async fn add_fault<R: Recorder>(State(recorder): State<R>, Json(fault): Json<R::Fault>) -> StatusCode {
    recorder.add_fault(fault);
    StatusCode::CREATED
}
