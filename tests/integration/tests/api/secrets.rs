//! Deployed functions read each region's credential and the sealing key from Secrets Manager once
//! per container (moto serves that API too).

use integration_tests::stack::{dynamodb_endpoint, TEST_KEY_ENCRYPTION_KEY};
use shared::context::{read_secret, with_credentials};
use shared::provider::CredentialScope;
use shared::regions::Regions;
use shared::sealing::Sealer;

#[tokio::test]
async fn region_credentials_and_the_sealing_key_come_from_secrets_manager() {
    let sdk = shared::aws::Sdk::from_env().unwrap_or_else(|e| panic!("{e}"));
    let client = sdk.secrets_manager(Some(&dynamodb_endpoint()));
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let region_secret = format!("region-servers/region-r1-{suffix}");
    let key_name = format!("region-servers/key-encryption-key-{suffix}");
    let credential = r#"{"domain-id": "d", "user-id": "u", "password": "p4ss", "project-id": "p"}"#;
    for (name, value) in [(&region_secret, credential), (&key_name, TEST_KEY_ENCRYPTION_KEY)] {
        client.create_secret().name(name).secret_string(value).send().await.unwrap_or_else(|e| panic!("{e:?}"));
    }
    let document = format!(
        r#"{{"regions": [{{"id": "r1", "name": "r1", "type": "openstack",
            "openstack": {{"endpoint": "http://keystone/v3", "serviceAccountSecret": "{region_secret}"}}}}]}}"#
    );
    let regions = Regions::parse(&document).unwrap_or_else(|e| panic!("{e}"));
    assert!(regions.project_credential("r1").is_err(), "no credential before the secret is read");
    let regions = with_credentials(regions, &client).await.unwrap_or_else(|e| panic!("{e}"));
    let cred = regions.project_credential("r1").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((cred.user_id.as_str(), cred.password.as_str()), ("u", "p4ss"));
    assert_eq!(cred.scope, CredentialScope::Project("p".into()));
    let sealer = Sealer::from_base64(&read_secret(&client, &key_name).await.unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let sealed = sealer.seal(b"k", "i1").unwrap_or_default();
    assert_eq!(sealer.open(&sealed, "i1").ok().as_deref(), Some(&b"k"[..]));
    let missing = read_secret(&client, "region-servers/does-not-exist").await.expect_err("missing secret");
    assert!(missing.to_string().contains("does-not-exist"), "{missing}");
    // A region whose secret is missing stops the function from starting, naming the secret.
    let lost = document.replace(&region_secret, "region-servers/gone");
    let refused = with_credentials(Regions::parse(&lost).unwrap_or_default(), &client).await.expect_err("missing");
    assert!(refused.to_string().contains("region-servers/gone"), "{refused}");
}
