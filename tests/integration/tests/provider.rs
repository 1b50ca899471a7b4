//! The OpenStack client against the emulator: token caching, refresh, timeouts, fault and state
//! translation, project scoping; and the official openstacksdk against the emulator.

use std::collections::BTreeMap;
use std::time::Duration;

use integration_tests::{demo_credential, other_credential, provider_with_timeout, venv_python};
use openstack_emulator::{seed, Delays, Emulator, Fault};
use shared::provider::openstack::{OpenStackConfig, OpenStackProvider};
use shared::provider::ProviderError as Error;
use shared::provider::{
    Attach, Compute, Flavors, ImageState, Images, PowerAction, ProviderCredential, ServerCreate, ServerPhase,
};

const TOKENS: &str = "POST /identity/v3/auth/tokens";

async fn emulator() -> Emulator {
    Emulator::start_demo().await.unwrap_or_else(|e| panic!("emulator: {e}"))
}

fn provider() -> OpenStackProvider {
    provider_with_timeout(Duration::from_secs(5))
}

fn server(name: &str) -> ServerCreate {
    ServerCreate {
        name: name.into(),
        image_id: seed::IMAGE_UBUNTU.into(),
        flavor_id: seed::FLAVOR_SMALL.into(),
        attach: Attach::Network(seed::TENANT_NETWORK.into()),
        metadata: BTreeMap::from([("unikorn:server:id".into(), format!("id-{name}"))]),
        ..ServerCreate::default()
    }
}

async fn create(provider: &OpenStackProvider, cred: &ProviderCredential, name: &str) -> String {
    provider.create_server(cred, &server(name)).await.unwrap_or_else(|e| panic!("create {name}: {e}")).0
}

#[tokio::test]
async fn one_keystone_token_per_credential_across_100_concurrent_calls() {
    let emulator = emulator().await;
    let provider = provider();
    let demo = demo_credential(&emulator);
    let other = other_credential(&emulator);
    let calls = (0..100).map(|i| {
        let cred = if i % 2 == 0 { &demo } else { &other };
        let provider = &provider;
        async move {
            match i % 4 {
                0 | 1 => provider.get_flavor(cred, seed::FLAVOR_SMALL).await.map(|_| ()),
                2 => provider.get_image(cred, seed::IMAGE_UBUNTU).await.map(|_| ()),
                _ => provider.get_server(cred, "00000000-0000-4000-8000-000000000000").await.map(|_| ()).or_else(|e| {
                    match e {
                        Error::NotFound { .. } => Ok(()),
                        other => Err(other),
                    }
                }),
            }
        }
    });
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let provider_calls: u64 = emulator.counters().iter().filter(|(k, _)| k.as_str() != TOKENS).map(|(_, v)| v).sum();
    assert_eq!(provider_calls, 100);
    assert_eq!(emulator.counter(TOKENS), 2, "one token for each of the two credentials");
    println!(
        "token reuse: {provider_calls} provider calls, {} keystone tokens for 2 credentials",
        emulator.counter(TOKENS)
    );
}

#[tokio::test]
async fn a_rejected_token_is_replaced_once_and_the_call_succeeds() {
    let emulator = emulator().await;
    let provider = provider();
    let cred = demo_credential(&emulator);
    provider.get_flavor(&cred, seed::FLAVOR_SMALL).await.unwrap_or_else(|e| panic!("{e}"));
    emulator.expire_tokens();
    let flavor = provider.get_flavor(&cred, seed::FLAVOR_SMALL).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(flavor.disk_gib, 40);
    assert_eq!(emulator.counter(TOKENS), 2);
    assert_eq!(emulator.counter("GET /compute/v2.1/flavors/{id}"), 3, "the 401 and its retry");
}

#[tokio::test]
async fn a_token_near_expiry_is_refreshed_before_use() {
    let emulator = emulator().await;
    emulator.set_delays(Delays { token_ttl_s: 3, ..Delays::default() });
    let provider = OpenStackProvider::new(OpenStackConfig {
        timeout: Duration::from_secs(5),
        token_refresh_margin: Duration::from_millis(2000),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let cred = demo_credential(&emulator);
    provider.get_flavor(&cred, seed::FLAVOR_SMALL).await.unwrap_or_else(|e| panic!("{e}"));
    provider.get_flavor(&cred, seed::FLAVOR_SMALL).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(emulator.counter(TOKENS), 1, "a fresh token is reused");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    provider.get_flavor(&cred, seed::FLAVOR_SMALL).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(emulator.counter(TOKENS), 2, "refreshed inside the margin");
    assert_eq!(emulator.counter("GET /compute/v2.1/flavors/{id}"), 3, "no 401 round trip was needed");
}

#[tokio::test]
async fn injected_503_delay_and_dropped_connection_are_unavailable() {
    let emulator = emulator().await;
    let provider = provider_with_timeout(Duration::from_secs(1));
    let cred = demo_credential(&emulator);
    let path = format!("/compute/v2.1/flavors/{}", seed::FLAVOR_SMALL);
    emulator.inject(Fault::status("GET", &path, 503));
    let err = provider.get_flavor(&cred, seed::FLAVOR_SMALL).await.expect_err("503 must fail");
    assert!(matches!(err, Error::Unavailable(_)), "503 -> {err:?}");

    emulator.inject(Fault::delay("GET", &path, 2000));
    let started = std::time::Instant::now();
    let err = provider.get_flavor(&cred, seed::FLAVOR_SMALL).await.expect_err("2 s delay must time out");
    assert!(matches!(err, Error::Unavailable(_)), "delay -> {err:?}");
    assert!(started.elapsed() < Duration::from_millis(1900), "the 1 s client timeout fired");
    println!("injected 2 s delay with 1 s timeout: Unavailable after {:?}", started.elapsed());

    emulator.inject(Fault::dropped("GET", &path));
    let err = provider.get_flavor(&cred, seed::FLAVOR_SMALL).await.expect_err("drop must fail");
    assert!(matches!(err, Error::Unavailable(_)), "drop -> {err:?}");

    let flavor = provider.get_flavor(&cred, seed::FLAVOR_SMALL).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(flavor.id, seed::FLAVOR_SMALL, "faults are spent, the next call succeeds");
}

#[tokio::test]
async fn nova_409_and_404_reach_the_domain_with_the_server_id() {
    let emulator = emulator().await;
    let provider = provider();
    let cred = demo_credential(&emulator);
    let id = create(&provider, &cred, "state").await;

    let err = provider.power(&cred, &id, PowerAction::Start).await.expect_err("start on ACTIVE");
    assert!(
        matches!(&err, Error::Conflict { .. } if err.to_string().contains(&id) && err.to_string().contains("vm_state active")),
        "{err:?}"
    );
    let err = provider.power(&cred, &id, PowerAction::SoftReboot).await;
    assert!(err.is_ok(), "soft reboot of an ACTIVE server: {err:?}");

    provider.power(&cred, &id, PowerAction::Stop).await.unwrap_or_else(|e| panic!("{e}"));
    let err = provider.power(&cred, &id, PowerAction::Stop).await.expect_err("stop on SHUTOFF");
    assert!(matches!(&err, Error::Conflict { .. } if err.to_string().contains(&id)), "{err:?}");
    let err = provider.power(&cred, &id, PowerAction::SoftReboot).await.expect_err("soft reboot on SHUTOFF");
    assert!(matches!(&err, Error::Conflict { .. }), "{err:?}");

    let missing = "00000000-0000-4000-8000-000000000000";
    let err = provider.get_server(&cred, missing).await.expect_err("unknown id");
    assert!(matches!(&err, Error::NotFound { .. } if err.to_string().contains(missing)), "{err:?}");
    let err = provider.power(&cred, missing, PowerAction::Start).await.expect_err("unknown id");
    assert!(matches!(&err, Error::NotFound { .. } if err.to_string().contains(missing)), "{err:?}");
}

#[tokio::test]
async fn any_action_while_a_task_runs_is_a_conflict() {
    let emulator = emulator().await;
    emulator.set_delays(Delays { build_ms: 300, action_ms: 300, ..Delays::default() });
    let provider = provider();
    let cred = demo_credential(&emulator);
    let id = create(&provider, &cred, "busy").await;
    assert_eq!(provider.get_server(&cred, &id).await.map(|s| s.phase).ok(), Some(ServerPhase::Building));
    let err = provider.power(&cred, &id, PowerAction::Stop).await.expect_err("stop while building");
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(provider.get_server(&cred, &id).await.map(|s| s.phase).ok(), Some(ServerPhase::Active));
    provider.power(&cred, &id, PowerAction::Stop).await.unwrap_or_else(|e| panic!("{e}"));
    let err = provider.power(&cred, &id, PowerAction::HardReboot).await.expect_err("reboot while powering off");
    assert!(matches!(&err, Error::Conflict { .. } if err.to_string().contains("task_state powering-off")), "{err:?}");
}

#[tokio::test]
async fn servers_are_scoped_to_the_token_project() {
    let emulator = emulator().await;
    let provider = provider();
    let demo = demo_credential(&emulator);
    let id = create(&provider, &demo, "mine").await;
    let err = provider.get_server(&other_credential(&emulator), &id).await.expect_err("other project");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = provider.delete_server(&other_credential(&emulator), &id).await.expect_err("other project delete");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(provider.get_server(&demo, &id).await.is_ok());
    let err = provider.get_image(&demo, seed::IMAGE_PRIVATE_OTHER).await.expect_err("other project's private image");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn a_wrong_password_is_a_provider_credential_error() {
    let emulator = emulator().await;
    let mut cred = demo_credential(&emulator);
    cred.password = "wrong".into();
    let err = provider().get_flavor(&cred, seed::FLAVOR_SMALL).await.expect_err("bad secret");
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
    assert!(!format!("{cred:?}").contains("wrong"), "Debug never shows the password");
}

#[tokio::test]
async fn server_reads_and_metadata_lookup() {
    let emulator = emulator().await;
    let provider = provider();
    let cred = demo_credential(&emulator);
    let id = create(&provider, &cred, "reader").await;
    create(&provider, &cred, "other").await;
    let server = provider.get_server(&cred, &id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(server.phase, ServerPhase::Active);
    assert_eq!(server.image_id.as_deref(), Some(seed::IMAGE_UBUNTU));
    assert!(server.private_ip.is_some() && server.mac_address.is_some(), "{server:?}");
    let found = provider.find_servers(&cred, "unikorn:server:id", "id-reader").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), vec![id.as_str()]);
    let output = provider.console_output(&cred, &id, Some(1)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(output.lines().count(), 1);
    let url = provider.console_url(&cred, &id).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(url.contains("vnc_auto.html"), "{url}");
}

#[tokio::test]
async fn bad_requests_are_invalid_and_send_what_was_asked() {
    let emulator = emulator().await;
    let provider = provider();
    let cred = demo_credential(&emulator);
    let mut bad = server("bad");
    bad.flavor_id = "no-such-flavor".into();
    let err = provider.create_server(&cred, &bad).await.expect_err("unknown flavor");
    assert!(matches!(err, Error::Rejected { .. }), "{err:?}");
    let err = provider.get_flavor(&cred, "no-such-flavor").await.expect_err("unknown flavor");
    assert!(matches!(&err, Error::NotFound { .. } if err.to_string().contains("no-such-flavor")), "{err:?}");
    let err = provider.get_image(&cred, "no-such-image").await.expect_err("unknown image");
    assert!(matches!(&err, Error::NotFound { .. } if err.to_string().contains("no-such-image")), "{err:?}");
}

#[tokio::test]
async fn snapshots_go_queued_then_active_with_nova_and_our_properties() {
    let emulator = emulator().await;
    emulator.set_delays(Delays { image_ms: 200, ..Delays::default() });
    let provider = provider();
    let cred = demo_credential(&emulator);
    let id = create(&provider, &cred, "snap").await;
    let meta = BTreeMap::from([("unikorn:source:server".to_owned(), id.clone())]);
    let (image_id, _) = provider.create_image(&cred, &id, "snap-1", &meta).await.unwrap_or_else(|e| panic!("{e}"));
    let image = provider.get_image(&cred, &image_id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(image.state, ImageState::Pending);
    assert_eq!(image.properties.get("unikorn:source:server"), Some(&id));
    assert_eq!(image.properties.get("unikorn:os:distro").map(String::as_str), Some("ubuntu"), "copied from the source");
    assert_eq!(image.properties.get("instance_uuid"), Some(&id));
    tokio::time::sleep(Duration::from_millis(250)).await;
    let image = provider.get_image(&cred, &image_id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(image.state, ImageState::Ready);
}

#[tokio::test]
async fn delete_with_a_delay_keeps_the_server_until_it_is_gone() {
    let emulator = emulator().await;
    emulator.set_delays(Delays { delete_ms: 200, ..Delays::default() });
    let provider = provider();
    let cred = demo_credential(&emulator);
    let id = create(&provider, &cred, "doomed").await;
    provider.delete_server(&cred, &id).await.unwrap_or_else(|e| panic!("{e}"));
    let server = provider.get_server(&cred, &id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((server.phase, server.busy), (ServerPhase::Deleting, true));
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(matches!(provider.get_server(&cred, &id).await, Err(Error::NotFound { .. })));
}

#[tokio::test]
async fn microversions_outside_the_range_are_406_and_responses_echo_the_version() {
    let emulator = emulator().await;
    let token = integration_tests::raw_token(&emulator).await;
    let http = reqwest::Client::new();
    let url = format!("{}/compute/v2.1/servers", emulator.url);
    let response = http
        .get(&url)
        .header("X-Auth-Token", &token)
        .header("OpenStack-API-Version", "compute 2.999")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status().as_u16(), 406);
    let response = http
        .get(&url)
        .header("X-Auth-Token", &token)
        .header("OpenStack-API-Version", "compute 2.100")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["openstack-api-version"], "compute 2.100");
    let unauthenticated =
        http.get(&url).header("X-Auth-Token", "forged").send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(unauthenticated.status().as_u16(), 401);
}

/// The official OpenStack SDK (PyPI openstacksdk, in the project virtualenv) drives the emulator.
#[tokio::test]
async fn openstacksdk_drives_the_emulator() {
    let emulator = emulator().await;
    let python = venv_python();
    assert!(python.exists(), "{} missing: run scripts/venv.sh (make test does)", python.display());
    let script = integration_tests::repo_root().join("tests/openstacksdk/check_emulator.py");
    let output = tokio::process::Command::new(&python)
        .arg(&script)
        .args([
            &emulator.auth_url(),
            seed::DEMO_APP_CRED_ID,
            seed::DEMO_APP_CRED_SECRET,
            seed::IMAGE_UBUNTU,
            seed::FLAVOR_SMALL,
        ])
        .output();
    let output = tokio::time::timeout(Duration::from_secs(180), output)
        .await
        .unwrap_or_else(|_| panic!("openstacksdk check timed out"))
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "openstacksdk check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("openstacksdk: all steps passed"));
    assert!(emulator.servers().is_empty(), "the SDK deleted its server");
}
