//! OpenStack adapter of the provider port: Keystone v3 application credentials, Nova v2.1, Glance v2.

mod client;
mod convert;
mod session;
pub mod wire;

pub use client::{OpenStackConfig, OpenStackProvider};

/// The compute microversion this client speaks: 2.45+ gives `createImage` an `image_id` body,
/// 2.47+ embeds flavors, 2.61+ embeds flavor extra specs.
pub const COMPUTE_MICROVERSION: &str = "2.100";
