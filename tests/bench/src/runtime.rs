//! A local Lambda Runtime API (the 2018-06-01 interface a function's runtime client polls), and
//! one function process run against it: spawned with `AWS_LAMBDA_RUNTIME_API` pointing here, fed
//! its events one by one, timed from process start to its first `next` (init) and from each
//! event's delivery to its answer.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::{mpsc, Notify};

/// What one process did.
#[derive(Debug, Clone)]
pub struct Run {
    /// Process start to its first `GET next`: everything `main` does before the first event.
    pub init: Duration,
    /// Process start to the first event's answer.
    pub first: Duration,
    /// Delivery to answer of every later event.
    pub warm: Vec<Duration>,
    /// Each answer's status (`statusCode` of an HTTP response, 200 for other payloads, 0 for an
    /// error report).
    pub statuses: Vec<u16>,
}

struct Answer {
    at: Instant,
    since_delivery: Duration,
    status: u16,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<VecDeque<String>>,
    ready: Notify,
    first_next: Mutex<Option<Instant>>,
    delivered: Mutex<HashMap<String, Instant>>,
    answers: Mutex<Option<mpsc::UnboundedSender<Answer>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    lock(&shared.first_next).get_or_insert_with(Instant::now);
    let event = loop {
        let waiting = shared.ready.notified();
        if let Some(event) = lock(&shared.queue).pop_front() {
            break event;
        }
        waiting.await;
    };
    let id = uuid::Uuid::new_v4().to_string();
    let deadline = chrono::Utc::now().timestamp_millis() + 60_000;
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", id.clone());
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:000000000000:function:bench".into());
    set("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0".into());
    set("content-type", "application/json".into());
    lock(&shared.delivered).insert(id, Instant::now());
    (headers, event).into_response()
}

fn answered(shared: &Shared, id: &str, status: u16) {
    let at = Instant::now();
    let since_delivery = lock(&shared.delivered).remove(id).map(|d| at - d).unwrap_or_default();
    if let Some(tx) = lock(&shared.answers).as_ref() {
        let _ = tx.send(Answer { at, since_delivery, status });
    }
}

async fn response(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>, body: String) -> StatusCode {
    let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let status = value["statusCode"].as_u64().map_or(200, |s| s as u16);
    answered(&shared, &id, status);
    StatusCode::ACCEPTED
}

async fn error(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>, body: String) -> StatusCode {
    eprintln!("invocation error: {body}");
    answered(&shared, &id, 0);
    StatusCode::ACCEPTED
}

async fn init_error(body: String) -> StatusCode {
    eprintln!("init error: {body}");
    StatusCode::ACCEPTED
}

/// Runs `binary` once on `events`, with `env` (the runtime's own variables are added here).
pub async fn run(binary: &Path, env: &BTreeMap<String, String>, events: Vec<String>) -> Result<Run, String> {
    let shared = Arc::new(Shared::default());
    let (tx, mut rx) = mpsc::unbounded_channel();
    *lock(&shared.answers) = Some(tx);
    let count = events.len();
    lock(&shared.queue).extend(events);
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .envs(env)
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    shared.ready.notify_waiters();

    let mut answers = Vec::with_capacity(count);
    for _ in 0..count {
        match tokio::time::timeout(Duration::from_secs(60), rx.recv()).await {
            Ok(Some(answer)) => {
                answers.push(answer);
                shared.ready.notify_waiters();
            }
            _ => {
                let _ = child.kill().await;
                server.abort();
                return Err(format!("{}: no answer within 60 s", binary.display()));
            }
        }
    }
    let _ = child.kill().await;
    server.abort();
    let init = lock(&shared.first_next).map(|t| t - started).unwrap_or_default();
    Ok(Run {
        init,
        first: answers.first().map(|a| a.at - started).unwrap_or_default(),
        warm: answers.iter().skip(1).map(|a| a.since_delivery).collect(),
        statuses: answers.iter().map(|a| a.status).collect(),
    })
}
