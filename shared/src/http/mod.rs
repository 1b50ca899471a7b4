//! The HTTP edge: the only module that knows `lambda_http`. Request extraction, the one
//! error-to-response mapping, and what every function's handler shares (its span, its route).
//! The handlers themselves live in their function crates (`functions/<verb>/src/lib.rs`).

mod api;
mod authorizer;
mod edge;
pub mod regions;
mod request;
mod response;
pub mod routes;

pub use api::{api, v2_view, Api};
pub use authorizer::{authorize, caller_from_context, presented};
pub use edge::{
    answer, expect_route, fallback, idempotent, path_id, path_text, request_key, route_key, serve, unknown_route,
};
pub use request::{
    action_list_params, ca_list_params, caller, console_length, idempotency_key, if_match, json_body, list_link,
    list_params, network_list_params, no_query, security_group_list_params, BODY_LIMIT, MAX_FILTER_TAGS,
    MAX_FILTER_VALUES, MAX_PAGE_TOKEN,
};
pub use response::{empty, empty_uncached, error_response, json};
pub use routes::{Function, Route, ROUTES};
