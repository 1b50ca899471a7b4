//! The model: records as stored, and the "parse, don't validate" newtypes they are built from.

mod keypair;
mod names;
mod network;
mod server;
mod values;

pub use keypair::IdentityKeypair;
pub use names::ResourceName;
pub use network::NetworkRecord;
pub use server::{
    HealthStatus, Networking, PendingChange, PowerState, ProvisioningStatus, ServerRecord, API_VERSION_V2,
};
pub use values::{Cidr, Description, ReferenceId, Tag, Tags, UserData, USER_DATA_LIMIT};
