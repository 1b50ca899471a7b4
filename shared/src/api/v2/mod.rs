//! The v2 API: flat, id-addressed resources (`/api/v2/...`).

pub mod extensions;
pub mod images;
pub mod networks;
pub mod security_groups;
pub mod servers;
pub mod sshcas;
