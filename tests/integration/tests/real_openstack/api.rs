//! A user's verbs through the local API on the real services.

use super::real_api::{admin_get, RealApi};
use super::*;

/// A user's life cycle through the API on real services: create with every networking field,
/// running, the power verbs and a wrong-state answer, an update, console, snapshot, delete leaving
/// no port or public IP; five parallel creates; a quota refusal answered as one, leaving nothing.
#[tokio::test]
async fn the_api_life_cycle_on_real_openstack() {
    let Some(real) = Real::connect().await else { return };
    let api = RealApi::start(&real).await;
    let network = api.network(integration_tests::stack::PROJECT, &real.id("network_id")).await;
    let body = |name: &str, networking: Value| {
        serde_json::json!({"metadata": {"name": name}, "spec": {"networkId": network, "flavorId": real.id("flavor_small"),
            "imageId": real.id("image_id"), "networking": networking}})
    };
    let (web, web_at_neutron) = api.group(&network, "web").await;
    let (ssh, ssh_at_neutron) = api.group(&network, "ssh").await;
    let networking = serde_json::json!({"securityGroups": [web], "publicIP": true,
        "allowedSourceAddresses": ["10.9.0.0/16"]});
    let (status, created) = api.call("POST", "/api/v2/servers", Some(&body("web", networking))).await;
    assert_eq!(status, 201, "{created}");
    let id = created["metadata"]["id"].as_str().unwrap_or_default().to_owned();
    assert!(created["status"]["publicIP"].as_str().is_some_and(|ip| ip.starts_with("172.24.4.")), "{created}");
    let port = real.provider.find_ports(&real.demo, &id).await.unwrap_or_default();
    assert_eq!(port.len(), 1, "one port named after the server");
    assert_eq!(port[0].security_groups, vec![web_at_neutron.clone()], "in the group's Neutron group");
    assert_eq!(created["status"]["privateIP"].as_str(), port[0].private_ip.as_deref());
    let running = api.until(&id, |s| s["status"]["powerState"] == "Running").await;
    assert_eq!(running["metadata"]["provisioningStatus"], "provisioned", "{running}");

    let path = format!("/api/v2/servers/{id}");
    assert_eq!(api.call("POST", &format!("{path}/stop"), None).await.0, 202);
    api.until(&id, |s| s["status"]["powerState"] == "Stopped").await;
    let (status, again) = api.call("POST", &format!("{path}/stop"), None).await;
    assert_eq!(status, 400, "a stopped server cannot be stopped: {again}");
    assert_eq!(api.call("POST", &format!("{path}/start"), None).await.0, 202);
    api.until(&id, |s| s["status"]["powerState"] == "Running").await;
    let update = serde_json::json!({"metadata": {"name": "web", "tags": [{"name": "tier", "value": "web"}]},
        "spec": {"flavorId": real.id("flavor_small"), "imageId": real.id("image_id"),
                 "networking": {"securityGroups": [ssh], "publicIP": false}}});
    let (status, updated) = api.call("PUT", &path, Some(&update)).await;
    assert_eq!(status, 202, "{updated}");
    assert!(updated["status"]["publicIP"].is_null(), "released: {updated}");
    assert!(real.provider.public_ips_of(&real.demo, &port[0].id).await.unwrap_or_default().is_empty());
    let groups = real.provider.get_port(&real.demo, &port[0].id).await.map(|p| p.security_groups).ok();
    assert_eq!(groups, Some(vec![ssh_at_neutron.clone()]));
    let (status, in_use) = api.call("DELETE", &format!("/api/v2/securitygroups/{ssh}"), None).await;
    assert_eq!(
        (status, in_use["error_description"].clone()),
        (403, "security group is in use and cannot be deleted".into())
    );
    assert_eq!(api.call("GET", &format!("{path}/consoleoutput"), None).await.0, 200);
    let snapshot = serde_json::json!({"metadata": {"name": "web-snap"}});
    let (status, image) = api.call("POST", &format!("{path}/snapshot"), Some(&snapshot)).await;
    assert_eq!(status, 201, "{image}");
    api.until(&id, |s| s["status"]["powerState"] == "Running").await;

    let found = real.provider.find_servers(&real.demo, "unikorn:server:id", &id).await.unwrap_or_default();
    let pid = found.first().map(|s| s.id.clone()).unwrap_or_default();
    // Nova refuses a rebuild while the snapshot's task runs (the API answers that as a wrong state).
    real.until(&pid, ServerPhase::Active).await;
    // A rebuild from another image, through the API.
    let mut rebuild = update.clone();
    rebuild["spec"]["imageId"] = serde_json::json!(real.id("second_image_id"));
    let (status, rebuilt) = api.call("PUT", &path, Some(&rebuild)).await;
    assert_eq!(status, 202, "{rebuilt}");
    api.until(&id, |s| {
        s["spec"]["imageId"] == real.id("second_image_id").as_str() && s["status"]["powerState"] == "Running"
    })
    .await;

    // Stopped and then deleted behind the API's back: one cleanup run each reflects it.
    real.provider.power(&real.demo, &pid, PowerAction::Stop).await.unwrap_or_else(|e| panic!("{e}"));
    real.until(&pid, ServerPhase::Stopped).await;
    let report = api.cleanup(300).await;
    // The tier's region user is an admin (as a region's is): real Nova and Neutron list every
    // project at once for it, and the sweep reads what it needs from one listing per region (the
    // tier has two: the demo project's and the default-quota project's).
    assert_eq!((report.region_listings, report.provider_list_calls), (2, 2), "{report:?}");
    let (_, shown) = api.call("GET", &path, None).await;
    assert_eq!(shown["status"]["powerState"], "Stopped", "{shown}");

    // Ten parallel creates: ten servers, each on its own port; five racing for one name: one.
    let creates = (0..10).map(|i| {
        let (api, body) = (&api, body(&format!("par-{i}"), serde_json::json!({})));
        async move { api.call("POST", "/api/v2/servers", Some(&body)).await }
    });
    let replies = futures::future::join_all(creates).await;
    assert!(replies.iter().all(|(status, _)| *status == 201), "{replies:?}");
    let race = (0..5).map(|_| {
        let (api, body) = (&api, body("contested", serde_json::json!({})));
        async move { api.call("POST", "/api/v2/servers", Some(&body)).await }
    });
    let raced = futures::future::join_all(race).await;
    let won: Vec<&Value> = raced.iter().filter(|(status, _)| *status == 201).map(|(_, b)| b).collect();
    assert_eq!(won.len(), 1, "one name, one server: {raced:?}");
    assert!(raced.iter().all(|(status, _)| matches!(status, 201 | 409)), "{raced:?}");
    // The same Idempotency-Key and body twice: one server, the same answer.
    let keyed = body("keyed", serde_json::json!({}));
    let (first, a) = api.keyed("POST", "/api/v2/servers", Some(&keyed), Some("real-key-1")).await;
    let (second, b) = api.keyed("POST", "/api/v2/servers", Some(&keyed), Some("real-key-1")).await;
    assert_eq!((first, second), (201, 201), "{a} {b}");
    assert_eq!(a["metadata"]["id"], b["metadata"]["id"]);

    // Delete them all: no server, port or public IP is left.
    let mut ids: Vec<String> =
        replies.iter().map(|(_, r)| r["metadata"]["id"].as_str().unwrap_or_default().to_owned()).collect();
    ids.push(id);
    for id in &ids {
        assert_eq!(api.call("DELETE", &format!("/api/v2/servers/{id}"), None).await.0, 202);
    }
    for id in &ids {
        let gone = api.until(id, |_| false).await;
        assert!(gone["error"].is_string(), "{gone}");
        assert!(real.provider.find_ports(&real.demo, id).await.unwrap_or_default().is_empty(), "port of {id} left");
    }
    // No server names the groups now: their deletes go through, at real Neutron too.
    use shared::provider::SecurityGroups as _;
    for group in [&web, &ssh] {
        assert_eq!(api.call("DELETE", &format!("/api/v2/securitygroups/{group}"), None).await.0, 202);
        let converged = shared::usecase::security_groups::converge_security_group(&api.deps, group).await;
        assert!(matches!(converged, Ok(shared::usecase::Converged::Gone)), "{converged:?}");
        let left = real.provider.find_security_group(&real.demo, &format!("securitygroup-{group}")).await;
        assert!(matches!(left, Ok(None)), "group {group} left at Neutron: {left:?}");
    }

    // Over Nova's default RAM quota: 409 naming the quota, with Nova's reason, and nothing left behind.
    let quota_network = api.network(integration_tests::stack::PROJECT_B, &real.id("quota_network_id")).await;
    let mut huge = body("huge", serde_json::json!({}));
    huge["spec"]["networkId"] = serde_json::json!(quota_network);
    huge["spec"]["flavorId"] = serde_json::json!(real.id("flavor_huge"));
    let (status, refused) = api.call("POST", "/api/v2/servers", Some(&huge)).await;
    assert_eq!((status, refused["error"].clone()), (409, serde_json::json!("conflict")), "{refused}");
    let description = refused["error_description"].as_str().unwrap_or_default();
    assert!(description.contains("ram quota") && description.contains("Quota exceeded"), "{refused}");
    let (_, listed) = api.call("GET", &format!("/api/v2/servers?networkID={quota_network}"), None).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
    let quota = credential(&real.env, "quota");
    let ports = real.provider.list_ports(&quota, None, 100).await.map(|p| p.items).unwrap_or_default();
    assert!(
        !ports.iter().any(|p| uuid::Uuid::parse_str(&p.name).is_ok()),
        "the refused create's port is gone: {ports:?}"
    );
}

/// Real Nova's scheduler finding no host (Placement has no candidate for m1.nohost's disk) is a
/// capacity fault as the emulator models it: the server is placed again by cleanup three times,
/// each attempt an action, the failed servers deleted at Nova; then it is `error` with Nova's
/// reason, the last action `failed` with code `capacity` and an event saying so. Deleting it
/// leaves nothing at Nova or Neutron.
#[tokio::test]
async fn a_server_real_nova_finds_no_host_for_is_placed_again_then_in_error_for_capacity() {
    let Some(real) = Real::connect().await else { return };
    let api = RealApi::start(&real).await;
    let network = api.network(integration_tests::stack::PROJECT, &real.id("network_id")).await;
    let body = serde_json::json!({"metadata": {"name": "nohost"}, "spec": {"networkId": network,
        "flavorId": real.id("flavor_nohost"), "imageId": real.id("image_id")}});
    let (status, created) = api.call("POST", "/api/v2/servers", Some(&body)).await;
    assert_eq!(status, 201, "Nova accepts the boot and schedules it later: {created}");
    let id = created["metadata"]["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/api/v2/servers/{id}");
    let started = Instant::now();
    let shown = loop {
        // A grace period longer than the test: other tests' servers and ports in the project are
        // never taken for orphans; placing again waits only for the backoff (none here).
        api.cleanup(300).await;
        let (_, shown) = api.call("GET", &path, None).await;
        if shown["metadata"]["provisioningStatus"] == "error" {
            break shown;
        }
        assert!(started.elapsed() < Duration::from_secs(180), "never placed for good: {shown}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let (status, actions) = api.call("GET", &format!("{path}/actions"), None).await;
    assert_eq!(status, 200, "{actions}");
    let seen = integration_tests::action_outcomes(actions.as_array().map(Vec::as_slice).unwrap_or_default());
    let failed = |command: &str| integration_tests::outcome(command, "error", "capacity");
    assert_eq!(
        seen,
        vec![failed("create_server"), failed("reschedule"), failed("reschedule"), failed("reschedule")],
        "the first create and three attempts: {actions}"
    );
    let reason = actions[0]["error"]["message"].as_str().unwrap_or_default();
    assert!(reason.starts_with("No valid host was found"), "real Nova's own words: {actions}");
    // The read that saw `error` may have written it: the next run publishes its event.
    api.cleanup(300).await;
    let last = api.events_of(&id).last().cloned().unwrap_or_default();
    assert_eq!((last["current"].as_str(), last["reason"].as_str()), (Some("error"), Some("capacity")), "{last}");
    // Only the last attempt's server is left at Nova (in ERROR, for the user to see); the
    // earlier ones were deleted before each new attempt.
    let at_nova = real.provider.find_servers(&real.demo, "unikorn:server:id", &id).await.unwrap_or_default();
    assert_eq!(at_nova.len(), 1, "{at_nova:?}");
    assert_eq!(at_nova[0].phase, ServerPhase::Error, "{at_nova:?}");

    assert_eq!(api.call("DELETE", &path, None).await.0, 202, "{shown}");
    let gone = api.until(&id, |_| false).await;
    assert!(gone["error"].is_string(), "{gone}");
    let left = real.provider.find_servers(&real.demo, "unikorn:server:id", &id).await.unwrap_or_default();
    assert!(left.is_empty(), "nothing left at Nova: {left:?}");
    assert!(real.provider.find_ports(&real.demo, &id).await.unwrap_or_default().is_empty(), "its port is gone");
}

/// What Nova holds for a server, read as Keystone's admin (user data shows to admins only).
async fn as_admin(real: &Real, path: &str) -> Value {
    admin_get(real, "nova", &format!("/v2.1{path}")).await
}

/// The rest of a user's verbs on real services: the SSH CA's user data exactly as Nova received it,
/// the SSH key, reboots, the list, and a snapshot that goes active in Glance.
#[tokio::test]
async fn ssh_ca_user_data_reboots_sshkey_list_and_an_active_snapshot_on_real_openstack() {
    use base64::Engine as _;
    let Some(real) = Real::connect().await else { return };
    let api = RealApi::start(&real).await;
    let network = api.network(integration_tests::stack::PROJECT, &real.id("network_id")).await;
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl real-ca";
    let ca = serde_json::json!({"metadata": {"name": "real-ca"}, "spec": {"organizationId": integration_tests::stack::ORG,
        "projectId": integration_tests::stack::PROJECT, "publicKey": key}});
    let (status, ca) = api.call("POST", "/api/v2/sshcertificateauthorities", Some(&ca)).await;
    assert_eq!(status, 201, "{ca}");
    let user = base64::engine::general_purpose::STANDARD.encode("#cloud-config\npackages: [htop]\n");
    let body = |name: &str, ca: Option<&Value>| {
        let mut body = serde_json::json!({"metadata": {"name": name}, "spec": {"networkId": network,
            "flavorId": real.id("flavor_small"), "imageId": real.id("image_id"), "userData": user}});
        if let Some(ca) = ca {
            body["spec"]["sshCertificateAuthorityId"] = ca["metadata"]["id"].clone();
        }
        body
    };
    let (status, with_ca) = api.call("POST", "/api/v2/servers", Some(&body("with-ca", Some(&ca)))).await;
    assert_eq!(status, 201, "{with_ca}");
    let (status, plain) = api.call("POST", "/api/v2/servers", Some(&body("plain", None))).await;
    assert_eq!(status, 201, "{plain}");
    let id_of = |v: &Value| v["metadata"]["id"].as_str().unwrap_or_default().to_owned();
    let (ca_server, plain_server) = (id_of(&with_ca), id_of(&plain));
    for id in [&ca_server, &plain_server] {
        api.until(id, |s| s["status"]["powerState"] == "Running").await;
    }
    let pid = |id: String| {
        let real = &real;
        async move {
            let found = real.provider.find_servers(&real.demo, "unikorn:server:id", &id).await.unwrap_or_default();
            found.first().map(|s| s.id.clone()).unwrap_or_default()
        }
    };
    let ca_pid = pid(ca_server.clone()).await;
    let nova = as_admin(&real, &format!("/servers/{ca_pid}")).await;
    let received = nova["server"]["OS-EXT-SRV-ATTR:user_data"].as_str().unwrap_or_default();
    let decoded = base64::engine::general_purpose::STANDARD.decode(received).unwrap_or_default();
    let text = String::from_utf8_lossy(&decoded);
    assert!(text.contains("multipart/mixed") || text.starts_with("#cloud-config"), "{text}");
    assert!(
        text.contains("real-ca")
            || text.contains("AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"),
        "the CA's key reached Nova: {text}"
    );
    assert!(nova["server"]["key_name"].is_null(), "no key pair with a CA: {}", nova["server"]["key_name"]);

    let plain_path = format!("/api/v2/servers/{plain_server}");
    let (status, sshkey) = api.call("GET", &format!("{plain_path}/sshkey"), None).await;
    assert_eq!(status, 200, "{sshkey}");
    let plain_pid = pid(plain_server.clone()).await;
    for verb in ["softreboot", "hardreboot"] {
        real.until(&plain_pid, ServerPhase::Active).await;
        assert_eq!(api.call("POST", &format!("{plain_path}/{verb}"), None).await.0, 202, "{verb}");
    }
    real.until(&plain_pid, ServerPhase::Active).await;
    let (status, listed) = api.call("GET", &format!("/api/v2/servers?networkID={network}"), None).await;
    assert_eq!(status, 200);
    let mut ids: Vec<String> = listed.as_array().map(|l| l.iter().map(id_of).collect()).unwrap_or_default();
    ids.sort();
    let mut expected = vec![ca_server.clone(), plain_server.clone()];
    expected.sort();
    assert_eq!(ids, expected);

    let (status, image) = api
        .call("POST", &format!("{plain_path}/snapshot"), Some(&serde_json::json!({"metadata": {"name": "real-snap"}})))
        .await;
    assert_eq!(status, 201, "{image}");
    let image_id = image["metadata"]["id"].as_str().unwrap_or_default().to_owned();
    let started = Instant::now();
    loop {
        let state = real.provider.get_image(&real.demo, &image_id).await.map(|i| i.state);
        if matches!(state, Ok(shared::provider::ImageState::Ready)) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the snapshot never went active: {state:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    snapshot_is_the_organizations_image(&real, &api, &image_id).await;
    for id in [&ca_server, &plain_server] {
        real.until(&pid(id.clone()).await, ServerPhase::Active).await;
        assert_eq!(api.call("DELETE", &format!("/api/v2/servers/{id}"), None).await.0, 202);
    }
    for id in [&ca_server, &plain_server] {
        api.until(id, |_| false).await;
    }
}

/// A snapshot's provenance on real Glance, as Unikorn writes it, and what the region's image routes
/// make of it: public (so the listing finds it), its organization's alone, deletable by it.
async fn snapshot_is_the_organizations_image(real: &Real, api: &RealApi, image_id: &str) {
    use integration_tests::stack::{ORG, ORG_2, REGION};
    let glance = real.provider.get_image(&real.demo, image_id).await.unwrap_or_else(|e| panic!("{e}"));
    let property = |key: &str| glance.properties.get(key).cloned().unwrap_or_default();
    assert_eq!(property("unikorn:organization:id"), ORG);
    assert_eq!(property("unikorn:tag:images.unikorn-cloud.org:source"), "snapshot");
    assert_eq!(property("unikorn:tag:images.unikorn-cloud.org:organization-id"), ORG);
    assert_eq!(property("unikorn:os:distro"), "cirros", "inherited from the source image");
    assert_eq!(glance.visibility.as_deref(), Some("public"), "published: real Glance took the patch");

    // The cleanup function's refresh lists it as ready for the next reader.
    api.cleanup(300).await;
    let owned = |org: &str| format!("/api/v2/regions/{REGION}/images?organizationID={org}&scope=owned");
    let (status, mine) = api.call("GET", &owned(ORG), None).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(
        mine.as_array().map(|a| a.iter().map(|i| i["metadata"]["id"].clone()).collect::<Vec<_>>()),
        Some(vec![Value::from(image_id)]),
        "{mine}"
    );
    assert_eq!(
        mine[0]["metadata"]["tags"][1],
        serde_json::json!({"name": "images.unikorn-cloud.org:source", "value": "snapshot"})
    );
    let (_, theirs) = api.call("GET", &owned(ORG_2), None).await;
    assert_eq!(theirs, serde_json::json!([]), "another organization owns none of it");
    let v1 = |org: &str| format!("/api/v1/organizations/{org}/regions/{REGION}/images");
    let (_, ready) = api.call("GET", &v1(ORG), None).await;
    assert!(ready.to_string().contains(image_id), "v1 lists it once ready: {ready}");
    let (_, others) = api.call("GET", &v1(ORG_2), None).await;
    assert!(!others.to_string().contains(image_id), "{others}");

    let (status, _) = api.call("DELETE", &format!("{}/{image_id}", v1(ORG_2)), None).await;
    assert_eq!(status, 404, "another organization's path");
    let (status, body) = api.call("DELETE", &format!("{}/{image_id}", v1(ORG)), None).await;
    assert_eq!(status, 202, "{body}");
    let gone = real.provider.get_image(&real.demo, image_id).await;
    assert!(matches!(gone, Err(ProviderError::NotFound { .. })), "gone from Glance: {gone:?}");
}
