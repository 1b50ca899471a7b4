//! What a caller is told about a store outcome when the use-case has nothing more specific to say
//! (the use-cases match the outcomes they give their own words to, such as a taken name).

use crate::error::Error;
use crate::store::StoreError;

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Missing(kind, id) => Error::not_found(format!("no {kind} found with id {id}")),
            StoreError::Exists(kind, id) => Error::conflict(format!("{kind} {id} already exists")),
            StoreError::Changed(kind, id) => {
                Error::PreconditionFailed(format!("{kind} {id} was modified by another request"))
            }
            StoreError::Closing(kind, id) => Error::conflict(format!("{kind} {id} is being deleted")),
            StoreError::InUse(kind, id) => Error::conflict(format!("{kind} {id} is in use")),
            StoreError::NameTaken { network, name } => {
                Error::conflict(format!("a server named {name} already exists on network {network}"))
            }
            StoreError::TooLarge => Error::unprocessable(
                "the resource would be larger than the service can store: send fewer or shorter values",
            ),
            StoreError::Refused(cause) => {
                tracing::warn!(cause = %cause, "the database refused a request as invalid");
                Error::invalid("the request could not be stored")
            }
            StoreError::Unavailable(cause) => Error::unavailable(format!("the database did not answer ({cause})")),
            StoreError::Failed(cause) => Error::internal(cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Kind;

    #[test]
    fn store_causes_become_one_answer_each() {
        let cases = [
            (StoreError::Missing(Kind::Network, "n".into()), 404),
            (StoreError::Exists(Kind::Identity, "i".into()), 409),
            (StoreError::Changed(Kind::Server, "s".into()), 412),
            (StoreError::Closing(Kind::Network, "n".into()), 409),
            (StoreError::NameTaken { network: "n".into(), name: "web".into() }, 409),
            (StoreError::TooLarge, 422),
            (StoreError::Refused("Invalid FilterExpression".into()), 400),
            (StoreError::Unavailable("timeout".into()), 503),
            (StoreError::failed("unreadable item"), 500),
        ];
        for (err, status) in cases {
            let answer = Error::from(err.clone());
            assert_eq!(answer.status_and_code().0, status, "{err:?}");
            assert!(!answer.public_description().contains("FilterExpression"), "internals stay in the logs");
        }
    }
}
