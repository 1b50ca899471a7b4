//! Unikorn's ACL (organizations -> projects -> endpoint operations) and every permission check.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const SERVERS: &str = "region:servers";
pub const NETWORKS: &str = "region:networks:v2";
/// Unikorn's v1 network and identity endpoints.
pub const NETWORKS_V1: &str = "region:networks";
/// Unikorn's network references (other services' locks on a v2 network).
pub const NETWORK_REFERENCES: &str = "region:networks:v2/references";
pub const IDENTITIES: &str = "region:identities";
pub const IMAGES: &str = "region:images";
pub const SSH_CAS: &str = "region:sshcertificateauthorities:v2";
/// Unikorn's security groups (v2; v1's are `region:securitygroups`).
pub const SECURITY_GROUPS: &str = "region:securitygroups:v2";
pub const SECURITY_GROUPS_V1: &str = "region:securitygroups";
/// Unikorn's region catalogue endpoints.
pub const REGIONS: &str = "region:regions";
pub const REGION_DETAIL: &str = "region:regions/detail";
pub const FLAVORS: &str = "region:flavors";
pub const EXTERNAL_NETWORKS: &str = "region:externalnetworks";

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

/// What a caller may do, as identity's `acl` schema holds it: `global` endpoints apply everywhere;
/// each organization's endpoints apply to all its projects; a project's to that project.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Acl {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub global: Vec<EndpointAcl>,
    #[serde(default)]
    pub organizations: Vec<OrganizationAcl>,
}

/// Identity's answer to either ACL route. The organization-scoped route answers the organization's
/// own grants in `organization` and its projects' in a top-level `projects`; both fold into
/// `organizations`, so one [`Acl`] serves every check.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IdentityAcl {
    #[serde(default)]
    pub global: Option<Vec<EndpointAcl>>,
    #[serde(default)]
    pub organizations: Option<Vec<OrganizationAcl>>,
    #[serde(default)]
    pub organization: Option<OrganizationAcl>,
    #[serde(default)]
    pub projects: Option<Vec<ProjectAcl>>,
}

impl IdentityAcl {
    /// `scope` is the organization the route asked about (the organization-scoped route's path).
    pub fn into_acl(self, scope: Option<&str>) -> Acl {
        let mut organizations = self.organizations.unwrap_or_default();
        let scoped_id = self.organization.as_ref().map(|o| o.id.clone()).or_else(|| scope.map(str::to_owned));
        if let Some(id) = scoped_id {
            let mut scoped =
                self.organization.unwrap_or(OrganizationAcl { id, endpoints: Vec::new(), projects: Vec::new() });
            scoped.projects.extend(self.projects.unwrap_or_default());
            match organizations.iter_mut().find(|o| o.id == scoped.id) {
                Some(existing) => {
                    existing.endpoints.extend(scoped.endpoints);
                    existing.projects.extend(scoped.projects);
                }
                None if !scoped.endpoints.is_empty() || !scoped.projects.is_empty() => organizations.push(scoped),
                None => {}
            }
        }
        Acl { global: self.global.unwrap_or_default(), organizations }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationAcl {
    pub id: String,
    #[serde(default)]
    pub endpoints: Vec<EndpointAcl>,
    #[serde(default)]
    pub projects: Vec<ProjectAcl>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectAcl {
    pub id: String,
    #[serde(default)]
    pub endpoints: Vec<EndpointAcl>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Where a caller holds a grant: everywhere (a `global` grant), or in these scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    Everywhere,
    Scopes(Vec<Scope>),
}

/// Who is calling: who a record says acted (the token's subject, or the end user a service acts
/// for) and what identity says it may do.
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

    /// Global grants cover everything; organization-scope grants every project in the organization.
    pub fn allows(&self, org: &str, project: Option<&str>, endpoint: &str, op: Operation) -> bool {
        if grants(&self.global, endpoint, op) {
            return true;
        }
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

    /// Whether a global grant holds `op` on `endpoint`.
    pub fn global_grants(&self, endpoint: &str, op: Operation) -> bool {
        grants(&self.global, endpoint, op)
    }

    /// Where the caller holds the grant: everywhere, or the smallest set of non-overlapping scopes.
    pub fn reach(&self, endpoint: &str, op: Operation) -> Reach {
        if grants(&self.global, endpoint, op) {
            return Reach::Everywhere;
        }
        Reach::Scopes(self.scopes(endpoint, op))
    }

    /// The smallest set of non-overlapping organization and project scopes holding the grant
    /// (global grants aside: see [`Acl::reach`]).
    fn scopes(&self, endpoint: &str, op: Operation) -> Vec<Scope> {
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

/// The scopes a list reads: the caller's reach narrowed by the organization and project filters.
/// A global grant is narrowed by the organization filter alone: the store lists one organization
/// (or project) index at a time, so a global caller without one is asked for it (400).
pub fn narrow(reach: Reach, organizations: &[String], projects: &[String]) -> Result<Vec<Scope>> {
    let scopes =
        match reach {
            Reach::Scopes(scopes) => scopes,
            Reach::Everywhere if organizations.is_empty() => return Err(Error::invalid(
                "organizationID: required when the caller's grant is global (lists read one organization at a time)",
            )),
            Reach::Everywhere => organizations.iter().map(|o| Scope::Organization(o.clone())).collect(),
        };
    let mut out = Vec::new();
    for scope in scopes {
        let org = match &scope {
            Scope::Organization(o) | Scope::Project(o, _) => o.clone(),
        };
        if !organizations.is_empty() && !organizations.contains(&org) {
            continue;
        }
        match scope {
            Scope::Organization(o) if !projects.is_empty() => {
                out.extend(projects.iter().map(|p| Scope::Project(o.clone(), p.clone())));
            }
            Scope::Project(_, ref p) if !projects.is_empty() && !projects.contains(p) => {}
            other => out.push(other),
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
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
            acl().reach(SERVERS, Operation::Read),
            Reach::Scopes(vec![Scope::Organization("o1".into()), Scope::Project("o2".into(), "p2".into())])
        );
        assert_eq!(Acl::default().reach(SERVERS, Operation::Read), Reach::Scopes(Vec::new()));
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn filters_narrow_scopes() {
        let scopes = vec![Scope::Organization("o1".into()), Scope::Project("o2".into(), "p2".into())];
        let reach = || Reach::Scopes(scopes.clone());
        assert_eq!(narrow(reach(), &[], &[]), Ok(scopes.clone()));
        assert_eq!(narrow(reach(), &s(&["o2"]), &[]), Ok(vec![Scope::Project("o2".into(), "p2".into())]));
        assert_eq!(
            narrow(reach(), &[], &s(&["p1", "p2"])),
            Ok(vec![
                Scope::Project("o1".into(), "p1".into()),
                Scope::Project("o1".into(), "p2".into()),
                Scope::Project("o2".into(), "p2".into())
            ])
        );
        assert_eq!(narrow(reach(), &s(&["o9"]), &[]), Ok(Vec::new()));
    }

    #[test]
    fn global_grants_allow_everywhere_and_lists_name_their_organization() {
        let acl: Acl = serde_json::from_value(serde_json::json!({
            "global": [{"name": "region:servers", "operations": ["read", "create"]}]}))
        .unwrap_or_default();
        assert!(acl.allows("any-org", Some("any-project"), SERVERS, Operation::Create));
        assert!(!acl.allows("any-org", None, SERVERS, Operation::Delete));
        assert_eq!(acl.reach(SERVERS, Operation::Read), Reach::Everywhere);
        assert_eq!(
            narrow(Reach::Everywhere, &s(&["o1"]), &s(&["p1"])),
            Ok(vec![Scope::Project("o1".into(), "p1".into())])
        );
        let unnarrowed = narrow(Reach::Everywhere, &[], &[]).map_err(|e| e.status_and_code().0);
        assert_eq!(unnarrowed, Err(400));
    }

    #[test]
    fn the_organization_scoped_answer_folds_into_organizations() {
        let wire: IdentityAcl = serde_json::from_value(serde_json::json!({
            "organization": {"id": "o1", "endpoints": [{"name": "region:servers", "operations": ["read"]}]},
            "projects": [{"id": "p1", "endpoints": [{"name": "region:servers", "operations": ["create"]}]}],
            "someFutureField": true}))
        .unwrap_or_default();
        let acl = wire.into_acl(Some("o1"));
        assert!(acl.allows("o1", Some("p9"), SERVERS, Operation::Read));
        assert!(acl.allows("o1", Some("p1"), SERVERS, Operation::Create));
        assert!(!acl.allows("o1", Some("p9"), SERVERS, Operation::Create));
        // Projects without the organization's own entry belong to the organization asked about.
        let wire: IdentityAcl = serde_json::from_value(serde_json::json!({
            "projects": [{"id": "p1", "endpoints": [{"name": "region:servers", "operations": ["read"]}]}]}))
        .unwrap_or_default();
        assert!(wire.into_acl(Some("o2")).allows("o2", Some("p1"), SERVERS, Operation::Read));
    }
}
