use integration_tests::stack::*;
use openstack_emulator::{seed, Delays, Fault};
use serde_json::json;

const CREATE_IMAGE: &str = "action createImage";
const GLANCE_SHOW: &str = "GET /image/v2/images/{id}";

fn body() -> serde_json::Value {
    json!({"metadata": {"name": "web-golden", "description": "before the upgrade", "tags": [{"name": "purpose", "value": "backup"}]}})
}

#[tokio::test]
async fn a_snapshot_carries_the_source_metadata_and_its_provenance() {
    let stack = Stack::start().await;
    stack.emulator.set_delays(Delays { image_ms: 60_000, ..Delays::default() });
    let id = stack.server("web").await;
    let caller = stack.token(
        "carol",
        &json!({"organizations": [{"id": ORG,
            "endpoints": [{"name": "region:images", "operations": ["create"]}],
            "projects": [{"id": PROJECT, "endpoints": [{"name": "region:servers", "operations": ["read"]}]}]}]}),
    );
    let reply = stack.call("POST", &format!("/api/v2/servers/{id}/snapshot"), Some(&caller), Some(&body())).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let image = &reply.body;
    assert_eq!(image["metadata"]["name"], "web-golden");
    assert_eq!(image["metadata"]["description"], "before the upgrade");
    assert!(image["metadata"].get("organizationId").is_none(), "not in Unikorn's image metadata");
    assert_eq!(image["spec"]["architecture"], "x86_64", "inherited from the source image");
    assert_eq!(image["status"]["state"], "pending", "Glance's queued, in Unikorn's words");
    assert_eq!(image["metadata"]["createdBy"], "carol");
    assert_eq!(
        image["metadata"]["tags"],
        json!([{"name": "images.unikorn-cloud.org:organization-id", "value": ORG},
               {"name": "images.unikorn-cloud.org:source", "value": "snapshot"},
               {"name": "purpose", "value": "backup"}]),
        "the caller's tags and Unikorn's provenance tags, by name"
    );
    assert_eq!(
        image["spec"]["os"],
        json!({"kernel": "linux", "family": "debian", "distro": "ubuntu", "codename": "noble", "version": "24.04"})
    );
    assert_eq!(image["spec"]["virtualization"], "virtualized");
    assert_eq!(image["spec"]["sizeGiB"], 20);
    assert_eq!(image["spec"]["softwareVersions"], json!({"kubernetes": "v1.31.2"}));

    let image_id = image["metadata"]["id"].as_str().unwrap_or_default();
    let glance = stack.emulator.image(image_id).unwrap_or_else(|| panic!("no image {image_id} in Glance"));
    let p = |k: &str| glance.properties.get(k).cloned().unwrap_or_default();
    assert_eq!(p("unikorn:source:server:id"), id, "provenance: the source server");
    assert_eq!(p("unikorn:source:image:id"), seed::IMAGE_UBUNTU, "provenance: the source image");
    assert_eq!(p("unikorn:created_by"), "carol");
    assert_eq!(p("unikorn:organization:id"), ORG, "owned by the server's organization");
    assert_eq!(p("unikorn:os:distro"), "ubuntu");
    assert_eq!(p("unikorn:tag:purpose"), "backup");
    assert_eq!(p("unikorn:tag:images.unikorn-cloud.org:source"), "snapshot");
    assert_eq!(p("unikorn:tag:images.unikorn-cloud.org:organization-id"), ORG);
    assert_eq!(glance.owner.as_deref(), Some(seed::DEMO_PROJECT_ID));
    assert_eq!(glance.visibility, "public", "published, as Unikorn does, so the region's listing finds it");
    assert_eq!(stack.emulator.counter(CREATE_IMAGE), 1);
}

#[tokio::test]
async fn the_permission_bridge_is_checked_before_any_provider_call() {
    let stack = Stack::start().await;
    let id = stack.server("web").await;
    let read = json!({"name": "region:servers", "operations": ["read"]});
    let images = json!({"name": "region:images", "operations": ["create"]});
    let acl = |org_endpoints: serde_json::Value, project_endpoints: serde_json::Value| json!({"organizations": [{"id": ORG, "endpoints": org_endpoints, "projects": [{"id": PROJECT, "endpoints": project_endpoints}]}]});
    let matrix = [
        ("server read, no image create", acl(json!([]), json!([read])), 403),
        ("image create, no server read", acl(json!([images]), json!([])), 404),
        ("image create in the project only", acl(json!([]), json!([read, images])), 403),
        ("neither", acl(json!([]), json!([])), 404),
        (
            "another organization's image create",
            json!({"organizations": [
            {"id": ORG, "projects": [{"id": PROJECT, "endpoints": [read]}]},
            {"id": ORG_2, "endpoints": [images]}]}),
            403,
        ),
        ("both", acl(json!([images]), json!([read])), 201),
    ];
    let mut results = Vec::new();
    for (label, acl, status) in matrix {
        let glance_before = stack.emulator.counter(GLANCE_SHOW);
        let snapshots_before = stack.emulator.counter(CREATE_IMAGE);
        let reply = stack
            .call(
                "POST",
                &format!("/api/v2/servers/{id}/snapshot"),
                Some(&stack.token(&format!("u {label}"), &acl)),
                Some(&body()),
            )
            .await;
        assert_eq!(reply.status, status, "{label}: {}", reply.body);
        if status != 201 {
            assert_eq!(stack.emulator.counter(CREATE_IMAGE), snapshots_before, "{label}: no createImage");
            assert_eq!(stack.emulator.counter(GLANCE_SHOW), glance_before, "{label}: no Glance call");
        }
        results.push((label, reply.status));
    }
    println!("snapshot permission matrix: {results:?}");
}

#[tokio::test]
async fn snapshots_of_busy_servers_and_bad_bodies_are_400() {
    let stack = Stack::start().await;
    let id = stack.server("web").await;
    let admin = stack.admin();
    let _ = stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&admin), None).await;
    stack.emulator.set_delays(Delays { action_ms: 60_000, ..Delays::default() });
    assert_eq!(stack.call("POST", &format!("/api/v2/servers/{id}/stop"), Some(&admin), None).await.status, 202);
    let busy = stack.call("POST", &format!("/api/v2/servers/{id}/snapshot"), Some(&admin), Some(&body())).await;
    assert_eq!((busy.status, busy.description()), (400, "server cannot be snapshotted in its current state"));
    for bad in [
        json!({}),
        json!({"metadata": {}}),
        json!({"metadata": {"name": "a b"}}),
        json!({"metadata": {"name": "x"}, "spec": {"architecture": "x86_64"}}),
        json!({"metadata": {"name": "x"}, "spec": null}),
    ] {
        let reply = stack.call("POST", &format!("/api/v2/servers/{id}/snapshot"), Some(&admin), Some(&bad)).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{bad}");
    }
    assert_eq!(stack.emulator.counter(CREATE_IMAGE), 1, "only the busy attempt reached Nova");
}

/// A keyed snapshot whose createImage answer was lost (the image was made): the retry finds that
/// image by the key it carries and makes no second one; another body with the key is 422.
#[tokio::test]
async fn a_keyed_snapshot_retry_never_makes_a_second_image() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.settled_server("keyed-snap").await;
    let path = format!("/api/v2/servers/{id}/snapshot");
    let keyed = |body: &serde_json::Value| {
        stack.request("POST", &path, Some(&admin), Some(body)).header("idempotency-key", "snap-1")
    };
    let body = json!({"metadata": {"name": "nightly"}, "spec": {}});
    stack.emulator.inject(Fault::dropped("POST", "/compute/v2.1/servers/*/action"));
    let first = stack.send(keyed(&body)).await;
    assert_eq!(first.status, 503, "{}", first.body);
    assert_eq!(stack.emulator.counter(CREATE_IMAGE), 1, "Nova made the image");
    let retried = stack.send(keyed(&body)).await;
    assert_eq!(retried.status, 201, "{}", retried.body);
    let again = stack.send(keyed(&body)).await;
    assert_eq!(again.body["metadata"]["id"], retried.body["metadata"]["id"], "{}", again.body);
    assert_eq!(stack.emulator.counter(CREATE_IMAGE), 1, "no second createImage");
    let refused = stack.send(keyed(&json!({"metadata": {"name": "other"}, "spec": {}}))).await;
    assert_eq!((refused.status, refused.error_code()), (422, "unprocessable_content"), "{}", refused.body);
    assert_eq!(stack.emulator.counter(CREATE_IMAGE), 1);
}

/// A keyed snapshot that crashed at either side of createImage: the first attempt's action was
/// recorded before the provider was asked; a retry while the crashed attempt still holds the key
/// is told to come back (409 with Retry-After); once its time is up, the retry answers with exactly
/// one image (made by the first attempt or by the retry).
#[tokio::test]
async fn a_keyed_snapshot_crashed_at_either_step_makes_one_image() {
    for point in [shared::crash::SNAPSHOT_AFTER_INTENT, shared::crash::SNAPSHOT_AFTER_PROVIDER] {
        let stack = Stack::start().await;
        let admin = stack.admin();
        let id = stack.settled_server("crashed-snap").await;
        let path = format!("/api/v2/servers/{id}/snapshot");
        let body = json!({"metadata": {"name": "nightly"}, "spec": {}});
        let keyed = || stack.request("POST", &path, Some(&admin), Some(&body)).header("idempotency-key", "snap-crash");
        stack.deps.crash.arm(point);
        assert!(keyed().send().await.is_err(), "{point}: the function died mid-request");
        let made = if point == shared::crash::SNAPSHOT_AFTER_INTENT { 0 } else { 1 };
        assert_eq!(stack.emulator.counter(CREATE_IMAGE), made, "{point}");
        let actions = stack.actions(&id).await;
        assert!(actions.iter().any(|a| a["command"] == "create_image"), "{point}: {actions:?}");
        let early = stack.send(keyed()).await;
        assert_eq!((early.status, early.error_code()), (409, "conflict"), "{point}: {}", early.body);
        assert!(early.header("retry-after").is_some(), "{point}: no Retry-After");
        stack.expire_key_attempts().await;
        let retried = stack.send(keyed()).await;
        assert_eq!(retried.status, 201, "{point}: {}", retried.body);
        let again = stack.send(keyed()).await;
        assert_eq!(again.body["metadata"]["id"], retried.body["metadata"]["id"], "{point}: {}", again.body);
        assert_eq!(stack.emulator.counter(CREATE_IMAGE), 1, "{point}: one image in all");
    }
}

/// A snapshot is its organization's image: listed to it (v2 while it is being made, v1 once
/// ready), to no other organization, deletable by it alone, and not while a server boots from it.
#[tokio::test]
async fn a_snapshot_is_its_organizations_image_and_nobody_elses() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.settled_server("web").await;
    stack.emulator.set_delays(Delays { image_ms: 1_000, ..Delays::default() });
    let reply = stack.call("POST", &format!("/api/v2/servers/{id}/snapshot"), Some(&admin), Some(&body())).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let image = reply.id();
    let images = |org: &'static str, query: &str| {
        let path = format!("/api/v2/regions/{REGION}/images?organizationID={org}{query}");
        let (stack, admin) = (&stack, admin.clone());
        async move {
            let reply = stack.call("GET", &path, Some(&admin), None).await;
            let ids: Vec<String> = reply
                .body
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| i["metadata"]["id"].as_str().unwrap_or_default().to_owned())
                .collect();
            ids
        }
    };
    assert_eq!(images(ORG, "&scope=owned").await, std::slice::from_ref(&image), "v2 lists it while it is being made");
    assert!(!images(ORG_2, "").await.contains(&image), "another organization never sees it");
    let v1 = |org: &str| format!("/api/v1/organizations/{org}/regions/{REGION}/images");
    let listed = stack.call("GET", &v1(ORG), Some(&admin), None).await;
    assert!(!listed.body.to_string().contains(&image), "v1 lists ready images only");

    // Once Glance has it, the cleanup function's refresh (every minute, as Unikorn's cache)
    // lists it as ready.
    for _ in 0..50 {
        if stack.emulator.image(&image).is_some_and(|i| i.status == "active") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    stack.cleanup(0).await;
    let listed = stack.call("GET", &v1(ORG), Some(&admin), None).await;
    assert!(listed.body.to_string().contains(&image), "v1 lists it once ready: {}", listed.body);
    let theirs = stack.call("GET", &v1(ORG_2), Some(&admin), None).await;
    assert!(!theirs.body.to_string().contains(&image));

    // Deleting: only the owning organization's path; not while a server boots from it.
    let other = stack.call("DELETE", &format!("{}/{image}", v1(ORG_2)), Some(&admin), None).await;
    assert_eq!((other.status, other.error_code()), (404, "not_found"), "{}", other.body);
    let global = stack.call("DELETE", &format!("{}/{}", v1(ORG), seed::IMAGE_UBUNTU), Some(&admin), None).await;
    assert_eq!(global.status, 404, "a global image is nobody's to delete");
    let mut from_snapshot = stack.server_body("from-snap", &stack.network_id);
    from_snapshot["spec"]["imageId"] = json!(image);
    let booted = stack.call("POST", "/api/v2/servers", Some(&admin), Some(&from_snapshot)).await;
    assert_eq!(booted.status, 201, "the organization boots its own image: {}", booted.body);
    let busy = stack.call("DELETE", &format!("{}/{image}", v1(ORG)), Some(&admin), None).await;
    assert_eq!((busy.status, busy.error_code()), (409, "conflict"), "{}", busy.body);
    assert!(stack.emulator.image(&image).is_some(), "a refused delete leaves the image");
    let server = booted.id();
    assert_eq!(stack.call("DELETE", &format!("/api/v2/servers/{server}"), Some(&admin), None).await.status, 202);
    stack.cleanup(0).await;
    let deleted = stack.call("DELETE", &format!("{}/{image}", v1(ORG)), Some(&admin), None).await;
    assert_eq!(deleted.status, 202, "{}", deleted.body);
    assert!(stack.emulator.image(&image).is_none(), "gone from Glance");
    assert!(!images(ORG, "").await.contains(&image), "and from the list at once");
    let denied = stack.token(
        "reader",
        &json!({"organizations": [{"id": ORG, "endpoints": [{"name": "region:images", "operations": ["read"]}]}]}),
    );
    let again = stack.call("DELETE", &format!("{}/{image}", v1(ORG)), Some(&denied), None).await;
    assert_eq!(again.status, 403, "region:images delete is needed");
}

/// A publish that fails leaves the snapshot private; the cleanup function publishes it.
#[tokio::test]
async fn a_snapshot_left_private_is_published_by_the_cleanup_function() {
    let stack = Stack::start().await;
    let admin = stack.admin();
    let id = stack.settled_server("web").await;
    stack.emulator.inject(Fault::status("PATCH", "/image/v2/images/*", 503));
    let reply = stack.call("POST", &format!("/api/v2/servers/{id}/snapshot"), Some(&admin), Some(&body())).await;
    assert_eq!(reply.status, 201, "the image exists: {}", reply.body);
    let image = reply.id();
    assert_eq!(stack.emulator.image(&image).map(|i| i.visibility), Some("private".into()));
    let report = stack.cleanup(0).await;
    assert_eq!(report.snapshots_published, 1, "{report:?}");
    assert_eq!(stack.emulator.image(&image).map(|i| i.visibility), Some("public".into()));
    let path = format!("/api/v2/regions/{REGION}/images?organizationID={ORG}&scope=owned");
    let listed = stack.call("GET", &path, Some(&admin), None).await;
    assert!(listed.body.to_string().contains(&image), "{}", listed.body);
}
