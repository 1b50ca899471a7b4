//! SSH certificate authorities: the resource, binding one at server create (with the user data
//! Nova receives checked by Python's `email` and PyYAML), in-use deletes, and the race between a
//! CA delete and a server create that references it.

use base64::Engine as _;
use integration_tests::stack::*;
use integration_tests::venv_python;
use serde_json::{json, Value};

const CA_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const PATH: &str = "/api/v2/sshcertificateauthorities";

fn ca_body(name: &str, org: &str, project: &str, key: &str) -> Value {
    json!({"metadata": {"name": name, "tags": [{"name": "team", "value": "blue"}]},
           "spec": {"organizationId": org, "projectId": project, "publicKey": key}})
}

async fn ca(stack: &Stack, name: &str, project: &str) -> String {
    let reply = stack.call("POST", PATH, Some(&stack.admin()), Some(&ca_body(name, ORG, project, CA_KEY))).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.id()
}

/// The user data Nova received for the last create, as cloud-init would read it.
fn received_user_data(stack: &Stack) -> Value {
    let create =
        stack.emulator.requests().into_iter().rev().find(|r| r.method == "POST" && r.path.ends_with("/servers"));
    let encoded = create.and_then(|r| r.body).map(|b| b["server"]["user_data"].as_str().unwrap_or_default().to_owned());
    let encoded = encoded.unwrap_or_else(|| panic!("Nova received no user data"));
    let mut child = std::process::Command::new(venv_python())
        .arg(integration_tests::repo_root().join("tests/cloudinit/inspect.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python: {e}"));
    use std::io::Write as _;
    child.stdin.take().map(|mut s| s.write_all(encoded.as_bytes()));
    let output = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

#[tokio::test]
async fn certificate_authorities_are_checked_normalised_listed_and_scoped() {
    let stack = Stack::start().await;
    let token = stack.admin();
    for (key, message) in [
        ("", "public key must be specified"),
        ("ssh-ed25519 not-base64", "public key must be a valid OpenSSH authorized key"),
        (&format!("{CA_KEY}\n{CA_KEY}"), "public key must contain a single key"),
        (&format!("cert-authority {CA_KEY}"), "public key options are not supported"),
        ("ssh-dss AAAAB3NzaC1kc3MAAACBAP1", "public key type is not supported"),
    ] {
        let reply = stack.call("POST", PATH, Some(&token), Some(&ca_body("bad", ORG, PROJECT, key))).await;
        assert_eq!((reply.status, reply.description()), (422, message), "{key:?}");
    }
    let created = stack
        .call("POST", PATH, Some(&token), Some(&ca_body("ca-a", ORG, PROJECT, &format!("{CA_KEY} me@host"))))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["spec"]["publicKey"], CA_KEY, "normalised: no comment");
    assert_eq!(
        (created.body["metadata"]["organizationId"].clone(), created.body["metadata"]["projectId"].clone()),
        (json!(ORG), json!(PROJECT))
    );
    let id = created.id();
    let other = stack.call("POST", PATH, Some(&token), Some(&ca_body("ca-b", ORG, PROJECT_B, CA_KEY))).await.id();
    let reader = stack.token("r", &project_acl(ORG, PROJECT, &[("region:sshcertificateauthorities:v2", &["read"])]));
    let refused = stack.call("POST", PATH, Some(&reader), Some(&ca_body("x", ORG, PROJECT, CA_KEY))).await;
    assert_eq!(refused.status, 403);
    let listed = |token: String, query: &'static str| {
        let stack = &stack;
        async move {
            let reply = stack.call("GET", &format!("{PATH}{query}"), Some(&token), None).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            reply
                .body
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| c["metadata"]["id"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let mut both = vec![id.clone(), other.clone()];
    both.sort();
    assert_eq!(listed(token.clone(), "").await, both, "sorted by id");
    assert_eq!(listed(token.clone(), "?projectID=proj-a").await, vec![id.clone()]);
    assert_eq!(listed(token.clone(), "?tag=team%3Dblue").await, both);
    assert!(listed(token.clone(), "?tag=team%3Dred").await.is_empty());
    assert_eq!(listed(reader.clone(), "").await, vec![id.clone()], "only what the caller may read");
    assert_eq!(stack.call("GET", &format!("{PATH}/{other}"), Some(&reader), None).await.status, 404);
    assert_eq!(stack.call("GET", &format!("{PATH}/not-a-uuid"), Some(&token), None).await.status, 400);
    assert_eq!(stack.call("DELETE", &format!("{PATH}/{id}"), Some(&reader), None).await.status, 403);
    assert_eq!(stack.call("DELETE", &format!("{PATH}/{id}"), Some(&token), None).await.status, 202);
    assert_eq!(stack.call("GET", &format!("{PATH}/{id}"), Some(&token), None).await.status, 404);
}

#[tokio::test]
async fn a_server_binds_a_ca_of_its_own_project_and_nova_gets_the_merged_user_data() {
    let stack = Stack::start().await;
    let token = stack.admin();
    let ca_id = ca(&stack, "ca-a", PROJECT).await;
    let foreign = ca(&stack, "ca-b", PROJECT_B).await;
    let create = |name: &str, ca: &str, user_data: Option<&[u8]>| {
        let mut body = stack.server_body(name, &stack.network_id);
        body["spec"]["sshCertificateAuthorityId"] = json!(ca);
        if let Some(data) = user_data {
            body["spec"]["userData"] = json!(base64::engine::general_purpose::STANDARD.encode(data));
        }
        let (stack, token) = (&stack, token.clone());
        async move { stack.call("POST", "/api/v2/servers", Some(&token), Some(&body)).await }
    };
    let missing = create("m", "00000000-0000-4000-8000-00000000abcd", None).await;
    assert_eq!((missing.status, missing.error_code()), (404, "not_found"));
    let cross = create("x", &foreign, None).await;
    assert_eq!(
        (cross.status, cross.description()),
        (422, "sshCertificateAuthorityId must reference an SSH certificate authority in the same organization and project as the server")
    );
    for (name, data) in [("gzip", &b"\x1f\x8b\x08\x00\x00"[..]), ("echo", b"echo hello\n")] {
        let reply = create(name, &ca_id, Some(data)).await;
        assert_eq!(
            (reply.status, reply.description()),
            (422, "userData must be a recognized cloud-init format when sshCertificateAuthorityId is specified"),
            "{name}"
        );
    }
    assert_eq!(stack.nova_creates(), 0, "refusals reach no provider");

    let check_managed = |seen: &Value| {
        let managed = &seen["managed"];
        assert_eq!(managed["write_files"][0]["path"], "/etc/ssh/trusted-user-ca-keys.pub", "{seen}");
        assert_eq!(managed["write_files"][0]["content"], format!("{CA_KEY}\n"));
        assert_eq!(managed["write_files"][0]["permissions"], "0644");
        assert_eq!(managed["write_files"][1]["path"], "/etc/ssh/sshd_config.d/90-unikorn-trusted-user-ca.conf");
        assert_eq!(managed["write_files"][1]["content"], "TrustedUserCAKeys /etc/ssh/trusted-user-ca-keys.pub\n");
        assert!(managed["runcmd"][0].as_str().unwrap_or_default().starts_with("systemctl reload sshd"));
    };
    let plain = create("plain", &ca_id, None).await;
    assert_eq!(plain.status, 201, "{}", plain.body);
    assert_eq!(plain.body["status"]["sshCertificateAuthorityId"], ca_id.as_str());
    let seen = received_user_data(&stack);
    assert_eq!(seen["multipart"], false, "no user data: the managed cloud-config alone");
    check_managed(&seen);

    let multipart = b"Content-Type: multipart/mixed; boundary=\"XYZ\"\nMIME-Version: 1.0\n\n--XYZ\nContent-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"a.sh\"\n\n#!/bin/sh\necho a\n--XYZ\nContent-Type: text/cloud-config\n\n#cloud-config\npackages: [htop]\n--XYZ--\n";
    let cases: [(&str, &[u8], Vec<&str>); 4] = [
        ("config", b"#cloud-config\npackages: [jq]\n", vec!["text/cloud-config", "text/cloud-config"]),
        ("script", b"#!/bin/sh\necho hello\n", vec!["text/x-shellscript", "text/cloud-config"]),
        (
            "jinja",
            b"## template: jinja\n#cloud-config\nhostname: {{ v1.local_hostname }}\n",
            vec!["text/jinja2", "text/cloud-config"],
        ),
        ("multi", multipart, vec!["text/x-shellscript", "text/cloud-config", "text/cloud-config"]),
    ];
    for (name, data, types) in cases {
        let reply = create(name, &ca_id, Some(data)).await;
        assert_eq!(reply.status, 201, "{name}: {}", reply.body);
        let seen = received_user_data(&stack);
        assert_eq!(
            (seen["multipart"].clone(), seen["type"].clone()),
            (json!(true), json!("multipart/mixed")),
            "{name}"
        );
        let got: Vec<&str> =
            seen["parts"].as_array().into_iter().flatten().map(|p| p["type"].as_str().unwrap_or_default()).collect();
        assert_eq!(got, types, "{name}");
        check_managed(&seen);
        let user_text = String::from_utf8_lossy(data);
        if name == "multi" {
            assert_eq!(seen["parts"][0]["text"], "#!/bin/sh\necho a", "the user's parts unchanged");
            assert_eq!(seen["parts"][0]["filename"], "a.sh");
            assert_eq!(seen["parts"][1]["text"], "#cloud-config\npackages: [htop]");
        } else {
            assert_eq!(seen["parts"][0]["text"], user_text.as_ref(), "{name}: the user's document unchanged");
        }
        // The response echoes the user's own user data, not the merged document.
        assert_eq!(reply.body["spec"]["userData"], base64::engine::general_purpose::STANDARD.encode(data));
    }
    // Updates keep the binding.
    let id = plain.id();
    let update = json!({"metadata": {"name": "plain", "description": "d"}, "spec": {"flavorId": openstack_emulator::seed::FLAVOR_SMALL, "imageId": openstack_emulator::seed::IMAGE_UBUNTU}});
    let updated = stack.call("PUT", &format!("/api/v2/servers/{id}"), Some(&token), Some(&update)).await;
    assert_eq!(updated.body["status"]["sshCertificateAuthorityId"], ca_id.as_str(), "{}", updated.body);
}

#[tokio::test]
async fn ssh_injection_decides_the_identity_key_pair() {
    let stack = Stack::start().await;
    let token = stack.admin();
    let ca_id = ca(&stack, "ca-a", PROJECT).await;
    let create = |name: &str, injection: &str, ca: Option<&str>| {
        let mut body = stack.server_body(name, &stack.network_id);
        body["spec"]["sshInjection"] = json!(injection);
        if let Some(ca) = ca {
            body["spec"]["sshCertificateAuthorityId"] = json!(ca);
        }
        let (stack, token) = (&stack, token.clone());
        async move { stack.call("POST", "/api/v2/servers", Some(&token), Some(&body)).await }
    };
    let last_key_name = |stack: &Stack| {
        let create =
            stack.emulator.requests().into_iter().rev().find(|r| r.method == "POST" && r.path.ends_with("/servers"));
        create.and_then(|r| r.body).map(|b| b["server"]["key_name"].clone()).unwrap_or_default()
    };
    let none = create("none", "none", None).await;
    assert_eq!((none.status, none.body["status"]["sshInjection"].clone()), (201, json!("none")), "{}", none.body);
    assert!(last_key_name(&stack).is_null(), "no identity key pair attached");
    assert_eq!(
        stack.call("GET", &format!("/api/v2/servers/{}/sshkey", none.id()), Some(&token), None).await.status,
        404
    );
    let with_ca = create("ca", "ca", Some(&ca_id)).await;
    assert_eq!((with_ca.status, with_ca.body["status"]["sshInjection"].clone()), (201, json!("ca")));
    assert!(last_key_name(&stack).is_null());
    let keypair = create("kp", "identityKeypair", None).await;
    assert_eq!(keypair.status, 201);
    assert!(last_key_name(&stack).is_string(), "the identity key pair is attached");
    assert_eq!(
        stack.call("GET", &format!("/api/v2/servers/{}/sshkey", keypair.id()), Some(&token), None).await.status,
        200
    );
    // Regression (found against real Nova): a CA bound without sshInjection also attached the
    // identity key pair; Unikorn boots such a server without one.
    let mut default_ca = stack.server_body("default-ca", &stack.network_id);
    default_ca["spec"]["sshCertificateAuthorityId"] = json!(ca_id);
    let default_ca = stack.call("POST", "/api/v2/servers", Some(&token), Some(&default_ca)).await;
    assert_eq!(default_ca.status, 201, "{}", default_ca.body);
    assert!(last_key_name(&stack).is_null(), "a bound CA replaces the identity key pair");
    let sshkey = format!("/api/v2/servers/{}/sshkey", default_ca.id());
    assert_eq!(stack.call("GET", &sshkey, Some(&token), None).await.status, 404);
    let plain = stack.create_server(&token, "plain").await;
    assert!(plain.body["status"].get("sshInjection").is_none(), "absent unless asked (v1.16.6 bodies)");
    assert_eq!(create("bad", "ca", None).await.status, 422, "ca needs a CA");
    assert_eq!(create("bad", "password", None).await.status, 400);
}

/// Deleting a CA a server uses is Unikorn's 403; a delete racing a create that references the CA
/// never leaves a server bound to a deleted CA.
#[tokio::test]
async fn a_ca_in_use_cannot_be_deleted_even_by_a_racing_delete() {
    let stack = Stack::start().await;
    let token = stack.admin();
    let ca_id = ca(&stack, "ca-a", PROJECT).await;
    let mut body = stack.server_body("web", &stack.network_id);
    body["spec"]["sshCertificateAuthorityId"] = json!(ca_id);
    let server = stack.call("POST", "/api/v2/servers", Some(&token), Some(&body)).await;
    assert_eq!(server.status, 201, "{}", server.body);
    let refused = stack.call("DELETE", &format!("{PATH}/{ca_id}"), Some(&token), None).await;
    assert_eq!(
        (refused.status, refused.description()),
        (403, "SSH certificate authority is in use and cannot be deleted")
    );
    assert_eq!(stack.call("DELETE", &format!("/api/v2/servers/{}", server.id()), Some(&token), None).await.status, 202);
    assert_eq!(
        stack.call("DELETE", &format!("{PATH}/{ca_id}"), Some(&token), None).await.status,
        202,
        "free once its server is gone"
    );

    let mut outcomes = std::collections::BTreeMap::new();
    for round in 0..9 {
        let ca_id = ca(&stack, &format!("race-{round}"), PROJECT).await;
        let mut body = stack.server_body(&format!("race-{round}"), &stack.network_id);
        body["spec"]["sshCertificateAuthorityId"] = json!(ca_id);
        // Round by round the delete lands before the create reads the CA, while the create validates
        // the image at the provider (it has read the CA; its transaction is still to come), or after.
        let (provider_delay, delete_after) = [(0, 0), (300, 100), (0, 1500)][round % 3];
        if provider_delay > 0 {
            stack.emulator.inject(openstack_emulator::Fault::delay("GET", "/image/v2/images/*", provider_delay));
        }
        let create = stack.call("POST", "/api/v2/servers", Some(&token), Some(&body));
        let ca_path = format!("{PATH}/{ca_id}");
        let delete = async {
            tokio::time::sleep(std::time::Duration::from_millis(delete_after)).await;
            stack.call("DELETE", &ca_path, Some(&token), None).await
        };
        let (created, deleted) = futures::future::join(create, delete).await;
        let ca_exists = stack.call("GET", &format!("{PATH}/{ca_id}"), Some(&token), None).await.status == 200;
        if created.status == 201 {
            assert!(
                ca_exists && deleted.status == 403,
                "round {round}: a bound server keeps its CA ({})",
                deleted.status
            );
        } else {
            assert_eq!(created.status, 404, "round {round}: {}", created.body);
            assert!(!ca_exists && deleted.status == 202, "round {round}");
        }
        *outcomes.entry((created.status, deleted.status)).or_insert(0) += 1;
    }
    println!("CA delete racing a server create, (create, delete) outcomes: {outcomes:?}");
    assert!(outcomes.contains_key(&(201, 403)) && outcomes.contains_key(&(404, 202)), "both orders seen: {outcomes:?}");
    assert_eq!(stack.converge(300, 1).await.map(|_| ()), Ok(()));
}

/// Regression (found against real Nova): the bound admitted user data Nova refuses (65,535 base64
/// characters), the CA's merge re-encodes the user's part (40,000 bytes already failed), and Nova's
/// refusal, echoing the whole value, was passed on to the caller.
#[tokio::test]
async fn user_data_is_bounded_by_what_nova_receives_after_the_merge_and_never_echoed() {
    let stack = Stack::start().await;
    let token = stack.admin();
    let ca_id = ca(&stack, "ca-a", PROJECT).await;
    let before = stack.item_count().await;
    let marker = "SECRET-MARKER-";
    let script = |size: usize| format!("#!/bin/sh\n# {}\n", marker.repeat(size / marker.len()));
    let create = |name: &str, ca: Option<&str>, data: String| {
        let mut body = stack.server_body(name, &stack.network_id);
        if let Some(ca) = ca {
            body["spec"]["sshCertificateAuthorityId"] = json!(ca);
        }
        body["spec"]["userData"] = json!(base64::engine::general_purpose::STANDARD.encode(data));
        let (stack, token) = (&stack, token.clone());
        async move { stack.call("POST", "/api/v2/servers", Some(&token), Some(&body)).await }
    };
    // Under the old 64 KiB bound, over what Nova takes.
    let big = create("big", None, script(60_000)).await;
    assert_eq!((big.status, big.error_code()), (422, "unprocessable_content"), "{}", big.body);
    assert!(big.description().starts_with("spec.userData"), "{}", big.description());
    // Within the bound alone, over it once the CA's part is merged (the user's part is re-encoded).
    let merged = create("merged", Some(&ca_id), script(40_000)).await;
    assert_eq!((merged.status, merged.error_code()), (422, "unprocessable_content"), "{}", merged.body);
    assert!(merged.description().contains("merged"), "{}", merged.description());
    for reply in [&big, &merged] {
        assert!(!reply.body.to_string().contains(marker), "the value is never echoed");
    }
    assert_eq!(stack.item_count().await, before, "nothing written");
    assert_eq!(stack.nova_creates(), 0, "nothing reaches Nova");
    // What fits is created, with and without the CA.
    assert_eq!(create("fits", None, script(40_000)).await.status, 201);
    assert_eq!(create("fits-ca", Some(&ca_id), script(30_000)).await.status, 201);
}
