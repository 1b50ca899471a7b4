//! Identity's allocations, in memory: a quota of networks per project, and the allocations held.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::identity::allocations::{AllocationRequest, Allocations};
use crate::identity::IdentityError;

#[derive(Default)]
pub(crate) struct FakeAllocations {
    /// Networks a project may hold (none: unlimited).
    pub quota: Mutex<Option<usize>>,
    /// Held allocations by id: the network each belongs to.
    pub held: Mutex<BTreeMap<String, String>>,
}

impl FakeAllocations {
    pub(crate) fn held(&self) -> Vec<String> {
        self.held.lock().map(|h| h.values().cloned().collect()).unwrap_or_default()
    }
}

#[async_trait]
impl Allocations for FakeAllocations {
    async fn allocate(&self, request: &AllocationRequest) -> Result<String, IdentityError> {
        let mut held = self.held.lock().map_err(|_| IdentityError::Unavailable("poisoned".into()))?;
        let quota = *self.quota.lock().map_err(|_| IdentityError::Unavailable("poisoned".into()))?;
        if let Some(limit) = quota.filter(|l| held.len() + 1 > *l) {
            return Err(IdentityError::Answered {
                status: 403,
                code: Some("forbidden".into()),
                description: format!(
                    "total networks allocation of {} would exceed quota limit of {limit}",
                    held.len() + 1
                ),
            });
        }
        let id = format!("allocation-{}", request.resource_id);
        held.insert(id.clone(), request.resource_id.clone());
        Ok(id)
    }

    async fn free(&self, _: &AllocationRequest, allocation_id: &str) -> Result<(), IdentityError> {
        self.held.lock().map_err(|_| IdentityError::Unavailable("poisoned".into()))?.remove(allocation_id);
        Ok(())
    }
}
