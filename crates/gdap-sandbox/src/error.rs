//! The crate's error type.

/// Errors of the sandbox library API (not HTTP errors: those are responses).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The listener could not be bound.
    #[error("failed to bind the sandbox listener on 127.0.0.1")]
    Bind(#[source] std::io::Error),
    /// A named object (relationship, tenant, user, group) does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The object is not in a state that allows the operation.
    #[error("invalid state: {0}")]
    InvalidState(String),
    /// A builder option or fault profile is invalid.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A wait (e.g. `SandboxHandle::wait_for_webhook_deliveries`) ran out of time.
    #[error("timed out: {0}")]
    Timeout(String),
}
