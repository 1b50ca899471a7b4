use integration_tests::stack::*;
use serde_json::Value;

const CONSOLE_OUTPUT: &str = "action os-getConsoleOutput";
const REMOTE_CONSOLE: &str = "POST /compute/v2.1/servers/{id}/remote-consoles";

#[tokio::test]
async fn console_output_and_sessions_take_one_provider_call_each() {
    let stack = Stack::start().await;
    let id = stack.server("web").await;
    let admin = stack.admin();
    let _ = stack.call("GET", &format!("/api/v2/servers/{id}"), Some(&admin), None).await;
    let one = stack.call("GET", &format!("/api/v2/servers/{id}/consoleoutput?length=1"), Some(&admin), None).await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["contents"].as_str().map(|c| c.lines().count()), Some(1));
    assert_eq!(stack.emulator.counter(CONSOLE_OUTPUT), 1);
    let all = stack.call("GET", &format!("/api/v2/servers/{id}/consoleoutput"), Some(&admin), None).await;
    assert!(all.body["contents"].as_str().map(|c| c.lines().count()).unwrap_or(0) >= 2, "{}", all.body);
    assert_eq!(stack.emulator.counter(CONSOLE_OUTPUT), 2);
    let sent =
        stack.emulator.requests().into_iter().filter_map(|r| r.body).filter(|b| b.get("os-getConsoleOutput").is_some());
    let lengths: Vec<Value> = sent.map(|b| b["os-getConsoleOutput"]["length"].clone()).collect();
    assert_eq!(lengths, vec![serde_json::json!(1), Value::Null], "absent length is the provider default");

    let session = stack.call("GET", &format!("/api/v2/servers/{id}/consolesessions"), Some(&admin), None).await;
    assert_eq!(session.status, 200);
    assert!(session.body["url"].as_str().is_some_and(|u| u.contains("vnc_auto.html")), "{}", session.body);
    assert_eq!(stack.emulator.counter(REMOTE_CONSOLE), 1);

    for query in ["length=0", "length=10001", "length=ten", "lines=5"] {
        let reply = stack.call("GET", &format!("/api/v2/servers/{id}/consoleoutput?{query}"), Some(&admin), None).await;
        assert_eq!((reply.status, reply.error_code()), (400, "invalid_request"), "{query}");
    }
    assert_eq!(stack.emulator.counter(CONSOLE_OUTPUT), 2, "bad lengths never reach the provider");
    let reader = stack.token("r", &project_acl(ORG, PROJECT, &[("region:servers", &["read"])]));
    assert_eq!(
        stack.call("GET", &format!("/api/v2/servers/{id}/consolesessions"), Some(&reader), None).await.status,
        200
    );
    let stranger = stack.token("s", &project_acl(ORG, PROJECT_B, &[("region:servers", ALL)]));
    assert_eq!(
        stack.call("GET", &format!("/api/v2/servers/{id}/consoleoutput"), Some(&stranger), None).await.status,
        404
    );
}

#[tokio::test]
async fn the_identity_key_pair_is_registered_attached_and_only_ever_shown_by_sshkey() {
    crate::logs::install();
    let stack = Stack::start().await;
    let admin = stack.admin();
    let created = stack.create_server(&admin, "web").await;
    let id = created.id();

    let registered = stack.emulator.requests().into_iter().find(|r| r.path.ends_with("/os-keypairs"));
    let registered = registered.and_then(|r| r.body).unwrap_or_else(|| panic!("no keypair import at Nova"));
    let public = registered["keypair"]["public_key"].as_str().unwrap_or_default().to_owned();
    assert!(public.starts_with("ssh-ed25519 "), "{public}");
    assert_eq!(registered["keypair"]["name"], format!("unikorn-{REGION}"));
    let nova_create =
        stack.emulator.requests().into_iter().rev().find(|r| r.method == "POST" && r.path.ends_with("/servers"));
    assert_eq!(
        nova_create.and_then(|r| r.body).map(|b| b["server"]["key_name"].clone()),
        Some(format!("unikorn-{REGION}").into())
    );
    assert_eq!(stack.emulator.counter("POST /compute/v2.1/os-keypairs"), 1, "registered once per identity");

    let reply = stack.call("GET", &format!("/api/v2/servers/{id}/sshkey"), Some(&admin), None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
    let private = reply.body["privateKey"].as_str().unwrap_or_default().to_owned();
    let parsed = ssh_key::PrivateKey::from_openssh(&private).unwrap_or_else(|e| panic!("not an OpenSSH key: {e}"));
    assert_eq!(parsed.public_key().to_openssh().ok().as_deref(), Some(public.as_str()), "the pair Nova has");

    // Nowhere else: not in other responses, not in the table in clear, not in the logs.
    let secret_line = private.lines().nth(1).unwrap_or_default().to_owned();
    assert!(secret_line.len() > 20);
    let mut others = vec![created.body.clone()];
    for path in [
        format!("/api/v2/servers/{id}"),
        "/api/v2/servers".to_owned(),
        "/api/v2/networks".to_owned(),
        format!("/api/v2/networks/{}", stack.network_id),
        format!("/api/v2/servers/{id}/consoleoutput"),
        format!("/api/v2/servers/{id}/consolesessions"),
    ] {
        others.push(stack.call("GET", &path, Some(&admin), None).await.body);
    }
    for body in &others {
        let text = body.to_string();
        assert!(!text.contains("PRIVATE KEY") && !text.contains(&secret_line), "a private key leaked: {text}");
    }
    let stored = stack.stored(&format!("KEYPAIR#{REGION}"), "KEYPAIR").await.unwrap_or_default().to_string();
    assert!(stored.contains("sealedPrivateKey") && !stored.contains("PRIVATE KEY") && !stored.contains(&secret_line));
    let logs = crate::logs::text();
    assert!(logs.contains(&id), "the capture works: the server id is logged");
    assert!(!logs.contains(&secret_line) && !logs.contains("PRIVATE KEY"), "a private key reached the logs");

    let reader = stack.token("r", &project_acl(ORG, PROJECT, &[("region:servers", &["read"])]));
    assert_eq!(stack.call("GET", &format!("/api/v2/servers/{id}/sshkey"), Some(&reader), None).await.status, 200);
    let stranger = stack.token("s", &org_acl(ORG_2, &[("region:servers", ALL)]));
    assert_eq!(stack.call("GET", &format!("/api/v2/servers/{id}/sshkey"), Some(&stranger), None).await.status, 404);
}
