//! Security groups on real Neutron and, with the same checks, on the emulator: a group made with
//! Neutron's default egress rules (where its templates have any), its rules brought to a list by the domain's plan (the missing
//! made, the unasked removed, the unchanged never touched), a rule removed at Neutron made again,
//! a duplicate refused, and the group's delete refused while a port uses it and done once free.

use shared::domain::security_rules::{parse_v2_rules, plan_rules, RuleV2Input, SecurityRule};
use shared::provider::SecurityGroups;

use super::*;

/// (direction, protocol, port, portMax, prefix) as a v2 body sends them.
type RuleRow<'a> = (&'a str, &'a str, Option<i64>, Option<i64>, Option<&'a str>);

fn rules(list: &[RuleRow]) -> Vec<SecurityRule> {
    let inputs: Vec<RuleV2Input> = list
        .iter()
        .map(|(d, p, port, max, prefix)| RuleV2Input {
            direction: (*d).into(),
            protocol: (*p).into(),
            port: *port,
            port_max: *max,
            prefix: prefix.map(Into::into),
        })
        .collect();
    parse_v2_rules("rules", &inputs).unwrap_or_else(|e| panic!("{e}"))
}

/// Brings the group's rules to `wanted`; answers (made, removed).
async fn reconcile(
    provider: &OpenStackProvider,
    cred: &ProviderCredential,
    group: &str,
    wanted: &[SecurityRule],
) -> (usize, usize) {
    let held = provider.security_group_rules(cred, group).await.unwrap_or_else(|e| panic!("rules: {e}"));
    let plan = plan_rules(&held, wanted);
    for id in &plan.delete {
        provider.delete_security_group_rule(cred, id).await.unwrap_or_else(|e| panic!("delete rule: {e}"));
    }
    for rule in &plan.create {
        provider.create_security_group_rule(cred, group, rule).await.unwrap_or_else(|e| panic!("create rule: {e}"));
    }
    (plan.create.len(), plan.delete.len())
}

async fn check(label: &str, provider: &OpenStackProvider, cred: &ProviderCredential, network: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expect = |ok: bool, what: &str| {
        if !ok {
            problems.push(format!("{label}: {what}"));
        }
    };
    let name = format!("securitygroup-{}", uuid::Uuid::new_v4());
    let group = provider.create_security_group(cred, &name).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let found = provider.find_security_group(cred, &name).await.ok().flatten();
    expect(found.as_deref() == Some(group.as_str()), "the group is found by its name");
    let defaults = provider.security_group_rules(cred, &group).await.unwrap_or_default();
    // Neutron's default rule templates: egress IPv4 and IPv6 in a stock deployment (the emulator);
    // the real tier's Neutron has none for groups other than `default`. Either way they are kept.
    let kept = defaults.len();
    expect(kept <= 2 && defaults.iter().all(|r| r.direction == "egress"), "made with only default egress rules");

    let first = rules(&[
        ("ingress", "tcp", Some(22), None, None),
        ("ingress", "tcp", Some(8000), Some(8080), Some("10.0.0.0/8")),
        ("ingress", "icmp", None, None, None),
    ]);
    expect(reconcile(provider, cred, &group, &first).await == (3, 0), "three rules made, the defaults kept");
    let held = provider.security_group_rules(cred, &group).await.unwrap_or_default();
    expect(held.len() == kept + 3, "the three rules beside the defaults");
    expect(reconcile(provider, cred, &group, &first).await == (0, 0), "a second reconcile touches nothing");
    // Drift: a rule removed at Neutron comes back.
    let ssh = held.iter().find(|r| r.port_range_min == Some(22)).map(|r| r.id.clone()).unwrap_or_default();
    provider.delete_security_group_rule(cred, &ssh).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    expect(reconcile(provider, cred, &group, &first).await == (1, 0), "the removed rule is made again");
    // An update replaces the list: icmp goes, dns comes, the rest stays untouched.
    let second = rules(&[
        ("ingress", "tcp", Some(22), None, None),
        ("ingress", "tcp", Some(8000), Some(8080), Some("10.0.0.0/8")),
        ("ingress", "udp", Some(53), None, None),
    ]);
    let before: Vec<String> =
        provider.security_group_rules(cred, &group).await.unwrap_or_default().into_iter().map(|r| r.id).collect();
    expect(reconcile(provider, cred, &group, &second).await == (1, 1), "one made, one removed");
    let after: Vec<String> =
        provider.security_group_rules(cred, &group).await.unwrap_or_default().into_iter().map(|r| r.id).collect();
    let unchanged = before.iter().filter(|id| after.contains(id)).count();
    expect(unchanged == kept + 2, "the unchanged rules keep their ids");
    let twice = provider.create_security_group_rule(cred, &group, &second[0]).await;
    expect(matches!(twice, Err(ProviderError::Conflict { .. })), &format!("a duplicate rule is a conflict: {twice:?}"));

    let spec = PortSpec {
        name: name.clone(),
        network_id: network.into(),
        security_groups: vec![group.clone()],
        allowed_addresses: vec![],
    };
    let (port, _) = provider.create_port(cred, &spec).await.unwrap_or_else(|e| panic!("{label}: port: {e}"));
    let in_use = provider.delete_security_group(cred, &group).await;
    expect(
        matches!(in_use, Err(ProviderError::Conflict { .. })),
        &format!("a group a port uses is not deleted: {in_use:?}"),
    );
    provider.delete_port(cred, &port.id).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    provider.delete_security_group(cred, &group).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    expect(provider.find_security_group(cred, &name).await.ok().flatten().is_none(), "the group is gone");
    expect(provider.delete_security_group(cred, &group).await.is_ok(), "a group already gone is done");
    problems
}

#[tokio::test]
async fn security_group_rules_reconcile_alike_on_real_neutron_and_on_the_emulator() {
    let Some(real) = Real::connect().await else { return };
    let mut problems = check("real", &real.provider, &real.demo, &real.id("network_id")).await;
    let emulator = openstack_emulator::Emulator::start_demo().await.unwrap_or_else(|e| panic!("{e}"));
    let regions = integration_tests::stack::regions(&emulator);
    let cred = regions.project_credential(integration_tests::stack::REGION).unwrap_or_else(|e| panic!("{e}"));
    problems.extend(check("emulator", &real.provider, &cred, openstack_emulator::seed::TENANT_NETWORK).await);
    assert!(problems.is_empty(), "the security group checks:\n{}", problems.join("\n"));
}
