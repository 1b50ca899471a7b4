//! What the SDK's failures mean to the store's callers.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::store::{Result, StoreError};

/// Maps an SDK failure: throttling, timeouts and 5xx are Unavailable; a record DynamoDB refuses for
/// its size is TooLarge, other validation errors Refused; anything else Failed.
pub fn sdk_error<E, R>(what: &str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreError::Unavailable(format!("{what}: no answer"))
        }
        _ => match err.code() {
            Some(
                "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "InternalServerError"
                | "ServiceUnavailable",
            ) => StoreError::Unavailable(format!("{what}: busy")),
            Some("ValidationException") => validation_error(what, err.message().unwrap_or_default()),
            code => {
                StoreError::failed(format!("{what}: {} {}", code.unwrap_or("unknown"), err.message().unwrap_or("")))
            }
        },
    }
}

fn validation_error(what: &str, message: &str) -> StoreError {
    if message.to_ascii_lowercase().contains("size") {
        StoreError::TooLarge
    } else {
        StoreError::Refused(format!("{what}: {message}"))
    }
}

pub(super) fn build<T, E: std::fmt::Display>(result: std::result::Result<T, E>) -> Result<T> {
    result.map_err(|e| StoreError::failed(format!("cannot build database request: {e}")))
}

pub(super) fn is_condition_failure<E: ProvideErrorMetadata>(err: &SdkError<E, impl std::fmt::Debug>) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_too_large_to_store_is_the_requests_fault_never_a_500() {
        let err = validation_error("update server", "Item size has exceeded the maximum allowed size");
        assert_eq!(err, StoreError::TooLarge);
        let err = validation_error("query", "Invalid FilterExpression: Syntax error");
        assert!(matches!(&err, StoreError::Refused(cause) if cause.contains("FilterExpression")), "{err:?}");
    }
}
