//! Security groups: recorded pending on a provisioned network (a bound one is 422), enacted at the
//! provider by the worker once the network's project exists, their rules replaced by an update,
//! drift repaired, removed by their delete or with their network.

use super::*;
use crate::api::v2::security_groups::{SecurityGroupV2Create, SecurityGroupV2Update};
use crate::domain::Stage;
use crate::store::SecurityGroupStore;
use crate::usecase::networks::{self, converge};
use crate::usecase::security_groups::{self as groups, converge_security_group};
use crate::usecase::Converged;

async fn network(w: &World) -> String {
    let body = br#"{"metadata": {"name": "made"}, "spec": {"organizationId": "o", "projectId": "p",
        "regionId": "r", "prefix": "192.168.7.0/24", "dnsNameservers": []}}"#;
    let input = parse_json::<NetworkV2Create>(body).and_then(NetworkV2Create::parse).unwrap_or_else(|e| panic!("{e}"));
    networks::create_network(&w.deps, &cx(admin()), input).await.unwrap_or_else(|e| panic!("{e}")).id
}

async fn group(w: &World, network: &str, rules: &str) -> crate::error::Result<String> {
    let body = format!(r#"{{"metadata": {{"name": "web"}}, "spec": {{"networkId": "{network}", "rules": {rules}}}}}"#);
    let input = parse_json::<SecurityGroupV2Create>(body.as_bytes()).and_then(SecurityGroupV2Create::parse)?;
    Ok(groups::create_security_group(&w.deps, &cx(admin()), input).await?.id)
}

fn rule_keys(w: &World) -> Vec<String> {
    let made = w.provider.made();
    let mut keys: Vec<String> = made.security_groups.values().flat_map(|(_, r)| r.iter().map(|r| r.key())).collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn a_group_waits_for_its_network_then_its_rules_are_enacted_replaced_repaired_and_removed() {
    let w = world().await;
    let net = network(&w).await;
    let ssh = r#"[{"direction": "ingress", "protocol": "tcp", "port": 22}]"#;
    let id = group(&w, &net, ssh).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(converge_security_group(&w.deps, &id).await.ok(), Some(Converged::Settled(Stage::Pending)), "waits");
    assert!(w.provider.made().security_groups.is_empty());
    assert_eq!(converge(&w.deps, &net).await.ok(), Some(Converged::Settled(Stage::Provisioned)));
    assert!(w.work.take().contains(&crate::work::WorkItem::SecurityGroup { security_group_id: id.clone() }));
    assert_eq!(converge_security_group(&w.deps, &id).await.ok(), Some(Converged::Settled(Stage::Provisioned)));
    assert_eq!(w.provider.made().security_groups.keys().collect::<Vec<_>>(), vec![&format!("securitygroup-{id}")]);
    assert_eq!(rule_keys(&w), vec!["ingress,tcp,22-22,0.0.0.0/0"]);

    let body = br#"{"metadata": {"name": "web"}, "spec": {"rules": [
        {"direction": "ingress", "protocol": "tcp", "port": 22},
        {"direction": "ingress", "protocol": "tcp", "port": 443, "prefix": "10.0.0.0/8"}]}}"#;
    let update = parse_json::<SecurityGroupV2Update>(body).and_then(SecurityGroupV2Update::parse);
    let update = update.unwrap_or_else(|e| panic!("{e}"));
    let shown =
        groups::update_security_group(&w.deps, &cx(admin()), &id, update).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(shown.stage(), Stage::Provisioning, "work left at Neutron");
    assert_eq!(converge_security_group(&w.deps, &id).await.ok(), Some(Converged::Settled(Stage::Provisioned)));
    assert_eq!(rule_keys(&w), vec!["ingress,tcp,22-22,0.0.0.0/0", "ingress,tcp,443-443,10.0.0.0/8"]);
    // Drift: a rule removed at the provider comes back at the next run.
    w.provider.with("test", |m| m.security_groups.values_mut().for_each(|(_, r)| r.truncate(1))).ok();
    assert_eq!(converge_security_group(&w.deps, &id).await.ok(), Some(Converged::Settled(Stage::Provisioned)));
    assert_eq!(rule_keys(&w).len(), 2);

    groups::delete_security_group(&w.deps, &cx(admin()), &id).await.unwrap_or_else(|e| panic!("{e}"));
    let refused = groups::update_security_group(
        &w.deps,
        &cx(admin()),
        &id,
        parse_json::<SecurityGroupV2Update>(body)
            .and_then(SecurityGroupV2Update::parse)
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .await;
    assert!(matches!(refused, Err(crate::error::Error::Invalid(_))), "{refused:?}");
    assert_eq!(converge_security_group(&w.deps, &id).await.ok(), Some(Converged::Gone));
    assert!(w.provider.made().security_groups.is_empty());
    assert!(w.store.get_security_group(&id).await.ok().flatten().is_none());
}

#[tokio::test]
async fn a_network_takes_its_groups_with_it_and_bad_rules_write_nothing() {
    let w = world().await;
    let net = network(&w).await;
    converge(&w.deps, &net).await.unwrap_or_else(|e| panic!("{e}"));
    let bad = group(&w, &net, r#"[{"direction": "ingress", "protocol": "icmp", "port": 8}]"#).await;
    assert!(bad.is_err_and(|e| e.public_description().contains("layer 3 protocol")));
    let id = group(&w, &net, "[]").await.unwrap_or_else(|e| panic!("{e}"));
    converge_security_group(&w.deps, &id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.provider.made().security_groups.len(), 1);
    networks::delete_network(&w.deps, &cx(admin()), &net).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(converge(&w.deps, &net).await.ok(), Some(Converged::Gone));
    assert!(w.provider.made().is_empty(), "nothing left: {:?}", w.provider.made());
    assert!(w.store.get_security_group(&id).await.ok().flatten().is_none(), "its record went too");
}

fn naming(network: &str, name: &str, groups: &[&str]) -> crate::domain::ServerCreateInput {
    let mut input = create_input(network, name);
    let groups = Some(groups.iter().map(|g| g.to_string()).collect());
    input.networking = Some(crate::domain::Networking { security_groups: groups, ..Default::default() });
    input
}

fn port_groups(w: &World, server: &str) -> Vec<String> {
    let ports = w.provider.ports.lock().unwrap_or_else(|e| e.into_inner());
    ports.values().find(|p| p.name == server).map(|p| p.security_groups.clone()).unwrap_or_default()
}

#[tokio::test]
async fn a_server_names_groups_of_its_own_network_and_a_group_in_use_is_not_deleted() {
    let w = world().await;
    let web = group(&w, &w.network, "[]").await.unwrap_or_else(|e| panic!("{e}"));
    let before = w.store.item_count();
    // Pending: no Neutron group to put the port in yet.
    let pending = create_server(&w.deps, &cx(admin()), naming(&w.network, "web", &[&web]), None).await;
    assert!(matches!(&pending, Err(Error::Conflict(m)) if m.contains("once it is provisioned")), "{pending:?}");
    converge_security_group(&w.deps, &web).await.unwrap_or_else(|e| panic!("{e}"));
    let missing = create_server(&w.deps, &cx(admin()), naming(&w.network, "web", &[&web, "nope"]), None).await;
    assert!(matches!(&missing, Err(Error::NotFound(m)) if m.contains("nope")), "{missing:?}");
    let other_net = network(&w).await;
    converge(&w.deps, &other_net).await.unwrap_or_else(|e| panic!("{e}"));
    let other = group(&w, &other_net, "[]").await.unwrap_or_else(|e| panic!("{e}"));
    converge_security_group(&w.deps, &other).await.unwrap_or_else(|e| panic!("{e}"));
    let before_other = w.store.item_count();
    let foreign = create_server(&w.deps, &cx(admin()), naming(&w.network, "web", &[&other]), None).await;
    assert!(
        matches!(&foreign, Err(Error::Unprocessable(m)) if m == "spec.networking.securityGroups[0]: a referenced security group must belong to the same network as the server"),
        "{foreign:?}"
    );
    assert_eq!(w.store.item_count(), before_other, "nothing written by the refusals");
    assert!(before < before_other);
    assert!(!w.provider.calls().iter().any(|c| c == "create_port"), "nothing made");

    let server = create_server(&w.deps, &cx(admin()), naming(&w.network, "web", &[&web]), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let neutron = w.store.get_security_group(&web).await.ok().flatten().and_then(|g| g.objects.group_id);
    assert_eq!(port_groups(&w, &server.id), neutron.into_iter().collect::<Vec<_>>(), "the port is in the group");
    let in_use = groups::delete_security_group(&w.deps, &cx(admin()), &web).await;
    assert!(matches!(&in_use, Err(Error::Forbidden(m)) if m == "security group is in use and cannot be deleted"));

    // Dropping the group from the server frees it; the port goes back to the default group.
    let body = br#"{"metadata": {"name": "web"}, "spec": {"flavorId": "f", "imageId": "i"}}"#;
    let input = parse_json::<ServerV2Update>(body).and_then(ServerV2Update::parse).unwrap_or_else(|e| panic!("{e}"));
    update_server(&w.deps, &cx(admin()), &server.id, None, input).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(port_groups(&w, &server.id), vec!["default".to_owned()]);
    groups::delete_security_group(&w.deps, &cx(admin()), &web).await.unwrap_or_else(|e| panic!("{e}"));
    let closed = create_server(&w.deps, &cx(admin()), naming(&w.network, "db", &[&web]), None).await;
    assert!(matches!(&closed, Err(Error::Conflict(m)) if m.contains("being deleted")), "{closed:?}");
    assert_eq!(converge_security_group(&w.deps, &web).await.ok(), Some(Converged::Gone));
}

#[tokio::test]
async fn a_server_removed_frees_its_groups() {
    let w = world().await;
    let web = group(&w, &w.network, "[]").await.unwrap_or_else(|e| panic!("{e}"));
    converge_security_group(&w.deps, &web).await.unwrap_or_else(|e| panic!("{e}"));
    let server = create_server(&w.deps, &cx(admin()), naming(&w.network, "web", &[&web, &web]), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    crate::usecase::delete_server(&w.deps, &cx(admin()), &server.id).await.unwrap_or_else(|e| panic!("{e}"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut past_grace = w.deps.clone();
    past_grace.timing.grace = chrono::Duration::zero();
    cleanup::run(&past_grace, &MemoryBus::default(), deadline).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(w.store.get_server(&server.id).await.ok().flatten().is_none(), "server gone");
    groups::delete_security_group(&w.deps, &cx(admin()), &web).await.unwrap_or_else(|e| panic!("{e}"));
}

/// A clock an hour ahead: what a cleanup run sees of intents left an hour ago.
struct AnHourLater;

impl crate::clock::Clock for AnHourLater {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::hours(1)
    }
}

#[tokio::test]
async fn a_sweep_reports_how_long_the_oldest_unsettled_intent_has_waited() {
    let w = world().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let report = cleanup::run(&w.deps, &MemoryBus::default(), deadline).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.oldest_unsettled_seconds, 0, "nothing waits");
    // A network whose project the provider keeps refusing is retried (each try restarts its
    // stage); a group on it waits untouched for the network's project, and ages.
    w.provider.failing.lock().unwrap_or_else(|e| e.into_inner()).push("create_project");
    let net = network(&w).await;
    group(&w, &net, "[]").await.unwrap_or_else(|e| panic!("{e}"));
    let mut later = w.deps.clone();
    later.clock = std::sync::Arc::new(AnHourLater);
    let report = cleanup::run(&later, &MemoryBus::default(), deadline).await.unwrap_or_else(|e| panic!("{e}"));
    assert!((3590..=3610).contains(&report.oldest_unsettled_seconds), "{report:?}");
    assert!(report.failures.iter().any(|f| f.contains("injected failure")), "{report:?}");
}
