//! The persistence port, split by what its callers need (a function links only the parts its verb
//! uses). `dynamodb` is the production adapter; records are written with conditional writes only
//! (no read-then-write), so concurrent functions cannot corrupt them.

pub mod dynamodb;
mod error;
pub mod memory;
mod sweeps;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{
    ActionRecord, ActionStatus, ApiVersion, Effects, IdentityKeypair, IdentityRecord, NetworkRecord,
    SecurityGroupRecord, ServerRecord, SshCaRecord, StateEvent,
};
use crate::rbac::Scope;

pub use error::{Kind, Result, StoreError};
pub use sweeps::{Lease, SweepClaim, SweepStore, SweepSummary};

/// Which records of one kind (servers, networks, identities, SSH CAs) to read: the scopes to read
/// them in, the filters, and the page (ascending id order across every scope asked for).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordQuery {
    pub scopes: Vec<Scope>,
    /// Only records of this API version; `None` for every version (the cleanup function's view).
    pub api_version: Option<ApiVersion>,
    /// Only records under this identity resource (v1 nests networks and servers under identities).
    pub parent_identity_id: Option<String>,
    pub region_ids: Vec<String>,
    pub network_ids: Vec<String>,
    pub identity_ids: Vec<String>,
    /// Only records carrying every one of these tags (name, value).
    pub tags: Vec<(String, String)>,
    /// Only ids strictly greater than this (the previous page's cursor).
    pub after: Option<String>,
    pub limit: usize,
    /// Reads at most this many store pages per scope (a filter that matches little returns a short
    /// page with a cursor rather than reading a whole partition); `None`: read until `limit`.
    pub max_reads: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts (its `after`), when there may be more; `None` at the end.
    pub next: Option<String>,
}

/// What a v1 network delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkDeletion {
    /// It had no servers and is gone.
    Deleted,
    /// It still has servers: it is marked deleting (no new servers) until the last one is gone.
    Deleting,
}

/// A name claim the cleanup function should look at: its holder record may be gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRef {
    pub network_id: String,
    pub name: String,
    pub server_id: String,
}

/// A response kept for an idempotency key.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub body: serde_json::Value,
    pub etag: Option<String>,
}

/// What an idempotency key already holds when a request tries to claim it.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyState {
    /// The key was free (or its earlier attempt expired): this request runs.
    Claimed,
    /// An attempt with this key is still running (until `until`).
    InProgress { body_hash: String, until: DateTime<Utc> },
    /// An attempt completed with this response.
    Completed { body_hash: String, response: StoredResponse },
}

/// Servers and their name claims: what every server verb needs.
#[async_trait]
pub trait ServerStore: Send + Sync {
    /// Writes the server and claims its name on its network in one transaction, counting it on the
    /// network (and on its SSH certificate authority, if any). Conflict when the name is held or the
    /// network is being deleted; NotFound when the network (or the CA) is gone. The claim is due for
    /// a check at `claim_check_at`. `effects` (the creation's event and action) go in the same
    /// transaction, as with every record write below.
    async fn create_server(
        &self,
        server: &ServerRecord,
        claim_check_at: DateTime<Utc>,
        effects: &Effects,
    ) -> Result<()>;
    async fn get_server(&self, id: &str) -> Result<Option<ServerRecord>>;
    /// The records of these ids that exist (consistent reads, in no particular order): what a sweep's
    /// slice reads, by key, rather than a listing of the whole region.
    async fn get_servers(&self, ids: &[String]) -> Result<Vec<ServerRecord>>;
    /// Replaces the record if its stored version is still `expected_version` (`Changed` otherwise,
    /// `Missing` if it is gone). A record that becomes deprovisioning, or records a rebuild, needs
    /// the stored record not to be protected from it (`Protected`): the protection is a condition
    /// of the write itself.
    async fn replace_server(&self, server: &ServerRecord, expected_version: u64, effects: &Effects) -> Result<()>;
    /// Deletes the record, releases its name claim and uncounts it on its network in one
    /// transaction, if the record is still at `server.version`. `Ok(false)` when it was already
    /// gone (nothing is uncounted twice); PreconditionFailed when it changed since it was read.
    async fn remove_server(&self, server: &ServerRecord, effects: &Effects) -> Result<bool>;
    /// Writes `next` (one version on from `base`) with its new protection, counting a server
    /// protected from deletion on its network in the same transaction, so a network delete and a
    /// protect cannot both win: `Closing` when protecting a server whose network is being deleted.
    async fn set_protection(&self, base: &ServerRecord, next: &ServerRecord) -> Result<()>;
    /// The id of the server holding `name` on `network_id`, if any.
    async fn claim_holder(&self, network_id: &str, name: &str) -> Result<Option<String>>;
    /// Settles a checked claim: released when its holder is gone, otherwise no longer due.
    /// Both are conditional on the claim still naming the same holder.
    async fn settle_claim(&self, claim: &ClaimRef, holder_exists: bool) -> Result<()>;
    async fn list_servers(&self, query: &RecordQuery) -> Result<Page<ServerRecord>>;
    /// One page (at most `limit`, by id, after `after`) of every server of a region, whatever its
    /// organization or API version: what the cleanup function sweeps.
    async fn list_region_servers(
        &self,
        region_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<ServerRecord>>;
    /// Writes an action as it now stands (with its request id, when it has one), without a record
    /// write (snapshots, orphans).
    async fn record_action(&self, action: &ActionRecord) -> Result<()>;
    /// Stores the provider's request id of an action's call.
    async fn note_request_id(&self, server_id: &str, action_id: &str, request_id: &str) -> Result<()>;
}

#[async_trait]
pub trait NetworkStore: Send + Sync {
    /// Writes a new network; one under an identity resource is counted on it in the same
    /// transaction, which needs the identity to exist (`Missing` otherwise). `Exists` if the id does.
    async fn create_network(&self, network: &NetworkRecord) -> Result<()>;
    async fn get_network(&self, id: &str) -> Result<Option<NetworkRecord>>;
    /// Every network of the query's scopes (API version and parent identity filters apply), by id.
    async fn list_networks(&self, query: &RecordQuery) -> Result<Vec<NetworkRecord>>;
    /// Deletes a bound network no server and no reference holds (uncounting it on its identity
    /// resource). `Missing` if it is gone; `InUse` (nothing written) while one does.
    async fn delete_network(&self, network: &NetworkRecord) -> Result<()>;
    /// A v1 network's delete (Unikorn's foreground delete): one without servers goes (uncounted
    /// on its identity resource); one with servers is marked deleting (from `now`), which refuses
    /// new servers on it, and goes with its last server. `Missing` if it is gone; `Protected`
    /// (nothing written) while a server on it is protected from deletion.
    async fn delete_or_mark_network(&self, network: &NetworkRecord, now: DateTime<Utc>) -> Result<NetworkDeletion>;
    /// Marks a provisioned network still at `expected_version` deleting (from `now`, keeping an
    /// earlier mark) without removing it: its servers go first (the cleanup function deletes them),
    /// then its teardown. `Missing` if it is gone, `Changed` if it moved on, `Protected` (nothing
    /// written) while a server on it is protected from deletion.
    async fn mark_network_deleting(&self, network: &NetworkRecord, now: DateTime<Utc>) -> Result<()>;
    /// The network's live server count, as the create and remove transactions keep it.
    async fn network_server_count(&self, id: &str) -> Result<Option<u64>>;
}

/// Provisioned networks and their hidden identities: written together, changed step by step
/// (each write conditional on the version read), found again by cleanup while unsettled.
#[async_trait]
pub trait ProvisionStore: Send + Sync {
    /// What marks the provider objects made from this store's records (the table's name): a
    /// project carries it as a tag, so a sweep removes only what this deployment made, never
    /// another's sharing the cloud.
    fn owner_tag(&self) -> String;
    /// Writes a provisioned network and its hidden identity in one transaction (`Exists` if either id does).
    async fn create_provisioned_network(&self, identity: &IdentityRecord, network: &NetworkRecord) -> Result<()>;
    /// Replaces the network if it is still at `expected_version` (`Changed`, or `Missing` if gone).
    /// `next.version` is written as given.
    async fn replace_network(&self, next: &NetworkRecord, expected_version: u64) -> Result<()>;
    /// [`Self::replace_network`] that starts its teardown: also conditional on no server counted and
    /// no reference held (`InUse`), and closes the network to new servers in the same write.
    async fn begin_network_teardown(&self, next: &NetworkRecord, expected_version: u64) -> Result<()>;
    async fn replace_identity(&self, next: &IdentityRecord, expected_version: u64) -> Result<()>;
    /// v1 identities whose provisioning is unsettled since before `before` (oldest first): what a
    /// worker left for the cleanup function to complete.
    async fn unsettled_identities(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<IdentityRecord>>;
    /// Removes a torn-down network's record, its hidden identity's and that identity's key pair's in
    /// one transaction.
    async fn remove_provisioned_network(&self, network: &NetworkRecord) -> Result<()>;
    /// Networks with work left (not provisioned) whose stage began before `before`, oldest first.
    async fn unsettled_networks(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<NetworkRecord>>;
    /// Adds another service's reference; `Closing` while the network is being deleted, `Missing`
    /// if it is gone; adding one already held changes nothing.
    async fn add_reference(&self, network_id: &str, reference: &str) -> Result<()>;
    /// Removes a reference (one not held is fine); `Missing` if the network is gone.
    async fn remove_reference(&self, network_id: &str, reference: &str) -> Result<()>;
}

/// Security groups: each belongs to a network (v2) or an identity resource (v1), written only while
/// that parent takes them (a condition of the create's transaction), changed step by step (each
/// write conditional on the version read), found again by cleanup while unsettled.
#[async_trait]
pub trait SecurityGroupStore: Send + Sync {
    /// Writes a new group if its network (v2) or identity resource (v1) exists and is not being
    /// deleted: `Exists` if the id does; `Missing` or `Closing` (of the parent's kind) otherwise.
    async fn create_security_group(&self, group: &SecurityGroupRecord) -> Result<()>;
    async fn get_security_group(&self, id: &str) -> Result<Option<SecurityGroupRecord>>;
    /// Every group of the query's scopes (API version, parent identity and network filters
    /// apply), by id.
    async fn list_security_groups(&self, query: &RecordQuery) -> Result<Vec<SecurityGroupRecord>>;
    /// Replaces the group if it is still at `expected_version` and its delete has not begun
    /// (`Changed`, or `Missing` if gone). `next.version` is written as given.
    async fn replace_security_group(&self, next: &SecurityGroupRecord, expected_version: u64) -> Result<()>;
    /// [`Self::replace_security_group`] that starts its teardown (marks it deleting): also
    /// conditional on no server naming it (`InUse`).
    async fn begin_security_group_teardown(&self, next: &SecurityGroupRecord, expected_version: u64) -> Result<()>;
    /// [`Self::begin_security_group_teardown`] whatever its server count (v1's foreground delete):
    /// marked deleting, it gains no server, and its teardown waits until none names it.
    async fn mark_security_group_deleting(&self, next: &SecurityGroupRecord, expected_version: u64) -> Result<()>;
    /// How many servers name the group, as their writes count them (`None`: no such group).
    async fn security_group_server_count(&self, id: &str) -> Result<Option<u64>>;
    /// Removes a torn-down group's record (one gone is fine).
    async fn remove_security_group(&self, id: &str) -> Result<()>;
    /// Groups with work left (not provisioned) whose stage began before `before`, oldest first.
    async fn unsettled_security_groups(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<SecurityGroupRecord>>;
}

/// VLAN ids of a region's physical network, each held by at most one network: a claim is a
/// conditional write, so two concurrent provisionings can never hold the same VLAN.
#[async_trait]
pub trait VlanStore: Send + Sync {
    /// The VLAN `network_id` holds on `physical_network`, else the lowest free one in `ranges`,
    /// claimed for it; `None` when every VLAN of the ranges is held.
    async fn claim_vlan(
        &self,
        region_id: &str,
        physical_network: &str,
        ranges: &[(u16, u16)],
        network_id: &str,
    ) -> Result<Option<u16>>;
    /// Frees a VLAN if `network_id` still holds it.
    async fn release_vlan(&self, region_id: &str, physical_network: &str, vlan: u16, network_id: &str) -> Result<()>;
}

/// Identity resources (v1), which networks are counted on.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// `Exists` if the id does.
    async fn create_identity(&self, identity: &IdentityRecord) -> Result<()>;
    async fn get_identity(&self, id: &str) -> Result<Option<IdentityRecord>>;
    /// Every identity of the query's scopes (API version filter applies), sorted by id.
    async fn list_identities(&self, query: &RecordQuery) -> Result<Vec<IdentityRecord>>;
    /// Deletes an identity no network is counted on: `Missing` if it is gone, `InUse` while networks
    /// (and so servers) remain. The network create transaction counts on it, so this cannot race one.
    async fn delete_identity(&self, id: &str) -> Result<()>;
    /// Marks an identity deleting (from `now`, keeping an earlier mark): it takes no new network
    /// (the network create's condition), and the cleanup function deletes it once its last network
    /// is gone. `Missing` if it is gone.
    async fn close_identity(&self, id: &str, now: DateTime<Utc>) -> Result<()>;
}

#[async_trait]
pub trait SshCaStore: Send + Sync {
    /// Fails with Conflict if the id exists.
    async fn create_ssh_ca(&self, ca: &SshCaRecord) -> Result<()>;
    async fn get_ssh_ca(&self, id: &str) -> Result<Option<SshCaRecord>>;
    /// Every CA of the query's scopes (api version and tags filters apply), sorted by id.
    async fn list_ssh_cas(&self, query: &RecordQuery) -> Result<Vec<SshCaRecord>>;
    /// Deletes a CA no server references: NotFound if missing, Conflict while servers use it (the
    /// server create and remove transactions keep its count, so this cannot race a create).
    async fn delete_ssh_ca(&self, id: &str) -> Result<()>;
}

/// The SSH key pair each provider identity's servers are created with.
#[async_trait]
pub trait KeypairStore: Send + Sync {
    async fn get_keypair(&self, identity_id: &str) -> Result<Option<IdentityKeypair>>;
    /// Fails with Conflict if the identity already has one.
    async fn create_keypair(&self, keypair: &IdentityKeypair) -> Result<()>;
    async fn mark_keypair_registered(&self, identity_id: &str) -> Result<()>;
    /// Removes the record of an identity's key pair (its identity is gone at the provider).
    async fn delete_keypair_record(&self, identity_id: &str) -> Result<()>;
}

/// One attempt's claim of an idempotency key: the request's body hash, running until `until`,
/// kept until `expires_at`.
#[derive(Debug, Clone, Copy)]
pub struct KeyClaim<'a> {
    pub key: &'a str,
    pub body_hash: &'a str,
    pub now: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Idempotency keys of the create and snapshot verbs.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims an idempotency key for one attempt (running until `until`, kept until `expires_at`),
    /// or reports what it already holds. An in-progress attempt past `until` is taken over.
    async fn claim_key(&self, claim: &KeyClaim<'_>) -> Result<KeyState>;
    /// Stores the response of the attempt that holds the key.
    async fn complete_key(&self, key: &str, body_hash: &str, response: &StoredResponse) -> Result<()>;
    /// Frees the key after a failed attempt, so a retry runs again.
    async fn release_key(&self, key: &str, body_hash: &str) -> Result<()>;
}

/// Which of a server's actions to list: newest first, ids before `after` (the previous page's last).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActionQuery {
    pub status: Option<ActionStatus>,
    pub after: Option<String>,
    pub limit: usize,
}

/// Reading action items, which outlive their server (until they expire).
#[async_trait]
pub trait ActionStore: Send + Sync {
    async fn get_action(&self, server_id: &str, action_id: &str) -> Result<Option<ActionRecord>>;
    async fn list_actions(&self, server_id: &str, query: &ActionQuery) -> Result<Page<ActionRecord>>;
}

/// What a region offers (flavors, images, external networks), as one function fetched it from the
/// provider: every container's shared copy, which saves each cold container the provider calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CatalogKind {
    Flavors,
    Images,
    ExternalNetworks,
}

impl CatalogKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CatalogKind::Flavors => "flavors",
            CatalogKind::Images => "images",
            CatalogKind::ExternalNetworks => "externalnetworks",
        }
    }
}

/// A region's copy of one kind: its JSON and when it was fetched from the provider.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogCopy {
    pub fetched_at: DateTime<Utc>,
    pub json: String,
}

#[async_trait]
pub trait CatalogStore: Send + Sync {
    async fn get_catalog(&self, region: &str, kind: CatalogKind) -> Result<Option<CatalogCopy>>;
    /// Replaces the region's copy (a reader sees the old copy or the new one, never a mix).
    async fn put_catalog(&self, region: &str, kind: CatalogKind, copy: &CatalogCopy) -> Result<()>;
    /// Forgets the region's copy: the next reader fetches (an image was made or removed).
    async fn drop_catalog(&self, region: &str, kind: CatalogKind) -> Result<()>;
}

/// What only the cleanup function reads and writes.
#[async_trait]
pub trait MaintenanceStore: Send + Sync {
    /// Networks marked deleting, oldest mark first.
    async fn networks_being_deleted(&self, limit: usize) -> Result<Vec<NetworkRecord>>;
    /// Deletes a network marked deleting once its last server is gone (uncounting it on its identity
    /// resource); false while servers remain.
    async fn finish_network_deletion(&self, network: &NetworkRecord) -> Result<bool>;
    /// Identities marked deleting, oldest mark first.
    async fn identities_being_deleted(&self, limit: usize) -> Result<Vec<IdentityRecord>>;
    /// Claims due for a check at `now` (their holder may be gone), oldest first.
    async fn claims_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<ClaimRef>>;
    /// The cleanup function's resume point (the identity to sync next) and the cursor's version.
    async fn cleanup_cursor(&self) -> Result<(Option<String>, u64)>;
    /// Moves the cursor if it is still at `expected_version` (PreconditionFailed otherwise).
    async fn save_cleanup_cursor(&self, next_identity: Option<&str>, expected_version: u64) -> Result<()>;
    /// Transitions written but not yet published, oldest first.
    async fn unpublished_events(&self, limit: usize) -> Result<Vec<StateEvent>>;
    /// Forgets a transition the bus accepted.
    async fn mark_published(&self, event: &StateEvent) -> Result<()>;
}
