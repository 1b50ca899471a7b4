//! The model: records as stored, and the "parse, don't validate" newtypes they are built from.

pub mod cloud_init;
mod identity;
mod input;
mod keypair;
mod names;
mod network;
mod server;
mod ssh_ca;
mod values;
mod version;

pub use identity::IdentityRecord;
pub use input::{
    IdentityCreateInput, Metadata, NetworkAddressing, NetworkCreateInput, NetworkPlacement, ServerCreateInput,
    ServerUpdateInput, SshCaCreateInput,
};
pub use keypair::IdentityKeypair;
pub use names::ResourceName;
pub use network::NetworkRecord;
pub use server::{HealthStatus, Networking, PendingChange, PowerState, ProvisioningStatus, ServerRecord, SshInjection};
pub use ssh_ca::{SshCaRecord, SshPublicKey};
pub use values::{Cidr, Description, ReferenceId, Tag, Tags, UserData, USER_DATA_LIMIT};
pub use version::ApiVersion;
