use std::collections::BTreeMap;

use super::intent::{self, Answer, Steps, Subject};
use super::outcomes::action_error;
use super::steps::actionable;
use super::Context;
use super::{load_server, translate, Deps};
use crate::crash;
use crate::domain::catalog::{describe, OfferedImage, IMAGE_ORGANIZATION_TAG, IMAGE_SOURCE_TAG, SOURCE_SNAPSHOT};
use crate::domain::catalog::{CREATED_BY, DESCRIPTION, ORGANIZATION, PACKAGE, TAG};
use crate::domain::{ActionRecord, ActionRef, Command};
use crate::domain::{Description, ResourceName, Tags};
use crate::domain::{RequestKey, ServerRecord};
use crate::error::{Error, Result};
use crate::provider::Image;
use crate::provider::{Compute, ImageListing, Images, Networking, ProviderCredential, ProviderError};
use crate::rbac::{Operation, IMAGES};
use crate::store::{CatalogStore, ServerStore};

pub const META_SOURCE_SERVER: &str = "unikorn:source:server:id";
pub const META_SOURCE_IMAGE: &str = "unikorn:source:image:id";
/// A keyed snapshot's `Idempotency-Key` and body digests: a retry finds the image by them.
pub const META_REQUEST_KEY: &str = "unikorn:request:key";
pub const META_REQUEST_BODY: &str = "unikorn:request:body";

/// Source-image properties a snapshot inherits, as Unikorn's do: what the image is (OS, packages,
/// GPU, architecture, virtualization, how the hypervisor boots it), not who owns it or its signature.
fn inherited(key: &str) -> bool {
    key.starts_with("unikorn:os:")
        || key.starts_with(PACKAGE)
        || key.starts_with("unikorn:gpu_")
        || key.starts_with("hw_")
        || key == "unikorn:virtualization"
        || key == "architecture"
}

/// The image an earlier attempt with the same `Idempotency-Key` made (its answer was lost), so a
/// retry never makes a second one; the same key with another body is 422.
async fn earlier_image<S, P: Images>(
    deps: &Deps<S, P>,
    cred: &ProviderCredential,
    key: &RequestKey,
) -> Result<Option<Image>> {
    let Some(image) = deps.provider.find_image(cred, META_REQUEST_KEY, &key.key).await? else { return Ok(None) };
    if image.properties.get(META_REQUEST_BODY) != Some(&key.body) {
        return Err(Error::unprocessable(
            "Idempotency-Key: this key was used with a different request body; use a new key",
        ));
    }
    Ok(Some(image))
}

/// The snapshot's image properties: what it inherits from the source image, its provenance, its
/// description and tags, and a keyed request's key and body digests.
fn properties(
    record: &ServerRecord,
    source: Option<&Image>,
    input: &SnapshotInput,
    subject: &str,
    request_key: Option<&RequestKey>,
) -> BTreeMap<String, String> {
    let mut metadata: BTreeMap<String, String> = source
        .into_iter()
        .flat_map(|image| image.properties.iter())
        .filter(|(key, _)| inherited(key))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    metadata.insert(ORGANIZATION.into(), record.organization_id.clone());
    metadata.insert(META_SOURCE_SERVER.into(), record.id.clone());
    metadata.insert(META_SOURCE_IMAGE.into(), record.image_id.clone());
    metadata.insert(CREATED_BY.into(), subject.to_owned());
    if let Some(description) = &input.description {
        metadata.insert(DESCRIPTION.into(), description.0.clone());
    }
    for tag in &input.tags.0 {
        metadata.insert(format!("{TAG}{}", tag.name), tag.value.clone());
    }
    // Provenance, as Unikorn tags it: these two win over a caller's tags of the same names.
    metadata.insert(format!("{TAG}{IMAGE_SOURCE_TAG}"), SOURCE_SNAPSHOT.into());
    metadata.insert(format!("{TAG}{IMAGE_ORGANIZATION_TAG}"), record.organization_id.clone());
    if let Some(key) = request_key {
        metadata.insert(META_REQUEST_KEY.into(), key.key.clone());
        metadata.insert(META_REQUEST_BODY.into(), key.body.clone());
    }
    metadata
}

pub struct SnapshotInput {
    pub name: ResourceName,
    pub description: Option<Description>,
    pub tags: Tags,
}

/// The permission bridge: the caller must see the server (404/403 as for get) and hold
/// `region:images` create at organization scope, both checked before any provider call.
pub async fn snapshot<S: ServerStore + CatalogStore, P: Compute + Images + Networking>(
    deps: &Deps<S, P>,
    cx: &Context,
    id: &str,
    input: SnapshotInput,
    request_key: Option<RequestKey>,
) -> Result<OfferedImage> {
    let record = load_server(deps, cx, id, Operation::Read).await?;
    cx.caller.acl.require(&record.organization_id, None, IMAGES, Operation::Create)?;
    let (record, pid) = actionable(deps, record, "snapshotted").await?;
    let cred = super::server_credential(deps, &record)?;
    if let Some(key) = &request_key {
        if let Some(earlier) = earlier_image(deps, &cred, key).await? {
            if earlier.visibility.as_deref() != Some("public") {
                publish(deps, &cred, &record.region_id, &earlier.id).await;
            }
            return Ok(describe(earlier));
        }
    }
    let source = match deps.provider.get_image(&cred, &record.image_id).await {
        Ok(image) => Some(image),
        Err(ProviderError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let metadata = properties(&record, source.as_ref(), &input, &cx.caller.subject, request_key.as_ref());
    // The action is the intent: recorded before the provider is asked, it ends when Nova accepts
    // (the image's own status tells when it is ready) or refuses. Left running by a crash or an
    // answer that never came, it reads as timed out, and a keyed retry finds the image by its key.
    let mut action =
        ActionRecord::of(&record, &ActionRef::start(Command::CreateImage, &cx.caller.subject, deps.clock.now()));
    deps.store.record_action(&action).await?;
    let steps = Steps { after_intent: crash::SNAPSHOT_AFTER_INTENT, after_provider: crash::SNAPSHOT_AFTER_PROVIDER };
    // The request id goes on the action with its end (one write), not in a write of its own.
    let subject = Subject { server_id: &record.id, action: None, version: None };
    let call = async {
        let (image_id, receipt) = deps.provider.create_image(&cred, &pid, input.name.as_str(), &metadata).await?;
        Ok(((image_id, receipt.clone()), receipt))
    };
    let image_id = match intent::enact(deps, steps, subject, call).await {
        Answer::Accepted((image_id, receipt)) => {
            action.action.finish(deps.clock.now(), Ok(()));
            action.provider_request_id = receipt.request_id;
            image_id
        }
        Answer::Unknown(e) => return Err(translate(e, id, &pid, "snapshotted")),
        Answer::Refused(e) => {
            action.action.finish(deps.clock.now(), Err(action_error(&e)));
            finish(deps, &action).await;
            return Err(translate(e, id, &pid, "snapshotted"));
        }
    };
    finish(deps, &action).await;
    tracing::info!(image_id = %image_id, "snapshot requested");
    publish(deps, &cred, &record.region_id, &image_id).await;
    Ok(describe(deps.provider.get_image(&cred, &image_id).await?))
}

/// Makes the snapshot public, as Unikorn does, so the region's public listing offers it to its
/// organization (the catalogue keeps it from every other one), and has the next read fetch the
/// images afresh. A publish that fails leaves a private snapshot, which the cleanup function's
/// image refresh finds by its provenance tag and publishes.
async fn publish<S: CatalogStore, P: Images>(deps: &Deps<S, P>, cred: &ProviderCredential, region: &str, id: &str) {
    if let Err(e) = deps.provider.publish_image(cred, id).await {
        tracing::warn!(image_id = id, error = %e, "the snapshot is not public yet: the cleanup function publishes it");
    }
    super::catalog::images_changed(deps, region).await;
}

/// Writes the action's end; a write that fails leaves it running, and it reads as timed out.
async fn finish<S: ServerStore, P>(deps: &Deps<S, P>, action: &ActionRecord) {
    if let Err(e) = deps.store.record_action(action).await {
        tracing::info!(error = %e, action_id = %action.action.id, "snapshot action not completed; it reads as timed out");
    }
}

/// Publishes the region's snapshots a failed or interrupted publish left private (found by the
/// provenance tag every snapshot carries); the cleanup function runs it before it refreshes the
/// region's images. Returns how many it published.
pub(crate) async fn publish_stranded<S: CatalogStore, P: Images>(deps: &Deps<S, P>, region: &str) -> Result<usize> {
    let cred = super::credential(deps, region)?;
    let tag = format!("{TAG}{IMAGE_SOURCE_TAG}");
    let listing = ImageListing { public: false, property: Some((&tag, SOURCE_SNAPSHOT)) };
    let stranded = deps.provider.list_images(&cred, &listing).await?;
    for image in &stranded {
        deps.provider.publish_image(&cred, &image.id).await?;
        tracing::info!(image_id = %image.id, "published a snapshot left private");
    }
    Ok(stranded.len())
}
