//! The model: records as stored, and the "parse, don't validate" newtypes they are built from.

pub mod cloud_init;
mod keypair;
mod names;
mod network;
mod server;
mod ssh_ca;
mod values;

pub use keypair::IdentityKeypair;
pub use names::ResourceName;
pub use network::NetworkRecord;
pub use server::{
    HealthStatus, Networking, PendingChange, PowerState, ProvisioningStatus, ServerRecord, SshInjection, API_VERSION_V2,
};
pub use ssh_ca::{SshCaRecord, SshPublicKey};
pub use values::{Cidr, Description, ReferenceId, Tag, Tags, UserData, USER_DATA_LIMIT};
