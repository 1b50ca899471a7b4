//! Black-box tests of the v2 API through the local API (API Gateway emulation + the real handlers)
//! on moto and the OpenStack emulator. One module per area.

mod actions;
mod allocations;
mod auth;
mod bodies;
mod capacity;
mod cleanup;
mod concurrency;
mod conformance;
mod console;
mod create;
mod delete;
mod fair_use;
mod faults;
mod follow_up;
mod group_faults;
mod identities;
mod inputs;
mod list;
mod networking;
mod networks;
mod power;
mod protection;
mod provisioned;
mod provisioning_faults;
mod read;
mod regions;
mod resize;
mod secrets;
mod security_groups;
mod security_groups_v1;
mod snapshot;
mod sshcas;
mod state_events;
mod update;
mod v1;

/// Every log line the handlers write during this test binary, captured as JSON text so tests can
/// prove secrets never reach the logs.
pub mod logs {
    use std::io::Write;
    use std::sync::{Mutex, OnceLock};

    static CAPTURED: Mutex<Vec<u8>> = Mutex::new(Vec::new());
    static INSTALLED: OnceLock<()> = OnceLock::new();

    struct Capture;

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            CAPTURED.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    pub fn install() {
        INSTALLED.get_or_init(|| {
            let _ = tracing_subscriber::fmt()
                .json()
                .with_max_level(tracing::Level::DEBUG)
                .with_current_span(true)
                .with_writer(|| Capture)
                .try_init();
        });
    }

    pub fn text() -> String {
        String::from_utf8_lossy(&CAPTURED.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}
