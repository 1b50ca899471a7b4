//! Deployed functions read the provider identities and the sealing key from Secrets Manager once per
//! container (moto serves that API too).

use integration_tests::stack::{dynamodb_endpoint, TEST_KEY_ENCRYPTION_KEY};
use shared::context::read_secret;
use shared::identities::Identities;
use shared::sealing::Sealer;

#[tokio::test]
async fn identities_and_the_sealing_key_come_from_secrets_manager() {
    let sdk = shared::aws::Sdk::from_env().unwrap_or_else(|e| panic!("{e}"));
    let client = sdk.secrets_manager(Some(&dynamodb_endpoint()));
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let identities_name = format!("region-servers/provider-identities-{suffix}");
    let key_name = format!("region-servers/key-encryption-key-{suffix}");
    let identities = r#"[{"id": "i1", "regionId": "r1", "organizationId": "o", "projectId": "p",
        "authUrl": "http://keystone/v3", "applicationCredentialId": "c", "applicationCredentialSecret": "s"}]"#;
    for (name, value) in [(&identities_name, identities), (&key_name, TEST_KEY_ENCRYPTION_KEY)] {
        client.create_secret().name(name).secret_string(value).send().await.unwrap_or_else(|e| panic!("{e:?}"));
    }
    let loaded = Identities::from_json(&read_secret(&client, &identities_name).await.unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.find("r1", "o", "p").map(|i| i.id.clone()).as_deref(), Some("i1"));
    let sealer = Sealer::from_base64(&read_secret(&client, &key_name).await.unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let sealed = sealer.seal(b"k", "i1").unwrap_or_default();
    assert_eq!(sealer.open(&sealed, "i1").ok().as_deref(), Some(&b"k"[..]));
    let missing = read_secret(&client, "region-servers/does-not-exist").await.expect_err("missing secret");
    assert!(missing.to_string().contains("does-not-exist"), "{missing}");
}
