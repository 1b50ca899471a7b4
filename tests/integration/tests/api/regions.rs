//! The region routes as a Unikorn client reads them: regions and their detail, flavors, images (v1
//! and v2), external networks, the version route; answers, caching headers, visibility and errors,
//! against the emulator's Nova, Glance and Neutron.

use integration_tests::stack::*;
use openstack_emulator::{seed, Emulator};
use serde_json::{json, Value};
use shared::regions::{RegionCredential, Regions};

const FLAVOR_LIST: &str = "GET /compute/v2.1/flavors/detail";
const GLANCE_LIST: &str = "GET /image/v2/images";
const NETWORK_LIST: &str = "GET /network/v2.0/networks";
const KUBECONFIG: &str = "apiVersion: v1\nkind: Config\nclusters: []\n";

/// `region-1` (every public flavor, GPU metadata for `g1`, the test signing key); `region-legacy`
/// (seen only by the second organization: one flavor, the `legacy` external network, no signing
/// key); `region-k8s` (a Kubernetes region).
fn catalogue_regions(emulator: &Emulator) -> Regions {
    let key = std::fs::read_to_string(integration_tests::repo_root().join("tests/fixtures/signing/public.pem"))
        .unwrap_or_else(|e| panic!("{e}"));
    let endpoint = emulator.auth_url();
    let document = json!({"regions": [
        {"id": REGION, "name": "gb-north-1", "description": "the emulator's demo region", "type": "openstack",
         "tags": [{"name": "tier", "value": "gold"}],
         "openstack": {"endpoint": endpoint, "serviceAccountSecret": REGION_SECRET,
            "compute": {"flavors": {"metadata": [{"id": seed::FLAVOR_GPU, "cpu": {"family": "EPYC 9004"},
                "gpu": {"vendor": "NVIDIA", "model": "H100", "memory": "80Gi", "physicalCount": 1, "logicalCount": 2}}]}},
            "image": {"selector": {"signingKey": key}}}},
        {"id": "region-legacy", "name": "gb-south-1", "type": "openstack",
         "openstack": {"endpoint": endpoint, "serviceAccountSecret": REGION_SECRET,
            "compute": {"flavors": {"selector": {"ids": [seed::FLAVOR_SMALL]}}},
            "network": {"externalNetworks": {"selector": {"tags": ["legacy"]}}}},
         "security": {"organizations": [{"id": ORG_2}]}},
        {"id": "region-k8s", "name": "us-east-1", "type": "kubernetes",
         "kubernetes": {"kubeconfigSecret": "region-k8s-kubeconfig", "domainName": "k8s.example.com"}},
    ]});
    let credential =
        || RegionCredential::parse(REGION_SECRET, &region_credential_json()).unwrap_or_else(|e| panic!("{e}"));
    Regions::parse(&document.to_string())
        .unwrap_or_else(|e| panic!("{e}"))
        .with_credential(REGION, credential())
        .with_credential("region-legacy", credential())
        .with_kubeconfig("region-k8s", &json!({"kubeconfig": KUBECONFIG}).to_string())
}

async fn stack() -> Stack {
    Stack::start_on(catalogue_regions, GatewayOptions::default()).await
}

fn org(path: &str) -> String {
    format!("/api/v1/organizations/{ORG}{path}")
}

fn ids(body: &Value) -> Vec<String> {
    body.as_array().into_iter().flatten().map(|i| i["metadata"]["id"].as_str().unwrap_or_default().to_owned()).collect()
}

/// A caller holding `endpoints` (read) on `orgs`.
fn reader(stack: &Stack, name: &str, orgs: &[&str], endpoints: &[&str]) -> String {
    let endpoints: Vec<Value> = endpoints.iter().map(|e| json!({"name": e, "operations": ["read"]})).collect();
    let organizations: Vec<Value> = orgs.iter().map(|o| json!({"id": o, "endpoints": endpoints})).collect();
    stack.token(name, &json!({"organizations": organizations}))
}

#[tokio::test]
async fn regions_are_listed_with_unikorns_metadata_and_only_where_the_caller_may_see_them() {
    let stack = stack().await;
    let one = reader(&stack, "one", &[ORG], &["region:regions"]);
    let reply = stack.call("GET", &org("/regions"), Some(&one), None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-cache"));
    let mut seen = reply.body.as_array().cloned().unwrap_or_default();
    seen.sort_by_key(|r| r["metadata"]["id"].as_str().unwrap_or_default().to_owned());
    assert_eq!(
        seen.iter().map(|r| r["metadata"]["id"].clone()).collect::<Vec<_>>(),
        [json!(REGION), json!("region-k8s")],
        "region-legacy is only for the second organization"
    );
    assert_eq!(
        seen[0],
        json!({"metadata": {"id": REGION, "name": "gb-north-1", "description": "the emulator's demo region",
            "tags": [{"name": "tier", "value": "gold"}], "creationTime": "0001-01-01T00:00:00Z",
            "provisioningStatus": "provisioned", "healthStatus": "healthy"},
            "spec": {"type": "openstack", "features": {"physicalNetworks": false}}})
    );
    assert_eq!(seen[1]["spec"]["type"], "kubernetes");

    // Visibility follows the organization the caller's ACL answers for: on this route identity
    // answers for the path's organization, as Unikorn asks it.
    let both = reader(&stack, "both", &[ORG, ORG_2], &["region:regions"]);
    let reply = stack.call("GET", &org("/regions"), Some(&both), None).await;
    assert_eq!(reply.body.as_array().map(Vec::len), Some(2), "{}", reply.body);
    let reply = stack.call("GET", &format!("/api/v1/organizations/{ORG_2}/regions"), Some(&both), None).await;
    assert_eq!(reply.body.as_array().map(Vec::len), Some(3), "{}", reply.body);

    // RBAC on the path's organization.
    let other = reader(&stack, "other", &[ORG_2], &["region:regions"]);
    assert_eq!(stack.call("GET", &org("/regions"), Some(&other), None).await.status, 403);
    let none = reader(&stack, "none", &[ORG], &["region:flavors"]);
    assert_eq!(stack.call("GET", &org("/regions"), Some(&none), None).await.status, 403);
    assert_eq!(stack.call("GET", &org("/regions"), None, None).await.status, 401);
    let query = stack.call("GET", &org("/regions?limit=1"), Some(&one), None).await;
    assert_eq!((query.status, query.error_code()), (400, "invalid_request"), "{}", query.body);
}

#[tokio::test]
async fn a_region_detail_shows_a_kubeconfig_and_never_a_credential() {
    let stack = stack().await;
    let token = reader(&stack, "detail", &[ORG], &["region:regions/detail"]);
    let k8s = stack.call("GET", &org("/regions/region-k8s/detail"), Some(&token), None).await;
    assert_eq!(k8s.status, 200, "{}", k8s.body);
    assert_eq!(k8s.header("cache-control").as_deref(), Some("no-cache"));
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(KUBECONFIG);
    assert_eq!(k8s.body["spec"]["kubernetes"], json!({"kubeconfig": encoded, "domainName": "k8s.example.com"}));

    let openstack = stack.call("GET", &org(&format!("/regions/{REGION}/detail")), Some(&token), None).await;
    assert_eq!(openstack.status, 200, "{}", openstack.body);
    assert_eq!(openstack.body["spec"], json!({"type": "openstack", "features": {"physicalNetworks": false}}));
    let text = openstack.body.to_string();
    for secret in [seed::REGION_PASSWORD, seed::REGION_USER_ID, stack.emulator.url.as_str(), REGION_SECRET] {
        assert!(!text.contains(secret), "the detail shows no endpoint or credential: {text}");
    }

    let hidden = stack.call("GET", &org("/regions/region-legacy/detail"), Some(&token), None).await;
    assert_eq!((hidden.status, hidden.error_code()), (404, "not_found"), "hidden answers as missing");
    let missing = stack.call("GET", &org("/regions/region-9/detail"), Some(&token), None).await;
    assert_eq!((missing.status, missing.error_code()), (404, "not_found"));
    let malformed = stack.call("GET", &org("/regions/Region_1/detail"), Some(&token), None).await;
    assert_eq!((malformed.status, malformed.error_code()), (400, "invalid_request"), "{}", malformed.body);
}

#[tokio::test]
async fn flavors_are_novas_public_ones_in_unikorns_units_and_order_and_a_warm_read_calls_nothing() {
    let stack = stack().await;
    let token = reader(&stack, "flavors", &[ORG], &["region:flavors"]);
    let path = org(&format!("/regions/{REGION}/flavors"));
    let before = stack.emulator.counter(FLAVOR_LIST);
    let reply = stack.call("GET", &path, Some(&token), None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("cache-control").as_deref(), Some("max-age=86400, private"));
    assert_eq!(
        ids(&reply.body),
        [seed::FLAVOR_TINY, seed::FLAVOR_SMALL, seed::FLAVOR_LARGE, seed::FLAVOR_GPU],
        "GPUs last, then by CPUs and memory; the private flavor never"
    );
    assert_eq!(
        reply.body[1],
        json!({"metadata": {"id": seed::FLAVOR_SMALL, "name": "m1.small", "creationTime": "0001-01-01T00:00:00Z"},
            "spec": {"cpus": 2, "memory": 4, "disk": 40, "architecture": "x86_64"}})
    );
    assert_eq!(reply.body[0]["spec"]["memory"], 0, "512 MiB is 0 GiB, rounded down as Unikorn does");
    assert_eq!(
        reply.body[3]["spec"],
        json!({"cpus": 16, "cpuFamily": "EPYC 9004", "memory": 64, "disk": 250, "architecture": "x86_64",
            "gpu": {"vendor": "NVIDIA", "model": "H100", "memory": 80, "physicalCount": 1, "logicalCount": 2}})
    );
    assert_eq!(stack.emulator.counter(FLAVOR_LIST), before + 1, "a cold read lists Nova's flavors once");
    let again = stack.call("GET", &path, Some(&token), None).await;
    assert_eq!(again.body, reply.body);
    assert_eq!(stack.emulator.counter(FLAVOR_LIST), before + 1, "a warm read calls no provider");

    let legacy = reader(&stack, "legacy", &[ORG_2], &["region:flavors"]);
    let path = format!("/api/v1/organizations/{ORG_2}/regions/region-legacy/flavors");
    let reply = stack.call("GET", &path, Some(&legacy), None).await;
    assert_eq!(ids(&reply.body), [seed::FLAVOR_SMALL], "the region's selector");
    let k8s = stack.call("GET", &org("/regions/region-k8s/flavors"), Some(&token), None).await;
    assert_eq!((k8s.status, k8s.description()), (400, "region is not valid for this endpoint"), "{}", k8s.body);
    let hidden = stack.call("GET", &org("/regions/region-legacy/flavors"), Some(&token), None).await;
    assert_eq!(hidden.status, 404);
}

#[tokio::test]
async fn v1_images_are_the_ready_signed_ones_with_unikorns_properties_by_name() {
    let stack = stack().await;
    let token = reader(&stack, "images", &[ORG], &["region:images"]);
    let before = stack.emulator.counter(GLANCE_LIST);
    let reply = stack.call("GET", &org(&format!("/regions/{REGION}/images")), Some(&token), None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let _ = stack.call("GET", &org(&format!("/regions/{REGION}/images")), Some(&token), None).await;
    assert_eq!(stack.emulator.counter(GLANCE_LIST), before + 1, "one Glance listing, then the cache");
    assert_eq!(reply.header("cache-control").as_deref(), Some("max-age=86400, private"));
    assert_eq!(
        ids(&reply.body),
        [seed::IMAGE_UBUNTU, seed::IMAGE_LARGE, seed::IMAGE_GPU],
        "not queued, not without Unikorn's properties, not forged, not another project's"
    );
    let ubuntu = &reply.body[0];
    assert_eq!(ubuntu["metadata"]["name"], "ubuntu-24.04");
    assert!(ubuntu["metadata"]["creationTime"].is_string());
    assert_eq!(
        ubuntu["spec"],
        json!({"architecture": "x86_64", "sizeGiB": 20, "virtualization": "virtualized",
            "os": {"kernel": "linux", "family": "debian", "distro": "ubuntu", "codename": "noble", "version": "24.04"},
            "softwareVersions": {"kubernetes": "v1.31.2"}})
    );
    assert_eq!(ubuntu["status"], json!({"state": "ready"}));
    let gpu = &reply.body[2];
    assert_eq!(gpu["spec"]["sizeGiB"], 31, "no min_disk: the virtual size, rounded up");
    assert_eq!(gpu["spec"]["gpu"], json!({"vendor": "NVIDIA", "driver": "550.54", "models": ["H100", "A100"]}));

    // Without a signing key the forged image is offered as any other.
    let legacy = reader(&stack, "legacy", &[ORG_2], &["region:images"]);
    let path = format!("/api/v1/organizations/{ORG_2}/regions/region-legacy/images");
    let reply = stack.call("GET", &path, Some(&legacy), None).await;
    assert!(ids(&reply.body).contains(&seed::IMAGE_FORGED.to_owned()), "{}", reply.body);
    let denied = reader(&stack, "denied", &[ORG], &["region:flavors"]);
    let reply = stack.call("GET", &org(&format!("/regions/{REGION}/images")), Some(&denied), None).await;
    assert_eq!(reply.status, 403);
}

#[tokio::test]
async fn v2_images_filter_by_organization_scope_and_state() {
    let stack = stack().await;
    let token = reader(&stack, "v2", &[ORG], &["region:images"]);
    let images = |query: &str| {
        let (stack, token) = (&stack, token.clone());
        let path = format!("/api/v2/regions/{REGION}/images{query}");
        async move { stack.call("GET", &path, Some(&token), None).await }
    };
    let all = images("").await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.header("cache-control").as_deref(), Some("no-cache"));
    assert_eq!(
        ids(&all.body),
        [seed::IMAGE_UBUNTU, seed::IMAGE_LARGE, seed::IMAGE_GPU, seed::IMAGE_QUEUED],
        "global images in every state, by name"
    );
    assert_eq!(ids(&images("?status=pending").await.body), [seed::IMAGE_QUEUED]);
    assert_eq!(ids(&images("?status=ready&status=pending").await.body).len(), 4);
    assert_eq!(ids(&images("?scope=owned").await.body), Vec::<String>::new(), "no organization: nothing owned");
    assert_eq!(ids(&images(&format!("?organizationID={ORG}&scope=owned")).await.body), Vec::<String>::new());

    // An organization the caller may not read is dropped, as Unikorn drops it.
    let theirs = images(&format!("?organizationID={ORG_2}&scope=available")).await;
    assert_eq!((theirs.status, ids(&theirs.body).len()), (200, 4));

    for (query, field) in [
        ("?scope=mine", "scope"),
        ("?scope=owned&scope=available", "scope"),
        ("?status=deleted", "status"),
        ("?organizationID=a,b", "organizationID"),
        ("?limit=2", "limit"),
    ] {
        let reply = images(query).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{query}: {}", reply.body);
        assert!(reply.description().starts_with(field), "{query}: {}", reply.body);
    }
    let many: String = (0..101).map(|i| format!("&organizationID=o{i}")).collect();
    assert_eq!(images(&format!("?{}", &many[1..])).await.status, 400, "a filter repeated past its bound");
    let k8s = stack.call("GET", "/api/v2/regions/region-k8s/images", Some(&token), None).await;
    assert_eq!(k8s.status, 400);
    let hidden = stack.call("GET", "/api/v2/regions/region-legacy/images", Some(&token), None).await;
    assert_eq!(hidden.status, 404);
}

#[tokio::test]
async fn external_networks_follow_the_selector_and_public_addresses_come_from_the_first() {
    let stack = stack().await;
    let token = reader(&stack, "ext", &[ORG], &["region:externalnetworks"]);
    let before = stack.emulator.counter(NETWORK_LIST);
    let reply = stack.call("GET", &org(&format!("/regions/{REGION}/externalnetworks")), Some(&token), None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("cache-control").as_deref(), Some("max-age=86400, private"));
    assert_eq!(
        reply.body,
        json!([{"id": seed::EXTERNAL_NETWORK, "name": "public"}, {"id": seed::EXTERNAL_NETWORK_LEGACY, "name": "public-legacy"}])
    );
    let _ = stack.call("GET", &org(&format!("/regions/{REGION}/externalnetworks")), Some(&token), None).await;
    assert_eq!(stack.emulator.counter(NETWORK_LIST), before + 1, "one Neutron listing, then the cache");

    let legacy = reader(&stack, "legacy", &[ORG_2], &["region:externalnetworks"]);
    let path = format!("/api/v1/organizations/{ORG_2}/regions/region-legacy/externalnetworks");
    let reply = stack.call("GET", &path, Some(&legacy), None).await;
    assert_eq!(reply.body, json!([{"id": seed::EXTERNAL_NETWORK_LEGACY, "name": "public-legacy"}]));

    // A server with a public address in region-legacy gets it from the legacy network.
    let admin = stack.admin();
    let body = json!({"metadata": {"name": "legacy-net"}, "spec": {"organizationId": ORG_2, "projectId": PROJECT_C,
        "regionId": "region-legacy", "providerNetworkId": PROVIDER_NETWORK}});
    let network = stack.call("POST", "/api/v2/networks", Some(&admin), Some(&body)).await;
    assert_eq!(network.status, 201, "{}", network.body);
    let mut server = stack.server_body("web", &network.id());
    server["spec"]["flavorId"] = json!(seed::FLAVOR_SMALL);
    server["spec"]["networking"] = json!({"publicIP": true});
    let created = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&server)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let fip = stack.emulator.requests().into_iter().find(|r| r.method == "POST" && r.path.ends_with("/floatingips"));
    let fip = fip.and_then(|r| r.body).unwrap_or_default();
    assert_eq!(fip["floatingip"]["floating_network_id"], seed::EXTERNAL_NETWORK_LEGACY, "{fip}");
}

#[tokio::test]
async fn the_version_route_answers_any_authenticated_caller() {
    let stack = stack().await;
    let nobody = stack.token("nobody", &json!({"organizations": []}));
    let reply = stack.call("GET", "/api/version", Some(&nobody), None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-cache"));
    assert_eq!(reply.body["name"], "region-servers");
    assert!(reply.body["version"].as_str().is_some_and(|v| v.starts_with('v')), "{}", reply.body);
    assert_eq!(stack.call("GET", "/api/version", None, None).await.status, 401);
}
