//! Every route of the API, the function that serves it, and path matching.
//! The SAM template, the local API and the OpenAPI document are checked against this table.

use crate::error::{Error, Result};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteId {
    CreateServer,
    ListServers,
    GetServer,
    UpdateServer,
    DeleteServer,
    CreateNetwork,
    ListNetworks,
    GetNetwork,
    DeleteNetwork,
    StartServer,
    StopServer,
    SoftRebootServer,
    HardRebootServer,
    ConsoleOutput,
    ConsoleSession,
    SshKey,
    CreateSnapshot,
    CreateSshCa,
    ListSshCas,
    GetSshCa,
    DeleteSshCa,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: Function,
    pub id: RouteId,
}

const fn route(method: &'static str, path: &'static str, function: Function, id: RouteId) -> Route {
    Route { method, path, function, id }
}

pub const ROUTES: &[Route] = &[
    route("POST", "/api/v2/servers", Function::Create, RouteId::CreateServer),
    route("GET", "/api/v2/servers", Function::List, RouteId::ListServers),
    route("GET", "/api/v2/servers/{serverID}", Function::Get, RouteId::GetServer),
    route("PUT", "/api/v2/servers/{serverID}", Function::Update, RouteId::UpdateServer),
    route("DELETE", "/api/v2/servers/{serverID}", Function::Delete, RouteId::DeleteServer),
    route("POST", "/api/v2/networks", Function::Networks, RouteId::CreateNetwork),
    route("GET", "/api/v2/networks", Function::Networks, RouteId::ListNetworks),
    route("GET", "/api/v2/networks/{networkID}", Function::Networks, RouteId::GetNetwork),
    route("DELETE", "/api/v2/networks/{networkID}", Function::Networks, RouteId::DeleteNetwork),
    route("POST", "/api/v2/servers/{serverID}/start", Function::Power, RouteId::StartServer),
    route("POST", "/api/v2/servers/{serverID}/stop", Function::Power, RouteId::StopServer),
    route("POST", "/api/v2/servers/{serverID}/softreboot", Function::Power, RouteId::SoftRebootServer),
    route("POST", "/api/v2/servers/{serverID}/hardreboot", Function::Power, RouteId::HardRebootServer),
    route("GET", "/api/v2/servers/{serverID}/consoleoutput", Function::Console, RouteId::ConsoleOutput),
    route("GET", "/api/v2/servers/{serverID}/consolesessions", Function::Console, RouteId::ConsoleSession),
    route("GET", "/api/v2/servers/{serverID}/sshkey", Function::Console, RouteId::SshKey),
    route("POST", "/api/v2/servers/{serverID}/snapshot", Function::Snapshot, RouteId::CreateSnapshot),
    route("POST", "/api/v2/sshcertificateauthorities", Function::Sshcas, RouteId::CreateSshCa),
    route("GET", "/api/v2/sshcertificateauthorities", Function::Sshcas, RouteId::ListSshCas),
    route("GET", "/api/v2/sshcertificateauthorities/{sshCertificateAuthorityID}", Function::Sshcas, RouteId::GetSshCa),
    route(
        "DELETE",
        "/api/v2/sshcertificateauthorities/{sshCertificateAuthorityID}",
        Function::Sshcas,
        RouteId::DeleteSshCa,
    ),
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

/// The route for a request: 404 when no path matches, 405 when only the method is wrong.
/// A function only answers its own routes.
pub fn resolve(method: &str, path: &str, function: Option<Function>) -> Result<(Route, Vec<(String, String)>)> {
    let mut path_matched = false;
    for r in ROUTES.iter().filter(|r| function.is_none_or(|f| r.function == f)) {
        if let Some(params) = match_path(r.path, path) {
            if r.method.eq_ignore_ascii_case(method) {
                return Ok((*r, params));
            }
            path_matched = true;
        }
    }
    if path_matched {
        Err(Error::MethodNotAllowed(format!("method {method} is not allowed on {path}")))
    } else {
        Err(Error::not_found(format!("no route for {method} {path}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_methods() {
        let (r, p) = resolve("GET", "/api/v2/servers/abc", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.id, p), (RouteId::GetServer, vec![("serverID".into(), "abc".into())]));
        assert_eq!(resolve("PATCH", "/api/v2/servers/abc", None).err().map(|e| e.status_and_code().0), Some(405));
        assert_eq!(resolve("GET", "/api/v2/nope", None).err().map(|e| e.status_and_code().0), Some(404));
        assert_eq!(resolve("GET", "/api/v2/servers/", None).map(|(r, _)| r.id).ok(), Some(RouteId::ListServers));
        assert!(resolve("GET", "/api/v2/servers/a/b", None).is_err());
        assert!(
            resolve("GET", "/api/v2/servers/abc", Some(Function::List)).is_err(),
            "a function serves only its routes"
        );
    }

    #[test]
    fn every_function_has_a_route() {
        for f in Function::ALL {
            assert!(ROUTES.iter().any(|r| r.function == f), "{f:?}");
        }
    }
}
