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
