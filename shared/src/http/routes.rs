//! Every route of the API and the function that serves it. API Gateway resolves the route (the
//! functions read `routeKey` and `pathParameters`); the SAM template, the local API and the OpenAPI
//! document are checked against this table. Path matching is the local API's (API Gateway's) job.

use crate::domain::ApiVersion;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Create,
    Get,
    List,
    Update,
    Delete,
    Networks,
    Power,
    Console,
    Snapshot,
    Sshcas,
    Protection,
    Actions,
    Regions,
    SecurityGroups,
}

impl Function {
    pub const ALL: [Function; 14] = [
        Function::Create,
        Function::Get,
        Function::List,
        Function::Update,
        Function::Delete,
        Function::Networks,
        Function::Power,
        Function::Console,
        Function::Snapshot,
        Function::Sshcas,
        Function::Protection,
        Function::Actions,
        Function::Regions,
        Function::SecurityGroups,
    ];

    /// The crate under `functions/` (and the SAM logical name's stem).
    pub fn name(self) -> &'static str {
        match self {
            Function::Create => "create",
            Function::Get => "get",
            Function::List => "list",
            Function::Update => "update",
            Function::Delete => "delete",
            Function::Networks => "networks",
            Function::Power => "power",
            Function::Console => "console",
            Function::Snapshot => "snapshot",
            Function::Sshcas => "sshcas",
            Function::Protection => "protection",
            Function::Actions => "actions",
            Function::Regions => "regions",
            Function::SecurityGroups => "securitygroups",
        }
    }
}

/// One route: API Gateway's route key (`METHOD /path/{param}`), the function it invokes, and the
/// API version whose shapes and rules it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub key: &'static str,
    pub function: Function,
    pub version: ApiVersion,
}

const fn v1(key: &'static str, function: Function) -> Route {
    Route { key, function, version: ApiVersion::V1 }
}

const fn v2(key: &'static str, function: Function) -> Route {
    Route { key, function, version: ApiVersion::V2 }
}

impl Route {
    /// The route of a route key, if the API has it.
    pub fn find(key: &str) -> Option<&'static Route> {
        ROUTES.iter().find(|r| r.key == key)
    }

    /// The path's last segment (`start`, `consoleoutput`): what a function serving several
    /// actions switches on, whatever the version's prefix.
    pub fn action(&self) -> &'static str {
        self.path().rsplit('/').next().unwrap_or_default()
    }

    /// The power action a power route asks for (`None` for any other route).
    pub fn power_action(&self) -> Option<crate::provider::PowerAction> {
        use crate::provider::PowerAction;
        match self.key {
            START_SERVER | START_SERVER_V1 => Some(PowerAction::Start),
            STOP_SERVER | STOP_SERVER_V1 => Some(PowerAction::Stop),
            SOFT_REBOOT_SERVER | SOFT_REBOOT_SERVER_V1 => Some(PowerAction::SoftReboot),
            HARD_REBOOT_SERVER | HARD_REBOOT_SERVER_V1 => Some(PowerAction::HardReboot),
            _ => None,
        }
    }

    pub fn method(&self) -> &'static str {
        self.key.split_once(' ').map_or(self.key, |(m, _)| m)
    }

    pub fn path(&self) -> &'static str {
        self.key.split_once(' ').map_or("", |(_, p)| p)
    }
}

// Route keys, as API Gateway passes them in `routeKey`: the functions match on these.
pub const CREATE_SERVER: &str = "POST /api/v2/servers";
pub const LIST_SERVERS: &str = "GET /api/v2/servers";
pub const GET_SERVER: &str = "GET /api/v2/servers/{serverID}";
pub const UPDATE_SERVER: &str = "PUT /api/v2/servers/{serverID}";
pub const DELETE_SERVER: &str = "DELETE /api/v2/servers/{serverID}";
pub const CREATE_NETWORK: &str = "POST /api/v2/networks";
pub const LIST_NETWORKS: &str = "GET /api/v2/networks";
pub const GET_NETWORK: &str = "GET /api/v2/networks/{networkID}";
pub const UPDATE_NETWORK: &str = "PUT /api/v2/networks/{networkID}";
pub const DELETE_NETWORK: &str = "DELETE /api/v2/networks/{networkID}";
pub const CREATE_SECURITY_GROUP: &str = "POST /api/v2/securitygroups";
pub const LIST_SECURITY_GROUPS: &str = "GET /api/v2/securitygroups";
pub const GET_SECURITY_GROUP: &str = "GET /api/v2/securitygroups/{securityGroupID}";
pub const UPDATE_SECURITY_GROUP: &str = "PUT /api/v2/securitygroups/{securityGroupID}";
pub const DELETE_SECURITY_GROUP: &str = "DELETE /api/v2/securitygroups/{securityGroupID}";
pub const ADD_NETWORK_REFERENCE: &str = "PUT /api/v2/networks/{networkID}/references/{reference}";
pub const REMOVE_NETWORK_REFERENCE: &str = "DELETE /api/v2/networks/{networkID}/references/{reference}";
pub const START_SERVER: &str = "POST /api/v2/servers/{serverID}/start";
pub const STOP_SERVER: &str = "POST /api/v2/servers/{serverID}/stop";
pub const SOFT_REBOOT_SERVER: &str = "POST /api/v2/servers/{serverID}/softreboot";
pub const HARD_REBOOT_SERVER: &str = "POST /api/v2/servers/{serverID}/hardreboot";
pub const CONSOLE_OUTPUT: &str = "GET /api/v2/servers/{serverID}/consoleoutput";
pub const CONSOLE_SESSION: &str = "GET /api/v2/servers/{serverID}/consolesessions";
pub const SSH_KEY: &str = "GET /api/v2/servers/{serverID}/sshkey";
pub const CREATE_SNAPSHOT: &str = "POST /api/v2/servers/{serverID}/snapshot";
pub const CREATE_SSH_CA: &str = "POST /api/v2/sshcertificateauthorities";
pub const LIST_SSH_CAS: &str = "GET /api/v2/sshcertificateauthorities";
pub const GET_SSH_CA: &str = "GET /api/v2/sshcertificateauthorities/{sshCertificateAuthorityID}";
pub const DELETE_SSH_CA: &str = "DELETE /api/v2/sshcertificateauthorities/{sshCertificateAuthorityID}";
pub const GET_PROTECTION: &str = "GET /api/v2/servers/{serverID}/protection";
pub const SET_PROTECTION: &str = "PUT /api/v2/servers/{serverID}/protection";
pub const LIST_ACTIONS: &str = "GET /api/v2/servers/{serverID}/actions";
pub const GET_ACTION: &str = "GET /api/v2/servers/{serverID}/actions/{actionID}";
pub const LIST_IMAGES_V2: &str = "GET /api/v2/regions/{regionID}/images";
pub const GET_VERSION: &str = "GET /api/version";

// v1: Unikorn's path-scoped compatibility routes.
pub const CREATE_IDENTITY_V1: &str = "POST /api/v1/organizations/{organizationID}/projects/{projectID}/identities";
pub const LIST_IDENTITIES_V1: &str = "GET /api/v1/organizations/{organizationID}/projects/{projectID}/identities";
pub const GET_IDENTITY_V1: &str =
    "GET /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}";
pub const DELETE_IDENTITY_V1: &str =
    "DELETE /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}";
pub const CREATE_NETWORK_V1: &str =
    "POST /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/networks";
pub const LIST_NETWORKS_V1: &str =
    "GET /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/networks";
pub const GET_NETWORK_V1: &str =
    "GET /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/networks/{networkID}";
pub const DELETE_NETWORK_V1: &str =
    "DELETE /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/networks/{networkID}";
pub const LIST_ORGANIZATION_SERVERS_V1: &str = "GET /api/v1/organizations/{organizationID}/servers";
pub const LIST_SECURITY_GROUPS_V1: &str = "GET /api/v1/organizations/{organizationID}/securitygroups";
pub const CREATE_SECURITY_GROUP_V1: &str =
    "POST /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/securitygroups";
pub const GET_SECURITY_GROUP_V1: &str = "GET /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/securitygroups/{securityGroupID}";
pub const UPDATE_SECURITY_GROUP_V1: &str = "PUT /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/securitygroups/{securityGroupID}";
pub const DELETE_SECURITY_GROUP_V1: &str = "DELETE /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/securitygroups/{securityGroupID}";
pub const LIST_REGIONS: &str = "GET /api/v1/organizations/{organizationID}/regions";
pub const GET_REGION_DETAIL: &str = "GET /api/v1/organizations/{organizationID}/regions/{regionID}/detail";
pub const LIST_FLAVORS: &str = "GET /api/v1/organizations/{organizationID}/regions/{regionID}/flavors";
pub const LIST_IMAGES: &str = "GET /api/v1/organizations/{organizationID}/regions/{regionID}/images";
pub const DELETE_IMAGE: &str = "DELETE /api/v1/organizations/{organizationID}/regions/{regionID}/images/{imageID}";
pub const LIST_EXTERNAL_NETWORKS: &str =
    "GET /api/v1/organizations/{organizationID}/regions/{regionID}/externalnetworks";
pub const LIST_ORGANIZATION_IDENTITIES_V1: &str = "GET /api/v1/organizations/{organizationID}/identities";
pub const LIST_ORGANIZATION_NETWORKS_V1: &str = "GET /api/v1/organizations/{organizationID}/networks";
pub const CREATE_SERVER_V1: &str =
    "POST /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/servers";
pub const LIST_SERVERS_V1: &str =
    "GET /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/servers";
pub const GET_SERVER_V1: &str =
    "GET /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/servers/{serverID}";
pub const UPDATE_SERVER_V1: &str =
    "PUT /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/servers/{serverID}";
pub const DELETE_SERVER_V1: &str =
    "DELETE /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/servers/{serverID}";
pub const START_SERVER_V1: &str =
    "POST /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/servers/{serverID}/start";
pub const STOP_SERVER_V1: &str =
    "POST /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/servers/{serverID}/stop";
pub const SOFT_REBOOT_SERVER_V1: &str = "POST /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/servers/{serverID}/softreboot";
pub const HARD_REBOOT_SERVER_V1: &str = "POST /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/servers/{serverID}/hardreboot";
pub const CONSOLE_OUTPUT_V1: &str = "GET /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/servers/{serverID}/consoleoutput";
pub const CONSOLE_SESSION_V1: &str = "GET /api/v1/organizations/{organizationID}/projects/{projectID}/identities/{identityID}/servers/{serverID}/consolesessions";

pub const ROUTES: &[Route] = &[
    v2(CREATE_SERVER, Function::Create),
    v2(LIST_SERVERS, Function::List),
    v2(GET_SERVER, Function::Get),
    v2(UPDATE_SERVER, Function::Update),
    v2(DELETE_SERVER, Function::Delete),
    v2(CREATE_NETWORK, Function::Networks),
    v2(LIST_NETWORKS, Function::Networks),
    v2(GET_NETWORK, Function::Networks),
    v2(UPDATE_NETWORK, Function::Networks),
    v2(DELETE_NETWORK, Function::Networks),
    v2(ADD_NETWORK_REFERENCE, Function::Networks),
    v2(REMOVE_NETWORK_REFERENCE, Function::Networks),
    v2(CREATE_SECURITY_GROUP, Function::SecurityGroups),
    v2(LIST_SECURITY_GROUPS, Function::SecurityGroups),
    v2(GET_SECURITY_GROUP, Function::SecurityGroups),
    v2(UPDATE_SECURITY_GROUP, Function::SecurityGroups),
    v2(DELETE_SECURITY_GROUP, Function::SecurityGroups),
    v2(START_SERVER, Function::Power),
    v2(STOP_SERVER, Function::Power),
    v2(SOFT_REBOOT_SERVER, Function::Power),
    v2(HARD_REBOOT_SERVER, Function::Power),
    v2(CONSOLE_OUTPUT, Function::Console),
    v2(CONSOLE_SESSION, Function::Console),
    v2(SSH_KEY, Function::Console),
    v2(CREATE_SNAPSHOT, Function::Snapshot),
    v2(CREATE_SSH_CA, Function::Sshcas),
    v2(LIST_SSH_CAS, Function::Sshcas),
    v2(GET_SSH_CA, Function::Sshcas),
    v2(DELETE_SSH_CA, Function::Sshcas),
    v2(GET_PROTECTION, Function::Protection),
    v2(SET_PROTECTION, Function::Protection),
    v2(LIST_ACTIONS, Function::Actions),
    v2(GET_ACTION, Function::Actions),
    v2(LIST_IMAGES_V2, Function::Regions),
    v2(GET_VERSION, Function::Regions),
    v1(LIST_REGIONS, Function::Regions),
    v1(GET_REGION_DETAIL, Function::Regions),
    v1(LIST_FLAVORS, Function::Regions),
    v1(LIST_IMAGES, Function::Regions),
    v1(DELETE_IMAGE, Function::Regions),
    v1(LIST_EXTERNAL_NETWORKS, Function::Regions),
    v1(CREATE_IDENTITY_V1, Function::Networks),
    v1(LIST_IDENTITIES_V1, Function::Networks),
    v1(GET_IDENTITY_V1, Function::Networks),
    v1(DELETE_IDENTITY_V1, Function::Networks),
    v1(CREATE_NETWORK_V1, Function::Networks),
    v1(LIST_NETWORKS_V1, Function::Networks),
    v1(GET_NETWORK_V1, Function::Networks),
    v1(DELETE_NETWORK_V1, Function::Networks),
    v1(LIST_ORGANIZATION_IDENTITIES_V1, Function::Networks),
    v1(LIST_ORGANIZATION_NETWORKS_V1, Function::Networks),
    v1(LIST_ORGANIZATION_SERVERS_V1, Function::List),
    v1(LIST_SECURITY_GROUPS_V1, Function::SecurityGroups),
    v1(CREATE_SECURITY_GROUP_V1, Function::SecurityGroups),
    v1(GET_SECURITY_GROUP_V1, Function::SecurityGroups),
    v1(UPDATE_SECURITY_GROUP_V1, Function::SecurityGroups),
    v1(DELETE_SECURITY_GROUP_V1, Function::SecurityGroups),
    v1(CREATE_SERVER_V1, Function::Create),
    v1(LIST_SERVERS_V1, Function::List),
    v1(GET_SERVER_V1, Function::Get),
    v1(UPDATE_SERVER_V1, Function::Update),
    v1(DELETE_SERVER_V1, Function::Delete),
    v1(START_SERVER_V1, Function::Power),
    v1(STOP_SERVER_V1, Function::Power),
    v1(SOFT_REBOOT_SERVER_V1, Function::Power),
    v1(HARD_REBOOT_SERVER_V1, Function::Power),
    v1(CONSOLE_OUTPUT_V1, Function::Console),
    v1(CONSOLE_SESSION_V1, Function::Console),
];

/// API Gateway's catch-all route: every request no other route matches (the `actions` function
/// answers it, see [`crate::http::fallback`]).
pub const DEFAULT_ROUTE: &str = "$default";

/// The methods the API serves on `path` (empty: no route has this path).
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    let mut methods: Vec<&'static str> =
        ROUTES.iter().filter(|r| match_path(r.path(), path).is_some()).map(|r| r.method()).collect();
    methods.sort_unstable();
    methods.dedup();
    methods
}

/// Path parameters when `path` fits `template` (`{name}` matches one non-empty segment).
pub fn match_path(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    let mut params = Vec::new();
    let mut want = template.split('/');
    let mut have = path.split('/');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(h)) if w.starts_with('{') && w.ends_with('}') && !h.is_empty() => {
                params.push((w[1..w.len() - 1].to_owned(), h.to_owned()));
            }
            (Some(w), Some(h)) if w == h => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_power_route_and_only_those_carry_an_action() {
        let power: Vec<&Route> = ROUTES.iter().filter(|r| r.function == Function::Power).collect();
        assert_eq!(power.len(), 8, "four actions, two versions");
        use crate::provider::PowerAction;
        let segment = |a: PowerAction| match a {
            PowerAction::Start => "start",
            PowerAction::Stop => "stop",
            PowerAction::SoftReboot => "softreboot",
            PowerAction::HardReboot => "hardreboot",
        };
        assert!(power.iter().all(|r| r.power_action().is_some_and(|a| r.action() == segment(a))), "the path names it");
        assert!(ROUTES.iter().filter(|r| r.function != Function::Power).all(|r| r.power_action().is_none()));
    }

    #[test]
    fn paths_match_templates() {
        assert_eq!(
            match_path("/api/v2/servers/{serverID}", "/api/v2/servers/abc"),
            Some(vec![("serverID".into(), "abc".into())])
        );
        assert_eq!(match_path("/api/v2/servers", "/api/v2/servers/"), Some(vec![]));
        assert_eq!(match_path("/api/v2/servers/{serverID}", "/api/v2/servers/a/b"), None);
        assert_eq!(match_path("/api/v2/servers/{serverID}", "/api/v2/servers/"), None);
    }

    #[test]
    fn keys_split_into_method_and_path() {
        let route = ROUTES.iter().find(|r| r.key == GET_SERVER).copied();
        assert_eq!(route.map(|r| (r.method(), r.path())), Some(("GET", "/api/v2/servers/{serverID}")));
    }

    #[test]
    fn every_function_has_a_route() {
        for f in Function::ALL {
            assert!(ROUTES.iter().any(|r| r.function == f), "{f:?}");
        }
    }
}
