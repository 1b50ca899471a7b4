use super::*;

fn v2(direction: &str, protocol: &str, port: Option<i64>, port_max: Option<i64>, prefix: Option<&str>) -> RuleV2Input {
    RuleV2Input {
        direction: direction.into(),
        protocol: protocol.into(),
        port,
        port_max,
        prefix: prefix.map(Into::into),
    }
}

fn parsed(rules: &[RuleV2Input]) -> Vec<SecurityRule> {
    parse_v2_rules("spec.rules", rules).unwrap_or_else(|e| panic!("{e}"))
}

fn refused(rules: &[RuleV2Input]) -> String {
    match parse_v2_rules("spec.rules", rules) {
        Err(e) => e.public_description(),
        Ok(r) => panic!("accepted: {r:?}"),
    }
}

fn held(
    id: &str,
    direction: &str,
    protocol: Option<&str>,
    ports: Option<(u16, u16)>,
    prefix: Option<&str>,
) -> HeldRule {
    HeldRule {
        id: id.into(),
        direction: direction.into(),
        protocol: protocol.map(Into::into),
        port_range_min: ports.map(|p| p.0),
        port_range_max: ports.map(|p| p.1),
        remote_ip_prefix: prefix.map(Into::into),
    }
}

#[test]
fn v2_rules_parse_as_unikorn_keys_them() {
    let rules = parsed(&[
        v2("ingress", "tcp", Some(22), None, Some("10.0.0.5/24")),
        v2("ingress", "tcp", Some(8000), Some(8080), None),
        v2("ingress", "udp", None, Some(53), None),
        v2("egress", "icmp", None, None, None),
    ]);
    let keys: Vec<String> = rules.iter().map(SecurityRule::key).collect();
    assert_eq!(
        keys,
        vec![
            "ingress,tcp,22-22,10.0.0.0/24",
            "ingress,tcp,8000-8080,0.0.0.0/0",
            "ingress,udp,0-0,0.0.0.0/0",
            "egress,icmp,0-0,0.0.0.0/0"
        ]
    );
}

#[test]
fn bad_v2_rules_are_refused_naming_the_field() {
    assert!(refused(&[v2("sideways", "tcp", None, None, None)]).contains("spec.rules[0].direction"));
    assert!(refused(&[v2("ingress", "sctp", None, None, None)]).contains("spec.rules[0].protocol"));
    assert!(refused(&[v2("ingress", "tcp", Some(0), None, None)]).contains("spec.rules[0].port"));
    assert!(refused(&[v2("ingress", "tcp", Some(70000), None, None)]).contains("1 to 65535"));
    assert!(refused(&[v2("ingress", "tcp", Some(80), Some(80), None)]).contains("start < end"));
    assert!(refused(&[v2("ingress", "icmp", Some(8), None, None)]).contains("layer 3 protocol"));
    assert!(refused(&[v2("ingress", "any", Some(8), Some(9), None)]).contains("layer 3 protocol"));
    assert!(refused(&[v2("ingress", "tcp", None, None, Some("10.0.0.1"))]).contains("spec.rules[0].prefix"));
    let many: Vec<RuleV2Input> = (0..=MAX_RULES).map(|_| v2("ingress", "any", None, None, None)).collect();
    assert!(refused(&many).contains("at most 100 rules"));
}

#[test]
fn v1_rules_take_a_number_or_a_range_and_the_same_checks() {
    let rule = |port: Option<PortV1Input>, cidr: Option<&str>| RuleV1Input {
        direction: "ingress".into(),
        protocol: "tcp".into(),
        port,
        cidr: cidr.map(Into::into),
    };
    let p = |number, range| Some(PortV1Input { number, range });
    let rules = parse_v1_rules(
        "spec.rules",
        &[rule(p(Some(443), None), Some("192.0.2.0/24")), rule(p(None, Some((1000, 2000))), None)],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rules[0].key(), "ingress,tcp,443-443,192.0.2.0/24");
    assert_eq!(rules[1].key(), "ingress,tcp,1000-2000,0.0.0.0/0");
    for (bad, says) in [
        (rule(p(None, None), None), "exactly one of number or range"),
        (rule(p(Some(1), Some((1, 2))), None), "exactly one of number or range"),
        (rule(p(None, Some((2000, 1000))), None), "start must not exceed end"),
        (rule(None, Some("nope")), "spec.rules[0].cidr"),
    ] {
        let said = parse_v1_rules("spec.rules", &[bad]).map_err(|e| e.public_description());
        assert!(said.as_ref().is_err_and(|e| e.contains(says)), "{said:?}");
    }
}

#[test]
fn a_reconcile_keeps_what_is_asked_and_the_default_egress_and_nothing_else() {
    let wanted = parsed(&[v2("ingress", "tcp", Some(22), None, None), v2("ingress", "tcp", Some(443), None, None)]);
    let neutron = vec![
        held("eg4", "egress", None, None, None),
        held("eg6", "egress", None, None, None),
        held("ssh", "ingress", Some("tcp"), Some((22, 22)), None),
        held("ssh-again", "ingress", Some("tcp"), Some((22, 22)), Some("0.0.0.0/0")),
        held("old", "ingress", Some("tcp"), Some((80, 80)), None),
    ];
    let plan = plan_rules(&neutron, &wanted);
    assert_eq!(plan.delete, vec!["ssh-again".to_owned(), "old".to_owned()]);
    assert_eq!(plan.create.iter().map(SecurityRule::key).collect::<Vec<_>>(), vec!["ingress,tcp,443-443,0.0.0.0/0"]);
    // Once done, a second plan changes nothing; asking for the default egress makes nothing.
    let settled = vec![
        held("eg4", "egress", None, None, None),
        held("ssh", "ingress", Some("tcp"), Some((22, 22)), None),
        held("https", "ingress", Some("tcp"), Some((443, 443)), None),
    ];
    assert!(plan_rules(&settled, &wanted).is_empty());
    let egress = parsed(&[v2("egress", "any", None, None, None)]);
    assert!(plan_rules(&[held("eg4", "egress", None, None, None)], &egress).is_empty());
}
