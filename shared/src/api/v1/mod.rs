//! The v1 API: Unikorn's path-scoped compatibility surface (`/api/v1/organizations/...`), where
//! networks and servers live under identities.

pub mod identities;
pub mod networks;
pub mod regions;
pub mod security_groups;
pub mod servers;
