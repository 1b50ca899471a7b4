//! The identity emulator answers as identity's OpenAPI document says (discovery, userinfo, both
//! ACL routes, their 401s), checked with openapi-core against `identity.spec.yaml`.

use identity_emulator::IdentityEmulator;
use integration_tests::{reference_dir, repo_root};
use serde_json::{json, Value};

#[tokio::test]
async fn the_identity_emulator_answers_as_identitys_document_says() {
    shared::aws::install_tls_provider();
    let identity = IdentityEmulator::start_local().await.unwrap_or_else(|e| panic!("{e}"));
    let acl = json!({
        "global": [{"name": "region:images", "operations": ["read"]}],
        "organizations": [{"id": "o1", "endpoints": [{"name": "region:servers", "operations": ["read"]}],
            "projects": [{"id": "p1", "endpoints": [{"name": "region:servers", "operations": ["create"]}]}]}]});
    let token = identity.token("alice", &acl);
    let http = reqwest::Client::new();
    let mut exchanges = Vec::new();
    let calls = [
        ("/.well-known/openid-configuration", None),
        ("/oauth2/v2/userinfo", Some(token.as_str())),
        ("/oauth2/v2/userinfo", Some("not-a-token")),
        ("/api/v1/acl", Some(token.as_str())),
        ("/api/v1/acl", Some("not-a-token")),
        ("/api/v1/organizations/o1/acl", Some(token.as_str())),
        ("/api/v1/organizations/o2/acl", Some(token.as_str())),
        ("/api/v1/organizations/o1/acl", None),
    ];
    for (path, bearer) in calls {
        let mut request = http.get(format!("{}{path}", identity.url));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        exchanges.push(json!({"method": "GET", "path": path, "status": status, "body": body}));
    }
    assert_eq!(exchanges[1]["body"]["sub"], "alice");
    assert_eq!(exchanges[5]["body"]["organization"]["id"], "o1", "{}", exchanges[5]["body"]);
    assert_eq!(exchanges[5]["body"]["projects"][0]["id"], "p1", "{}", exchanges[5]["body"]);
    let file = std::env::temp_dir().join(format!("identity-exchanges-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, serde_json::to_string(&exchanges).unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
    let python = std::env::var_os("API_VENV_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv-api/bin/python"));
    let output = std::process::Command::new(&python)
        .arg(repo_root().join("tests/conformance/identity.py"))
        .arg(reference_dir().join("unikorn/identity.spec.yaml"))
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (make test creates .venv-api)", python.display()));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    println!("{text}{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the emulator answers outside identity's document:\n{text}");
    assert!(text.contains("8 of 8 answers conform"), "{text}");
}
