//! The error type shared by every client built on the pipeline.
//!
//! Callers branch on the predicates (`is_retryable`, `is_throttled`, `status`, `service_code`, …),
//! never on variants or message text. No variant ever holds a token: request headers are not kept,
//! and response bodies are kept only as a bounded snippet reachable through an accessor.

use std::time::Duration;

/// Result alias used across the workspace's clients.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Longest response-body snippet kept for error text.
pub(crate) const BODY_SNIPPET_LIMIT: usize = 2048;

/// Every way a call through the pipeline can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service answered with a non-success status.
    #[error(transparent)]
    Http(Box<HttpError>),
    /// The request could not be sent or the response could not be read.
    #[error(transparent)]
    Transport(TransportError),
    /// The response arrived but its body was not what the operation expects.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// The caller passed a value the service would reject; nothing was sent.
    #[error(transparent)]
    InvalidInput(InvalidInput),
    /// A URL from a response (next link, `Location`, redirect) points at a host the client was not
    /// configured for; the request was not sent, so the bearer token stayed home.
    #[error(transparent)]
    ForeignOrigin(ForeignOriginError),
    /// A token could not be obtained.
    #[error(transparent)]
    Credential(Box<CredentialError>),
    /// The response body exceeded the configured limit.
    #[error("response body of {method} {path} exceeded {limit} bytes; refusing to read further")]
    BodyTooLarge {
        /// HTTP method of the request.
        method: String,
        /// Path of the request (no query, no host).
        path: String,
        /// The configured limit in bytes.
        limit: usize,
    },
}

impl Error {
    /// Whether the retry policy would try this again (transient status or transport failure).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Http(e) => matches!(e.status, 408 | 429 | 500 | 502 | 503 | 504),
            Error::Transport(e) => e.kind != TransportKind::Other,
            Error::Credential(e) => e.transient,
            Error::Decode(_)
            | Error::InvalidInput(_)
            | Error::ForeignOrigin(_)
            | Error::BodyTooLarge { .. } => false,
        }
    }

    /// Whether the service asked us to slow down (429, or 503 with `Retry-After`).
    pub fn is_throttled(&self) -> bool {
        match self {
            Error::Http(e) => e.status == 429 || (e.status == 503 && e.retry_after.is_some()),
            _ => false,
        }
    }

    /// How long the service asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Http(e) => e.retry_after,
            _ => None,
        }
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http(e) => Some(e.status),
            Error::Decode(e) => Some(e.status),
            Error::Credential(e) => e.status,
            _ => None,
        }
    }

    /// The service's own error code (Graph `error.code`, Partner Center `code`, or the first
    /// `AADSTS` code of a token error, as `"AADSTS50177"`).
    pub fn service_code(&self) -> Option<&str> {
        match self {
            Error::Http(e) => e.service_code.as_deref(),
            Error::Credential(e) => e.service_code.as_deref(),
            _ => None,
        }
    }

    /// The inner service code where the service nests one (Graph `innerError.code`).
    pub fn inner_code(&self) -> Option<&str> {
        match self {
            Error::Http(e) => e.inner_code.as_deref(),
            _ => None,
        }
    }

    /// The server's request id (Graph `request-id`, Partner Center `MS-RequestId`, Entra trace id).
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Http(e) => e.request_id.as_deref(),
            Error::Decode(e) => e.request_id.as_deref(),
            Error::Credential(e) => e.trace_id.as_deref(),
            _ => None,
        }
    }

    /// The `client-request-id` / correlation id we sent with the failing call.
    pub fn client_request_id(&self) -> Option<&str> {
        match self {
            Error::Http(e) => e.client_request_id.as_deref(),
            Error::Decode(e) => e.client_request_id.as_deref(),
            Error::Credential(e) => e.correlation_id.as_deref(),
            _ => None,
        }
    }

    /// The Entra `AADSTS` codes of a token error (empty for other errors).
    pub fn aadsts_codes(&self) -> &[u32] {
        match self {
            Error::Credential(e) => &e.error_codes,
            _ => &[],
        }
    }

    /// 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// 409.
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }

    /// 412: the `If-Match` ETag was stale.
    pub fn is_precondition_failed(&self) -> bool {
        self.status() == Some(412)
    }

    /// 401/403 from a service, or any token failure.
    pub fn is_auth(&self) -> bool {
        matches!(self, Error::Credential(_)) || matches!(self.status(), Some(401 | 403))
    }

    /// A timeout (per attempt or overall).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Transport(e) if e.kind == TransportKind::Timeout)
    }

    /// The HTTP error details, when this is an HTTP error.
    pub fn as_http(&self) -> Option<&HttpError> {
        match self {
            Error::Http(e) => Some(e),
            _ => None,
        }
    }

    /// The token error details, when this is a credential error.
    pub fn as_credential(&self) -> Option<&CredentialError> {
        match self {
            Error::Credential(e) => Some(e),
            _ => None,
        }
    }

    /// Shorthand for an [`InvalidInput`] error.
    pub fn invalid_input(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput(InvalidInput {
            field: field.into(),
            reason: reason.into(),
        })
    }
}

impl From<crate::ids::IdError> for Error {
    fn from(e: crate::ids::IdError) -> Self {
        Error::invalid_input(e.field(), e.to_string())
    }
}

/// A non-success HTTP response, with everything needed to report and retry it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{method} {path} failed with HTTP {status}{}{}{}",
    service_code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default(),
    message.as_deref().map(|m| format!(": {m}")).unwrap_or_default(),
    request_id.as_deref().map(|r| format!(" [request-id {r}]")).unwrap_or_default())]
pub struct HttpError {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) status: u16,
    pub(crate) service_code: Option<String>,
    pub(crate) inner_code: Option<String>,
    pub(crate) message: Option<String>,
    pub(crate) request_id: Option<String>,
    pub(crate) client_request_id: Option<String>,
    pub(crate) date: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) data: Option<serde_json::Value>,
    pub(crate) body: String,
}

impl HttpError {
    /// The HTTP method.
    pub fn method(&self) -> &str {
        &self.method
    }
    /// The request path (no host, no query).
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }
    /// The service error code.
    pub fn service_code(&self) -> Option<&str> {
        self.service_code.as_deref()
    }
    /// The nested service code, if any.
    pub fn inner_code(&self) -> Option<&str> {
        self.inner_code.as_deref()
    }
    /// The service's error message.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
    /// The server request id.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    /// The client request id we sent.
    pub fn client_request_id(&self) -> Option<&str> {
        self.client_request_id.as_deref()
    }
    /// The date the service stamped on the error, as sent.
    pub fn date(&self) -> Option<&str> {
        self.date.as_deref()
    }
    /// `Retry-After`, if the service sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
    /// Extra structured data (Partner Center `data`, Graph `details`).
    pub fn data(&self) -> Option<&serde_json::Value> {
        self.data.as_ref()
    }
    /// The first 2 KB of the response body, for diagnostics.
    pub fn body_snippet(&self) -> &str {
        &self.body
    }
}

/// What kind of transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection could not be established: the request was provably not sent.
    Connect,
    /// The attempt ran out of time; the server may or may not have acted.
    Timeout,
    /// The connection broke after the request may have been sent.
    Interrupted,
    /// Anything else (bad URL, TLS configuration, …): not retried.
    Other,
}

/// The request could not be completed at the transport level.
#[derive(Debug, thiserror::Error)]
#[error("{kind_text} for {method} {path}: {message}", kind_text = match kind {
    TransportKind::Connect => "could not connect",
    TransportKind::Timeout => "timed out",
    TransportKind::Interrupted => "connection broke",
    TransportKind::Other => "transport error",
})]
pub struct TransportError {
    pub(crate) kind: TransportKind,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) message: String,
    #[source]
    pub(crate) source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// What kind of failure.
    pub fn kind(&self) -> TransportKind {
        self.kind
    }
    /// Whether the request was provably never sent (so even a POST may be retried).
    pub fn request_not_sent(&self) -> bool {
        self.kind == TransportKind::Connect
    }
}

/// The body could not be decoded as the operation expects.
#[derive(Debug, Clone, thiserror::Error)]
#[error("could not decode the response of {method} {path} (HTTP {status}{}): {reason}",
    request_id.as_deref().map(|r| format!(", request-id {r}")).unwrap_or_default())]
pub struct DecodeError {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) status: u16,
    pub(crate) request_id: Option<String>,
    pub(crate) client_request_id: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) reason: String,
    pub(crate) body: String,
}

impl DecodeError {
    /// HTTP status of the response.
    pub fn status(&self) -> u16 {
        self.status
    }
    /// Content-Type the server claimed.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }
    /// Why decoding failed.
    pub fn reason(&self) -> &str {
        &self.reason
    }
    /// The first 2 KB of the body.
    pub fn body_snippet(&self) -> &str {
        &self.body
    }
}

/// A value was rejected before anything was sent.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct InvalidInput {
    pub(crate) field: String,
    pub(crate) reason: String,
}

impl InvalidInput {
    /// The field that was rejected.
    pub fn field(&self) -> &str {
        &self.field
    }
    /// Why.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// A URL pointed outside the configured endpoint.
#[derive(Debug, Clone, thiserror::Error)]
#[error("refused to follow {what} to {origin}: the client is configured for {expected} only")]
pub struct ForeignOriginError {
    pub(crate) what: &'static str,
    pub(crate) origin: String,
    pub(crate) expected: String,
}

impl ForeignOriginError {
    /// The origin that was refused (scheme://host:port).
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// A token could not be obtained. Built by credential implementations (see `gdap-auth`).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CredentialError {
    pub(crate) message: String,
    pub(crate) status: Option<u16>,
    pub(crate) service_code: Option<String>,
    pub(crate) error_codes: Vec<u32>,
    pub(crate) trace_id: Option<String>,
    pub(crate) correlation_id: Option<String>,
    pub(crate) transient: bool,
    #[source]
    pub(crate) source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl CredentialError {
    /// A credential error with a message that must not contain any secret.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            status: None,
            service_code: None,
            error_codes: Vec::new(),
            trace_id: None,
            correlation_id: None,
            transient: false,
            source: None,
        }
    }
    /// Sets the HTTP status of the token endpoint's answer.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
    /// Sets the error code (`invalid_grant`, or `AADSTS50177` when codes are known).
    pub fn with_service_code(mut self, code: impl Into<String>) -> Self {
        self.service_code = Some(code.into());
        self
    }
    /// Sets the `AADSTS` codes.
    pub fn with_error_codes(mut self, codes: Vec<u32>) -> Self {
        self.error_codes = codes;
        self
    }
    /// Sets the trace and correlation ids.
    pub fn with_ids(mut self, trace_id: Option<String>, correlation_id: Option<String>) -> Self {
        self.trace_id = trace_id;
        self.correlation_id = correlation_id;
        self
    }
    /// Marks the failure as transient (network, 5xx at the token endpoint).
    pub fn transient(mut self, transient: bool) -> Self {
        self.transient = transient;
        self
    }
    /// Attaches the typed cause (for example `gdap_auth::Error`), reachable through `source()`.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
    /// The `AADSTS` codes.
    pub fn error_codes(&self) -> &[u32] {
        &self.error_codes
    }
    /// The Entra trace id.
    pub fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }
    /// The Entra correlation id.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }
    /// The typed cause, downcastable by the crate that created it.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }
}

impl From<CredentialError> for Error {
    fn from(e: CredentialError) -> Self {
        Error::Credential(Box::new(e))
    }
}
