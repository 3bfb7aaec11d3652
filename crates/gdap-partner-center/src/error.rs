//! The crate's error type.
//!
//! Callers branch on the predicates ([`Error::is_already_exists`], [`Error::is_conflict`],
//! [`Error::is_mfa_required`], [`Error::is_forbidden`], [`Error::is_not_found`],
//! [`Error::is_throttled`], [`Error::is_retryable`], ...), not on message text. Every variant's
//! `Display` says what to do; its `source()` is the [`PartnerCenterErrorDetails`] with status,
//! code, description and ids.

use std::fmt;
use std::time::Duration;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The only description Partner Center is confirmed to send when a consent is already present.
pub(crate) const ALREADY_EXISTS_TEXT: &str = "permission entry already exists";

/// Partner Center's error code for an App+User token without the MFA claim.
pub(crate) const MFA_REQUIRED_CODE: &str = "900421";

/// Every way a Partner Center call can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The application consent is already present in the customer tenant (HTTP 409, or any status
    /// with the description "Permission entry already exists."). Treat it as done and read the
    /// grants back, or delete the consent and create it again to change its grants.
    #[error(
        "the application consent already exists in this customer tenant (HTTP {status}): treat it \
         as done and verify the grants, or delete the consent and create it again to change them",
        status = .0.status
    )]
    AlreadyExists(#[source] Box<PartnerCenterErrorDetails>),

    /// `POST /webhooks/v1/registration` found a registration already present for the partner
    /// (HTTP 409; there is one per partner tenant). Update it with `PUT`
    /// ([`update_webhook_registration`](crate::PartnerCenterClient::update_webhook_registration)),
    /// or read it first: another tool of the same partner may own it.
    #[error(
        "a webhook registration already exists for this partner (HTTP {status}): there is one per \
         partner tenant; update it (PUT) instead of creating it, after checking that no other tool \
         relies on it",
        status = .0.status
    )]
    WebhookRegistrationExists(#[source] Box<PartnerCenterErrorDetails>),

    /// The App+User token carries no MFA claim (HTTP 401, code 900421 or a description about
    /// MFA). Never retried: a new sign-in is needed.
    #[error(
        "Partner Center requires multi-factor authentication for this call (HTTP 401): sign in \
         again with MFA so the token's `amr` claim includes `mfa`, and enforce MFA on the partner \
         account; retrying with the same token will not help"
    )]
    MfaRequired(#[source] Box<PartnerCenterErrorDetails>),

    /// Partner Center refused the caller (HTTP 403).
    #[error(
        "the Partner Center user does not have sufficient permissions to manage this customer \
         tenant (HTTP 403, often \"Unsupported token\"): make sure the signed-in account has the \
         Admin Agent role in Partner Center and is a member of the GDAP security groups for the \
         customer tenant, and that the application is consented in your MSP tenant (reconnect to \
         refresh the consent)"
    )]
    Forbidden(#[source] Box<PartnerCenterErrorDetails>),

    /// The customer, the consent or the webhook registration does not exist (HTTP 404).
    #[error(
        "not found in Partner Center (HTTP 404): the customer is not one of your customers, or \
         there is no such application consent or webhook registration"
    )]
    NotFound(#[source] Box<PartnerCenterErrorDetails>),

    /// Partner Center asked us to slow down (HTTP 429, or 503 with `Retry-After`) and the retry
    /// policy gave up.
    #[error("Partner Center is throttling requests (HTTP {status}){wait}",
        status = .0.status,
        wait = .0.retry_after.map(|d| format!(": retry after {} s", d.as_secs())).unwrap_or_default())]
    Throttled(#[source] Box<PartnerCenterErrorDetails>),

    /// Any other non-success answer from Partner Center.
    #[error("Partner Center rejected the call (HTTP {status})", status = .0.status)]
    Service(#[source] Box<PartnerCenterErrorDetails>),

    /// A failure below the service: transport, timeout, token acquisition, an undecodable body,
    /// invalid input detected before sending.
    #[error(transparent)]
    Core(#[from] gdap_core::Error),

    /// A body given to [`WebhookEvent::parse`](crate::models::WebhookEvent::parse) is not a
    /// Partner Center webhook event: too large, not JSON of the event's shape, or without an
    /// `EventName`. Answer the callback request with 400 and do not act on it.
    #[error(transparent)]
    InvalidWebhookEvent(WebhookEventError),
}

/// Why a webhook callback body was refused by
/// [`WebhookEvent::parse`](crate::models::WebhookEvent::parse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookEventErrorKind {
    /// The body is larger than
    /// [`MAX_WEBHOOK_EVENT_BYTES`](crate::models::MAX_WEBHOOK_EVENT_BYTES).
    TooLarge,
    /// The body is not a JSON object of the event's shape (syntax error, wrong value types).
    Malformed,
    /// The object has no `EventName` (absent, `null` or blank).
    MissingEventName,
}

/// A webhook callback body that is not a Partner Center event. The text says what was wrong and
/// never repeats more than a short excerpt of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEventError {
    pub(crate) kind: WebhookEventErrorKind,
    pub(crate) len: usize,
    pub(crate) reason: String,
}

impl WebhookEventError {
    /// What was wrong.
    pub fn kind(&self) -> WebhookEventErrorKind {
        self.kind
    }
    /// The size of the refused body, in bytes.
    pub fn body_len(&self) -> usize {
        self.len
    }
    /// The decoder's explanation (empty unless the kind is
    /// [`Malformed`](WebhookEventErrorKind::Malformed)).
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for WebhookEventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            WebhookEventErrorKind::TooLarge => write!(
                f,
                "the webhook event body is {} bytes; at most {} are read (Partner Center events \
                 are a few hundred bytes): answer 400 and ignore it",
                self.len,
                crate::models::MAX_WEBHOOK_EVENT_BYTES
            ),
            WebhookEventErrorKind::Malformed => write!(
                f,
                "the webhook event body ({} bytes) is not a Partner Center event: {}",
                self.len, self.reason
            ),
            WebhookEventErrorKind::MissingEventName => write!(
                f,
                "the webhook event body ({} bytes) has no EventName, so it is not a Partner \
                 Center event: answer 400 and ignore it",
                self.len
            ),
        }
    }
}

impl std::error::Error for WebhookEventError {}

/// What Partner Center said about a failed call.
///
/// `code` is kept as a string although Partner Center sends numbers; `data` are the fault's data
/// strings. `request_id` is the `MS-RequestId` of the call (sent by this client and echoed by the
/// service) and `correlation_id` its `MS-CorrelationId`; quote both to Microsoft support.
#[derive(Debug)]
pub struct PartnerCenterErrorDetails {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) status: u16,
    pub(crate) code: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) data: Vec<String>,
    pub(crate) request_id: Option<String>,
    pub(crate) correlation_id: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) core: gdap_core::Error,
}

impl PartnerCenterErrorDetails {
    /// The HTTP method of the failed call.
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
    /// Partner Center's error `code` (e.g. `"900421"`), or the throttling body's `statusCode`.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
    /// Partner Center's `description` (or the throttling body's `message`).
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// The fault's `data` entries.
    pub fn data(&self) -> &[String] {
        &self.data
    }
    /// The call's `MS-RequestId`.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    /// The call's `MS-CorrelationId`.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }
    /// `Retry-After`, when the service sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
    /// The underlying pipeline error (with a bounded body snippet).
    pub fn core(&self) -> &gdap_core::Error {
        &self.core
    }
}

impl fmt::Display for PartnerCenterErrorDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} answered HTTP {}",
            self.method, self.path, self.status
        )?;
        if let Some(c) = &self.code {
            write!(f, " (code {c})")?;
        }
        if let Some(d) = &self.description {
            write!(f, ": {d}")?;
        }
        if !self.data.is_empty() {
            write!(f, " [data: {}]", self.data.join("; "))?;
        }
        if let Some(r) = &self.request_id {
            write!(f, " [MS-RequestId {r}]")?;
        }
        if let Some(c) = &self.correlation_id {
            write!(f, " [MS-CorrelationId {c}]")?;
        }
        Ok(())
    }
}

// The pipeline error is reachable through `core()`; it is not the `source()`, because its text
// repeats what this one already says.
impl std::error::Error for PartnerCenterErrorDetails {}

impl Error {
    /// Turns a pipeline error into this crate's error, classifying Partner Center answers.
    pub(crate) fn from_core(e: gdap_core::Error, correlation_id: &str) -> Self {
        let Some(http) = e.as_http() else {
            return Error::Core(e);
        };
        let status = http.status();
        let code = http.service_code().map(str::to_owned);
        let description = http.message().map(str::to_owned);
        let data = match http.data() {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
            _ => Vec::new(),
        };
        let lower = description
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let already_exists = status == 409 || lower.contains(ALREADY_EXISTS_TEXT);
        let mfa = status == 401
            && (code.as_deref() == Some(MFA_REQUIRED_CODE)
                || lower.contains("mfa")
                || lower.contains("multi-factor")
                || lower.contains("multifactor"));
        let throttled = e.is_throttled();
        let details = Box::new(PartnerCenterErrorDetails {
            method: http.method().to_owned(),
            path: http.path().to_owned(),
            status,
            code,
            description,
            data,
            request_id: http
                .client_request_id()
                .or(http.request_id())
                .map(str::to_owned),
            correlation_id: Some(correlation_id.to_owned()),
            retry_after: http.retry_after(),
            core: e,
        });
        if already_exists {
            Error::AlreadyExists(details)
        } else if mfa {
            Error::MfaRequired(details)
        } else if status == 403 {
            Error::Forbidden(details)
        } else if status == 404 {
            Error::NotFound(details)
        } else if throttled {
            Error::Throttled(details)
        } else {
            Error::Service(details)
        }
    }

    /// A 409 of `POST /webhooks/v1/registration` is about the partner's webhook registration, not
    /// a consent: reclassify it.
    pub(crate) fn into_webhook_conflict(self) -> Self {
        match self {
            Error::AlreadyExists(d) if d.status == 409 => Error::WebhookRegistrationExists(d),
            other => other,
        }
    }

    /// The Partner Center details, when the service answered with an error.
    pub fn details(&self) -> Option<&PartnerCenterErrorDetails> {
        match self {
            Error::AlreadyExists(d)
            | Error::WebhookRegistrationExists(d)
            | Error::MfaRequired(d)
            | Error::Forbidden(d)
            | Error::NotFound(d)
            | Error::Throttled(d)
            | Error::Service(d) => Some(d),
            Error::Core(_) | Error::InvalidWebhookEvent(_) => None,
        }
    }

    /// The underlying pipeline error.
    pub fn as_core(&self) -> Option<&gdap_core::Error> {
        match self {
            Error::Core(e) => Some(e),
            _ => self.details().map(PartnerCenterErrorDetails::core),
        }
    }

    /// The consent is already present ([`Error::AlreadyExists`]). False for a webhook
    /// registration that already exists; [`is_conflict`](Self::is_conflict) covers both.
    pub fn is_already_exists(&self) -> bool {
        matches!(self, Error::AlreadyExists(_))
    }

    /// A create collided with what is already there: a consent already present
    /// ([`Error::AlreadyExists`]: 409, or "Permission entry already exists." at 400) or a
    /// webhook registration already present ([`Error::WebhookRegistrationExists`]: 409 on
    /// `POST`). Never retryable; read the current state and update or keep it.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Error::AlreadyExists(_) | Error::WebhookRegistrationExists(_)
        )
    }

    /// The token lacks MFA ([`Error::MfaRequired`]); sign in again, do not retry.
    pub fn is_mfa_required(&self) -> bool {
        matches!(self, Error::MfaRequired(_))
    }

    /// HTTP 403 ([`Error::Forbidden`]).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Error::Forbidden(_))
    }

    /// HTTP 404 ([`Error::NotFound`]).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }

    /// The service asked us to slow down (429, or 503 with `Retry-After`).
    pub fn is_throttled(&self) -> bool {
        matches!(self, Error::Throttled(_))
    }

    /// Any authentication or authorization failure: MFA, 401, 403, or no token.
    pub fn is_auth(&self) -> bool {
        self.is_mfa_required()
            || self.is_forbidden()
            || self.as_core().is_some_and(gdap_core::Error::is_auth)
    }

    /// The response body was not what the operation expects (malformed JSON, an HTML page), or
    /// a webhook callback body was not a Partner Center event ([`Error::InvalidWebhookEvent`]).
    pub fn is_decode(&self) -> bool {
        matches!(
            self,
            Error::Core(gdap_core::Error::Decode(_)) | Error::InvalidWebhookEvent(_)
        )
    }

    /// Why a webhook callback body was refused, when this is [`Error::InvalidWebhookEvent`].
    pub fn as_webhook_event_error(&self) -> Option<&WebhookEventError> {
        match self {
            Error::InvalidWebhookEvent(e) => Some(e),
            _ => None,
        }
    }

    /// Whether trying the same call again later may succeed (transient status, throttling,
    /// transport failure). Never true for [`Error::MfaRequired`], [`Error::AlreadyExists`] or
    /// [`Error::WebhookRegistrationExists`].
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::AlreadyExists(_)
            | Error::WebhookRegistrationExists(_)
            | Error::MfaRequired(_)
            | Error::Forbidden(_)
            | Error::NotFound(_)
            | Error::InvalidWebhookEvent(_) => false,
            Error::Throttled(_) => true,
            Error::Service(d) => d.core.is_retryable(),
            Error::Core(e) => e.is_retryable(),
        }
    }

    /// How long the service asked us to wait (`Retry-After`), if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.as_core().and_then(gdap_core::Error::retry_after)
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<u16> {
        self.as_core().and_then(gdap_core::Error::status)
    }

    /// Partner Center's error `code` as a string (`"900421"`), or a token error's code.
    pub fn service_code(&self) -> Option<&str> {
        match self.details() {
            Some(d) => d.code(),
            None => self.as_core().and_then(gdap_core::Error::service_code),
        }
    }

    /// Partner Center's error `description`, when it sent one.
    pub fn description(&self) -> Option<&str> {
        self.details()
            .and_then(PartnerCenterErrorDetails::description)
    }

    /// The failing call's `MS-RequestId`.
    pub fn request_id(&self) -> Option<&str> {
        match self.details() {
            Some(d) => d.request_id(),
            None => self
                .as_core()
                .and_then(|e| e.client_request_id().or(e.request_id())),
        }
    }

    /// The failing call's `MS-CorrelationId`, when the service answered.
    pub fn correlation_id(&self) -> Option<&str> {
        self.details()
            .and_then(PartnerCenterErrorDetails::correlation_id)
    }
}
