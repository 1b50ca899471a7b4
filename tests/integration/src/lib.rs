//! Helpers shared by the integration test binaries: where the reference samples and the
//! project's virtualenv are, how to reach the emulator as a provider, and a whole local stack.

pub mod calls;
pub mod invariants;
pub mod neutron;
pub mod records;
pub mod samples;
pub mod stack;
pub mod sweeps;

use std::path::PathBuf;
use std::time::Duration;

use openstack_emulator::{seed, Emulator};
use shared::provider::openstack::{OpenStackConfig, OpenStackProvider};
use shared::provider::{CredentialScope, ProviderCredential};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared/reference` beside the repository (CI lays a copy there), or `$REFERENCE_DIR`.
pub fn reference_dir() -> PathBuf {
    std::env::var_os("REFERENCE_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("../shared/reference"))
}

/// Reads one official OpenStack sample as JSON; a missing sample fails the test loudly.
pub fn sample(relative: &str) -> serde_json::Value {
    let path = reference_dir().join("openstack").join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read sample {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("sample {} is not JSON: {e}", path.display()))
}

/// An action's outcome as `(command, status, error code)`: what the capacity tests compare.
pub type Outcome = (String, String, String);

/// The outcomes of a server's actions as its `actions` route lists them (newest first), oldest first.
pub fn action_outcomes(actions: &[serde_json::Value]) -> Vec<Outcome> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    actions.iter().rev().map(|a| (text(&a["command"]), text(&a["status"]), text(&a["error"]["code"]))).collect()
}

/// The outcome an action is expected to have (`code` empty: no error).
pub fn outcome(command: &str, status: &str, code: &str) -> Outcome {
    (command.to_owned(), status.to_owned(), code.to_owned())
}

/// The project virtualenv's Python (made by `scripts/venv.sh`), or `$VENV_PYTHON`.
pub fn venv_python() -> PathBuf {
    std::env::var_os("VENV_PYTHON").map(PathBuf::from).unwrap_or_else(|| repo_root().join(".venv/bin/python"))
}

/// The region's credential: its user, scoped to its own project (the emulator's demo project).
pub fn demo_credential(emulator: &Emulator) -> ProviderCredential {
    ProviderCredential {
        auth_url: emulator.auth_url(),
        user_id: seed::REGION_USER_ID.into(),
        password: seed::REGION_PASSWORD.into(),
        scope: CredentialScope::Project(seed::DEMO_PROJECT_ID.into()),
    }
}

/// A user of another project, which sees none of the region's objects.
pub fn other_credential(emulator: &Emulator) -> ProviderCredential {
    ProviderCredential {
        auth_url: emulator.auth_url(),
        user_id: seed::OTHER_USER_ID.into(),
        password: seed::OTHER_PASSWORD.into(),
        scope: CredentialScope::Project(seed::OTHER_PROJECT_ID.into()),
    }
}

pub fn provider_with_timeout(timeout: Duration) -> OpenStackProvider {
    OpenStackProvider::new(OpenStackConfig { timeout, ..OpenStackConfig::default() })
        .unwrap_or_else(|e| panic!("provider: {e}"))
}

/// A raw Keystone token of the region's user in its project (what the product acts as), for
/// calling the emulator directly: key pairs, which Nova keeps per user, read back as the product
/// made them.
pub async fn raw_token(emulator: &Emulator) -> String {
    let body = serde_json::json!({"auth": {"identity": {"methods": ["password"], "password": {"user":
        {"id": seed::REGION_USER_ID, "password": seed::REGION_PASSWORD}}},
        "scope": {"project": {"id": seed::DEMO_PROJECT_ID}}}});
    token_for(emulator, body).await
}

/// A Keystone token of one application credential's project.
pub async fn raw_token_of(emulator: &Emulator, id: &str, secret: &str) -> String {
    let body = serde_json::json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": {"id": id, "secret": secret}}}});
    token_for(emulator, body).await
}

async fn token_for(emulator: &Emulator, body: serde_json::Value) -> String {
    let response = reqwest::Client::new()
        .post(format!("{}/auth/tokens", emulator.auth_url()))
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("keystone: {e}"));
    assert_eq!(response.status().as_u16(), 201);
    response.headers()["x-subject-token"].to_str().unwrap_or_default().to_owned()
}
