//! Unikorn's ACL (organizations -> projects -> endpoint operations) and every permission check.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const SERVERS: &str = "region:servers";
pub const NETWORKS: &str = "region:networks:v2";
/// Unikorn's v1 network and identity endpoints.
pub const NETWORKS_V1: &str = "region:networks";
pub const IDENTITIES: &str = "region:identities";
pub const IMAGES: &str = "region:images";
pub const SSH_CAS: &str = "region:sshcertificateauthorities:v2";

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
    endpoints.iter().any(|e| e.name == endpoint && e.operations.contains(&op))
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
            || project.is_some_and(|p| o.projects.iter().any(|pr| pr.id == p && grants(&pr.endpoints, endpoint, op)))
    }

    /// 403 when the permission is missing.
    pub fn require(&self, org: &str, project: Option<&str>, endpoint: &str, op: Operation) -> Result<()> {
        if self.allows(org, project, endpoint, op) {
            return Ok(());
        }
        let scope = match project {
            Some(p) => format!("project {p}"),
            None => format!("organization {org}"),
        };
        Err(Error::forbidden(format!("{endpoint}/{} is not granted in {scope}", op.as_str())))
    }

    /// Read rules first: a caller who may not read the resource learns nothing about it (404, as
    /// for a missing one); what it may read but not change is a 403 from [`Acl::require`].
    pub fn require_visible(&self, org: &str, project: &str, endpoint: &str, missing: &str) -> Result<()> {
        if self.allows(org, Some(project), endpoint, Operation::Read) {
            return Ok(());
        }
        Err(Error::not_found(missing.to_owned()))
    }

    /// The smallest set of non-overlapping scopes holding the grant.
    pub fn scopes(&self, endpoint: &str, op: Operation) -> Vec<Scope> {
        let mut scopes = Vec::new();
        for o in &self.organizations {
            if grants(&o.endpoints, endpoint, op) {
                scopes.push(Scope::Organization(o.id.clone()));
                continue;
            }
            for p in o.projects.iter().filter(|p| grants(&p.endpoints, endpoint, op)) {
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
    fn unreadable_resources_are_404_and_readable_but_unchangeable_403() {
        let acl = acl();
        for (org, project) in [("o9", "p"), ("o3", "p"), ("o2", "p3")] {
            let err = acl.require_visible(org, project, SERVERS, "no server found").expect_err(org);
            assert_eq!(err.status_and_code(), (404, "not_found"), "{org}/{project}");
        }
        assert!(acl.require_visible("o2", "p2", SERVERS, "x").is_ok());
        let err = acl.require("o2", Some("p2"), SERVERS, Operation::Delete).expect_err("read only");
        assert_eq!(err.status_and_code().0, 403);
    }

    #[test]
    fn scopes_do_not_overlap() {
        assert_eq!(
            acl().scopes(SERVERS, Operation::Read),
            vec![Scope::Organization("o1".into()), Scope::Project("o2".into(), "p2".into())]
        );
        assert!(Acl::default().scopes(SERVERS, Operation::Read).is_empty());
    }

    #[test]
    fn unknown_acl_fields_are_rejected() {
        assert!(serde_json::from_str::<Acl>(r#"{"organizations": [], "global": []}"#).is_err());
    }
}
