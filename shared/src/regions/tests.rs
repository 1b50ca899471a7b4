//! The region document: a full example parses, every mistake is named, visibility follows
//! Unikorn's rule, and credentials never print.

use super::*;

const SIGNING_KEY: &str = include_str!("../../../tests/fixtures/signing/public.pem");

fn example() -> String {
    format!(
        r#"
regions:
- id: gb-north-1
  name: gb-north-1
  description: London, second floor
  tags: [{{name: tier, value: gold}}]
  type: openstack
  openstack:
    endpoint: https://keystone.example.com:5000/v3/
    serviceAccountSecret: region-gb-north-1
    identity: {{clusterRoles: [member]}}
    compute:
      serverGroupPolicy: anti-affinity
      flavors:
        selector: {{ids: ["2", "g1"]}}
        metadata:
        - id: g1
          baremetal: true
          cpu: {{count: 32, family: Intel Xeon Platinum 8480, architecture: x86_64}}
          memory: 1Ti
          gpu: {{vendor: NVIDIA, model: H100, memory: 80Gi, physicalCount: 8, logicalCount: 8}}
    image:
      selector:
        signingKey: |
{key}
    network:
      externalNetworks: {{selector: {{tags: [public]}}}}
      providerNetworks: {{physicalNetwork: physnet1, vlan: {{segments: [{{startId: 100, endId: 299}}]}}}}
  security:
    organizations: [{{id: org-a}}]
- id: eu-kube-1
  name: eu-kube-1
  type: kubernetes
  kubernetes: {{kubeconfigSecret: region-eu-kube-1, domainName: k.example.com}}
"#,
        key = SIGNING_KEY.trim().lines().map(|l| format!("          {l}")).collect::<Vec<_>>().join("\n")
    )
}

fn caller(acl: serde_json::Value) -> Caller {
    Caller { subject: "s".into(), acl: serde_json::from_value(acl).unwrap_or_default() }
}

#[test]
fn the_documented_example_parses_into_what_the_product_uses() {
    let regions = Regions::parse(&example()).unwrap_or_else(|e| panic!("{e}"));
    let region = regions.get("gb-north-1").unwrap_or_else(|| panic!("parsed"));
    let os = region.openstack.as_ref().unwrap_or_else(|| panic!("openstack"));
    assert_eq!(os.endpoint, "https://keystone.example.com:5000/v3", "no trailing slash");
    assert_eq!(
        (os.cluster_roles.clone(), os.server_group_policy.as_str()),
        (vec!["member".to_owned()], "anti-affinity")
    );
    assert_eq!(os.flavor_ids, ["2", "g1"]);
    let g1 = &os.flavor_metadata["g1"];
    assert!(g1.baremetal);
    assert_eq!((g1.cpus, g1.memory_bytes), (Some(32), Some(1 << 40)));
    assert_eq!(g1.gpu.as_ref().map(|g| (g.memory_bytes, g.physical_count)), Some((80 << 30, 8)));
    assert!(os.signing_key.is_some());
    assert_eq!(os.external_network_tags, ["public"]);
    assert!(region.physical_networks());
    assert_eq!(os.provider_networks.as_ref().map(|p| p.segments.clone()), Some(vec![(100, 299)]));
    assert_eq!(regions.credential_secrets(), vec![("gb-north-1".to_owned(), "region-gb-north-1".to_owned())]);
    let kube = regions.get("eu-kube-1").unwrap_or_else(|| panic!("parsed"));
    assert_eq!(kube.kind, RegionKind::Kubernetes);
    assert!(!kube.physical_networks());
}

#[test]
fn mistakes_stop_the_start_and_name_the_field() {
    let cases = [
        ("id: Gb_North", "regions[0].id"),
        ("endpoint: keystone.example.com", "regions[0].openstack.endpoint"),
        ("memory: 1Tb", "regions[0].openstack.compute.flavors.metadata[0].memory"),
        ("vendor: INTEL", "regions[0].openstack.compute.flavors.metadata[0].gpu.vendor"),
        ("architecture: x86_64}", "regions[0].openstack.compute.flavors.metadata[0].cpu.architecture"),
        ("startId: 100, endId: 299", "regions[0].openstack.network.providerNetworks.vlan"),
        ("serverGroupPolicy: anti-affinity", "unknown field"),
    ];
    let replacements = [
        ("id: gb-north-1", "id: Gb_North"),
        ("endpoint: https://keystone.example.com:5000/v3/", "endpoint: keystone.example.com"),
        ("memory: 1Ti", "memory: 1Tb"),
        ("vendor: NVIDIA", "vendor: INTEL"),
        ("architecture: x86_64}", "architecture: sparc}"),
        ("startId: 100, endId: 299", "startId: 300, endId: 299"),
        ("serverGroupPolicy: anti-affinity", "serverGroupPolicy: anti-affinity\n      flavours: {}"),
    ];
    for ((_, field), (from, to)) in cases.iter().zip(replacements) {
        let text = example().replacen(from, to, 1);
        let err = Regions::parse(&text).map(|_| ()).expect_err(to).to_string();
        assert!(err.contains(field), "{to}: {err}");
    }
    let twice = example().replace("id: eu-kube-1", "id: gb-north-1");
    assert!(Regions::parse(&twice).map(|_| ()).expect_err("twice").to_string().contains("appears twice"));
    let bad_key = example().replace("MFkwEwYHKoZIzj0CAQYI", "MFkwEwYHKoZIzj0CAQYX");
    assert!(Regions::parse(&bad_key).map(|_| ()).expect_err("key").to_string().contains("signingKey"));
}

#[test]
fn visibility_follows_the_callers_organizations_and_hides_as_404() {
    let regions = Regions::parse(&example()).unwrap_or_else(|e| panic!("{e}"));
    let member = caller(serde_json::json!({"organizations": [{"id": "org-a"}]}));
    let stranger = caller(serde_json::json!({"organizations": [{"id": "org-b"}]}));
    let global = caller(serde_json::json!({"global": [{"name": "region:regions", "operations": ["read"]}]}));
    assert!(regions.visible(&member, "gb-north-1").is_ok());
    assert!(regions.visible(&global, "gb-north-1").is_ok());
    let hidden = regions.visible(&stranger, "gb-north-1").map(|_| ()).expect_err("hidden");
    let missing = regions.visible(&member, "nowhere").map(|_| ()).expect_err("missing");
    assert_eq!((hidden.status_and_code().0, missing.status_and_code().0), (404, 404));
    assert_eq!(regions.visible_all(&stranger).map(|r| r.id.as_str()).collect::<Vec<_>>(), ["eu-kube-1"]);
    let kube = regions.openstack(&member, "eu-kube-1").map(|_| ()).expect_err("not openstack");
    assert_eq!(kube.status_and_code().0, 400);
}

#[test]
fn credentials_come_from_the_secret_and_never_print() {
    let text = r#"{"domain-id": "d", "user-id": "u", "password": "hunter2", "project-id": "p"}"#;
    let credential = RegionCredential::parse("region-gb-north-1", text).unwrap_or_else(|e| panic!("{e}"));
    assert!(!format!("{credential:?}").contains("hunter2"));
    let regions =
        Regions::parse(&example()).unwrap_or_else(|e| panic!("{e}")).with_credential("gb-north-1", credential);
    let cred = regions.project_credential("gb-north-1").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((cred.user_id.as_str(), cred.scope.clone()), ("u", CredentialScope::Project("p".into())));
    assert!(!format!("{cred:?}").contains("hunter2"));
    assert!(regions.project_credential("eu-kube-1").is_err(), "not an OpenStack region");
    assert!(RegionCredential::parse("s", r#"{"user": "u"}"#).is_err());
}
