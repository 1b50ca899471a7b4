//! The ACLs the tests' tokens carry.

use serde_json::{json, Value};

use super::{ORG, ORG_2};

/// An ACL granting `ops` on each endpoint at organization scope.
pub fn org_acl(org: &str, endpoints: &[(&str, &[&str])]) -> Value {
    json!({"organizations": [{"id": org, "endpoints": endpoints_json(endpoints)}]})
}

/// An ACL granting `ops` on each endpoint in one project only.
pub fn project_acl(org: &str, project: &str, endpoints: &[(&str, &[&str])]) -> Value {
    json!({"organizations": [{"id": org, "projects": [{"id": project, "endpoints": endpoints_json(endpoints)}]}]})
}

fn endpoints_json(endpoints: &[(&str, &[&str])]) -> Value {
    Value::Array(endpoints.iter().map(|(name, ops)| json!({"name": name, "operations": ops})).collect())
}

pub const ALL: &[&str] = &["create", "read", "update", "delete"];

pub fn admin_acl() -> Value {
    let endpoints = json!([
        {"name": "region:servers", "operations": ALL},
        {"name": "region:networks:v2", "operations": ALL},
        {"name": "region:networks:v2/references", "operations": ALL},
        {"name": "region:images", "operations": ALL},
        {"name": "region:sshcertificateauthorities:v2", "operations": ALL},
        {"name": "region:securitygroups:v2", "operations": ALL},
        {"name": "region:securitygroups", "operations": ALL},
        {"name": "region:identities", "operations": ALL},
        {"name": "region:networks", "operations": ALL},
        {"name": "region:regions", "operations": ["read"]},
        {"name": "region:regions/detail", "operations": ["read"]},
        {"name": "region:flavors", "operations": ["read"]},
        {"name": "region:externalnetworks", "operations": ["read"]},
    ]);
    json!({"organizations": [{"id": ORG, "endpoints": endpoints}, {"id": ORG_2, "endpoints": endpoints}]})
}
