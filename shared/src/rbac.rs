//! Unikorn's ACL (organizations -> projects -> endpoint operations) and every permission check.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const SERVERS: &str = "region:servers";
pub const NETWORKS: &str = "region:networks:v2";
pub const IMAGES: &str = "region:images";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Create,
    Read,
    Update,
    Delete,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acl {
    #[serde(default)]
    pub organizations: Vec<OrganizationAcl>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationAcl {
    pub id: String,
    #[serde(default)]
    pub endpoints: Vec<EndpointAcl>,
    #[serde(default)]
    pub projects: Vec<ProjectAcl>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectAcl {
    pub id: String,
    #[serde(default)]
    pub endpoints: Vec<EndpointAcl>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointAcl {
    pub name: String,
    pub operations: Vec<Operation>,
}

/// Where a caller may list: a whole organization, or one project in it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Organization(String),
    Project(String, String),
}

/// Who is calling: the token subject and its ACL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub acl: Acl,
}

fn grants(endpoints: &[EndpointAcl], endpoint: &str, op: Operation) -> bool {
    endpoints
        .iter()
        .any(|e| e.name == endpoint && e.operations.contains(&op))
}

impl Acl {
    fn organization(&self, org: &str) -> Option<&OrganizationAcl> {
        self.organizations.iter().find(|o| o.id == org)
    }

    /// Organization-scope grants cover every project in the organization.
    pub fn allows(&self, org: &str, project: Option<&str>, endpoint: &str, op: Operation) -> bool {
        let Some(o) = self.organization(org) else {
            return false;
        };
        grants(&o.endpoints, endpoint, op)
            || project.is_some_and(|p| {
                o.projects
                    .iter()
                    .any(|pr| pr.id == p && grants(&pr.endpoints, endpoint, op))
            })
    }

    /// 403 when the permission is missing.
    pub fn require(
        &self,
        org: &str,
        project: Option<&str>,
        endpoint: &str,
        op: Operation,
    ) -> Result<()> {
        if self.allows(org, project, endpoint, op) {
            return Ok(());
        }
        let scope = match project {
            Some(p) => format!("project {p}"),
            None => format!("organization {org}"),
        };
        Err(Error::forbidden(format!(
            "{endpoint}/{} is not granted in {scope}",
            op.as_str()
        )))
    }

    /// For reads of one resource: a caller whose ACL does not name the organization learns
    /// nothing (404, as for a missing resource); one that names it but lacks the grant gets 403.
    pub fn require_visible(
        &self,
        org: &str,
        project: &str,
        endpoint: &str,
        op: Operation,
        missing: &str,
    ) -> Result<()> {
        if self.organization(org).is_none() {
            return Err(Error::not_found(missing.to_owned()));
        }
        self.require(org, Some(project), endpoint, op)
    }

    /// The smallest set of non-overlapping scopes holding the grant.
    pub fn scopes(&self, endpoint: &str, op: Operation) -> Vec<Scope> {
        let mut scopes = Vec::new();
        for o in &self.organizations {
            if grants(&o.endpoints, endpoint, op) {
                scopes.push(Scope::Organization(o.id.clone()));
                continue;
            }
            for p in o
                .projects
                .iter()
                .filter(|p| grants(&p.endpoints, endpoint, op))
            {
                scopes.push(Scope::Project(o.id.clone(), p.id.clone()));
            }
        }
        scopes.sort();
        scopes.dedup();
        scopes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl() -> Acl {
        serde_json::from_value(serde_json::json!({"organizations": [
            {"id": "o1", "endpoints": [{"name": "region:servers", "operations": ["read"]}],
             "projects": [{"id": "p1", "endpoints": [{"name": "region:servers", "operations": ["create", "update"]}]}]},
            {"id": "o2", "projects": [
                {"id": "p2", "endpoints": [{"name": "region:servers", "operations": ["read"]}]},
                {"id": "p3", "endpoints": [{"name": "region:networks:v2", "operations": ["read"]}]}]},
            {"id": "o3"}
        ]}))
        .unwrap_or_default()
    }

    #[test]
    fn organization_grants_cover_projects_and_project_grants_stay_put() {
        let acl = acl();
        assert!(acl.allows("o1", Some("any"), SERVERS, Operation::Read));
        assert!(acl.allows("o1", Some("p1"), SERVERS, Operation::Create));
        assert!(!acl.allows("o1", Some("p9"), SERVERS, Operation::Create));
        assert!(!acl.allows("o2", Some("p3"), SERVERS, Operation::Read));
        assert!(!acl.allows("o9", Some("p1"), SERVERS, Operation::Read));
    }

    #[test]
    fn unknown_organizations_are_404_and_known_ones_403() {
        let acl = acl();
        let err = acl
            .require_visible("o9", "p", SERVERS, Operation::Read, "no server found")
            .expect_err("o9");
        assert_eq!(err.status_and_code().0, 404);
        let err = acl
            .require_visible("o3", "p", SERVERS, Operation::Read, "no server found")
            .expect_err("o3");
        assert_eq!(err.status_and_code().0, 403);
        assert!(acl
            .require_visible("o2", "p2", SERVERS, Operation::Read, "x")
            .is_ok());
    }

    #[test]
    fn scopes_do_not_overlap() {
        assert_eq!(
            acl().scopes(SERVERS, Operation::Read),
            vec![
                Scope::Organization("o1".into()),
                Scope::Project("o2".into(), "p2".into())
            ]
        );
        assert!(Acl::default().scopes(SERVERS, Operation::Read).is_empty());
    }

    #[test]
    fn unknown_acl_fields_are_rejected() {
        assert!(serde_json::from_str::<Acl>(r#"{"organizations": [], "global": []}"#).is_err());
    }
}
