//! OpenStack adapter of the provider port: Keystone v3 application credentials, Nova v2.1, Glance v2,
//! Neutron v2.0.

//!
//! One file per service and no import cycle: `errors` and `identity` (Keystone sessions) need only
//! `wire`; `client` (the HTTP core: token, timeout, microversion, 401 retry) needs those;
//! `compute` (Nova servers, actions, consoles, flavors), `image` (Glance), `network` (Neutron, with
//! its bodies in `network_wire`) and `keypairs` need the client; `port` implements the provider port by delegating to them.

mod client;
mod compute;
mod convert;
mod errors;
mod fabric;
mod identity;
mod image;
mod keypairs;
mod network;
pub mod network_wire;
mod port;
mod security_groups;
mod tenancy;
pub mod wire;

pub use client::{OpenStackConfig, OpenStackProvider};

/// The compute microversion this client speaks: 2.45+ gives `createImage` an `image_id` body,
/// 2.47+ embeds flavors, 2.61+ embeds flavor extra specs.
pub const COMPUTE_MICROVERSION: &str = "2.100";
