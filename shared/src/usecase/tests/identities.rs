//! v1 identities: recorded pending and handed to the worker; provisioned with a server group and a
//! key pair made as the identity's own user; handed out opened; completed after a failure without
//! making anything twice; taken down to nothing after the networks under it.

use super::*;
use crate::domain::{ApiVersion, IdentityCreateInput, Metadata, ReferenceId, ResourceName, Stage};
use crate::store::{IdentityStore, KeypairStore};
use crate::usecase::identities::{self, converge_identity};
use crate::usecase::{Converged, PathScope};
use crate::work::WorkItem;

fn v1_cx() -> Context {
    let all = ["create", "read", "update", "delete"];
    let acl = serde_json::json!({"organizations": [{"id": "o", "endpoints": [
        {"name": "region:identities", "operations": all}, {"name": "region:networks", "operations": all}]}]});
    let path = PathScope { organization_id: "o".into(), project_id: Some("p".into()), identity_id: None };
    let view = View {
        version: ApiVersion::V1,
        path: Some(path),
        rules: Rules {
            networks: crate::rbac::NETWORKS_V1,
            security_groups: crate::rbac::SECURITY_GROUPS_V1,
            server_update: crate::rbac::Operation::Create,
        },
    };
    Context { caller: caller(acl), view }
}

async fn create(w: &World) -> String {
    let input = IdentityCreateInput {
        metadata: Metadata {
            name: ResourceName::parse("metadata.name", "cluster").unwrap_or_else(|e| panic!("{e}")),
            description: None,
            tags: Default::default(),
        },
        organization_id: ReferenceId::parse("o", "o").unwrap_or_else(|e| panic!("{e}")),
        project_id: ReferenceId::parse("p", "p").unwrap_or_else(|e| panic!("{e}")),
        region_id: ReferenceId::parse("r", "r").unwrap_or_else(|e| panic!("{e}")),
    };
    identities::create_identity(&w.deps, &v1_cx(), input).await.unwrap_or_else(|e| panic!("{e}")).id
}

#[tokio::test]
async fn an_identity_is_provisioned_as_its_own_user_and_handed_out_opened() {
    let w = world().await;
    let id = create(&w).await;
    assert_eq!(w.work.take(), vec![WorkItem::Identity { identity_id: id.clone() }]);
    let pending = identities::get_identity(&w.deps, &v1_cx(), &id).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(pending.openstack.is_none(), "nothing to hand out before it is provisioned");
    assert!(w.provider.made().projects.is_empty(), "nothing made on the request path");

    assert_eq!(converge_identity(&w.deps, &id).await.ok(), Some(Converged::Settled(Stage::Provisioned)));
    let made = w.provider.made();
    assert_eq!((made.projects.len(), made.users.len(), made.credentials.len(), made.server_groups.len()), (1, 1, 1, 1));
    assert!(w.provider.calls().contains(&"import_keypair".to_owned()), "the key pair is given to Nova");
    let shown = identities::get_identity(&w.deps, &v1_cx(), &id).await.unwrap_or_else(|e| panic!("{e}"));
    let access = shown.openstack.unwrap_or_else(|| panic!("no access handed out"));
    assert_eq!(access.server_group_id, made.server_groups.values().next().cloned().unwrap_or_default());
    assert_eq!(access.project_id, made.projects.values().next().cloned().unwrap_or_default());
    assert_eq!(access.ssh_key_name, "unikorn-openstack-provider");
    assert!(access.ssh_private_key.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
    assert!(!access.application_credential_secret.is_empty());
    assert!(!format!("{access:?}").contains(&access.application_credential_secret), "secrets never in Debug");
    // A second run makes nothing.
    let before = w.provider.calls().iter().filter(|c| c.starts_with("create_")).count();
    assert_eq!(converge_identity(&w.deps, &id).await.ok(), Some(Converged::Settled(Stage::Provisioned)));
    assert_eq!(w.provider.calls().iter().filter(|c| c.starts_with("create_")).count(), before);
}

#[tokio::test]
async fn a_failed_step_is_error_and_the_retry_completes_without_duplicates_then_delete_leaves_nothing() {
    let w = world().await;
    let id = create(&w).await;
    *w.provider.failing.lock().unwrap_or_else(|e| e.into_inner()) = vec!["create_server_group"];
    assert!(converge_identity(&w.deps, &id).await.is_err());
    let failed = w.store.get_identity(&id).await.ok().flatten().and_then(|i| i.lifecycle).map(|l| l.stage);
    assert_eq!(failed, Some(Stage::Error));
    w.provider.failing.lock().unwrap_or_else(|e| e.into_inner()).clear();
    assert_eq!(converge_identity(&w.deps, &id).await.ok(), Some(Converged::Settled(Stage::Provisioned)));
    let made = w.provider.made();
    assert_eq!((made.projects.len(), made.users.len(), made.server_groups.len()), (1, 1, 1));

    identities::delete_identity(&w.deps, &v1_cx(), &id).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(w.work.take().contains(&WorkItem::Identity { identity_id: id.clone() }), "the teardown is the worker's");
    assert_eq!(converge_identity(&w.deps, &id).await.ok(), Some(Converged::Gone));
    assert!(w.provider.made().is_empty(), "nothing left: {:?}", w.provider.made());
    assert!(w.provider.calls().contains(&"delete_keypair".to_owned()), "the user's key pair goes");
    assert!(w.store.get_identity(&id).await.ok().flatten().is_none());
    assert!(w.store.get_keypair(&id).await.ok().flatten().is_none(), "its key pair's record goes");
}

async fn create_v1_network(w: &World, identity_id: &str) -> String {
    use crate::domain::addressing::parse_network_prefix;
    use crate::domain::{NetworkAddressing, NetworkCreateInput, NetworkPlacement, NetworkSource};
    let reference = |v: &str| ReferenceId::parse("id", v).unwrap_or_else(|e| panic!("{e}"));
    let input = NetworkCreateInput {
        metadata: Metadata {
            name: ResourceName::parse("metadata.name", "net").unwrap_or_else(|e| panic!("{e}")),
            description: None,
            tags: Default::default(),
        },
        placement: NetworkPlacement::Identity {
            organization_id: reference("o"),
            project_id: reference("p"),
            identity_id: reference(identity_id),
        },
        source: NetworkSource::Provisioned(NetworkAddressing {
            prefix: parse_network_prefix("spec.prefix", "10.0.0.0/24", Some(24)).unwrap_or_else(|e| panic!("{e}")),
            dns_nameservers: Vec::new(),
            routes: Vec::new(),
            reservations: None,
        }),
    };
    crate::usecase::networks::create_network(&w.deps, &v1_cx(), input).await.unwrap_or_else(|e| panic!("{e}")).id
}

#[tokio::test]
async fn a_v1_network_waits_for_its_identity_then_lives_in_its_project_and_goes_with_it() {
    use crate::store::NetworkStore;
    use crate::usecase::networks::converge;
    let w = world().await;
    let id = create(&w).await;
    let network = create_v1_network(&w, &id).await;
    assert!(w.work.take().contains(&WorkItem::Network { network_id: network.clone() }));
    assert_eq!(converge(&w.deps, &network).await.ok(), Some(Converged::Settled(Stage::Pending)), "it waits");
    assert!(w.provider.made().networks.is_empty(), "nothing made before the identity's project");

    assert_eq!(converge_identity(&w.deps, &id).await.ok(), Some(Converged::Settled(Stage::Provisioned)));
    assert!(w.work.take().contains(&WorkItem::Network { network_id: network.clone() }), "handed over");
    assert_eq!(converge(&w.deps, &network).await.ok(), Some(Converged::Settled(Stage::Provisioned)));
    let made = w.provider.made();
    let name = format!("network-{network}");
    assert_eq!(made.projects.len(), 1, "no project of its own");
    assert!(made.networks.contains_key(&name) && made.subnets.contains_key(&name) && made.routers.contains_key(&name));
    assert_eq!(made.interfaces.len(), 1);
    let record = w.store.get_network(&network).await.ok().flatten().unwrap_or_else(|| panic!("no record"));
    assert_eq!(record.objects.project_id, made.projects.values().next().cloned(), "in the identity's project");
    assert_eq!(record.allocation_id, None, "v1 networks hold no allocation");

    identities::delete_identity(&w.deps, &v1_cx(), &id).await.unwrap_or_else(|e| panic!("{e}"));
    let shown = w.store.get_network(&network).await.ok().flatten().map(|n| n.stage());
    assert_eq!(shown, Some(Stage::Deprovisioning), "its teardown began");
    assert_eq!(converge_identity(&w.deps, &id).await.ok(), Some(Converged::Settled(Stage::Deprovisioning)));
    assert_eq!(converge(&w.deps, &network).await.ok(), Some(Converged::Gone));
    assert!(w.work.take().contains(&WorkItem::Identity { identity_id: id.clone() }), "the identity is next");
    assert_eq!(converge_identity(&w.deps, &id).await.ok(), Some(Converged::Gone));
    assert!(w.provider.made().is_empty(), "nothing left: {:?}", w.provider.made());
}
