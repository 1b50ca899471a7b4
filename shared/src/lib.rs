//! Domain crate of the compute-server API. Everything the Lambda functions do lives here;
//! `http` is the only module that knows about `lambda_http`.

pub mod error;
pub mod provider;

pub use error::{Error, Result};
