//! [`PortError`]: the one error a port returns, in domain terms.
//!
//! Adapters build it from the clients' predicates (status, service code, `AADSTS` codes,
//! `Retry-After`), never from English text; fakes build it directly. The error catalogue
//! ([`crate::catalogue`]) classifies it by [`PortErrorKind`], status, service code and `AADSTS`
//! codes.

use std::fmt;
use std::time::Duration;

/// What kind of failure a port reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum PortErrorKind {
    /// The object does not exist (404).
    NotFound,
    /// The object already exists (a duplicate create: 409 or Partner Center `AlreadyExists`).
    AlreadyExists,
    /// The request conflicts with the object's state (409 other than a duplicate, 405 on a
    /// relationship that is not ready yet).
    Conflict,
    /// A stale ETag (412).
    PreconditionFailed,
    /// The caller is authenticated but not allowed (403).
    Forbidden,
    /// No valid token (401, or a token error).
    Unauthorized,
    /// The service asked us to slow down (429, or 503 with `Retry-After`).
    Throttled,
    /// A failure that may go away on retry (5xx, connection reset, timeout).
    Transient,
    /// Partner Center refused an App+User call without MFA (401, code 900421).
    MfaRequired,
    /// The request was rejected as invalid (400), or the input was refused before sending.
    Invalid,
    /// The port does not implement this operation (a fake's default body, or an adapter over a
    /// client that has no such call).
    Unimplemented,
    /// Anything else.
    Other,
}

impl PortErrorKind {
    /// A short lower-case name, for messages.
    pub fn as_str(&self) -> &'static str {
        match self {
            PortErrorKind::NotFound => "not found",
            PortErrorKind::AlreadyExists => "already exists",
            PortErrorKind::Conflict => "conflict",
            PortErrorKind::PreconditionFailed => "precondition failed",
            PortErrorKind::Forbidden => "forbidden",
            PortErrorKind::Unauthorized => "unauthorized",
            PortErrorKind::Throttled => "throttled",
            PortErrorKind::Transient => "transient failure",
            PortErrorKind::MfaRequired => "MFA required",
            PortErrorKind::Invalid => "invalid request",
            PortErrorKind::Unimplemented => "not implemented",
            PortErrorKind::Other => "error",
        }
    }

    /// The kind a bare HTTP status implies.
    pub fn from_status(status: u16) -> Self {
        match status {
            404 => PortErrorKind::NotFound,
            405 | 409 => PortErrorKind::Conflict,
            412 => PortErrorKind::PreconditionFailed,
            403 => PortErrorKind::Forbidden,
            401 => PortErrorKind::Unauthorized,
            429 => PortErrorKind::Throttled,
            408 | 500 | 502 | 503 | 504 => PortErrorKind::Transient,
            400 | 422 => PortErrorKind::Invalid,
            _ => PortErrorKind::Other,
        }
    }
}

impl fmt::Display for PortErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure reported by a port. Holds no secret: adapters copy only codes, ids and the service's
/// message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PortError(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    kind: PortErrorKind,
    status: Option<u16>,
    service_code: Option<String>,
    aadsts_codes: Vec<u32>,
    message: String,
    request_id: Option<String>,
    retry_after: Option<Duration>,
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.kind)?;
        if let Some(s) = self.0.status {
            write!(f, " (HTTP {s}")?;
            if let Some(c) = &self.0.service_code {
                write!(f, ", {c}")?;
            }
            f.write_str(")")?;
        } else if let Some(c) = &self.0.service_code {
            write!(f, " ({c})")?;
        }
        if !self.0.message.is_empty() {
            write!(f, ": {}", self.0.message)?;
        }
        if let Some(r) = &self.0.request_id {
            write!(f, " [request-id {r}]")?;
        }
        Ok(())
    }
}

impl PortError {
    /// A new error of `kind` with a message (which must not contain a secret).
    pub fn new(kind: PortErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            status: None,
            service_code: None,
            aadsts_codes: Vec::new(),
            message: message.into(),
            request_id: None,
            retry_after: None,
        }))
    }

    /// The error a port's default method body returns: `operation` is not implemented.
    pub fn unimplemented(operation: &str) -> Self {
        Self::new(
            PortErrorKind::Unimplemented,
            format!("{operation} is not implemented by this port"),
        )
    }

    /// A 404-style error.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(PortErrorKind::NotFound, message).with_status(404)
    }

    /// An HTTP failure: the kind follows from the status.
    pub fn http(status: u16, service_code: Option<&str>, message: impl Into<String>) -> Self {
        let mut e = Self::new(PortErrorKind::from_status(status), message).with_status(status);
        e.0.service_code = service_code.map(str::to_owned);
        e
    }

    /// A token failure carrying `AADSTS` codes (kind [`PortErrorKind::Unauthorized`]).
    pub fn aadsts(codes: &[u32], message: impl Into<String>) -> Self {
        let mut e =
            Self::new(PortErrorKind::Unauthorized, message).with_aadsts_codes(codes.to_vec());
        if let Some(first) = codes.first() {
            e.0.service_code = Some(format!("AADSTS{first}"));
        }
        e
    }

    /// Sets the kind.
    pub fn with_kind(mut self, kind: PortErrorKind) -> Self {
        self.0.kind = kind;
        self
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.0.status = Some(status);
        self
    }

    /// Sets the service's error code (Graph `error.code`, Partner Center `code`).
    pub fn with_service_code(mut self, code: impl Into<String>) -> Self {
        self.0.service_code = Some(code.into());
        self
    }

    /// Sets the `AADSTS` codes of a token error.
    pub fn with_aadsts_codes(mut self, codes: Vec<u32>) -> Self {
        self.0.aadsts_codes = codes;
        self
    }

    /// Sets the server's request id.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.0.request_id = Some(id.into());
        self
    }

    /// Sets how long the service asked us to wait.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.0.retry_after = Some(after);
        self
    }

    /// What kind of failure.
    pub fn kind(&self) -> PortErrorKind {
        self.0.kind
    }

    /// The HTTP status, when a service answered.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// The service's error code.
    pub fn service_code(&self) -> Option<&str> {
        self.0.service_code.as_deref()
    }

    /// Whether the service code equals `code`, ignoring ASCII case.
    pub fn has_service_code(&self, code: &str) -> bool {
        self.0
            .service_code
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(code))
    }

    /// The `AADSTS` codes of a token error (empty otherwise).
    pub fn aadsts_codes(&self) -> &[u32] {
        &self.0.aadsts_codes
    }

    /// Whether `code` is among the `AADSTS` codes.
    pub fn has_aadsts(&self, code: u32) -> bool {
        self.0.aadsts_codes.contains(&code)
    }

    /// The service's message (diagnostic only; never branched on).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The server's request id.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// How long the service asked us to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// 404.
    pub fn is_not_found(&self) -> bool {
        self.0.kind == PortErrorKind::NotFound
    }

    /// A duplicate create.
    pub fn is_already_exists(&self) -> bool {
        self.0.kind == PortErrorKind::AlreadyExists
    }

    /// Throttled or transient: worth retrying after a pause.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.0.kind,
            PortErrorKind::Throttled | PortErrorKind::Transient
        )
    }

    /// Built from a client error through the workspace's common predicates: status, service code,
    /// `AADSTS` codes, request id and `Retry-After`. The kind is decided by codes and status only.
    pub fn from_core(e: &gdap_core::Error) -> Self {
        let codes = e.aadsts_codes().to_vec();
        let kind = if !codes.is_empty() || e.as_credential().is_some() {
            if e.is_retryable() {
                PortErrorKind::Transient
            } else {
                PortErrorKind::Unauthorized
            }
        } else if e.status() == Some(401) && e.service_code() == Some("900421") {
            PortErrorKind::MfaRequired
        } else if e.is_throttled() {
            PortErrorKind::Throttled
        } else if e.is_retryable() {
            PortErrorKind::Transient
        } else if let Some(status) = e.status() {
            PortErrorKind::from_status(status)
        } else if matches!(e, gdap_core::Error::InvalidInput(_)) {
            PortErrorKind::Invalid
        } else {
            PortErrorKind::Other
        };
        let message = match e.as_http() {
            Some(h) => h.message().unwrap_or_default().to_owned(),
            None => e.to_string(),
        };
        let mut out = PortError::new(kind, message).with_aadsts_codes(codes);
        out.0.status = e.status();
        out.0.service_code = e.service_code().map(str::to_owned);
        out.0.request_id = e.request_id().map(str::to_owned);
        out.0.retry_after = e.retry_after();
        out
    }
}

impl From<gdap_core::Error> for PortError {
    fn from(e: gdap_core::Error) -> Self {
        PortError::from_core(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_kind_status_code_and_request_id() {
        let e = PortError::http(403, Some("disallowedOperation"), "nope").with_request_id("r-1");
        assert_eq!(
            e.to_string(),
            "forbidden (HTTP 403, disallowedOperation): nope [request-id r-1]"
        );
        assert!(e.has_service_code("DisallowedOperation"));
    }

    #[test]
    fn aadsts_constructor_sets_code_and_kind() {
        let e = PortError::aadsts(&[50177], "x");
        assert_eq!(e.kind(), PortErrorKind::Unauthorized);
        assert_eq!(e.service_code(), Some("AADSTS50177"));
        assert!(e.has_aadsts(50177));
    }

    #[test]
    fn from_core_credential_keeps_codes() {
        let core: gdap_core::Error = gdap_core::error::CredentialError::new("token refused")
            .with_status(400)
            .with_service_code("AADSTS65001")
            .with_error_codes(vec![65001])
            .into();
        let p = PortError::from_core(&core);
        assert_eq!(p.kind(), PortErrorKind::Unauthorized);
        assert_eq!(p.aadsts_codes(), &[65001]);
        assert_eq!(p.status(), Some(400));
    }

    #[test]
    fn status_mapping() {
        assert_eq!(PortErrorKind::from_status(404), PortErrorKind::NotFound);
        assert_eq!(PortErrorKind::from_status(429), PortErrorKind::Throttled);
        assert_eq!(PortErrorKind::from_status(503), PortErrorKind::Transient);
        assert_eq!(PortErrorKind::from_status(418), PortErrorKind::Other);
    }
}
