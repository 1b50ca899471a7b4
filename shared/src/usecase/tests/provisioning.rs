//! A network from Unikorn's body: recorded pending and handed to the worker; provisioned step by
//! step; completed after a crash or a failure without making anything twice; updated; refused
//! while in use; taken down to nothing.

use super::*;
use crate::domain::Stage;
use crate::provider::ProviderError;
use crate::store::{IdentityStore, NetworkStore};
use crate::usecase::networks::{self, converge, Converged};
use crate::work::WorkItem;

fn body(extra: &str) -> Vec<u8> {
    format!(
        r#"{{"metadata": {{"name": "made"}}, "spec": {{"organizationId": "o", "projectId": "p", "regionId": "r",
        "prefix": "192.168.7.0/24", "dnsNameservers": ["8.8.8.8"]{extra}}}}}"#
    )
    .into_bytes()
}

async fn create(w: &World) -> String {
    let input =
        parse_json::<NetworkV2Create>(&body("")).and_then(NetworkV2Create::parse).unwrap_or_else(|e| panic!("{e}"));
    networks::create_network(&w.deps, &cx(admin()), input).await.unwrap_or_else(|e| panic!("{e}")).id
}

fn held(w: &World) -> Vec<WorkItem> {
    w.work.take()
}

async fn stage(w: &World, id: &str) -> Option<Stage> {
    w.store.get_network(id).await.ok().flatten().map(|n| n.stage())
}

#[tokio::test]
async fn a_network_is_recorded_pending_then_provisioned_with_every_object() {
    let w = world().await;
    let id = create(&w).await;
    assert_eq!(stage(&w, &id).await, Some(Stage::Pending));
    assert!(w.provider.made().is_empty(), "nothing is made on the request path");
    assert_eq!(converge(&w.deps, &id).await.ok(), Some(Converged::Settled(Stage::Provisioned)));
    let made = w.provider.made();
    assert_eq!(made.projects.len(), 1);
    assert_eq!(made.users.len(), 1);
    assert_eq!(made.credentials.len(), 1);
    assert_eq!(made.networks.keys().collect::<Vec<_>>(), vec![&format!("network-{id}")]);
    assert_eq!(made.interfaces.len(), 1);
    let network = w.store.get_network(&id).await.ok().flatten().unwrap_or_else(|| panic!("gone"));
    assert_eq!(network.provider_network_id, made.networks[&format!("network-{id}")].id);
    assert_eq!(network.objects.project_id.as_deref(), made.projects.values().next().map(String::as_str));
    let identity =
        w.store.get_identity(&network.identity_id).await.ok().flatten().unwrap_or_else(|| panic!("no identity"));
    assert!(identity.hidden && identity.objects.sealed_password.is_some());
    assert!(identity.objects.sealed_application_credential_secret.as_deref() != Some("secret"), "sealed, not plain");
    // A second run finds everything done and makes nothing.
    let before = w.provider.calls().iter().filter(|c| c.starts_with("create_")).count();
    assert_eq!(converge(&w.deps, &id).await.ok(), Some(Converged::Settled(Stage::Provisioned)));
    assert_eq!(w.provider.calls().iter().filter(|c| c.starts_with("create_")).count(), before);
}

#[tokio::test]
async fn a_failed_step_is_error_with_the_reason_and_the_next_run_completes_it_without_duplicates() {
    let w = world().await;
    let id = create(&w).await;
    *w.provider.failing.lock().unwrap_or_else(|e| e.into_inner()) = vec!["create_router"];
    assert!(converge(&w.deps, &id).await.is_err());
    let network = w.store.get_network(&id).await.ok().flatten().unwrap_or_else(|| panic!("gone"));
    assert_eq!(network.stage(), Stage::Error);
    assert!(network.lifecycle.and_then(|l| l.reason).is_some_and(|r| r.contains("did not answer") || !r.is_empty()));
    w.provider.failing.lock().unwrap_or_else(|e| e.into_inner()).clear();
    assert_eq!(converge(&w.deps, &id).await.ok(), Some(Converged::Settled(Stage::Provisioned)));
    let made = w.provider.made();
    assert_eq!((made.projects.len(), made.networks.len(), made.subnets.len(), made.routers.len()), (1, 1, 1, 1));
}

#[tokio::test]
async fn a_project_and_user_made_but_not_recorded_are_found_by_name_not_made_again() {
    let w = world().await;
    let id = create(&w).await;
    let identity = w.store.get_network(&id).await.ok().flatten().map(|n| n.identity_id).unwrap_or_default();
    // An earlier attempt made the project and the user, then died before recording them.
    {
        let mut made = w.provider.made.lock().unwrap_or_else(|e| e.into_inner());
        made.projects.insert(format!("unikorn-identity-{identity}"), "project-earlier".into());
        made.users.insert(format!("unikorn-identity-{identity}"), "user-earlier".into());
    }
    w.provider.fail_next(ProviderError::unavailable("lost answer"));
    assert!(converge(&w.deps, &id).await.is_err(), "a provider failure fails the run");
    assert_eq!(converge(&w.deps, &id).await.ok(), Some(Converged::Settled(Stage::Provisioned)));
    let made = w.provider.made();
    assert_eq!(made.projects.values().collect::<Vec<_>>(), vec!["project-earlier"]);
    assert_eq!(made.users.values().collect::<Vec<_>>(), vec!["user-earlier"]);
    assert!(w.provider.calls().contains(&"set_password".to_owned()), "the found user takes the recorded password");
    let network = w.store.get_network(&id).await.ok().flatten();
    assert_eq!(network.and_then(|n| n.objects.project_id).as_deref(), Some("project-earlier"));
}

#[tokio::test]
async fn an_update_reaches_the_subnet_and_a_delete_takes_everything_down() {
    let w = world().await;
    let id = create(&w).await;
    converge(&w.deps, &id).await.unwrap_or_else(|e| panic!("{e}"));
    let update = br#"{"metadata": {"name": "made"}, "spec": {"dnsNameservers": ["1.1.1.1"], "routes": [{"prefix": "10.9.0.0/16", "nexthop": "192.168.7.9"}]}}"#;
    let input = parse_json::<crate::api::v2::networks::NetworkV2Update>(update).and_then(|u| u.parse());
    let updated = networks::update_network(&w.deps, &cx(admin()), &id, input.unwrap_or_else(|e| panic!("{e}"))).await;
    assert_eq!(updated.map(|n| n.stage()).ok(), Some(Stage::Provisioning));
    converge(&w.deps, &id).await.unwrap_or_else(|e| panic!("{e}"));
    let serves = w.provider.made().subnets.values().next().map(|(_, s)| s.clone()).unwrap_or_default();
    assert_eq!(serves.dns_nameservers.iter().map(ToString::to_string).collect::<Vec<_>>(), vec!["1.1.1.1"]);
    assert_eq!(serves.host_routes.len(), 1);
    assert_eq!(held(&w).len(), 2, "the create and the update were handed to the worker");

    networks::delete_network(&w.deps, &cx(admin()), &id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stage(&w, &id).await, Some(Stage::Deprovisioning));
    networks::delete_network(&w.deps, &cx(admin()), &id).await.unwrap_or_else(|e| panic!("a second delete: {e}"));
    assert_eq!(converge(&w.deps, &id).await.ok(), Some(Converged::Gone));
    assert!(w.provider.made().is_empty(), "nothing left: {:?}", w.provider.made());
    assert_eq!(stage(&w, &id).await, None);
    assert!(w.allocations.held().is_empty(), "the allocation is freed with the network");
}

#[tokio::test]
async fn a_network_holds_an_allocation_and_identitys_quota_refusal_is_passed_on_with_nothing_written() {
    let w = world().await;
    *w.allocations.quota.lock().unwrap_or_else(|p| p.into_inner()) = Some(1);
    let id = create(&w).await;
    assert_eq!(w.allocations.held(), vec![id.clone()]);
    let stored = w.store.get_network(&id).await.ok().flatten().and_then(|n| n.allocation_id);
    assert_eq!(stored.as_deref(), Some(format!("allocation-{id}").as_str()));
    let input =
        parse_json::<NetworkV2Create>(&body("")).and_then(NetworkV2Create::parse).unwrap_or_else(|e| panic!("{e}"));
    let refused = networks::create_network(&w.deps, &cx(admin()), input).await;
    let told = refused.as_ref().err().map(|e| (e.status_and_code(), e.public_description()));
    assert_eq!(
        told,
        Some(((403, "forbidden"), "total networks allocation of 2 would exceed quota limit of 1".to_owned())),
        "{refused:?}"
    );
    let query =
        crate::store::RecordQuery { scopes: vec![crate::rbac::Scope::Organization("o".into())], ..Default::default() };
    let networks = w.store.list_networks(&query).await.unwrap_or_default();
    assert_eq!(networks.iter().filter(|n| n.lifecycle.is_some()).count(), 1, "nothing written for the refused one");
    assert_eq!(held(&w).len(), 1, "only the first was handed to the worker");
}

#[tokio::test]
async fn a_network_a_server_or_a_reference_holds_is_not_deleted() {
    let w = world().await;
    // The world's own network (bound) has no server yet: a reference holds it.
    let refs = ("ref", w.network.as_str());
    networks::add_reference(&w.deps, &cx(admin()), (refs.1, "things.example.org/1"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let refused = networks::delete_network(&w.deps, &cx(admin()), &w.network).await;
    assert!(
        matches!(&refused, Err(Error::Forbidden(m)) if m == "network is in use and cannot be deleted"),
        "{refused:?}"
    );
    networks::remove_reference(&w.deps, &cx(admin()), (refs.1, "things.example.org/1"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let bad = networks::add_reference(&w.deps, &cx(admin()), (refs.1, "Not A Reference")).await;
    assert!(matches!(bad, Err(Error::Invalid(_))), "{bad:?}");
    networks::delete_network(&w.deps, &cx(admin()), &w.network).await.unwrap_or_else(|e| panic!("{e}"));
    let _ = refs.0;
}
