//! Network references (Unikorn's `PUT|DELETE /api/v2/networks/{id}/references/{reference}`):
//! another service's lock on a network, which refuses the network's delete while it is held.

use super::{load, not_found};
use crate::domain::MAX_REFERENCES;
use crate::error::{Error, Result};
use crate::rbac::{Operation, NETWORK_REFERENCES};
use crate::store::{NetworkStore, ProvisionStore, StoreError};
use crate::usecase::{Context, Deps};

/// A reference is a Kubernetes finalizer name in Unikorn (`<plural>.<group>/<id>`): at most 253
/// characters of lower-case letters, digits, `-`, `.` and one `/`.
pub const MAX_REFERENCE: usize = 253;

fn checked(reference: &str) -> Result<&str> {
    let (prefix, name) = reference.split_once('/').unwrap_or(("", reference));
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.'))
            && p.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
            && p.as_bytes().last().is_some_and(u8::is_ascii_alphanumeric)
    };
    let ok = reference.len() <= MAX_REFERENCE
        && part_ok(name)
        && (prefix.is_empty() || part_ok(prefix))
        && !name.contains('/');
    if ok {
        Ok(reference)
    } else {
        let shown: String = reference.chars().take(80).collect();
        Err(Error::invalid(format!(
            "reference: '{shown}' is not a valid reference (at most {MAX_REFERENCE} characters of [a-z0-9-.], one '/')"
        )))
    }
}

/// The network (which the caller may read) and the checked reference, once the caller may `op`
/// references in its project (Unikorn's order: the network read first, then the references grant).
async fn reached<'r, S: NetworkStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    (id, reference): (&str, &'r str),
    op: Operation,
) -> Result<(crate::domain::NetworkRecord, &'r str)> {
    let reference = checked(reference)?;
    let network = load(deps, cx, id, Operation::Read).await?;
    cx.caller.acl.require(&network.organization_id, Some(&network.project_id), NETWORK_REFERENCES, op)?;
    Ok((network, reference))
}

/// Adds the reference: 201 whether or not it was held already; 400 while the network is being deleted.
pub async fn add_reference<S: NetworkStore + ProvisionStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    (id, reference): (&str, &str),
) -> Result<()> {
    let (network, reference) = reached(deps, cx, (id, reference), Operation::Create).await?;
    if network.references.contains(reference) {
        return Ok(());
    }
    if network.references.len() >= MAX_REFERENCES {
        return Err(Error::invalid(format!("reference: a network holds at most {MAX_REFERENCES} references")));
    }
    match deps.store.add_reference(id, reference).await {
        Err(StoreError::Closing(..)) => Err(Error::invalid("unable to add reference, resource is being deleted")),
        Err(StoreError::Missing(..)) => Err(not_found(id)),
        other => Ok(other?),
    }
}

/// Removes the reference (204 whether or not it was held).
pub async fn remove_reference<S: NetworkStore + ProvisionStore, P>(
    deps: &Deps<S, P>,
    cx: &Context,
    (id, reference): (&str, &str),
) -> Result<()> {
    let (_, reference) = reached(deps, cx, (id, reference), Operation::Delete).await?;
    match deps.store.remove_reference(id, reference).await {
        Err(StoreError::Missing(..)) => Err(not_found(id)),
        other => Ok(other?),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn references_are_finalizer_names() {
        for ok in ["computeinstances.compute.unikorn-cloud.org/0b1c", "plain", "a.b/c-d"] {
            assert!(super::checked(ok).is_ok(), "{ok}");
        }
        for bad in ["", "UPPER", "a/b/c", "-a", "a b", &"a".repeat(254)] {
            assert!(super::checked(bad).is_err(), "{bad}");
        }
    }
}
