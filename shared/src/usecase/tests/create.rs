//! Use-case unit tests: create.

use super::*;

#[tokio::test]
async fn create_records_the_provider_id_and_tells_the_provider_our_id() {
    let w = world().await;
    let record = create_server(&w.deps, &cx(admin()), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(record.provider_id.as_deref(), Some("nova-web"));
    assert_eq!(
        (record.organization_id.as_str(), record.project_id.as_str(), record.region_id.as_str()),
        ("o", "p", "r")
    );
    let nova = w.provider.server("nova-web").unwrap_or_default();
    assert_eq!(nova.metadata.get(META_SERVER_ID), Some(&record.id));
    assert_eq!(w.deps.store.claim_holder(&w.network, "web").await.ok().flatten(), Some(record.id));
}

#[tokio::test]
async fn a_taken_name_never_reaches_the_provider_and_a_failed_create_leaves_nothing() {
    let w = world().await;
    create_server(&w.deps, &cx(admin()), create_input(&w.network, "web"), None).await.unwrap_or_else(|e| panic!("{e}"));
    let creates = |w: &World| w.provider.calls().iter().filter(|c| *c == "create_server").count();
    let err = create_server(&w.deps, &cx(admin()), create_input(&w.network, "web"), None).await.expect_err("taken");
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(creates(&w), 1);

    let before = w.store.item_count();
    // A definite refusal of the create call itself (the image and flavor checks before it succeed).
    w.provider.fail_next_on_create(ProviderError::Rejected {
        what: "server".into(),
        detail: "Invalid key_name provided.".into(),
    });
    let err = create_server(&w.deps, &cx(admin()), create_input(&w.network, "db"), None).await.expect_err("refused");
    assert!(matches!(err, Error::Unprocessable(_)), "{err:?}");
    assert_eq!(w.store.item_count(), before, "record and claim removed");
}

#[tokio::test]
async fn a_create_with_an_unknown_outcome_keeps_its_record_until_cleanup_settles_it() {
    let w = world().await;
    let before = w.store.item_count();
    w.provider.failing.lock().unwrap_or_else(|e| e.into_inner()).push("create_server");
    let err =
        create_server(&w.deps, &cx(admin()), create_input(&w.network, "db"), None).await.expect_err("provider down");
    assert!(matches!(&err, Error::Unavailable { message, .. } if message.contains("provisioning")), "{err:?}");
    assert_eq!(w.store.item_count(), before + 2, "the provider may still create it: record and claim stay");
    w.provider.failing.lock().unwrap_or_else(|e| e.into_inner()).clear();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let report = cleanup::run(&w.deps, &MemoryBus::default(), deadline).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.records_removed, 0, "within the grace period nothing is removed");
    let mut past_grace = w.deps.clone();
    past_grace.timing.grace = chrono::Duration::zero();
    let report = cleanup::run(&past_grace, &MemoryBus::default(), deadline).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.records_removed, 1, "{report:?}");
    assert_eq!(w.store.item_count(), before, "record and claim removed once the grace period is over");
}

#[tokio::test]
async fn a_public_ip_where_the_cloud_has_no_external_network_is_422_before_anything_is_written() {
    let w = world().await;
    w.provider.no_external_network.store(true, std::sync::atomic::Ordering::SeqCst);
    let before = w.store.item_count();
    let mut input = create_input(&w.network, "web");
    input.networking = Some(crate::domain::Networking { public_ip: Some(true), ..Default::default() });
    let err = create_server(&w.deps, &cx(admin()), input, None).await.expect_err("no external network");
    assert!(matches!(&err, Error::Unprocessable(m) if m.starts_with("spec.networking.publicIP:")), "{err:?}");
    assert_eq!(w.store.item_count(), before, "nothing written");
    let calls = w.provider.calls();
    assert!(!calls.iter().any(|c| c == "create_port" || c == "create_server"), "nothing created: {calls:?}");
}

#[tokio::test]
async fn nova_refusing_after_the_port_was_made_takes_the_port_with_the_record() {
    let w = world().await;
    let before = w.store.item_count();
    w.provider.fail_next_on_create(ProviderError::Rejected { what: "server".into(), detail: "no".into() });
    let err = create_server(&w.deps, &cx(admin()), create_input(&w.network, "web"), None).await.expect_err("refused");
    assert!(matches!(err, Error::Unprocessable(_)), "{err:?}");
    let calls = w.provider.calls();
    let order: Vec<&str> = calls
        .iter()
        .map(String::as_str)
        .filter(|c| matches!(*c, "create_port" | "create_server" | "delete_port"))
        .collect();
    assert_eq!(order, ["create_port", "create_server", "delete_port"], "{calls:?}");
    assert!(w.provider.ports.lock().unwrap_or_else(|e| e.into_inner()).is_empty(), "no port left");
    assert_eq!(w.store.item_count(), before, "record and claim removed");
}

#[tokio::test]
async fn every_create_asks_for_a_follow_up_and_one_of_an_intent_written_over_leaves_it() {
    use crate::usecase::follow_up::{follow_up_server, FollowedUp};
    let mut w = world().await;
    w.deps.timing.follow_up = Some(chrono::Duration::seconds(25));
    let record = create_server(&w.deps, &cx(admin()), create_input(&w.network, "web"), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let asked: Vec<crate::work::WorkItem> = w.work.take();
    let intent_version = asked.iter().find_map(|i| match i {
        crate::work::WorkItem::Server { server_id, version } if *server_id == record.id => Some(*version),
        _ => None,
    });
    let intent_version = intent_version.unwrap_or_else(|| panic!("no follow-up asked: {asked:?}"));
    assert!(intent_version < record.version, "asked for the intent, which the create then wrote over");
    let calls = w.provider.calls().len();
    let followed = follow_up_server(&w.deps, &record.id, intent_version).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(followed, FollowedUp::WrittenOver);
    assert_eq!(w.provider.calls().len(), calls, "nothing asked of the provider");
    let followed = follow_up_server(&w.deps, &record.id, record.version).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(followed, FollowedUp::Settled);
    let gone = follow_up_server(&w.deps, "00000000-0000-4000-8000-000000000000", 1).await;
    assert_eq!(gone.ok(), Some(FollowedUp::Gone));
}
