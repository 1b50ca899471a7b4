//! One store contract, run on the in-memory store (the use-cases' unit tests use it) and on the
//! DynamoDB store (moto): the same conditional semantics, so what the unit tests prove of the
//! use-cases holds on the real table.

use chrono::{Duration, Utc};
use integration_tests::records::{ca, group, id, network, provisioned, server};
use integration_tests::stack::moto_client;
use serde_json::json;
use shared::domain::{Effects, GroupReferences, NetworkRecord, Networking, SecurityGroupRecord, Stage};
use shared::fairuse::{BucketKey, BucketStore, Class, Level};
use shared::rbac::Scope;
use shared::store::dynamodb::DynamoStore;
use shared::store::memory::MemoryStore;
use shared::store::{
    CatalogCopy, CatalogKind, CatalogStore, IdempotencyStore, IdentityStore, KeyClaim, KeyState, Kind,
    MaintenanceStore, NetworkStore, ProvisionStore, RecordQuery, SecurityGroupStore, ServerStore, SshCaStore,
    StoreError, StoredResponse, VlanStore,
};

/// What both stores must do, in the store's own vocabulary (the use-cases word it for callers).
async fn contract<S>(store: &S, label: &str)
where
    S: ServerStore
        + NetworkStore
        + SshCaStore
        + IdempotencyStore
        + ProvisionStore
        + VlanStore
        + IdentityStore
        + MaintenanceStore
        + SecurityGroupStore,
{
    let none = Effects::default();
    let later = Utc::now() + Duration::minutes(5);
    // Networks: one per id; servers count on them.
    store.create_network(&network("n1")).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let again = store.create_network(&network("n1")).await;
    assert!(matches!(again, Err(StoreError::Exists(Kind::Network, _))), "{label}: {again:?}");

    // Names are unique per network, by the claim in the record's transaction.
    let s1 = server(&id(1), "web", "n1");
    store.create_server(&s1, later, &none).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let taken = store.create_server(&server(&id(2), "web", "n1"), later, &none).await;
    assert!(matches!(taken, Err(StoreError::NameTaken { .. })), "{label}: {taken:?}");
    assert_eq!(store.claim_holder("n1", "web").await.ok().flatten(), Some(id(1)), "{label}");
    let nowhere = store.create_server(&server(&id(3), "db", "missing"), later, &none).await;
    assert!(matches!(nowhere, Err(StoreError::Missing(Kind::Network, _))), "{label}: {nowhere:?}");
    assert_eq!(store.network_server_count("n1").await.ok().flatten(), Some(1), "{label}: counted");

    // Record writes are conditional on the version read.
    let mut next = s1.clone();
    next.version = 2;
    store.replace_server(&next, 1, &none).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let stale = store.replace_server(&next, 1, &none).await;
    assert!(matches!(stale, Err(StoreError::Changed(Kind::Server, _))), "{label}: {stale:?}");
    let gone = store.replace_server(&server(&id(9), "ghost", "n1"), 1, &none).await;
    assert!(matches!(gone, Err(StoreError::Missing(Kind::Server, _))), "{label}: {gone:?}");

    // Deletion protection is a condition of the write that starts a deletion.
    let mut protected = next.clone();
    protected.protection.delete = true;
    protected.version = 3;
    store.set_protection(&next, &protected).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let mut dying = protected.clone();
    dying.provisioning_status = shared::domain::ProvisioningStatus::Deprovisioning;
    dying.deletion_time = Some(Utc::now());
    dying.version = 4;
    let refused = store.replace_server(&dying, 3, &none).await;
    assert!(matches!(refused, Err(StoreError::Protected(Kind::Server, _))), "{label}: {refused:?}");
    let delete = store.delete_network(&network("n1")).await;
    assert!(matches!(delete, Err(StoreError::InUse(Kind::Network, _))), "{label}: a server holds it: {delete:?}");

    // Lists: by scope, sorted by id, paged.
    for n in 4..=6 {
        store
            .create_server(&server(&id(n), &format!("s{n}"), "n1"), later, &none)
            .await
            .unwrap_or_else(|e| panic!("{label}: {e}"));
    }
    let query =
        RecordQuery { scopes: vec![Scope::Project("o".into(), "p".into())], limit: 2, ..RecordQuery::default() };
    let first = store.list_servers(&query).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(first.items.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), vec![id(1), id(4)], "{label}");
    let rest = RecordQuery { after: first.next.clone(), ..query.clone() };
    let second = store.list_servers(&rest).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(second.items.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), vec![id(5), id(6)], "{label}");
    let elsewhere = RecordQuery { scopes: vec![Scope::Organization("other".into())], ..query.clone() };
    assert!(store.list_servers(&elsewhere).await.map(|p| p.items.is_empty()).unwrap_or(false), "{label}: other scope");

    // Removal is conditional on the version, uncounts once, and frees the name.
    let s4 = server(&id(4), "s4", "n1");
    assert_eq!(store.remove_server(&s4, &none).await.ok(), Some(true), "{label}");
    assert_eq!(store.remove_server(&s4, &none).await.ok(), Some(false), "{label}: a second removal removes nothing");
    assert_eq!(store.network_server_count("n1").await.ok().flatten(), Some(3), "{label}: uncounted once");
    assert_eq!(store.claim_holder("n1", "s4").await.ok().flatten(), None, "{label}: name released");

    // A network a server or a reference holds is not deleted; a free one goes.
    let held = store.delete_network(&network("n1")).await;
    assert!(matches!(held, Err(StoreError::InUse(Kind::Network, _))), "{label}: {held:?}");
    store.create_network(&network("n2")).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    store.add_reference("n2", "things.example.org/t1").await.unwrap_or_else(|e| panic!("{label}: {e}"));
    store.add_reference("n2", "things.example.org/t1").await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let stored = store.get_network("n2").await.ok().flatten().map(|n| n.references.len());
    assert_eq!(stored, Some(1), "{label}: a reference is held once");
    let referenced = store.delete_network(&network("n2")).await;
    assert!(matches!(referenced, Err(StoreError::InUse(Kind::Network, _))), "{label}: {referenced:?}");
    store.remove_reference("n2", "things.example.org/t1").await.unwrap_or_else(|e| panic!("{label}: {e}"));
    store.remove_reference("n2", "never-held").await.unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(store.delete_network(&network("n2")).await.ok(), Some(()), "{label}");
    assert!(store.get_network("n2").await.map(|n| n.is_none()).unwrap_or(false), "{label}: gone");
    let missing = store.add_reference("n2", "x").await;
    assert!(matches!(missing, Err(StoreError::Missing(Kind::Network, _))), "{label}: {missing:?}");

    // A provisioned network and its identity: written together, changed by version, found while
    // unsettled, closed to servers by its teardown, removed together.
    let (identity, mut n5) = provisioned("n5");
    store.create_provisioned_network(&identity, &n5).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let twice = store.create_provisioned_network(&identity, &n5).await;
    assert!(matches!(twice, Err(StoreError::Exists(..))), "{label}: {twice:?}");
    let unsettled = store.unsettled_networks(Utc::now(), 10).await.unwrap_or_default();
    assert!(unsettled.iter().any(|n| n.id == "n5"), "{label}: pending is unsettled");
    let mut settled = n5.clone();
    settled.lifecycle = n5.lifecycle.as_ref().map(|l| l.to(Stage::Provisioned, None, Utc::now()));
    settled.version = 1;
    store.replace_network(&settled, 0).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let stale = store.replace_network(&settled, 0).await;
    assert!(matches!(stale, Err(StoreError::Changed(Kind::Network, _))), "{label}: {stale:?}");
    let unsettled = store.unsettled_networks(Utc::now(), 10).await.unwrap_or_default();
    assert!(!unsettled.iter().any(|n| n.id == "n5"), "{label}: provisioned is settled");
    let mut identity_next = identity.clone();
    identity_next.version = 1;
    store.replace_identity(&identity_next, 0).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let on = server(&id(11), "on-n5", "n5");
    store.create_server(&on, later, &none).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    n5 = settled.clone();
    n5.lifecycle = settled.lifecycle.as_ref().map(|l| l.to(Stage::Deprovisioning, None, Utc::now()));
    n5.version = 2;
    let busy = store.begin_network_teardown(&n5, 1).await;
    assert!(matches!(busy, Err(StoreError::InUse(Kind::Network, _))), "{label}: a server holds it: {busy:?}");
    assert_eq!(store.remove_server(&on, &none).await.ok(), Some(true), "{label}");
    store.begin_network_teardown(&n5, 1).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let closing = store.create_server(&server(&id(7), "late", "n5"), later, &none).await;
    assert!(matches!(closing, Err(StoreError::Closing(Kind::Network, _))), "{label}: {closing:?}");
    let late_ref = store.add_reference("n5", "x").await;
    assert!(matches!(late_ref, Err(StoreError::Closing(Kind::Network, _))), "{label}: {late_ref:?}");
    store.remove_provisioned_network(&n5).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    assert!(store.get_network("n5").await.map(|n| n.is_none()).unwrap_or(false), "{label}: gone");
    assert!(store.get_identity("i5").await.map(|i| i.is_none()).unwrap_or(false), "{label}: identity gone");

    // A provisioned network under an identity (v1): written pending (unsettled), marked deleting
    // while a server holds it (at the version read), then on the deletion's list and no longer the
    // provisioning's, no provisioning write over the mark, and its teardown begun once it is free.
    let (mut parent, _) = provisioned("n6");
    parent.hidden = false;
    store.create_identity(&parent).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let (_, mut n6) = provisioned("n6");
    n6.parent_identity_id = Some(parent.id.clone());
    store.create_network(&n6).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let unsettled = store.unsettled_networks(Utc::now(), 10).await.unwrap_or_default();
    assert!(unsettled.iter().any(|n| n.id == "n6"), "{label}: a v1 network is found while pending");
    let on = server(&id(12), "on-n6", "n6");
    store.create_server(&on, later, &none).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let stale = NetworkRecord { version: 3, ..n6.clone() };
    let moved = store.mark_network_deleting(&stale, Utc::now()).await;
    assert!(matches!(moved, Err(StoreError::Changed(Kind::Network, _))), "{label}: {moved:?}");
    store.mark_network_deleting(&n6, Utc::now()).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let deleting = store.networks_being_deleted(10).await.unwrap_or_default();
    assert!(deleting.iter().any(|n| n.id == "n6"), "{label}: marked, on the deletion's list");
    let unsettled = store.unsettled_networks(Utc::now(), 10).await.unwrap_or_default();
    assert!(!unsettled.iter().any(|n| n.id == "n6"), "{label}: off the provisioning's list");
    let over = store.replace_network(&NetworkRecord { version: 1, ..n6.clone() }, 0).await;
    assert!(matches!(over, Err(StoreError::Changed(Kind::Network, _))), "{label}: never over the mark: {over:?}");
    let mut ending = n6.clone();
    ending.lifecycle = n6.lifecycle.as_ref().map(|l| l.to(Stage::Deprovisioning, None, Utc::now()));
    ending.version = 1;
    let busy = store.begin_network_teardown(&ending, 0).await;
    assert!(matches!(busy, Err(StoreError::InUse(Kind::Network, _))), "{label}: {busy:?}");
    assert_eq!(store.remove_server(&on, &none).await.ok(), Some(true), "{label}");
    store.begin_network_teardown(&ending, 0).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let deleting = store.networks_being_deleted(10).await.unwrap_or_default();
    assert!(!deleting.iter().any(|n| n.id == "n6"), "{label}: in teardown, off the deletion's list");
    let unsettled = store.unsettled_networks(Utc::now(), 10).await.unwrap_or_default();
    assert!(unsettled.iter().any(|n| n.id == "n6"), "{label}: its teardown is unsettled work");
    store.delete_network(&ending).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    store.delete_identity(&parent.id).await.unwrap_or_else(|e| panic!("{label}: uncounted: {e}"));

    // Security groups: written while their network (or identity) takes them, listed by network,
    // changed at the version read, found while unsettled, never changed once their delete began.
    store.create_network(&network("n7")).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let g1 = group("g1", Some("n7"), None);
    store.create_security_group(&g1).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let again = store.create_security_group(&g1).await;
    assert!(matches!(again, Err(StoreError::Exists(Kind::SecurityGroup, _))), "{label}: {again:?}");
    let orphan = store.create_security_group(&group("g2", Some("n-missing"), None)).await;
    assert!(matches!(orphan, Err(StoreError::Missing(Kind::Network, _))), "{label}: {orphan:?}");
    let by_network = RecordQuery {
        scopes: vec![Scope::Project("o".into(), "p".into())],
        network_ids: vec!["n7".into()],
        ..RecordQuery::default()
    };
    let listed = store.list_security_groups(&by_network).await.unwrap_or_default();
    assert_eq!(listed.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), vec!["g1"], "{label}");
    let elsewhere = RecordQuery { network_ids: vec!["n3".into()], ..by_network.clone() };
    assert!(store.list_security_groups(&elsewhere).await.unwrap_or_default().is_empty(), "{label}: network filter");
    let unsettled = store.unsettled_security_groups(Utc::now(), 10).await.unwrap_or_default();
    assert!(unsettled.iter().any(|g| g.id == "g1"), "{label}: a pending group is unsettled");
    let mut settled = g1.clone();
    settled.lifecycle = g1.lifecycle.to(Stage::Provisioned, None, Utc::now());
    settled.version = 1;
    store.replace_security_group(&settled, 0).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let stale = store.replace_security_group(&settled, 0).await;
    assert!(matches!(stale, Err(StoreError::Changed(Kind::SecurityGroup, _))), "{label}: {stale:?}");
    assert_eq!(store.get_security_group("g1").await.ok().flatten().map(|g| g.version), Some(1), "{label}");
    let unsettled = store.unsettled_security_groups(Utc::now(), 10).await.unwrap_or_default();
    assert!(!unsettled.iter().any(|g| g.id == "g1"), "{label}: provisioned is settled");
    let mut ending = settled.clone();
    ending.lifecycle = settled.lifecycle.to(Stage::Deprovisioning, None, Utc::now());
    ending.version = 2;
    store.begin_security_group_teardown(&ending, 1).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let shown = store.get_security_group("g1").await.ok().flatten();
    assert!(shown.is_some_and(|g| g.deleting_since.is_some() && g.in_teardown()), "{label}: marked");
    let over = store.replace_security_group(&SecurityGroupRecord { version: 3, ..ending.clone() }, 2).await;
    assert!(matches!(over, Err(StoreError::Changed(..))), "{label}: never over a begun delete: {over:?}");
    let unsettled = store.unsettled_security_groups(Utc::now(), 10).await.unwrap_or_default();
    assert!(unsettled.iter().any(|g| g.id == "g1"), "{label}: its teardown is unsettled work");
    store.remove_security_group("g1").await.unwrap_or_else(|e| panic!("{label}: {e}"));
    store.remove_security_group("g1").await.unwrap_or_else(|e| panic!("{label}: a second removal is fine: {e}"));
    assert!(store.get_security_group("g1").await.ok().flatten().is_none(), "{label}: gone");
    // v1: under an identity, refused once the identity is being deleted.
    let (mut holder, _) = provisioned("n8");
    holder.hidden = false;
    store.create_identity(&holder).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    store.create_security_group(&group("g3", None, Some(&holder.id))).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    store.close_identity(&holder.id, Utc::now()).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let closing = store.create_security_group(&group("g4", None, Some(&holder.id))).await;
    assert!(matches!(closing, Err(StoreError::Closing(Kind::Identity, _))), "{label}: {closing:?}");

    // VLANs: the lowest free one, held by one network at a time, the same one asked again.
    let ranges = [(100, 101), (200, 200)];
    let vlan = |n: &'static str| store.claim_vlan("r", "physnet1", &ranges, n);
    assert_eq!(vlan("a").await.ok(), Some(Some(100)), "{label}");
    assert_eq!(vlan("a").await.ok(), Some(Some(100)), "{label}: held, not claimed twice");
    assert_eq!(vlan("b").await.ok(), Some(Some(101)), "{label}");
    assert_eq!(vlan("c").await.ok(), Some(Some(200)), "{label}: the next range");
    assert_eq!(vlan("d").await.ok(), Some(None), "{label}: none left");
    store.release_vlan("r", "physnet1", 101, "a").await.unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(vlan("d").await.ok(), Some(None), "{label}: only the holder frees it");
    store.release_vlan("r", "physnet1", 101, "b").await.unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(vlan("d").await.ok(), Some(Some(101)), "{label}: freed and taken");

    // SSH CAs count the servers bound to them; one in use is not deleted.
    store.create_network(&network("n3")).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    store.create_ssh_ca(&ca("ca1")).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let mut bound = server(&id(8), "bound", "n3");
    bound.ssh_certificate_authority_id = Some("ca1".into());
    store.create_server(&bound, later, &none).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let in_use = store.delete_ssh_ca("ca1").await;
    assert!(matches!(in_use, Err(StoreError::InUse(Kind::SshCa, _))), "{label}: {in_use:?}");
    let mut unbound = server(&id(10), "unbound", "n3");
    unbound.ssh_certificate_authority_id = Some("ca-missing".into());
    let missing = store.create_server(&unbound, later, &none).await;
    assert!(matches!(missing, Err(StoreError::Missing(Kind::SshCa, _))), "{label}: {missing:?}");
    assert_eq!(store.remove_server(&bound, &none).await.ok(), Some(true), "{label}");
    store.delete_ssh_ca("ca1").await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let twice = store.delete_ssh_ca("ca1").await;
    assert!(matches!(twice, Err(StoreError::Missing(Kind::SshCa, _))), "{label}: {twice:?}");

    // Idempotency keys: one claim, in progress until completed, then the stored answer.
    let now = Utc::now();
    let until = now + Duration::seconds(60);
    let expires = now + Duration::hours(24);
    let claim = |key, now, until| KeyClaim { key, body_hash: "h", now, until, expires_at: expires };
    assert_eq!(store.claim_key(&claim("k", now, until)).await.ok(), Some(KeyState::Claimed), "{label}");
    let running = store.claim_key(&claim("k", now, until)).await;
    assert!(matches!(running, Ok(KeyState::InProgress { .. })), "{label}: {running:?}");
    let answer = StoredResponse { status: 201, body: json!({"ok": true}), etag: Some("\"1\"".into()) };
    store.complete_key("k", "h", &answer).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    match store.claim_key(&claim("k", now, until)).await {
        Ok(KeyState::Completed { response, body_hash }) => {
            assert_eq!((response, body_hash), (answer, "h".into()), "{label}")
        }
        other => panic!("{label}: {other:?}"),
    }
    assert_eq!(store.claim_key(&claim("k2", now, until)).await.ok(), Some(KeyState::Claimed), "{label}");
    store.release_key("k2", "h").await.unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(store.claim_key(&claim("k2", now, until)).await.ok(), Some(KeyState::Claimed), "{label}: released");
    let after = now + Duration::seconds(61);
    let expired = store.claim_key(&claim("k2", after, after + Duration::seconds(60))).await;
    assert_eq!(expired.ok(), Some(KeyState::Claimed), "{label}: an attempt past its time gives the key up");
}

/// Servers count the groups they name, in their own writes: a group in use does not begin its
/// teardown, one being deleted (or gone) gains no server, and one already gone is no obstacle to
/// a server that stops naming it.
async fn group_reference_contract<S>(store: &S, label: &str)
where
    S: ServerStore + NetworkStore + SecurityGroupStore,
{
    let later = Utc::now() + Duration::minutes(5);
    store.create_network(&network("n9")).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    for g in ["g5", "g6", "g7"] {
        store.create_security_group(&group(g, Some("n9"), None)).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    }
    let naming = |groups: &[&str]| Effects {
        groups: GroupReferences { added: groups.iter().map(|g| g.to_string()).collect(), released: vec![] },
        ..Effects::default()
    };
    let teardown = |id: &str| {
        let mut next = group(id, Some("n9"), None);
        next.version = 1;
        next
    };
    let mut s = server(&id(20), "named", "n9");
    s.networking = Some(Networking { security_groups: Some(vec!["g5".into(), "g6".into()]), ..Networking::default() });
    store.create_server(&s, later, &naming(&["g5", "g6"])).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let busy = store.begin_security_group_teardown(&teardown("g5"), 0).await;
    assert!(matches!(busy, Err(StoreError::InUse(Kind::SecurityGroup, _))), "{label}: {busy:?}");
    let missing = store.create_server(&server(&id(21), "other", "n9"), later, &naming(&["g5", "g-none"])).await;
    assert!(
        matches!(&missing, Err(StoreError::Missing(Kind::SecurityGroup, g)) if g == "g-none"),
        "{label}: {missing:?}"
    );
    // g6 dropped, g7 added, in the server's own write.
    let mut next = s.clone();
    next.version = s.version + 1;
    let swap = Effects {
        groups: GroupReferences { added: vec!["g7".into()], released: vec!["g6".into()] },
        ..Effects::default()
    };
    store.replace_server(&next, s.version, &swap).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    store.begin_security_group_teardown(&teardown("g6"), 0).await.unwrap_or_else(|e| panic!("{label}: freed: {e}"));
    let closing = store.create_server(&server(&id(22), "late", "n9"), later, &naming(&["g6"])).await;
    assert!(matches!(&closing, Err(StoreError::Closing(Kind::SecurityGroup, g)) if g == "g6"), "{label}: {closing:?}");
    assert_eq!(store.get_server(&id(22)).await.ok().flatten(), None, "{label}: nothing written");
    store.remove_security_group("g7").await.unwrap_or_else(|e| panic!("{label}: {e}"));
    let gone = Effects {
        groups: GroupReferences { added: vec![], released: vec!["g5".into(), "g7".into()] },
        ..Effects::default()
    };
    assert_eq!(store.remove_server(&next, &gone).await.ok(), Some(true), "{label}: a gone group is no obstacle");
    store.begin_security_group_teardown(&teardown("g5"), 0).await.unwrap_or_else(|e| panic!("{label}: freed: {e}"));
}

#[tokio::test]
async fn the_memory_and_dynamodb_stores_keep_one_contract() {
    let memory = MemoryStore::default();
    contract(&memory, "memory").await;
    group_reference_contract(&memory, "memory").await;
    let client = moto_client();
    let table = format!("t-{}", uuid::Uuid::new_v4().simple());
    local_api::ensure_table(&client, &table).await.unwrap_or_else(|e| panic!("{e}"));
    let dynamo = DynamoStore::new(client, table);
    contract(&dynamo, "dynamodb").await;
    group_reference_contract(&dynamo, "dynamodb").await;
}

/// The fair-use buckets' conditional writes, the same on both stores: a start only on a full or
/// absent bucket, an advance only within its cap and at the rate that wrote it, a conversion only
/// from the level read, a give-back only at the rate it was taken at.
async fn bucket_contract<S: BucketStore>(store: &S, label: &str) {
    let key = BucketKey { organization: format!("org-{label}"), class: Class::Mutation };
    let (now, second) = (1_000_000_000_000, 1_000_000);
    assert_eq!(store.peek(&key).await, Ok(None), "{label}: no bucket yet");
    assert_eq!(store.start(&key, now + second, second, now).await, Ok(true), "{label}: absent starts");
    assert_eq!(store.start(&key, now + 2 * second, second, now).await, Ok(false), "{label}: owing, not full");
    let level = Level { tat: now + second, interval: Some(second) };
    assert_eq!(store.peek(&key).await, Ok(Some(level)), "{label}");
    let cap = now + 10 * second;
    assert_eq!(store.advance(&key, second, second, now, cap).await, Ok(Some(now + 2 * second)), "{label}");
    assert_eq!(store.advance(&key, 500_000, 500_000, now, cap).await, Ok(None), "{label}: another rate's interval");
    assert_eq!(store.advance(&key, second, second, now, now + second).await, Ok(None), "{label}: past its cap");
    assert_eq!(store.advance(&key, second, second, now + 3 * second, cap).await, Ok(None), "{label}: full by then");
    assert_eq!(store.give_back(&key, second, 500_000).await, Ok(false), "{label}: taken at another rate");
    assert_eq!(store.give_back(&key, second, second).await, Ok(true), "{label}");
    let level = Level { tat: now + second, interval: Some(second) };
    assert_eq!(store.peek(&key).await, Ok(Some(level)), "{label}: given back exactly");
    let stale = Level { tat: now, interval: Some(second) };
    assert_eq!(store.rescale(&key, stale, now + 4 * second, 2 * second).await, Ok(false), "{label}: moved since");
    assert_eq!(store.rescale(&key, level, now + 4 * second, 2 * second).await, Ok(true), "{label}");
    let converted = Level { tat: now + 4 * second, interval: Some(2 * second) };
    assert_eq!(store.peek(&key).await, Ok(Some(converted)), "{label}");
    assert_eq!(store.start(&key, now + 7 * second, second, now + 4 * second).await, Ok(true), "{label}: full again");
}

#[tokio::test]
async fn the_memory_and_dynamodb_buckets_keep_one_contract() {
    bucket_contract(&MemoryStore::default(), "memory").await;
    let client = moto_client();
    let table = format!("t-{}", uuid::Uuid::new_v4().simple());
    local_api::ensure_table(&client, &table).await.unwrap_or_else(|e| panic!("{e}"));
    bucket_contract(&DynamoStore::new(client, table), "dynamodb").await;
}

/// A region's catalogue copy, the same on both stores: absent until put, read back whole (a copy
/// larger than one DynamoDB item too), replaced whole, per region and kind, and dropped.
async fn catalog_contract<S: CatalogStore>(store: &S, label: &str) {
    let at = Utc::now();
    assert_eq!(store.get_catalog("r", CatalogKind::Images).await, Ok(None), "{label}: nothing yet");
    // Over DynamoDB's 400 KB item limit, with multi-byte characters across the cuts.
    let big = json!((0..4000).map(|i| format!("image-{i}-{}", "é".repeat(60))).collect::<Vec<_>>()).to_string();
    assert!(big.len() > 500_000);
    let copy = CatalogCopy { fetched_at: at, json: big };
    store.put_catalog("r", CatalogKind::Images, &copy).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(store.get_catalog("r", CatalogKind::Images).await, Ok(Some(copy.clone())), "{label}: whole");
    assert_eq!(store.get_catalog("r", CatalogKind::Flavors).await, Ok(None), "{label}: per kind");
    assert_eq!(store.get_catalog("r2", CatalogKind::Images).await, Ok(None), "{label}: per region");
    let small = CatalogCopy { fetched_at: at + Duration::seconds(60), json: "[]".into() };
    store.put_catalog("r", CatalogKind::Images, &small).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(store.get_catalog("r", CatalogKind::Images).await, Ok(Some(small)), "{label}: replaced whole");
    store.drop_catalog("r", CatalogKind::Images).await.unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(store.get_catalog("r", CatalogKind::Images).await, Ok(None), "{label}: dropped");
}

#[tokio::test]
async fn the_memory_and_dynamodb_catalogues_keep_one_contract() {
    catalog_contract(&MemoryStore::default(), "memory").await;
    let client = moto_client();
    let table = format!("t-{}", uuid::Uuid::new_v4().simple());
    local_api::ensure_table(&client, &table).await.unwrap_or_else(|e| panic!("{e}"));
    catalog_contract(&DynamoStore::new(client, table), "dynamodb").await;
}
