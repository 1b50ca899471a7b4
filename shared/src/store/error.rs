//! What the store reports: which condition of a write did not hold, or why the database failed.
//! Causes only, never words for the caller: the use-cases decide what a caller is told
//! (`usecase::errors`).

use std::fmt;

/// The kinds of item the store keeps, to say which one a condition was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Server,
    Network,
    Identity,
    SshCa,
    SecurityGroup,
    Keypair,
    CleanupCursor,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Server => "server",
            Kind::Network => "network",
            Kind::Identity => "identity",
            Kind::SshCa => "SSH certificate authority",
            Kind::SecurityGroup => "security group",
            Kind::Keypair => "key pair",
            Kind::CleanupCursor => "cleanup cursor",
        })
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// The item a write (or its condition) needed is not there.
    #[error("{0} {1} does not exist")]
    Missing(Kind, String),
    /// The item a write would create exists already.
    #[error("{0} {1} exists already")]
    Exists(Kind, String),
    /// The item's version is no longer the one the write was based on.
    #[error("{0} {1} changed since it was read")]
    Changed(Kind, String),
    /// The parent is being deleted and takes no new children.
    #[error("{0} {1} is being deleted")]
    Closing(Kind, String),
    /// Deletion refused: children are still counted on the item.
    #[error("{0} {1} is still in use")]
    InUse(Kind, String),
    /// The write would delete or rebuild a protected server (on a network: delete one).
    #[error("{0} {1} is protected")]
    Protected(Kind, String),
    /// A server name is already claimed on the network.
    #[error("name {name} is claimed on network {network}")]
    NameTaken { network: String, name: String },
    /// The item would exceed the table's item size.
    #[error("the item is larger than the table allows")]
    TooLarge,
    /// The database refused the request as malformed.
    #[error("the database refused the request: {0}")]
    Refused(String),
    /// Timeouts, throttling, 5xx, a dropped connection: the outcome is unknown.
    #[error("the database did not answer: {0}")]
    Unavailable(String),
    /// Anything else: an unreadable item, a request that could not be built.
    #[error("{0}")]
    Failed(String),
}

impl StoreError {
    pub fn failed(cause: impl Into<String>) -> Self {
        StoreError::Failed(cause.into())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
