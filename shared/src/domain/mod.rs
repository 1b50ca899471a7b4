//! The model: records as stored, and the "parse, don't validate" newtypes they are built from.

pub mod action;
pub mod addressing;
pub mod catalog;
pub mod cloud_init;
mod identity;
mod input;
mod keypair;
pub mod lifecycle;
mod names;
mod network;
pub mod provisioned;
mod record;
pub mod security_group;
pub mod security_rules;
mod server;
mod ssh_ca;
mod values;
mod version;

pub use action::{
    is_capacity_fault, ActionError, ActionRecord, ActionRef, ActionStatus, Command, CAPACITY, PLATFORM_SUBJECT, QUOTA,
};
pub use addressing::{Ipv4Prefix, NetworkAddressing, Reservations, Route};
pub use identity::{IdentityRecord, IdentityView, OpenStackAccess};
pub use input::{
    IdentityCreateInput, Metadata, NetworkCreateInput, NetworkPlacement, NetworkSource, NetworkUpdateInput,
    SecurityGroupCreateInput, SecurityGroupUpdateInput, ServerCreateInput, ServerUpdateInput, SshCaCreateInput,
};
pub use keypair::IdentityKeypair;
pub use lifecycle::{Effects, GroupReferences, ServerState, StateEvent};
pub use names::ResourceName;
pub use network::{NetworkRecord, MAX_REFERENCES};
pub use provisioned::{IdentityObjects, Lifecycle, NetworkObjects, Stage};
pub use record::{Common, Resource};
pub use security_group::{SecurityGroupObjects, SecurityGroupRecord};
pub use server::{
    AllowedSource, HealthStatus, Networking, PendingChange, PowerState, Protection, ProvisioningStatus, RequestKey,
    ServerRecord, SshInjection,
};
pub use ssh_ca::{SshCaRecord, SshPublicKey};
pub use values::{
    Cidr, Description, MacAddress, ReferenceId, Tag, Tags, UserData, NOVA_USER_DATA_CHARS, USER_DATA_LIMIT,
};
pub use version::ApiVersion;
