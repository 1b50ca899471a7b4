//! Black-box tests of the v2 API through the local API (API Gateway emulation + the real handlers)
//! on moto and the OpenStack emulator. One module per area.

mod auth;
mod concurrency;
mod create;
mod delete;
mod inputs;
mod list;
mod networks;
mod read;
mod update;
