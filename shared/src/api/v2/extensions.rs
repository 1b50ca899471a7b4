//! Bodies of the routes beyond Unikorn's document (protection and actions): our own shapes,
//! documented in `openapi.yaml` (`serverProtection`, `serverAction`). Server bodies never carry them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{ActionError, ActionRecord, Protection};

/// `{"delete": bool, "rebuild": bool}`: both required on `PUT` (a partial body would be ambiguous).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerProtection {
    pub delete: bool,
    pub rebuild: bool,
}

impl From<ServerProtection> for Protection {
    fn from(p: ServerProtection) -> Self {
        Protection { delete: p.delete, rebuild: p.rebuild }
    }
}

impl From<Protection> for ServerProtection {
    fn from(p: Protection) -> Self {
        ServerProtection { delete: p.delete, rebuild: p.rebuild }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerAction {
    pub id: String,
    pub server_id: String,
    pub command: String,
    pub status: String,
    pub started: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished: Option<DateTime<Utc>>,
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ActionError>,
}

impl From<&ActionRecord> for ServerAction {
    fn from(a: &ActionRecord) -> Self {
        ServerAction {
            id: a.action.id.clone(),
            server_id: a.server_id.clone(),
            command: a.action.command.as_str().to_owned(),
            status: a.action.status.as_str().to_owned(),
            started: a.action.started,
            finished: a.action.finished,
            subject: a.action.subject.clone(),
            provider_request_id: a.provider_request_id.clone(),
            error: a.action.error.clone(),
        }
    }
}
