//! Every port method the product calls, on real Nova, Neutron and Glance, and the refusals the real
//! services give.

use super::*;

#[tokio::test]
async fn a_server_life_cycle_on_its_own_port_against_real_nova_and_neutron() {
    let Some(real) = Real::connect().await else { return };
    let (p, cred) = (&real.provider, &real.demo);
    let name = format!("life-{}", uuid::Uuid::new_v4().simple());

    // The external network as the create checks it.
    let web = real.id("security_group_web");
    let external = p.external_networks(cred).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(external.iter().any(|n| n.id == real.id("external_network_id")), "{external:?}");

    // The port: groups and pairs as asked, a fixed IP and MAC at once, found again by name.
    let spec = PortSpec {
        name: name.clone(),
        network_id: real.id("network_id"),
        security_groups: vec![web.clone()],
        allowed_addresses: vec![AllowedAddress { prefix: "10.9.0.0/16".into(), mac_address: None }],
    };
    let (port, _) = p.create_port(cred, &spec).await.unwrap_or_else(|e| panic!("port: {e}"));
    assert_eq!(port.security_groups, vec![web.clone()]);
    assert!(port.private_ip.is_some() && port.mac_address.is_some(), "{port:?}");
    assert_eq!(port.allowed_addresses[0].mac_address, port.mac_address, "a pair without a MAC takes the port's");
    assert_eq!(p.find_ports(cred, &name).await.map(|f| f.len()).ok(), Some(1));

    // Nova boots on it; the addresses come from the port.
    let id = real.boot(&name, &port.id).await;
    real.until(&id, ServerPhase::Active).await;
    let server = p.get_server(cred, &id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (server.private_ip.clone(), server.mac_address.clone()),
        (port.private_ip.clone(), port.mac_address.clone())
    );
    let found = p.find_servers(cred, "unikorn:server:id", &format!("record-{name}")).await.unwrap_or_default();
    assert_eq!(found.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), vec![id.clone()]);
    let bound = p.get_port(cred, &port.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bound.device_id.as_deref(), Some(id.as_str()), "Nova bound the port");

    // The public IP on the port, found by port, released.
    let (ip, _) = p
        .create_public_ip(cred, &real.id("external_network_id"), &port.id, &name)
        .await
        .unwrap_or_else(|e| panic!("fip: {e}"));
    assert!(ip.address.starts_with("172.24.4."), "{ip:?}");
    let of_port = p.public_ips_of(cred, &port.id).await.unwrap_or_default();
    assert_eq!((of_port.len(), of_port[0].description.as_str()), (1, name.as_str()));

    // Port updates: groups and pairs replaced.
    let ssh = real.id("security_group_ssh");
    let pairs = [AllowedAddress { prefix: "10.8.0.0/16".into(), mac_address: Some("fa:16:3e:aa:bb:cc".into()) }];
    let (updated, _) =
        p.update_port(cred, &port.id, std::slice::from_ref(&ssh), &pairs).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((updated.security_groups.clone(), updated.allowed_addresses.clone()), (vec![ssh], pairs.to_vec()));
    // Back to no group asked: exactly the project's default group, found by the token's project.
    let default = p.default_security_group(cred).await.unwrap_or_else(|e| panic!("{e}"));
    let default = default.unwrap_or_else(|| panic!("real Neutron has the project's default group"));
    assert!(default != web && default != real.id("security_group_ssh"), "{default}");
    let groups = [default.clone()];
    let (updated, _) = p.update_port(cred, &port.id, &groups, &[]).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((updated.security_groups, updated.allowed_addresses.len()), (vec![default], 0));

    // Power: stop, a second stop refused as a conflict, start, reboots.
    p.power(cred, &id, PowerAction::Stop).await.unwrap_or_else(|e| panic!("stop: {e}"));
    real.until(&id, ServerPhase::Stopped).await;
    assert!(matches!(p.power(cred, &id, PowerAction::Stop).await, Err(ProviderError::Conflict { .. })));
    // Real Nova answers console output of a stopped server (the emulator answered 409 once).
    assert!(p.console_output(cred, &id, Some(10)).await.is_ok());
    p.power(cred, &id, PowerAction::Start).await.unwrap_or_else(|e| panic!("start: {e}"));
    real.until(&id, ServerPhase::Active).await;
    for reboot in [PowerAction::SoftReboot, PowerAction::HardReboot] {
        p.power(cred, &id, reboot).await.unwrap_or_else(|e| panic!("{reboot:?}: {e}"));
        real.until(&id, ServerPhase::Active).await;
    }
    assert!(p.console_url(cred, &id).await.is_ok_and(|url| url.starts_with("http")));

    // A disk shrink is refused at once (any shrink, not only below the image's min_disk). A resize
    // itself stays in resize_prep on this one-process stack with real Neutron (its next step never
    // runs: docs/real-openstack.md), so the resize cycle is proven on the emulator only.
    let shrink = p.resize(cred, &id, &real.id("flavor_tiny")).await;
    assert!(matches!(&shrink, Err(ProviderError::Rejected { detail, .. }) if detail.contains("disk")), "{shrink:?}");
    p.rebuild(cred, &id, &real.id("image_id")).await.unwrap_or_else(|e| panic!("rebuild: {e}"));
    real.until(&id, ServerPhase::Active).await;

    // Snapshot: Glance gets the image with our properties.
    let meta = BTreeMap::from([("unikorn:snapshot:request".to_owned(), name.clone())]);
    let (image_id, _) =
        p.create_image(cred, &id, &format!("{name}-snap"), &meta).await.unwrap_or_else(|e| panic!("{e}"));
    let image = p.get_image(cred, &image_id).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(image.name, format!("{name}-snap"));
    let by_property = p.find_image(cred, "unikorn:snapshot:request", &name).await.ok().flatten();
    assert_eq!(by_property.map(|i| i.id), Some(image_id));

    // Delete: the server goes, the pre-made port stays (unbound) for us to remove, with its public IP.
    p.delete_server(cred, &id).await.unwrap_or_else(|e| panic!("delete: {e}"));
    real.gone(&id).await;
    assert!(p.get_port(cred, &port.id).await.is_ok(), "Nova leaves a port it did not make");
    for ip in p.public_ips_of(cred, &port.id).await.unwrap_or_default() {
        p.delete_public_ip(cred, &ip.id).await.unwrap_or_else(|e| panic!("{e}"));
    }
    p.delete_port(cred, &port.id).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(p.get_port(cred, &port.id).await, Err(ProviderError::NotFound { .. })));
    assert!(matches!(p.delete_port(cred, &port.id).await, Err(ProviderError::NotFound { .. })));
}

#[tokio::test]
async fn listings_page_flavors_and_keypairs_against_real_nova() {
    let Some(real) = Real::connect().await else { return };
    let (p, cred) = (&real.provider, &real.demo);
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mut ids = Vec::new();
    for i in 0..3 {
        let port = real.port(&format!("page-{tag}-{i}")).await;
        ids.push(real.boot(&format!("page-{tag}-{i}"), &port.id).await);
    }
    // Listed once they are in their cell: real Nova pages build requests (servers not yet
    // scheduled) apart from cell servers, and a server moving between them can be missed by a walk.
    for id in &ids {
        real.until(id, ServerPhase::Active).await;
    }
    let (mut seen, mut marker, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let page = p.list_servers(cred, marker.as_deref(), 1).await.unwrap_or_else(|e| panic!("list: {e}"));
        pages += 1;
        seen.extend(page.servers.into_iter().map(|s| s.id));
        match page.next {
            Some(next) => marker = Some(next),
            None => break,
        }
        assert!(pages < 100, "paging ends");
    }
    assert!(ids.iter().all(|id| seen.contains(id)), "every server on some page of one");
    ranges_cover_the_region(&real, &ids).await;
    let flavor = p.get_flavor(cred, &real.id("flavor_large")).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((flavor.name.as_str(), flavor.disk_gib), ("m1.large", 20));
    assert!(matches!(p.get_flavor(cred, "no-such-flavor").await, Err(ProviderError::NotFound { .. })));
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx0bK5cH5q0uJ0u0N7pW3sZQqk3mZk8s7bS0kq3j1aY real";
    let name = format!("key-{tag}");
    p.import_keypair(cred, &name, key).await.unwrap_or_else(|e| panic!("import: {e}"));
    assert_eq!(p.get_keypair(cred, &name).await.map(|k| k.name).ok(), Some(name.clone()));
    p.delete_keypair(cred, &name).await.unwrap_or_else(|e| panic!("{e}"));
    for id in &ids {
        p.delete_server(cred, id).await.unwrap_or_else(|e| panic!("{e}"));
    }
    for (i, id) in ids.iter().enumerate() {
        real.gone(id).await;
        for port in p.find_ports(cred, &format!("page-{tag}-{i}")).await.unwrap_or_default() {
            let _ = p.delete_port(cred, &port.id).await;
        }
    }
}

/// The sweep's region listing split into uuid ranges (`sort_key=uuid`), each from a server the
/// records name: real Nova pages in that order, so each server is listed once; a range starting
/// at a server Nova does not know is refused (400) and the listing falls back to one chain.
async fn ranges_cover_the_region(real: &Real, ours: &[String]) {
    use shared::provider::RegionListing;
    use shared::usecase::cleanup::server_ranges::{rest, Ranges};
    let (p, cred) = (&real.provider, &real.demo);
    let ranges = Ranges { page: 1, chains: 3 };
    let mut gone = vec![ours[1].clone(), uuid::Uuid::new_v4().to_string()];
    gone.sort();
    for starts in [ranges.starts(ours.iter().map(String::as_str), false), gone] {
        let first = p.region_servers(cred, None, ranges.page).await.unwrap_or_else(|e| panic!("first: {e}"));
        let listed = rest(p, cred, first, &starts, ranges).await.unwrap_or_else(|e| panic!("ranges: {e}"));
        let ids: Vec<&str> = listed.servers.iter().map(|s| s.id.as_str()).collect();
        for id in ours {
            assert_eq!(ids.iter().filter(|i| **i == id.as_str()).count(), 1, "{id} once in {ids:?} from {starts:?}");
        }
        let mut distinct = ids.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), ids.len(), "no server twice: {ids:?}");
        assert!(listed.calls >= ids.len(), "pages of one: {} calls for {} servers", listed.calls, ids.len());
    }
}

/// Regression (found against real Nova): Nova's 403s (here the RAM quota of a project at Nova's
/// defaults) were taken for a refused credential; Neutron's policy 403s the same. Real Nova's quota
/// wording is what names the exhausted quota.
#[tokio::test]
async fn real_refusals_are_classified_as_what_they_are() {
    let Some(real) = Real::connect().await else { return };
    let quota = credential(&real.env, "quota");
    let p = &real.provider;
    let spec = PortSpec { name: "quota".into(), network_id: real.id("quota_network_id"), ..PortSpec::default() };
    let (port, _) = p.create_port(&quota, &spec).await.unwrap_or_else(|e| panic!("port: {e}"));
    let create = ServerCreate {
        name: "too-big".into(),
        image_id: real.id("image_id"),
        flavor_id: real.id("flavor_huge"),
        attach: Attach::Port(port.id.clone()),
        ..ServerCreate::default()
    };
    let refused = p.create_server(&quota, &create).await;
    assert!(
        matches!(&refused, Err(ProviderError::Quota { resource, detail, .. })
            if detail.contains("Quota exceeded") && resource.contains("ram")),
        "{refused:?}"
    );
    let _ = p.delete_port(&quota, &port.id).await;
}
