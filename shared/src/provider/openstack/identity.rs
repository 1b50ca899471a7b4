//! Keystone sessions: one token per credential, shared across warm invocations, refreshed before
//! it expires and once when a service answers 401.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::errors::{status_error, transport_error};
use super::wire::{AuthRequest, TokenResponse};
use crate::provider::{CredentialScope, ProviderCredential};
use crate::provider::{ProviderError, Result};

#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub compute_url: String,
    pub image_url: String,
    /// Neutron's root; a catalog without one fails only the calls that need it.
    pub network_url: Option<String>,
    /// Keystone v3, as the credential names it.
    pub identity_url: String,
    /// Cinder's root, where the catalog has block storage (many small clouds do not).
    pub volume_url: Option<String>,
    /// The project the token is scoped to, where Keystone says.
    pub project_id: Option<String>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Session>>>;

/// Per-credential slots; the async lock on a slot makes concurrent callers wait for one Keystone
/// request instead of each fetching a token.
#[derive(Default)]
pub struct SessionCache {
    slots: Mutex<HashMap<(String, String, CredentialScope), Slot>>,
}

impl SessionCache {
    fn slot(&self, cred: &ProviderCredential) -> Slot {
        let key = (cred.auth_url.clone(), cred.user_id.clone(), cred.scope.clone());
        // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(key).or_default().clone()
    }

    /// A valid session, authenticating when there is none, it expires within `margin`, or it is
    /// the `stale` token a service just rejected.
    pub async fn get(
        &self,
        http: &reqwest::Client,
        cred: &ProviderCredential,
        margin: Duration,
        stale: Option<&str>,
    ) -> Result<Session> {
        let slot = self.slot(cred);
        let mut guard = slot.lock().await;
        if let Some(session) = guard.as_ref() {
            let fresh = session.expires_at - chrono::Duration::from_std(margin).unwrap_or_default() > Utc::now();
            if fresh && stale != Some(session.token.as_str()) {
                return Ok(session.clone());
            }
        }
        let session = authenticate(http, cred).await?;
        *guard = Some(session.clone());
        Ok(session)
    }
}

async fn authenticate(http: &reqwest::Client, cred: &ProviderCredential) -> Result<Session> {
    let url = format!("{}/auth/tokens", cred.auth_url.trim_end_matches('/'));
    let body = AuthRequest::password(cred);
    let response = http.post(&url).json(&body).send().await.map_err(|e| transport_error("identity", &e))?;
    let status = response.status().as_u16();
    if status == 401 || status == 403 || status == 404 {
        return Err(ProviderError::Unauthorized(format!(
            "keystone rejected the credential of user {} ({status})",
            cred.user_id
        )));
    }
    if status != 201 && status != 200 {
        return Err(status_error(status, "identity service", &[]));
    }
    let token = response
        .headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| ProviderError::unavailable("keystone answered without X-Subject-Token"))?;
    let bytes = response.bytes().await.map_err(|e| transport_error("identity", &e))?;
    let parsed: TokenResponse = serde_json::from_slice(&bytes)
        .map_err(|e| ProviderError::unavailable(format!("unreadable keystone token body: {e}")))?;
    let expires_at = DateTime::parse_from_rfc3339(&parsed.token.expires_at)
        .map_err(|e| ProviderError::unavailable(format!("unreadable token expiry: {e}")))?
        .with_timezone(&Utc);
    let endpoint = |kind: &str| {
        parsed
            .token
            .catalog
            .iter()
            .filter(|entry| entry.service_type == kind)
            .flat_map(|entry| entry.endpoints.iter())
            .find(|ep| ep.interface == "public")
            .map(|ep| ep.url.trim_end_matches('/').to_owned())
            .ok_or_else(|| ProviderError::failed(format!("the provider catalog has no public {kind} endpoint")))
    };
    let network_url = endpoint("network").ok();
    let volume_url = endpoint("block-storage").or_else(|_| endpoint("volumev3")).ok();
    Ok(Session {
        token,
        expires_at,
        compute_url: endpoint("compute")?,
        image_url: endpoint("image")?,
        network_url,
        identity_url: cred.auth_url.trim_end_matches('/').to_owned(),
        volume_url,
        project_id: parsed.token.project.map(|p| p.id),
    })
}
