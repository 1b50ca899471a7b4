//! Structured JSON logs. Spans carry the request id and, once known, the server id; bodies,
//! tokens, user data and credentials are never logged.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// `RUST_LOG` as a list of `target=level` directives or one level (default `info`). A target
/// filter needs no regular-expression engine, which `EnvFilter` would link into every function.
pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let logs = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_writer(std::io::stderr);
    // A second init (tests, local API) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(logs).with(filter).try_init();
}
