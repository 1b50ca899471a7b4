//! The regions' image catalogues, refreshed ahead of every reader (as Unikorn's image cache re-lists
//! Glance every minute), after the snapshots a failed publish left private are made public.

use std::time::Instant;

use super::{Maintained, Report};
use crate::provider::Images;
use crate::usecase::Deps;

/// Publishes each OpenStack region's stranded snapshots, then lists its images again for every
/// container; a region whose provider does not answer keeps its last copy.
pub(super) async fn refresh<S: Maintained, P: Images>(deps: &Deps<S, P>, deadline: Instant, report: &mut Report) {
    for region in deps.regions.all().filter(|r| r.openstack.is_some()) {
        if Instant::now() >= deadline {
            return;
        }
        match crate::usecase::snapshot::publish_stranded(deps, &region.id).await {
            Ok(published) => report.snapshots_published += published,
            Err(e) => report.failures.push(format!("region {} snapshots: {e}", region.id)),
        }
        match crate::usecase::catalog::refresh_images(deps, &region.id).await {
            Ok(_) => report.image_catalogues_refreshed += 1,
            Err(e) => report.failures.push(format!("region {} images: {e}", region.id)),
        }
    }
}
