//! What a request can see and which permissions it needs, as its route decides. The use-cases take
//! a [`View`] instead of assuming an API version, so every version runs the same use-cases.

use std::future::Future;

use crate::domain::{ApiVersion, IdentityRecord, NetworkRecord, ServerRecord, SshCaRecord};
use crate::error::{Error, Result};
use crate::rbac::{narrow, Caller, Operation, Scope};
use crate::store::StoreError;

/// The request context every use-case starts from: who asks (the caller identity vouched for) and
/// what the route lets them see.
#[derive(Debug, Clone)]
pub struct Context {
    pub caller: Caller,
    pub view: View,
}

/// Records of one API version, and, on path-scoped routes (v1), only those under the organization,
/// project and identity the path names: anything else is missing (404).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub version: ApiVersion,
    pub path: Option<PathScope>,
    pub rules: Rules,
}

/// The scope a path-scoped route names (the identity, on routes nested under one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathScope {
    pub organization_id: String,
    pub project_id: Option<String>,
    pub identity_id: Option<String>,
}

/// The version's RBAC vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// The endpoint guarding networks (`region:networks:v2` in v2, `region:networks` in v1).
    pub networks: &'static str,
    /// The endpoint guarding security groups (`region:securitygroups:v2`, v1 `region:securitygroups`).
    pub security_groups: &'static str,
    /// The operation a server update needs (Unikorn's v1 checks `create`).
    pub server_update: Operation,
}

/// Where a record lives: what a view compares with its path.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    pub version: ApiVersion,
    pub organization_id: &'a str,
    pub project_id: &'a str,
    pub identity_id: Option<&'a str>,
}

/// A record that lives somewhere a view can compare with its path.
pub trait Placed {
    fn placement(&self) -> Placement<'_>;
}

/// Servers and networks sit in their project and, in v1, under their identity.
macro_rules! placed_under_identity {
    ($($record:ty),*) => {$(
        impl Placed for $record {
            fn placement(&self) -> Placement<'_> {
                Placement {
                    version: self.api_version,
                    organization_id: &self.organization_id,
                    project_id: &self.project_id,
                    identity_id: self.parent_identity_id.as_deref(),
                }
            }
        }
    )*};
}

placed_under_identity!(ServerRecord, NetworkRecord, crate::domain::SecurityGroupRecord);

impl Placed for IdentityRecord {
    fn placement(&self) -> Placement<'_> {
        Placement {
            version: self.api_version,
            organization_id: &self.organization_id,
            project_id: &self.project_id,
            identity_id: Some(&self.id),
        }
    }
}

impl Placed for SshCaRecord {
    fn placement(&self) -> Placement<'_> {
        Placement {
            version: self.api_version,
            organization_id: &self.organization_id,
            project_id: &self.project_id,
            identity_id: None,
        }
    }
}

impl View {
    /// Whether a record placed so is one this route may address at all.
    pub fn shows(&self, at: Placement<'_>) -> bool {
        if at.version != self.version {
            return false;
        }
        let Some(path) = &self.path else { return true };
        path.organization_id == at.organization_id
            && path.project_id.as_deref().is_none_or(|p| p == at.project_id)
            && path.identity_id.as_deref().is_none_or(|i| Some(i) == at.identity_id)
    }

    /// Path-scoped routes check the permission on the path's scope before any record is read, so
    /// a caller without it is 403 whatever the path names (Unikorn v1). Flat routes check nothing here.
    pub fn check_path(&self, caller: &Caller, endpoint: &str, op: Operation) -> Result<()> {
        match &self.path {
            Some(path) => caller.acl.require(&path.organization_id, path.project_id.as_deref(), endpoint, op),
            None => Ok(()),
        }
    }

    /// Where a list reads: flat routes, wherever the caller may read `endpoint`, narrowed by the
    /// list's organization and project filters ([`narrow`]); a project's path, that project (403
    /// without read there); an organization's path, the caller's readable scopes in it (403 when
    /// there are none). Path-scoped lists take no filters.
    pub fn list_scopes(&self, caller: &Caller, endpoint: &str, filters: (&[String], &[String])) -> Result<Vec<Scope>> {
        let readable = caller.acl.reach(endpoint, Operation::Read);
        let Some(path) = &self.path else { return narrow(readable, filters.0, filters.1) };
        let org = path.organization_id.as_str();
        if let Some(project) = &path.project_id {
            self.check_path(caller, endpoint, Operation::Read)?;
            return Ok(vec![Scope::Project(org.to_owned(), project.clone())]);
        }
        let scopes = narrow(readable, std::slice::from_ref(&path.organization_id), &[])?;
        if scopes.is_empty() {
            return Err(Error::forbidden(format!("{endpoint}/read is not granted anywhere in organization {org}")));
        }
        Ok(scopes)
    }

    /// Reads one project-scoped record through the view, checking `op` on `endpoint`: on
    /// path-scoped routes the path's permission first (403 before anything is read); then the record
    /// must be one the view shows (`missing` otherwise); on flat routes the record's own project
    /// decides, read rules first ([`View::authorize`]).
    pub async fn load<T: Placed>(
        &self,
        caller: &Caller,
        (endpoint, op): (&str, Operation),
        read: impl Future<Output = Result<Option<T>, StoreError>>,
        missing: impl Fn() -> Error,
    ) -> Result<T> {
        self.check_path(caller, endpoint, op)?;
        let record = read.await?.filter(|r| self.shows(r.placement())).ok_or_else(&missing)?;
        let at = record.placement();
        self.authorize(caller, (at.organization_id, at.project_id), endpoint, op, missing())?;
        Ok(record)
    }

    /// The check on a record this view shows. Flat routes use the record's own project with read
    /// rules first (one the caller may not read is `missing`, 404; one it may read but not change
    /// is 403); on path-scoped routes [`View::check_path`] has done it.
    pub fn authorize(
        &self,
        caller: &Caller,
        (organization, project): (&str, &str),
        endpoint: &str,
        op: Operation,
        missing: Error,
    ) -> Result<()> {
        if self.path.is_some() {
            return Ok(());
        }
        caller.acl.require_visible(organization, project, endpoint, &missing.to_string())?;
        if op != Operation::Read {
            caller.acl.require(organization, Some(project), endpoint, op)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::{Acl, SERVERS};

    fn v1(identity: Option<&str>) -> View {
        View {
            version: ApiVersion::V1,
            path: Some(PathScope {
                organization_id: "o".into(),
                project_id: Some("p".into()),
                identity_id: identity.map(str::to_owned),
            }),
            rules: Rules {
                networks: "region:networks",
                security_groups: "region:securitygroups",
                server_update: Operation::Create,
            },
        }
    }

    fn at(
        version: ApiVersion,
        org: &'static str,
        project: &'static str,
        identity: Option<&'static str>,
    ) -> Placement<'static> {
        Placement { version, organization_id: org, project_id: project, identity_id: identity }
    }

    #[test]
    fn a_path_shows_only_what_lies_under_it_and_versions_never_mix() {
        let view = v1(Some("i"));
        assert!(view.shows(at(ApiVersion::V1, "o", "p", Some("i"))));
        assert!(!view.shows(at(ApiVersion::V2, "o", "p", Some("i"))), "another version is missing");
        assert!(!view.shows(at(ApiVersion::V1, "o2", "p", Some("i"))), "another organization");
        assert!(!view.shows(at(ApiVersion::V1, "o", "p2", Some("i"))), "another project");
        assert!(!view.shows(at(ApiVersion::V1, "o", "p", Some("j"))), "another identity");
        assert!(!view.shows(at(ApiVersion::V1, "o", "p", None)));
        assert!(v1(None).shows(at(ApiVersion::V1, "o", "p", Some("j"))), "a project path shows every identity");
    }

    #[test]
    fn path_scoped_routes_answer_403_before_reading_and_flat_ones_hide_with_404() {
        let acl: Acl = serde_json::from_value(serde_json::json!({"organizations": [
            {"id": "o", "projects": [{"id": "p", "endpoints": [{"name": "region:servers", "operations": ["read"]}]}]}]}))
        .unwrap_or_default();
        let caller = Caller { subject: "s".into(), acl };
        let view = v1(Some("i"));
        assert!(view.check_path(&caller, SERVERS, Operation::Read).is_ok());
        let denied = view.check_path(&caller, SERVERS, Operation::Update).map_err(|e| e.status_and_code().0);
        assert_eq!(denied, Err(403));
        let flat = View { version: ApiVersion::V2, path: None, rules: view.rules };
        let hidden = flat.authorize(&caller, ("o", "other"), SERVERS, Operation::Read, Error::not_found("x"));
        assert_eq!(hidden.map_err(|e| e.status_and_code().0), Err(404));
        let forbidden = flat.authorize(&caller, ("o", "p"), SERVERS, Operation::Delete, Error::not_found("x"));
        assert_eq!(forbidden.map_err(|e| e.status_and_code().0), Err(403));
    }
}
