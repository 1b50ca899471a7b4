//! Tokens for the local stack: registered with the identity emulator's control plane (a real
//! identity issues its own; `IDENTITY_TOKEN` passes one to `make run`).

use serde_json::{json, Value};

/// Registers a token for `sub` holding `acl` at the identity emulator at `identity_url`.
pub async fn register(identity_url: &str, sub: &str, acl: &Value) -> Result<String, String> {
    shared::aws::install_tls_provider();
    let url = format!("{}/_emulator/tokens", identity_url.trim_end_matches('/'));
    let body = json!({"sub": sub, "email": format!("{sub}@example.com"), "acctype": "user", "acl": acl});
    let response = reqwest::Client::new()
        .post(&url)
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("cannot reach the identity emulator at {url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url} answered {} (is IDENTITY_URL the emulator?)", response.status()));
    }
    let answer: Value = response.json().await.map_err(|e| format!("{url}: {e}"))?;
    answer["token"].as_str().map(str::to_owned).ok_or_else(|| format!("{url} returned no token"))
}
