//! The one error type of this crate.
//!
//! Callers branch on the predicates ([`Error::is_already_exists`], [`Error::is_throttled`],
//! [`Error::status`], …), never on variants or message text. Classification uses the HTTP status
//! and the Graph `error.code`; message text is consulted only where the reference documents no
//! more specific code, and only under the code `Request_BadRequest` (a duplicate appRoleAssignment
//! answers 400 "Permission being assigned already exists on the object"; adding a group member that
//! is already there answers 400 "One or more added object references already exist for the
//! following modified properties: 'members'.").

use std::time::Duration;

use crate::models::LongRunningOperationStatus;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Graph codes that mean "the thing you are creating is already there".
const ALREADY_EXISTS_CODES: &[&str] = &[
    "conflict",
    "resourceAlreadyExists",
    "alreadyExists",
    "Request_MultipleObjectsWithSameKeyValue",
    "ObjectConflict",
];

/// Graph codes that mean "a relationship with this display name already exists".
const DUPLICATE_NAME_CODES: &[&str] = &[
    "duplicateDisplayName",
    "displayNameAlreadyExists",
    "duplicateName",
];

/// 409 codes that are a transient write race, not a duplicate (retry with backoff).
const CONCURRENCY_CODES: &[&str] = &["Directory_ConcurrencyViolation"];

/// The documented fallback text of a duplicate appRoleAssignment (no code is documented).
const DUPLICATE_ASSIGNMENT_TEXT: &str = "already exists on the object";

/// The fallback text of a `$ref` add (group member, owner) whose reference is already there; the
/// code is the generic `Request_BadRequest`.
const DUPLICATE_REFERENCE_TEXT: &str = "added object references already exist";

/// Every way a Graph call can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A failure of the shared pipeline: HTTP status, transport, decoding, token, …
    #[error(transparent)]
    Core(gdap_core::Error),
    /// The resource being created already exists (409 conflict, the documented duplicate
    /// appRoleAssignment answer, or a group member that is already a member). Carries the
    /// service's answer.
    #[error(transparent)]
    AlreadyExists(gdap_core::Error),
    /// A relationship with the same display name already exists for this partner (409 on create or
    /// rename of a relationship). Carries the service's answer.
    #[error(transparent)]
    DuplicateDisplayName(gdap_core::Error),
    /// A value was rejected before anything was sent.
    #[error("invalid {field}: {reason}")]
    Validation {
        /// The Graph name of the rejected field, e.g. `"displayName"`.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A long-running operation did not reach a final status before the deadline.
    #[error("operation {operation_url} did not finish within {waited:?} (last status: {})",
        last_status.as_ref().map_or("unknown", |s| s.as_str()))]
    OperationTimedOut {
        /// The operation URL that was polled.
        operation_url: String,
        /// How long was waited.
        waited: Duration,
        /// The last status seen, if any poll succeeded.
        last_status: Option<LongRunningOperationStatus>,
    },
    /// The `data` string of an operation is not the JSON document it should be.
    #[error("operation data is not valid JSON of the expected shape: {reason}")]
    InvalidOperationData {
        /// What failed to parse.
        reason: String,
    },
}

impl From<gdap_core::Error> for Error {
    fn from(e: gdap_core::Error) -> Self {
        if is_already_exists_core(&e) {
            Error::AlreadyExists(e)
        } else {
            Error::Core(e)
        }
    }
}

impl From<gdap_core::IdError> for Error {
    fn from(e: gdap_core::IdError) -> Self {
        Error::Core(e.into())
    }
}

fn code_in(code: Option<&str>, set: &[&str]) -> bool {
    code.is_some_and(|c| set.iter().any(|k| k.eq_ignore_ascii_case(c)))
}

fn is_already_exists_core(e: &gdap_core::Error) -> bool {
    let Some(h) = e.as_http() else { return false };
    let code = h.service_code();
    match h.status() {
        409 => !code_in(code, CONCURRENCY_CODES) && !code_in(code, &["disallowedOperation"]),
        400 => {
            code_in(code, ALREADY_EXISTS_CODES)
                || (code_in(code, &["Request_BadRequest"])
                    && h.message().is_some_and(|m| {
                        m.contains(DUPLICATE_ASSIGNMENT_TEXT)
                            || m.contains(DUPLICATE_REFERENCE_TEXT)
                    }))
        }
        _ => false,
    }
}

impl Error {
    /// A validation error naming the Graph field.
    pub(crate) fn validation(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Validation {
            field,
            reason: reason.into(),
        }
    }

    /// Reclassifies a conflict on a relationship create/rename as a duplicate display name.
    pub(crate) fn on_relationship_write(self) -> Self {
        match self {
            Error::AlreadyExists(e) => Error::DuplicateDisplayName(e),
            Error::Core(e) if code_in(e.service_code(), DUPLICATE_NAME_CODES) => {
                Error::DuplicateDisplayName(e)
            }
            other => other,
        }
    }

    /// The pipeline error inside, when there is one.
    pub fn as_core(&self) -> Option<&gdap_core::Error> {
        match self {
            Error::Core(e) | Error::AlreadyExists(e) | Error::DuplicateDisplayName(e) => Some(e),
            Error::Validation { .. }
            | Error::OperationTimedOut { .. }
            | Error::InvalidOperationData { .. } => None,
        }
    }

    /// The HTTP error details (status, code, message, request id, date, body snippet), when the
    /// service answered with an error status.
    pub fn as_http(&self) -> Option<&gdap_core::error::HttpError> {
        self.as_core().and_then(gdap_core::Error::as_http)
    }

    /// The resource already exists: a 409 conflict (other than a concurrency race), the
    /// documented duplicate appRoleAssignment 400, the 400 `Request_BadRequest` "One or more added
    /// object references already exist" of adding a group member twice, or a duplicate
    /// relationship display name.
    pub fn is_already_exists(&self) -> bool {
        matches!(
            self,
            Error::AlreadyExists(_) | Error::DuplicateDisplayName(_)
        )
    }

    /// A relationship with this display name already exists (409 on create/rename, or a
    /// duplicate-name code).
    pub fn is_duplicate_display_name(&self) -> bool {
        matches!(self, Error::DuplicateDisplayName(_))
            || code_in(self.service_code(), DUPLICATE_NAME_CODES)
    }

    /// The service refused the operation in the resource's current state
    /// (`error.code = "disallowedOperation"`).
    pub fn is_disallowed_operation(&self) -> bool {
        code_in(self.service_code(), &["disallowedOperation"])
    }

    /// 412, or a precondition-failed code: the `If-Match` ETag was stale.
    pub fn is_precondition_failed(&self) -> bool {
        self.as_core()
            .is_some_and(gdap_core::Error::is_precondition_failed)
            || code_in(
                self.service_code(),
                &["preconditionFailed", "Request_PreconditionFailed"],
            )
    }

    /// The service asked us to slow down (429, 503 with `Retry-After`, or a throttling code).
    pub fn is_throttled(&self) -> bool {
        self.as_core().is_some_and(|e| {
            e.is_throttled()
                || code_in(
                    e.service_code(),
                    &["activityLimitReached", "TooManyRequests"],
                )
                || code_in(e.inner_code(), &["throttledRequest"])
        })
    }

    /// Whether retrying later may succeed (transient status or transport failure).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Core(e) => e.is_retryable(),
            Error::OperationTimedOut { .. } => true,
            _ => false,
        }
    }

    /// How long the service asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.as_core().and_then(gdap_core::Error::retry_after)
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<u16> {
        self.as_core().and_then(gdap_core::Error::status)
    }

    /// The Graph `error.code`.
    pub fn service_code(&self) -> Option<&str> {
        self.as_core().and_then(gdap_core::Error::service_code)
    }

    /// The Graph `error.innerError.code`, where the service nests one.
    pub fn inner_code(&self) -> Option<&str> {
        self.as_core().and_then(gdap_core::Error::inner_code)
    }

    /// The Graph `error.message`.
    pub fn message(&self) -> Option<&str> {
        self.as_http().and_then(|h| h.message())
    }

    /// The `request-id` (from `innerError`, else the response header).
    pub fn request_id(&self) -> Option<&str> {
        self.as_core().and_then(gdap_core::Error::request_id)
    }

    /// The `client-request-id` sent with the failing call.
    pub fn client_request_id(&self) -> Option<&str> {
        self.as_core().and_then(gdap_core::Error::client_request_id)
    }

    /// The `innerError.date` the service stamped, as sent (no time zone in Graph samples).
    pub fn date(&self) -> Option<&str> {
        self.as_http().and_then(|h| h.date())
    }

    /// 404 (any code, e.g. `Request_ResourceNotFound` for a missing group, user or member).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// 401/403 from the service, or a token failure.
    pub fn is_auth(&self) -> bool {
        self.as_core().is_some_and(gdap_core::Error::is_auth)
    }

    /// 403 `Authorization_RequestDenied` ("Insufficient privileges to complete the operation.").
    pub fn is_insufficient_privileges(&self) -> bool {
        code_in(self.service_code(), &["Authorization_RequestDenied"])
    }

    /// The input was rejected before sending (this crate's checks or an id that did not parse).
    pub fn is_validation(&self) -> bool {
        matches!(self, Error::Validation { .. })
            || matches!(self.as_core(), Some(gdap_core::Error::InvalidInput(_)))
    }

    /// The field named by a validation error.
    pub fn validation_field(&self) -> Option<&str> {
        match self {
            Error::Validation { field, .. } => Some(field),
            Error::Core(gdap_core::Error::InvalidInput(i)) => Some(i.field()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        let e = Error::validation("displayName", "too long");
        assert_eq!(e.to_string(), "invalid displayName: too long");
        assert!(e.is_validation());
        assert_eq!(e.validation_field(), Some("displayName"));
        assert!(!e.is_retryable());
        assert_eq!(e.status(), None);
    }

    #[test]
    fn id_errors_are_validation() {
        let e: Error = "not/valid"
            .parse::<gdap_core::RelationshipId>()
            .unwrap_err()
            .into();
        assert!(e.is_validation());
        assert_eq!(e.validation_field(), Some("relationship id"));
    }
}
