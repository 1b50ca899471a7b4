//! Charging a request to its organization's fair-use bucket (`crate::fairuse`): once the
//! organization is known and the caller is allowed there, before anything is written or asked of
//! the provider. A 429 when the bucket is empty; a 503 when the table cannot say.

use std::future::Future;

use super::{Context, Deps};
use crate::error::{Error, Result};
use crate::fairuse::{Admission, Class, Meter};
use crate::rbac::{Operation, Reach, Scope};

/// Charges the request being served to the fair-use bucket of its class in `organization`, the
/// organization it acts in, once the caller is known to be allowed there: 429 over the limit,
/// before anything is written or asked of the provider. Outside a request (cleanup) it is free.
pub(crate) async fn admit<S, P>(deps: &Deps<S, P>, organization: &str) -> Result<()> {
    let Some(meter) = Meter::current().filter(|m| m.first_charge(organization)) else { return Ok(()) };
    let class = meter.class();
    conclude(&meter, organization, class, deps.limiter.admit(organization, class).await)
}

/// [`admit`] in every organization a list reads.
pub(crate) async fn admit_scopes<S, P>(deps: &Deps<S, P>, scopes: &[Scope]) -> Result<()> {
    let mut organizations: Vec<&str> = scopes
        .iter()
        .map(|s| match s {
            Scope::Organization(o) | Scope::Project(o, _) => o.as_str(),
        })
        .collect();
    organizations.sort_unstable();
    organizations.dedup();
    for organization in organizations {
        admit(deps, organization).await?;
    }
    Ok(())
}

/// Loads a record with `load` and charges the request in the record's organization. Where that
/// organization is known before the record is read (the path's, or the only one the caller can
/// read `endpoint` in), the charge is made beside the read, so a warm request waits for one round
/// trip, not two. It counts only if the record turns out to be there: a record elsewhere is
/// charged where it is, and a load that fails (404, 403) gives the token back, at no cost.
pub(crate) async fn charged_beside<S, P, T>(
    deps: &Deps<S, P>,
    cx: &Context,
    endpoint: &str,
    load: impl Future<Output = Result<T>>,
    organization_of: impl Fn(&T) -> &str,
) -> Result<T> {
    let meter = Meter::current();
    let expected = meter.as_ref().and_then(|_| expected_organization(cx, endpoint));
    let (Some(meter), Some(expected)) = (meter, expected) else {
        let record = load.await?;
        admit(deps, organization_of(&record)).await?;
        return Ok(record);
    };
    let class = meter.class();
    let (loaded, early) = tokio::join!(load, deps.limiter.admit(&expected, class));
    match loaded {
        Ok(record) if organization_of(&record) == expected => {
            if meter.first_charge(&expected) {
                conclude(&meter, &expected, class, early)?;
            } else {
                give_back(early).await;
            }
            Ok(record)
        }
        Ok(record) => {
            give_back(early).await;
            admit(deps, organization_of(&record)).await?;
            Ok(record)
        }
        Err(e) => {
            give_back(early).await;
            Err(e)
        }
    }
}

/// The organization a request on `endpoint` will be charged in, when it is known before anything
/// is read: a path-scoped route's, or the only organization the caller can read `endpoint` in.
fn expected_organization(cx: &Context, endpoint: &str) -> Option<String> {
    if let Some(path) = &cx.view.path {
        return Some(path.organization_id.clone());
    }
    let Reach::Scopes(scopes) = cx.caller.acl.reach(endpoint, Operation::Read) else { return None };
    let mut organizations = scopes.iter().map(|s| match s {
        Scope::Organization(o) | Scope::Project(o, _) => o,
    });
    let first = organizations.next()?;
    organizations.all(|o| o == first).then(|| first.clone())
}

/// An admission made early for an organization the request turned out not to act in.
async fn give_back(early: std::result::Result<Option<Admission>, String>) {
    if let Ok(Some(Admission::Admitted(_, ticket))) = early {
        ticket.give_back().await;
    }
}

/// What an admission means for the request: its quota on the meter, or the 429 (or 503).
fn conclude(
    meter: &Meter,
    organization: &str,
    class: Class,
    admission: std::result::Result<Option<Admission>, String>,
) -> Result<()> {
    match admission {
        Ok(None) => Ok(()),
        Ok(Some(Admission::Admitted(quota, ticket))) => {
            meter.record(quota, Some(ticket));
            Ok(())
        }
        Ok(Some(Admission::Refused(quota))) => {
            meter.record(quota, None);
            let after = quota.retry_after.unwrap_or(1);
            tracing::info!(organization, class = class.as_str(), "over the fair-use limit");
            Err(Error::TooManyRequests {
                message: format!(
                    "organization {organization} has used its allowance of {}: retry in {after} s",
                    quota.describe(class)
                ),
                retry_after: std::time::Duration::from_secs(after),
            })
        }
        Err(e) => {
            tracing::error!(error = %e, "the fair-use bucket could not be read");
            Err(Error::Unavailable {
                message: "the request could not be metered: retry".into(),
                retry_after: Some(std::time::Duration::from_secs(1)),
            })
        }
    }
}
