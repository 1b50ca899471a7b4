//! Every route of the API and the function that serves it. API Gateway resolves the route (the
//! functions read `routeKey` and `pathParameters`); the SAM template, the local API and the OpenAPI
//! document are checked against this table. Path matching is the local API's (API Gateway's) job.

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
}

impl Function {
    pub const ALL: [Function; 10] = [
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
        }
    }
}

/// One route: API Gateway's route key (`METHOD /path/{param}`) and the function it invokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub key: &'static str,
    pub function: Function,
}

impl Route {
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
pub const DELETE_NETWORK: &str = "DELETE /api/v2/networks/{networkID}";
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

pub const ROUTES: &[Route] = &[
    Route { key: CREATE_SERVER, function: Function::Create },
    Route { key: LIST_SERVERS, function: Function::List },
    Route { key: GET_SERVER, function: Function::Get },
    Route { key: UPDATE_SERVER, function: Function::Update },
    Route { key: DELETE_SERVER, function: Function::Delete },
    Route { key: CREATE_NETWORK, function: Function::Networks },
    Route { key: LIST_NETWORKS, function: Function::Networks },
    Route { key: GET_NETWORK, function: Function::Networks },
    Route { key: DELETE_NETWORK, function: Function::Networks },
    Route { key: START_SERVER, function: Function::Power },
    Route { key: STOP_SERVER, function: Function::Power },
    Route { key: SOFT_REBOOT_SERVER, function: Function::Power },
    Route { key: HARD_REBOOT_SERVER, function: Function::Power },
    Route { key: CONSOLE_OUTPUT, function: Function::Console },
    Route { key: CONSOLE_SESSION, function: Function::Console },
    Route { key: SSH_KEY, function: Function::Console },
    Route { key: CREATE_SNAPSHOT, function: Function::Snapshot },
    Route { key: CREATE_SSH_CA, function: Function::Sshcas },
    Route { key: LIST_SSH_CAS, function: Function::Sshcas },
    Route { key: GET_SSH_CA, function: Function::Sshcas },
    Route { key: DELETE_SSH_CA, function: Function::Sshcas },
];

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
