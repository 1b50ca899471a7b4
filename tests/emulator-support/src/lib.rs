//! What both emulators (identity, OpenStack) share: serving connections with a handler that may
//! drop one on purpose, the queue of injected faults, and the control-plane routes every emulator
//! answers (`/_emulator/faults`, `/_emulator/counters`, `/_emulator/requests`).

mod control;
mod faults;
mod serve;

pub use control::{control_routes, Log, Recorder};
pub use faults::{take_fault, Effect, HasEffect};
pub use serve::{handler, route, serve, serve_connection, Dropped};
