//! Why a use case did not happen, in terms every way in can translate: a page and its status
//! for the web, a message and exit code for the command line.

use crate::domain::rights::Access;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Missing, or outside the actor's scope (so ids do not leak).
    #[error("not found")]
    NotFound,
    /// Inside the actor's scope but above their rights; the reason is shown to them.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The input was wrong; the message says how, in words for the person.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Too many attempts; try again after this many seconds.
    #[error("throttled for {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    /// A shared resource (database connections, the password threads) is exhausted for now:
    /// a short wait and a retry help.
    #[error("busy: {0}")]
    Busy(String),
    /// Anything unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        ServiceError::Internal(error.into())
    }

    /// The rights' answer as a result: allowed goes on, anything else stops here.
    pub fn unless_allowed(access: Access) -> Result<(), ServiceError> {
        match access {
            Access::Allowed => Ok(()),
            Access::Forbidden(reason) => Err(ServiceError::Forbidden(reason.to_owned())),
            Access::NotFound => Err(ServiceError::NotFound),
        }
    }
}

impl From<diesel::result::Error> for ServiceError {
    fn from(error: diesel::result::Error) -> Self {
        match error {
            diesel::result::Error::NotFound => ServiceError::NotFound,
            other => ServiceError::Internal(other.into()),
        }
    }
}
