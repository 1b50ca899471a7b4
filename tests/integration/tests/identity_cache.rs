//! The identity cache every container shares: one contract run on the in-memory cache and on the
//! DynamoDB table (moto), and what it buys: a burst of cold containers with one new token asks
//! identity once, where containers without it ask once each.

use std::sync::Arc;

use chrono::{Duration, Utc};
use identity_emulator::{IdentityEmulator, ACL, USERINFO};
use integration_tests::stack::{admin_acl, moto_client, ORG};
use shared::identity::authenticate::{Authenticator, CacheSettings, Presented};
use shared::identity::cache::{CacheKey, MemorySharedCache, NoSharedCache, Shared, SharedCache};
use shared::identity::client::{HttpIdentity, IdentityConfig};
use shared::store::dynamodb::DynamoStore;

async fn dynamo_cache() -> DynamoStore {
    let client = moto_client();
    let table = format!("t-{}", uuid::Uuid::new_v4().simple());
    local_api::ensure_table(&client, &table).await.unwrap_or_else(|e| panic!("{e}"));
    DynamoStore::new(client, table)
}

async fn contract(cache: &dyn SharedCache, label: &str) {
    let now = Utc::now();
    let key = CacheKey::of("token", &[label, &uuid::Uuid::new_v4().to_string()]);
    assert_eq!(cache.get(&key, now).await, Ok(None), "{label}: empty");
    assert_eq!(cache.claim(&key, now + Duration::seconds(3), now).await, Ok(true), "{label}: first claim");
    assert_eq!(cache.claim(&key, now + Duration::seconds(3), now).await, Ok(false), "{label}: a live claim holds");
    assert!(matches!(cache.get(&key, now).await, Ok(Some(Shared::Pending { .. }))), "{label}: pending");
    let later = now + Duration::seconds(4);
    assert_eq!(
        cache.claim(&key, later + Duration::seconds(3), later).await,
        Ok(true),
        "{label}: a stale claim is taken over"
    );
    cache.release(&key).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(cache.get(&key, later).await, Ok(None), "{label}: a released claim is gone");
    let expires = now + Duration::seconds(60);
    cache.put(&key, "{\"sub\":\"a\"}", expires).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    match cache.get(&key, now).await {
        Ok(Some(Shared::Ready { value, expires: at })) => {
            assert_eq!(value, "{\"sub\":\"a\"}", "{label}");
            assert_eq!(at.timestamp_millis(), expires.timestamp_millis(), "{label}: the answer keeps its expiry");
        }
        other => panic!("{label}: {other:?}"),
    }
    assert_eq!(
        cache.claim(&key, now + Duration::seconds(3), now).await,
        Ok(false),
        "{label}: a live answer is not claimed"
    );
    cache.release(&key).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    assert!(matches!(cache.get(&key, now).await, Ok(Some(Shared::Ready { .. }))), "{label}: release leaves answers");
    let past = expires + Duration::seconds(1);
    assert_eq!(cache.get(&key, past).await, Ok(None), "{label}: expired answers are not read");
    assert_eq!(cache.claim(&key, past + Duration::seconds(3), past).await, Ok(true), "{label}: nor do they block");
}

#[tokio::test]
async fn the_memory_and_dynamodb_caches_keep_the_same_contract() {
    contract(&MemorySharedCache::default(), "memory").await;
    contract(&dynamo_cache().await, "dynamodb").await;
}

fn container(url: &str, shared: Arc<dyn SharedCache>) -> Authenticator {
    let identity = HttpIdentity::new(&IdentityConfig { url: url.to_owned(), ..IdentityConfig::default() })
        .unwrap_or_else(|e| panic!("{e}"));
    Authenticator::new(Arc::new(identity), shared, CacheSettings::default())
}

/// `n` cold containers authenticate the same new token at once; identity's userinfo and ACL calls.
async fn burst(identity: &IdentityEmulator, n: usize, shared: impl Fn() -> Arc<dyn SharedCache>) -> (u64, u64) {
    let token = identity.token(&format!("burst-{}", uuid::Uuid::new_v4().simple()), &admin_acl());
    identity.reset_counters();
    let containers: Vec<Authenticator> = (0..n).map(|_| container(&identity.url, shared())).collect();
    let presented = Presented { authorization: Some(format!("Bearer {token}")), ..Presented::default() };
    let answers = futures::future::join_all(containers.iter().map(|c| c.authenticate(&presented))).await;
    assert!(answers.iter().all(Result::is_ok), "{:?}", answers.iter().find(|a| a.is_err()));
    (identity.counter(USERINFO), identity.counter(ACL))
}

#[tokio::test]
async fn a_burst_of_cold_containers_asks_identity_once() {
    shared::aws::install_tls_provider();
    let identity = IdentityEmulator::start_local().await.unwrap_or_else(|e| panic!("{e}"));
    let table: Arc<dyn SharedCache> = Arc::new(dynamo_cache().await);
    let shared = burst(&identity, 20, || table.clone()).await;
    assert_eq!(shared, (1, 1), "20 containers sharing the table: one userinfo, one ACL");
    let alone = burst(&identity, 20, || Arc::new(NoSharedCache)).await;
    assert_eq!(alone, (20, 20), "without it, each cold container asks");
    // A later cold container reads the table: no identity call at all.
    let token = identity.token("later", &admin_acl());
    let presented = Presented { authorization: Some(format!("Bearer {token}")), ..Presented::default() };
    container(&identity.url, table.clone()).authenticate(&presented).await.unwrap_or_else(|e| panic!("{e}"));
    identity.reset_counters();
    container(&identity.url, table.clone()).authenticate(&presented).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((identity.counter(USERINFO), identity.counter(ACL)), (0, 0), "{:?}", identity.counters());
}

fn fixture(name: &str) -> String {
    let path = integration_tests::repo_root().join("tests/fixtures/mtls").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Identity serving services requires the platform's own client certificate: with it, a token and
/// a service's relayed certificate are both answered; without it the connection is refused, which
/// the caller sees as identity unavailable (503), never as an allow.
#[tokio::test]
async fn the_platform_asks_identity_over_mutual_tls() {
    use identity_emulator::TlsFiles;
    use shared::identity::authenticate::VerifiedCertificate;
    shared::aws::install_tls_provider();
    let files = TlsFiles {
        cert_pem: fixture("identity.crt"),
        key_pem: fixture("identity.key"),
        client_ca_pem: fixture("ca.crt"),
    };
    let identity = IdentityEmulator::start_tls(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), &files)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(identity.url.starts_with("https://127.0.0.1:"), "{}", identity.url);
    let service = fixture("uni-compute.crt");
    identity.add_system(&service, "uni-compute", &admin_acl());
    let token = identity.token("alice", &admin_acl());
    let authenticator = |client: Option<String>| {
        let config = IdentityConfig {
            url: identity.url.clone(),
            client_identity_pem: client,
            ca_pem: Some(fixture("ca.crt")),
            ..IdentityConfig::default()
        };
        let http = HttpIdentity::new(&config).unwrap_or_else(|e| panic!("{e}"));
        Authenticator::new(Arc::new(http), Arc::new(NoSharedCache), CacheSettings::default())
    };
    let ours = authenticator(Some(format!("{}{}", fixture("region-servers.crt"), fixture("region-servers.key"))));
    let bearer = Presented { authorization: Some(format!("Bearer {token}")), ..Presented::default() };
    let user = ours.authenticate(&bearer).await.map(|a| a.caller.subject);
    assert_eq!(user.ok().as_deref(), Some("alice"));
    let relayed = Presented {
        certificate: Some(VerifiedCertificate {
            pem: Some(service.clone()),
            subject_dn: Some("CN=uni-compute,O=Test".into()),
        }),
        ..Presented::default()
    };
    let system = ours.authenticate(&relayed).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(system.caller.subject, "uni-compute");
    assert!(system.caller.acl.allows(ORG, Some("any"), "region:servers", shared::rbac::Operation::Delete));
    let received = identity.received();
    assert!(
        received.iter().any(|r| r.client_certificate && r.subject.as_deref() == Some("uni-compute")),
        "{received:?}"
    );

    let without = authenticator(None);
    let refused = without.authenticate(&relayed).await.map(|a| a.caller.subject);
    assert_eq!(refused.map_err(|e| e.status_and_code().0), Err(503), "no client certificate, no connection");
}
