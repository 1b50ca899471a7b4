use std::collections::BTreeMap;

use super::errors::action_error;
use super::steps::actionable;
use super::{load_server, translate, Deps, View};
use crate::domain::{ActionRecord, ActionRef, Command};
use crate::domain::{Description, ResourceName, Tags};
use crate::error::Result;
use crate::provider::Image;
use crate::provider::{Compute, Images, ProviderError};
use crate::rbac::{Caller, Operation, IMAGES};
use crate::store::ServerStore;

pub const META_IMAGE_ORGANIZATION: &str = "unikorn:organization:id";
pub const META_SOURCE_SERVER: &str = "unikorn:source:server:id";
pub const META_SOURCE_IMAGE: &str = "unikorn:source:image:id";
pub const META_CREATED_BY: &str = "unikorn:created_by";
pub const META_DESCRIPTION: &str = "unikorn:description";
const TAG_PREFIX: &str = "unikorn:tag:";

/// Source-image properties a snapshot inherits: what the image is, not who owns it.
fn inherited(key: &str) -> bool {
    key.starts_with("unikorn:os:")
        || key.starts_with("unikorn:package:")
        || key.starts_with("unikorn:gpu_")
        || key == "unikorn:virtualization"
}

pub struct SnapshotInput {
    pub name: ResourceName,
    pub description: Option<Description>,
    pub tags: Tags,
}

/// The permission bridge: the caller must see the server (404/403 as for get) and hold
/// `region:images` create at organization scope, both checked before any provider call.
pub async fn snapshot<S: ServerStore, P: Compute + Images>(
    deps: &Deps<S, P>,
    caller: &Caller,
    view: &View,
    id: &str,
    input: SnapshotInput,
) -> Result<Image> {
    let record = load_server(deps, caller, view, id, Operation::Read).await?;
    caller.acl.require(&record.organization_id, None, IMAGES, Operation::Create)?;
    let (record, pid) = actionable(deps, record, "snapshotted").await?;
    let cred = deps.identities.credential(&record.identity_id)?;
    let source = match deps.provider.get_image(&cred, &record.image_id).await {
        Ok(image) => Some(image),
        Err(ProviderError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let mut metadata: BTreeMap<String, String> = source
        .iter()
        .flat_map(|image| image.properties.iter())
        .filter(|(key, _)| inherited(key))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    metadata.insert(META_IMAGE_ORGANIZATION.into(), record.organization_id.clone());
    metadata.insert(META_SOURCE_SERVER.into(), record.id.clone());
    metadata.insert(META_SOURCE_IMAGE.into(), record.image_id.clone());
    metadata.insert(META_CREATED_BY.into(), caller.subject.clone());
    if let Some(description) = &input.description {
        metadata.insert(META_DESCRIPTION.into(), description.0.clone());
    }
    for tag in &input.tags.0 {
        metadata.insert(format!("{TAG_PREFIX}{}", tag.name), tag.value.clone());
    }
    // Recorded before the provider is asked; it ends when Nova accepts (the image's own status
    // tells when it is ready) or refuses. Left running by a crash, it reads as timed out.
    let mut action =
        ActionRecord::of(&record, &ActionRef::start(Command::CreateImage, &caller.subject, deps.clock.now()));
    deps.store.record_action(&action).await?;
    let asked = deps.provider.create_image(&cred, &pid, input.name.as_str(), &metadata).await;
    action.action.finish(deps.clock.now(), asked.as_ref().map(|_| ()).map_err(action_error));
    action.provider_request_id = asked.as_ref().ok().and_then(|(_, receipt)| receipt.request_id.clone());
    if let Err(e) = deps.store.record_action(&action).await {
        tracing::warn!(error = %e, action_id = %action.action.id, "snapshot action not completed; it reads as timed out");
    }
    let (image_id, _) = asked.map_err(|e| translate(e, id, "snapshotted"))?;
    tracing::info!(image_id = %image_id, "snapshot requested");
    Ok(deps.provider.get_image(&cred, &image_id).await?)
}
