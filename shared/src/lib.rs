//! Domain crate of the compute-server API. Everything the Lambda functions do lives here;
//! `http` is the only module that knows about `lambda_http`.

pub mod api;
pub mod aws;
pub mod clock;
pub mod context;
pub mod crash;
pub mod domain;
pub mod error;
pub mod events;
pub mod fairuse;
pub mod http;
pub mod identity;
pub mod lazy_http;
pub mod metrics;
pub mod provider;
pub mod rbac;
pub mod regions;
pub mod sealing;
pub mod store;
pub mod telemetry;
pub mod text;
pub mod usecase;
pub mod work;

pub use error::{Error, Result};
