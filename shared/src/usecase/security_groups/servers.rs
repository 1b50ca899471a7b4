//! How servers name groups: a group a server asks for is checked before anything is written
//! (readable, on the server's network (v2) or under its identity (v1), made at Neutron, not being
//! deleted), and each group a server names is counted on the group by the server's own writes
//! (`GroupReferences`), so a group in use is never deleted.

use crate::domain::{ApiVersion, NetworkRecord, Networking, SecurityGroupRecord};
use crate::error::{Error, Result};
use crate::rbac::Operation;
use crate::store::SecurityGroupStore;
use crate::usecase::view::{Context, PathScope, View};
use crate::usecase::Deps;

/// The groups a new or changed server names, checked in the order named; answers their records.
/// Groups the server already names (`kept`) may be being deleted (a v1 group waiting for its
/// servers): only a group it starts naming must be open to new servers.
pub(crate) async fn check_named<S: SecurityGroupStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    network: &NetworkRecord,
    networking: Option<&Networking>,
    kept: &[String],
) -> Result<Vec<SecurityGroupRecord>> {
    let named = networking.map(Networking::groups).unwrap_or_default();
    let v1 = network.api_version == ApiVersion::V1;
    // A v1 group under another identity of the same project is the server's mistake (422), not a
    // group it cannot see: the path's identity does not hide it here.
    let view = View { path: cx.view.path.clone().map(|p| PathScope { identity_id: None, ..p }), ..cx.view.clone() };
    let mut groups = Vec::with_capacity(named.len());
    for (i, id) in named.iter().enumerate() {
        let field =
            if v1 { format!("spec.securityGroups[{i}].id") } else { format!("spec.networking.securityGroups[{i}]") };
        let read = deps.store.get_security_group(id);
        let group =
            view.load(&cx.caller, (view.rules.security_groups, Operation::Read), read, || super::not_found(id)).await?;
        let same = match v1 {
            true => group.parent_identity_id.is_some() && group.parent_identity_id == network.parent_identity_id,
            false => group.network_id.as_deref() == Some(network.id.as_str()),
        };
        if !same {
            let parent = if v1 { "identity" } else { "network" };
            return Err(Error::unprocessable(format!(
                "{field}: a referenced security group must belong to the same {parent} as the server"
            )));
        }
        // Neutron puts a port only in groups of its own project.
        if group.identity_id != network.identity_id {
            return Err(Error::unprocessable(format!(
                "{field}: security group {id} is made in its identity's project, not in the project the server \
                 lives in (a v1 network bound to a provider network keeps its servers in the region's project)"
            )));
        }
        if group.is_being_deleted() && !kept.contains(id) {
            return Err(Error::conflict(format!(
                "{field}: security group {id} is being deleted: no server can start using it"
            )));
        }
        if group.objects.group_id.is_none() {
            return Err(Error::conflict(format!(
                "{field}: security group {id} is {}: servers use it once it is provisioned",
                group.stage().as_str()
            )));
        }
        groups.push(group);
    }
    Ok(groups)
}
