//! Contract tests: the client's wire types against the official OpenStack samples in
//! `../shared/reference/openstack/`, and the emulator's responses against the same types.
//! Requests are compared as the client really sends them (read back from the emulator's log).

use std::collections::BTreeMap;

use integration_tests::samples::assert_matches_sample;
use integration_tests::{demo_credential, provider_with_timeout, raw_token, sample};
use openstack_emulator::{seed, Emulator};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use shared::provider::openstack::wire::*;
use shared::provider::{Attach, Compute, Images, Keypairs, Networking, PortSpec, PowerAction, ServerCreate};

fn parse<T: DeserializeOwned>(value: &Value, label: &str) -> T {
    serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{label} does not parse with the client's type: {e}"))
}

/// Removing or renaming each required field must fail, and the error must name the field.
fn required_fields<T: DeserializeOwned + std::fmt::Debug>(
    value: &Value,
    object_at: &str,
    fields: &[&str],
    label: &str,
) {
    for field in fields {
        for rename in [false, true] {
            let mut broken = value.clone();
            let object = broken
                .pointer_mut(object_at)
                .and_then(Value::as_object_mut)
                .unwrap_or_else(|| panic!("{label}: no object at {object_at}"));
            let removed = object.remove(*field).unwrap_or_else(|| panic!("{label}: sample lacks {field}"));
            if rename {
                object.insert(format!("{field}_renamed"), removed);
            }
            let err = serde_json::from_value::<T>(broken).expect_err(&format!("{label} parsed without {field}"));
            assert!(err.to_string().contains(field), "{label}: error for missing {field} does not name it: {err}");
        }
    }
}

/// Keystone's password authentication (identity API v3, "Password authentication with scoped
/// authorization"): a user by id, its password, and a project or a domain scope. The reference
/// holds no request sample for it (only the project-scoped response, parsed below), so the
/// documented form is written out here.
#[test]
fn keystone_password_requests_are_keystones_documented_form() {
    let cred = |scope| shared::provider::ProviderCredential {
        auth_url: "http://keystone/v3".into(),
        user_id: "ee4dfb6e5540447cb3741905149d9b6e".into(),
        password: "devstacker".into(),
        scope,
    };
    let project = shared::provider::CredentialScope::Project("a6944d763bf64ee6a275f1263fae0352".into());
    let domain = shared::provider::CredentialScope::Domain("default".into());
    let user = json!({"id": "ee4dfb6e5540447cb3741905149d9b6e", "password": "devstacker"});
    assert_eq!(
        serde_json::to_value(AuthRequest::password(&cred(project))).unwrap_or_default(),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": user}},
            "scope": {"project": {"id": "a6944d763bf64ee6a275f1263fae0352"}}}})
    );
    assert_eq!(
        serde_json::to_value(AuthRequest::password(&cred(domain))).unwrap_or_default(),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": user}},
            "scope": {"domain": {"id": "default"}}}})
    );
}

#[test]
fn keystone_responses_parse_and_name_missing_fields() {
    for file in [
        "keystone/v3/samples/admin/auth-application-credential-response.json",
        "keystone/v3/samples/admin/auth-password-project-scoped-response.json",
        "keystone/v3/samples/auth/responses/project-scoped-password.json",
    ] {
        let value = sample(file);
        let token: TokenResponse = parse(&value, file);
        assert!(!token.token.expires_at.is_empty(), "{file}");
        required_fields::<TokenResponse>(&value, "/token", &["expires_at", "catalog"], file);
    }
    let scoped: TokenResponse =
        parse(&sample("keystone/v3/samples/admin/auth-password-project-scoped-response.json"), "scoped");
    assert!(scoped.token.catalog.iter().any(|c| c.service_type == "compute"));
    assert!(scoped.token.catalog.iter().any(|c| c.service_type == "image"));
}

#[test]
fn nova_and_glance_response_samples_parse_with_the_client_types() {
    for file in ["nova/servers/server-get-resp.json", "nova/servers/v2.100/server-get-resp.json"] {
        let value = sample(file);
        let server: ServerEnvelope = parse(&value, file);
        assert!(!server.server.id.is_empty());
        required_fields::<ServerEnvelope>(&value, "/server", &["id", "name", "status", "metadata", "image"], file);
    }
    for file in ["nova/servers/servers-details-resp.json", "nova/servers/v2.100/servers-details-resp.json"] {
        let list: ServersEnvelope = parse(&sample(file), file);
        assert!(!list.servers.is_empty(), "{file}");
    }
    for file in ["nova/servers/server-create-resp.json", "nova/servers/v2.100/server-create-resp.json"] {
        let value = sample(file);
        let _: ServerCreatedEnvelope = parse(&value, file);
        required_fields::<ServerCreatedEnvelope>(&value, "/server", &["id"], file);
    }
    let value = sample("nova/os-console-output/console-output-post-resp.json");
    let _: ConsoleOutputResponse = parse(&value, "console output");
    required_fields::<ConsoleOutputResponse>(&value, "", &["output"], "console output");

    let value = sample("nova/os-remote-consoles/v2.6/create-vnc-console-resp.json");
    let _: RemoteConsoleResponse = parse(&value, "remote console");
    required_fields::<RemoteConsoleResponse>(&value, "/remote_console", &["url"], "remote console");

    let value = sample("nova/servers/v2.45/server-action-create-image-resp.json");
    let _: CreateImageResponse = parse(&value, "createImage");
    required_fields::<CreateImageResponse>(&value, "", &["image_id"], "createImage");

    for file in ["nova/flavors/flavor-get-resp.json", "nova/flavors/v2.102/flavor-get-resp.json"] {
        let value = sample(file);
        let _: FlavorEnvelope = parse(&value, file);
        required_fields::<FlavorEnvelope>(&value, "/flavor", &["id", "name", "vcpus", "ram", "disk"], file);
    }
    let detail: FlavorsEnvelope = parse(&sample("nova/flavors/v2.102/flavors-detail-resp.json"), "flavors detail");
    assert!(detail.flavors.iter().any(|f| f.extra_specs.is_some()), "2.61+ flavors embed extra_specs");
    let _: FlavorsEnvelope = parse(&sample("nova/flavors/flavors-detail-resp.json"), "flavors detail 2.1");

    for file in [
        "nova/os-keypairs/keypairs-import-post-resp.json",
        "nova/os-keypairs/v2.92/keypairs-import-post-resp.json",
        "nova/os-keypairs/keypairs-get-resp.json",
    ] {
        let value = sample(file);
        let _: KeypairEnvelope = parse(&value, file);
        required_fields::<KeypairEnvelope>(&value, "/keypair", &["name", "public_key"], file);
    }

    for file in ["glance/v2/samples/image-show-response.json", "glance/v2/samples/image-create-response.json"] {
        let value = sample(file);
        let _: GlanceImage = parse(&value, file);
        required_fields::<GlanceImage>(&value, "", &["id", "status", "min_disk", "tags"], file);
    }
    let list: GlanceImageList = parse(&sample("glance/v2/samples/images-list-response.json"), "image list");
    assert!(!list.images.is_empty());
}

/// Performs every call the client makes and returns the bodies the emulator received, by path suffix.
async fn client_requests() -> (Emulator, Vec<openstack_emulator::RecordedRequest>) {
    let emulator = Emulator::start_demo().await.unwrap_or_else(|e| panic!("emulator: {e}"));
    let provider = provider_with_timeout(std::time::Duration::from_secs(5));
    let cred = demo_credential(&emulator);
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx0bK5cH5q0uJ0u0N7pW3sZQqk3mZk8s7bS0kq3j1aY contract";
    provider.import_keypair(&cred, "contract-key", key).await.unwrap_or_else(|e| panic!("keypair: {e}"));
    // The product boots servers on a port it made first.
    let spec = PortSpec { name: "contract".into(), network_id: seed::TENANT_NETWORK.into(), ..PortSpec::default() };
    let (port, _) = provider.create_port(&cred, &spec).await.unwrap_or_else(|e| panic!("port: {e}"));
    let create = ServerCreate {
        name: "contract".into(),
        image_id: seed::IMAGE_UBUNTU.into(),
        flavor_id: seed::FLAVOR_SMALL.into(),
        attach: Attach::Port(port.id),
        metadata: BTreeMap::from([("unikorn:server:id".into(), "abc".into())]),
        user_data: Some(b"#cloud-config\n".to_vec()),
        key_name: Some("contract-key".into()),
    };
    let (id, created) = provider.create_server(&cred, &create).await.unwrap_or_else(|e| panic!("create: {e}"));
    // Every accepted call answers Nova's request id, which the actions record.
    let ok = |r: shared::provider::Result<shared::provider::Receipt>, what: &str| {
        let receipt = r.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(receipt.request_id.as_deref().is_some_and(|id| id.starts_with("req-")), "{what}: {receipt:?}");
    };
    ok(Ok(created), "create");
    ok(provider.power(&cred, &id, PowerAction::Stop).await, "stop");
    ok(provider.power(&cred, &id, PowerAction::Start).await, "start");
    ok(provider.power(&cred, &id, PowerAction::SoftReboot).await, "soft reboot");
    ok(provider.power(&cred, &id, PowerAction::HardReboot).await, "hard reboot");
    provider.console_output(&cred, &id, Some(50)).await.unwrap_or_else(|e| panic!("console: {e}"));
    provider.console_url(&cred, &id).await.unwrap_or_else(|e| panic!("vnc: {e}"));
    let meta = BTreeMap::from([("meta_var".to_owned(), "meta_val".to_owned())]);
    ok(provider.create_image(&cred, &id, "foo-image", &meta).await.map(|(_, receipt)| receipt), "snapshot");
    ok(provider.resize(&cred, &id, seed::FLAVOR_LARGE).await, "resize");
    ok(provider.confirm_resize(&cred, &id).await, "confirm");
    ok(provider.rebuild(&cred, &id, seed::IMAGE_UBUNTU).await, "rebuild");
    let requests = emulator.requests();
    (emulator, requests)
}

fn body_of<'a>(requests: &'a [openstack_emulator::RecordedRequest], suffix: &str, key: &str) -> &'a Value {
    requests
        .iter()
        .filter(|r| r.path.ends_with(suffix))
        .filter_map(|r| r.body.as_ref())
        .find(|b| b.get(key).is_some())
        .unwrap_or_else(|| panic!("the client sent no {key} request to *{suffix}"))
}

#[tokio::test]
async fn requests_the_client_sends_match_the_official_request_samples() {
    let (_emulator, requests) = client_requests().await;

    // `networks` as a list and `key_name` are documented in nova's parameters.yaml; the samples
    // use the "auto" string form and carry no key.
    let create = body_of(&requests, "/servers", "server");
    for file in ["nova/servers/server-create-req.json", "nova/servers/v2.100/server-create-req.json"] {
        assert_matches_sample(create, &sample(file), &["/server/networks", "/server/key_name"], file);
    }
    assert!(create["server"]["networks"].is_array());
    // On its own port (nova's parameters.yaml: networks[].port), with no security groups of Nova's own.
    assert!(create["server"]["networks"][0]["port"].is_string(), "{create}");
    assert!(create["server"].get("security_groups").is_none(), "{create}");

    let exact =
        [("os-start", "nova/servers/server-action-start.json"), ("os-stop", "nova/servers/server-action-stop.json")];
    for (key, file) in exact {
        assert_eq!(body_of(&requests, "/action", key), &sample(file), "{file}");
    }
    let reboots: Vec<&Value> =
        requests.iter().filter_map(|r| r.body.as_ref()).filter(|b| b.get("reboot").is_some()).collect();
    assert!(
        reboots.contains(&&sample("nova/servers/server-action-reboot.json")),
        "HARD reboot is byte-equal to the sample"
    );
    assert!(reboots.contains(&&json!({"reboot": {"type": "SOFT"}})), "SOFT reboot uses the documented value");

    let matched = [
        ("os-getConsoleOutput", "nova/os-console-output/console-output-post-req.json"),
        ("createImage", "nova/servers/v2.45/server-action-create-image.json"),
        ("resize", "nova/servers/server-action-resize.json"),
        ("confirmResize", "nova/servers/server-action-confirm-resize.json"),
        ("rebuild", "nova/servers/server-action-rebuild.json"),
    ];
    for (key, file) in matched {
        assert_matches_sample(body_of(&requests, "/action", key), &sample(file), &[], file);
    }
    assert_eq!(
        body_of(&requests, "/remote-consoles", "remote_console"),
        &sample("nova/os-remote-consoles/v2.6/create-vnc-console-req.json")
    );
    // We speak 2.100, so the 2.92 import shape (with `type`, since 2.2) is the contract.
    let file = "nova/os-keypairs/v2.92/keypairs-import-post-req.json";
    assert_matches_sample(body_of(&requests, "/os-keypairs", "keypair"), &sample(file), &[], file);
}

/// The emulator's own responses parse with the same client types as the official samples.
#[tokio::test]
async fn emulator_responses_parse_with_the_client_types() {
    let (emulator, _) = client_requests().await;
    let token = raw_token(&emulator).await;
    let http = reqwest::Client::new();
    let get = |path: String| {
        let request = http
            .get(format!("{}{path}", emulator.url))
            .header("X-Auth-Token", &token)
            .header("OpenStack-API-Version", "compute 2.100");
        async move {
            let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
            assert!(response.status().is_success(), "{} answered {}", response.url(), response.status());
            response.json::<Value>().await.unwrap_or_else(|e| panic!("{e}"))
        }
    };
    let list: ServersEnvelope = parse(&get("/compute/v2.1/servers/detail".into()).await, "emulator servers/detail");
    let id = list.servers.first().map(|s| s.id.clone()).unwrap_or_else(|| panic!("no server"));
    let show = get(format!("/compute/v2.1/servers/{id}")).await;
    let _: ServerEnvelope = parse(&show, "emulator server show");
    required_fields::<ServerEnvelope>(
        &show,
        "/server",
        &["id", "name", "status", "metadata", "image"],
        "emulator server",
    );
    let flavor = get(format!("/compute/v2.1/flavors/{}", seed::FLAVOR_GPU)).await;
    let parsed: FlavorEnvelope = parse(&flavor, "emulator flavor");
    assert_eq!(parsed.flavor.extra_specs.unwrap_or_default().get("resources:VGPU").map(String::as_str), Some("1"));
    let _: FlavorsEnvelope = parse(&get("/compute/v2.1/flavors/detail".into()).await, "emulator flavors");
    let _: KeypairEnvelope = parse(&get("/compute/v2.1/os-keypairs/contract-key".into()).await, "emulator keypair");
    let image = get(format!("/image/v2/images/{}", seed::IMAGE_UBUNTU)).await;
    let _: GlanceImage = parse(&image, "emulator image");
    required_fields::<GlanceImage>(&image, "", &["id", "status", "min_disk", "tags"], "emulator image");
    let _: GlanceImageList = parse(&get("/image/v2/images".into()).await, "emulator image list");

    // Every key the official samples have at the top level of a server, the emulator has too.
    let official = sample("nova/servers/v2.100/server-get-resp.json");
    let missing: Vec<&String> = official["server"]
        .as_object()
        .map(|o| o.keys().filter(|k| show["server"].get(k.as_str()).is_none()).collect())
        .unwrap_or_default();
    assert!(missing.is_empty(), "emulator server lacks official fields {missing:?}");
}

/// Rebuild answers 202 with the server (sample and emulator alike), in REBUILD while it runs; a
/// resize leaves the server in VERIFY_RESIZE until confirmed (204), as Nova's samples and API
/// reference describe.
#[tokio::test]
async fn resize_and_rebuild_follow_novas_samples_and_states() {
    for file in ["nova/servers/server-action-rebuild-resp.json", "nova/servers/v2.100/server-action-rebuild-resp.json"]
    {
        let _: ServerEnvelope = parse(&sample(file), file);
    }
    let emulator = Emulator::start_demo().await.unwrap_or_else(|e| panic!("emulator: {e}"));
    let provider = provider_with_timeout(std::time::Duration::from_secs(5));
    let cred = demo_credential(&emulator);
    let create = ServerCreate {
        name: "states".into(),
        image_id: seed::IMAGE_UBUNTU.into(),
        flavor_id: seed::FLAVOR_SMALL.into(),
        attach: Attach::Network(seed::TENANT_NETWORK.into()),
        ..ServerCreate::default()
    };
    let (id, _) = provider.create_server(&cred, &create).await.unwrap_or_else(|e| panic!("{e}"));
    emulator.set_delays(openstack_emulator::Delays { action_ms: 200, ..Default::default() });
    let official = sample("nova/servers/v2.100/server-action-rebuild.json");
    let image = openstack_emulator::seed::images().into_iter().next().map(|mut i| {
        i.id = official["rebuild"]["imageRef"].as_str().unwrap_or_default().to_owned();
        i
    });
    emulator.add_image(image.unwrap_or_else(|| panic!("no seed image")));
    let token = raw_token(&emulator).await;
    let response = reqwest::Client::new()
        .post(format!("{}/compute/v2.1/servers/{id}/action", emulator.url))
        .header("X-Auth-Token", &token)
        .header("OpenStack-API-Version", "compute 2.100")
        .json(&official)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status().as_u16(), 202);
    let body: Value = response.json().await.unwrap_or_default();
    let rebuilt: ServerEnvelope = parse(&body, "emulator rebuild response");
    assert_eq!(rebuilt.server.status, "REBUILD");
    assert_eq!(rebuilt.server.name, "foobar", "the sample's name is applied");
    assert_eq!(rebuilt.server.metadata.get("meta_var").map(String::as_str), Some("meta_val"));
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    provider.resize(&cred, &id, seed::FLAVOR_LARGE).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(emulator.server_status(&id).as_deref(), Some("RESIZE"));
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    assert_eq!(emulator.server_status(&id).as_deref(), Some("VERIFY_RESIZE"));
    provider.confirm_resize(&cred, &id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(emulator.server_status(&id).as_deref(), Some("ACTIVE"));
    let err = provider.confirm_resize(&cred, &id).await.expect_err("nothing to confirm");
    assert!(matches!(err, shared::provider::ProviderError::Conflict { .. }), "{err:?}");
}
