//! Quota allocations in identity (`POST`/`DELETE /api/v1/organizations/{org}/projects/{project}/
//! allocations[/{id}]`), as Unikorn's region makes one per v2 network: the platform calls as itself
//! (its client certificate opens the connection, as for a service's ACL) on behalf of the
//! principal in `X-Principal`. Identity's refusal (403 "total networks allocation of 3 would exceed
//! quota limit of 2") is passed on unchanged.

use async_trait::async_trait;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::json;

use super::client::{read, refusal, transport, HttpIdentity};
use super::IdentityError;
use crate::error::Error;
use crate::text::percent_encode;

/// Unikorn's kind for what a network allocation belongs to, and the quota it counts against.
pub const NETWORK_KIND: &str = "networks.region.unikorn-cloud.org";
pub const NETWORKS: &str = "networks";

/// One allocation: whose scope it counts in, on whose behalf, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationRequest {
    pub organization_id: String,
    pub project_id: String,
    /// The subject the allocation is made for (identity's audit names it).
    pub actor: String,
    /// The resource it belongs to: its kind and id.
    pub kind: &'static str,
    pub resource_id: String,
    /// The quota it counts against, and how much it holds.
    pub quota: &'static str,
    pub committed: u32,
}

impl AllocationRequest {
    /// What a network holds: one of its project's `networks`.
    pub fn network(organization_id: &str, project_id: &str, actor: &str, network_id: &str) -> Self {
        AllocationRequest {
            organization_id: organization_id.into(),
            project_id: project_id.into(),
            actor: actor.into(),
            kind: NETWORK_KIND,
            resource_id: network_id.into(),
            quota: NETWORKS,
            committed: 1,
        }
    }

    /// The principal identity acts for (Unikorn's `X-Principal`: base64url JSON).
    fn principal(&self) -> String {
        let value = json!({"organizationId": self.organization_id, "projectId": self.project_id, "actor": self.actor});
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    }
}

/// Identity's allocations, as the use-cases need them.
#[async_trait]
pub trait Allocations: Send + Sync {
    /// Makes the allocation and answers its id.
    async fn allocate(&self, request: &AllocationRequest) -> Result<String, IdentityError>;
    /// Frees it; one identity no longer knows is freed.
    async fn free(&self, request: &AllocationRequest, allocation_id: &str) -> Result<(), IdentityError>;
}

/// What a caller is told when an allocation could not be made or freed: identity's refusal as it
/// gave it, anything else the identity service being unavailable.
pub fn told(e: IdentityError) -> Error {
    match e {
        IdentityError::Answered { status, code, description } => Error::passed_on(status, code.as_deref(), description),
        IdentityError::Refused => {
            tracing::error!("identity refused the platform's own credential for an allocation");
            Error::unavailable("the identity service is unavailable")
        }
        IdentityError::Unavailable(why) | IdentityError::Unreadable(why) => {
            tracing::warn!(cause = %why, "identity allocation failed");
            Error::unavailable("the identity service is unavailable")
        }
    }
}

impl HttpIdentity {
    fn allocations_url(&self, request: &AllocationRequest) -> String {
        format!(
            "{}/api/v1/organizations/{}/projects/{}/allocations",
            self.base(),
            percent_encode(&request.organization_id),
            percent_encode(&request.project_id)
        )
    }
}

#[async_trait]
impl Allocations for HttpIdentity {
    async fn allocate(&self, request: &AllocationRequest) -> Result<String, IdentityError> {
        let body = json!({
            "metadata": {"name": "undefined"},
            "spec": {
                "kind": request.kind,
                "id": request.resource_id,
                "allocations": [{"kind": request.quota, "committed": request.committed, "reserved": 0}],
            },
        });
        let response = self
            .http()?
            .post(self.allocations_url(request))
            .header("x-principal", request.principal())
            .json(&body)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let body = read(response).await?;
        if status != StatusCode::CREATED && status != StatusCode::OK {
            return Err(refusal(status, &body));
        }
        let read: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| IdentityError::Unreadable(format!("allocation: {e}")))?;
        read["metadata"]["id"]
            .as_str()
            .filter(|id| !id.is_empty() && id.len() <= 255)
            .map(str::to_owned)
            .ok_or_else(|| IdentityError::Unreadable("the allocation has no id".into()))
    }

    async fn free(&self, request: &AllocationRequest, allocation_id: &str) -> Result<(), IdentityError> {
        let url = format!("{}/{}", self.allocations_url(request), percent_encode(allocation_id));
        let response =
            self.http()?.delete(url).header("x-principal", request.principal()).send().await.map_err(transport)?;
        let status = response.status();
        let body = read(response).await?;
        match status {
            s if s.is_success() || s == StatusCode::NOT_FOUND => Ok(()),
            s => Err(refusal(s, &body)),
        }
    }
}

/// Where no identity is reachable from the function (it makes no network): any use is a fault of
/// the deployment, told as identity being unavailable.
pub struct NoAllocations;

#[async_trait]
impl Allocations for NoAllocations {
    async fn allocate(&self, _: &AllocationRequest) -> Result<String, IdentityError> {
        Err(IdentityError::Unavailable("IDENTITY_URL is not configured for this function".into()))
    }
    async fn free(&self, _: &AllocationRequest, _: &str) -> Result<(), IdentityError> {
        Err(IdentityError::Unavailable("IDENTITY_URL is not configured for this function".into()))
    }
}
