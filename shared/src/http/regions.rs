//! Reading the region routes' requests (the region in the path, the v2 image list's filters) and
//! the cache headers Unikorn gives their answers.

use lambda_http::{Request, RequestExt};

use super::edge::{path_param, shown};
use super::request::{once_each, push_filter};
use crate::error::{Error, Result};
use crate::provider::ImageState;
use crate::regions::is_region_id;
use crate::usecase::regions::{ImageQuery, ImageScope};

/// What changes as the caller's rights or the cloud change: never served from a cache.
pub const NO_CACHE: (&str, &str) = ("cache-control", "no-cache");
/// What Unikorn lets a client keep a day (flavors, v1 images, external networks): its
/// `max-age=86400` and `private`, in one header.
pub const CACHEABLE: (&str, &str) = ("cache-control", "max-age=86400, private");

/// `regionID`: a region id (a Kubernetes name); anything else is a 400, a well-formed id of no
/// region the caller sees a 404 (the use-case's).
pub(crate) fn region_id(req: &Request) -> Result<String> {
    let value = path_param(req, "regionID")?;
    if !is_region_id(&value) {
        return Err(Error::invalid(format!(
            "regionID: '{}' is not a region id (1-63 lower case letters, digits and '-')",
            shown(&value)
        )));
    }
    Ok(value)
}

/// `organizationID` (repeatable), `scope` (`owned` | `available`, once) and `status` (repeatable:
/// `pending`, `creating`, `ready`, `failed`) of `GET /api/v2/regions/{regionID}/images`.
pub fn image_query(req: &Request) -> Result<ImageQuery> {
    once_each(req, &["scope"])?;
    let mut query = ImageQuery::default();
    let mut states = Vec::new();
    for (key, value) in req.query_string_parameters().iter() {
        match key {
            "organizationID" => push_filter(&mut query.organization_ids, key, value)?,
            "scope" => {
                query.scope = Some(match value {
                    "owned" => ImageScope::Owned,
                    "available" => ImageScope::Available,
                    _ => return Err(Error::invalid("scope: must be owned or available")),
                })
            }
            "status" => push_filter(&mut states, key, value)?,
            other => return Err(Error::invalid(format!("{other}: unknown query parameter"))),
        }
    }
    for state in states {
        let parsed = ImageState::parse(&state)
            .ok_or_else(|| Error::invalid("status: each must be pending, creating, ready or failed"))?;
        if !query.states.contains(&parsed) {
            query.states.push(parsed);
        }
    }
    Ok(query)
}
