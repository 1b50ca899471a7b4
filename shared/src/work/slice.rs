//! One slice of a fanned-out sweep, as the queue carries it: a few projects of one region, each
//! with its records' ids and (where the planner listed the region at once) what the listing found
//! there. The planner cuts a sweep into slices; a worker leases one and matches it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::provider::ProjectListing;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepSlice {
    /// The sweep it belongs to (one per schedule tick) and its number in it: its lease's key.
    pub sweep: String,
    pub slice: u32,
    pub region: String,
    /// When the planner listed the provider: a slice is only worked while that listing is fresh.
    pub listed_at: DateTime<Utc>,
    pub projects: Vec<SliceProject>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SliceProject {
    /// The provider project; `None` for the region's own.
    pub project: Option<String>,
    /// The ids of its records; `None` when there were too many to carry (the worker reads them).
    pub records: Option<Vec<String>>,
    /// What the planner's region-wide listing found there; `None`: the worker lists it itself.
    pub listing: Option<ProjectListing>,
}
