//! The crate's one error type, keyed on Entra `AADSTS` codes rather than on message text.
//!
//! Every token-endpoint failure keeps a [`TokenErrorDetails`] (status, `error`, `error_codes`,
//! trace and correlation ids, timestamp). No variant ever holds a token, a secret, an
//! authorization code or any other request form data; the Entra `error_description` is kept only
//! as its first line, cut short, with anything we sent scrubbed out of it.

use std::fmt;
use std::time::Duration;

pub use gdap_core::error::TransportKind;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Longest `error_description` excerpt kept.
const DESCRIPTION_LIMIT: usize = 300;

/// Every way getting a token can fail.
///
/// Branch on the predicates ([`is_reauth_required`](Error::is_reauth_required),
/// [`is_no_gdap_access`](Error::is_no_gdap_access), …) or on [`aadsts_codes`](Error::aadsts_codes);
/// the variants are the typed view of the same classification.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `AADSTS50177` (or `50020`): the signed-in partner user has no active GDAP access to the
    /// customer tenant (not in a security group with an active access assignment there).
    #[error("the partner user has no GDAP access to the tenant: {0}")]
    NoGdapAccess(Box<TokenErrorDetails>),
    /// `AADSTS65001`: the app is not consented (or consent was revoked) in the tenant.
    #[error("the application is not consented in the tenant: {0}")]
    ConsentMissing(Box<TokenErrorDetails>),
    /// `AADSTS700082`, `700084`, `70008` (and `50173`, `70043`): the refresh token expired or was
    /// revoked; the partner admin must sign in again.
    #[error("the refresh token expired or was revoked; sign in again: {0}")]
    RefreshTokenExpired(Box<TokenErrorDetails>),
    /// `AADSTS50076`, `50079`: multi-factor authentication is required; sign in again with MFA.
    #[error("multi-factor authentication is required; sign in again: {0}")]
    MfaRequired(Box<TokenErrorDetails>),
    /// `AADSTS530034`: delegated admin access was blocked because of suspicious activity (risk)
    /// in the partner tenant. Grouped with MFA by [`Error::is_mfa_required`].
    #[error("delegated admin access is blocked due to suspicious activity: {0}")]
    DelegatedAdminBlocked(Box<TokenErrorDetails>),
    /// `AADSTS90099`: the app is not pre-consented for partner delegated administration in the
    /// customer tenant.
    #[error("the application is not authorized for partner delegated administration: {0}")]
    PartnerPreconsentMissing(Box<TokenErrorDetails>),
    /// `invalid_client` (or `AADSTS7000215`, `7000222`, `7000216`): wrong, expired or missing
    /// client secret.
    #[error("the client credentials were rejected: {0}")]
    InvalidClient(Box<TokenErrorDetails>),
    /// Any other token-endpoint error; the raw `error` and `error_codes` are kept.
    #[error("token request failed: {0}")]
    Other(Box<TokenErrorDetails>),
    /// The token endpoint's answer was not a token response nor an Entra error.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// The request could not be sent or the answer could not be read.
    #[error(transparent)]
    Transport(TransportError),
    /// The caller passed a value Entra would reject; nothing was sent.
    #[error(transparent)]
    InvalidInput(InvalidInput),
}

impl Error {
    /// Classifies an Entra error by its `error_codes` (first known code wins), then by `error`.
    pub(crate) fn from_details(details: TokenErrorDetails) -> Self {
        let d = Box::new(details);
        for code in &d.error_codes {
            match code {
                50177 | 50020 => return Error::NoGdapAccess(d),
                65001 => return Error::ConsentMissing(d),
                700082 | 700084 | 70008 | 50173 | 70043 => return Error::RefreshTokenExpired(d),
                50076 | 50079 => return Error::MfaRequired(d),
                530034 => return Error::DelegatedAdminBlocked(d),
                90099 => return Error::PartnerPreconsentMissing(d),
                7000215 | 7000222 | 7000216 => return Error::InvalidClient(d),
                _ => {}
            }
        }
        if d.error == "invalid_client" {
            Error::InvalidClient(d)
        } else {
            Error::Other(d)
        }
    }

    pub(crate) fn invalid_input(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput(InvalidInput {
            field: field.into(),
            reason: reason.into(),
        })
    }

    /// The Entra error details, when the token endpoint answered with an Entra error.
    pub fn details(&self) -> Option<&TokenErrorDetails> {
        match self {
            Error::NoGdapAccess(d)
            | Error::ConsentMissing(d)
            | Error::RefreshTokenExpired(d)
            | Error::MfaRequired(d)
            | Error::DelegatedAdminBlocked(d)
            | Error::PartnerPreconsentMissing(d)
            | Error::InvalidClient(d)
            | Error::Other(d) => Some(d),
            Error::Decode(_) | Error::Transport(_) | Error::InvalidInput(_) => None,
        }
    }

    /// The `AADSTS` codes of the answer (`error_codes`), empty when there were none.
    pub fn aadsts_codes(&self) -> &[u32] {
        self.details().map_or(&[], |d| &d.error_codes)
    }

    /// The OAuth `error` value (`invalid_grant`, `invalid_client`, …).
    pub fn error_code(&self) -> Option<&str> {
        self.details().map(|d| d.error.as_str())
    }

    /// The Entra trace id (from the body, or the `x-ms-request-id` header).
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Error::Decode(d) => d.trace_id.as_deref(),
            _ => self.details().and_then(|d| d.trace_id.as_deref()),
        }
    }

    /// The Entra correlation id (from the body, or the `client-request-id` header).
    pub fn correlation_id(&self) -> Option<&str> {
        match self {
            Error::Decode(d) => d.correlation_id.as_deref(),
            _ => self.details().and_then(|d| d.correlation_id.as_deref()),
        }
    }

    /// The HTTP status of the token endpoint's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Decode(d) => Some(d.status),
            _ => self.details().and_then(|d| d.status),
        }
    }

    /// How long the token endpoint asked us to wait (`Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Decode(d) => d.retry_after,
            _ => self.details().and_then(|d| d.retry_after),
        }
    }

    /// The partner admin must sign in again (Connect / Re-authenticate): the refresh token is
    /// expired or revoked, MFA is required, or delegated admin access is blocked.
    pub fn is_reauth_required(&self) -> bool {
        matches!(
            self,
            Error::RefreshTokenExpired(_) | Error::MfaRequired(_) | Error::DelegatedAdminBlocked(_)
        )
    }

    /// MFA is required (`50076`, `50079`) or delegated admin access is blocked for risk
    /// (`530034`, which the same re-sign-in with MFA resolves once the risk is remediated).
    pub fn is_mfa_required(&self) -> bool {
        matches!(
            self,
            Error::MfaRequired(_) | Error::DelegatedAdminBlocked(_)
        )
    }

    /// The partner user has no GDAP access to the customer tenant (`50177`, `50020`).
    pub fn is_no_gdap_access(&self) -> bool {
        matches!(self, Error::NoGdapAccess(_))
    }

    /// The app has no consent in the tenant (`65001`).
    pub fn is_consent_missing(&self) -> bool {
        matches!(self, Error::ConsentMissing(_))
    }

    /// The app lacks partner pre-consent for the customer tenant (`90099`).
    pub fn is_partner_preconsent_missing(&self) -> bool {
        matches!(self, Error::PartnerPreconsentMissing(_))
    }

    /// The client credentials were rejected (`invalid_client`).
    pub fn is_invalid_client(&self) -> bool {
        matches!(self, Error::InvalidClient(_))
    }

    /// Trying again later may succeed: a transport failure, HTTP 429 or 5xx, or Entra's
    /// `temporarily_unavailable`.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport(t) => t.kind != TransportKind::Other,
            Error::InvalidInput(_) => false,
            _ => {
                matches!(self.status(), Some(429 | 500..=599))
                    || self.error_code() == Some("temporarily_unavailable")
            }
        }
    }
}

/// What Entra said about a failed token request (graph-gdap.md §7.2), minus anything secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenErrorDetails {
    pub(crate) status: Option<u16>,
    pub(crate) error: String,
    pub(crate) error_codes: Vec<u32>,
    pub(crate) description: Option<String>,
    pub(crate) suberror: Option<String>,
    pub(crate) trace_id: Option<String>,
    pub(crate) correlation_id: Option<String>,
    pub(crate) timestamp: Option<String>,
    pub(crate) tenant: Option<String>,
    pub(crate) retry_after: Option<Duration>,
}

impl TokenErrorDetails {
    /// HTTP status of the answer (400 for most token errors, 401 for some `invalid_client`).
    pub fn status(&self) -> Option<u16> {
        self.status
    }
    /// The OAuth `error` value, e.g. `invalid_grant`.
    pub fn error(&self) -> &str {
        &self.error
    }
    /// The `AADSTS` codes (`error_codes`).
    pub fn error_codes(&self) -> &[u32] {
        &self.error_codes
    }
    /// The first line of `error_description`, at most 300 characters, with anything we sent
    /// redacted. For humans only: never branch on it.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// Entra's `suberror` (e.g. `consent_required`, `basic_action`), when sent.
    pub fn suberror(&self) -> Option<&str> {
        self.suberror.as_deref()
    }
    /// The Entra trace id.
    pub fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }
    /// The Entra correlation id.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }
    /// The Entra timestamp as sent (`yyyy-MM-dd HH:mm:ssZ`).
    pub fn timestamp(&self) -> Option<&str> {
        self.timestamp.as_deref()
    }
    /// The tenant segment the token was requested for (GUID, domain or `organizations`).
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }
    /// `Retry-After` of the answer, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

impl fmt::Display for TokenErrorDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.error.is_empty() {
            "error"
        } else {
            &self.error
        })?;
        if !self.error_codes.is_empty() {
            let codes: Vec<String> = self
                .error_codes
                .iter()
                .map(|c| format!("AADSTS{c}"))
                .collect();
            write!(f, " ({})", codes.join(", "))?;
        }
        if let Some(t) = &self.tenant {
            write!(f, " for tenant {t}")?;
        }
        if let Some(s) = self.status {
            write!(f, ", HTTP {s}")?;
        }
        if let Some(t) = &self.trace_id {
            write!(f, " [trace id {t}")?;
            if let Some(c) = &self.correlation_id {
                write!(f, ", correlation id {c}")?;
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}

/// Keeps the first line of an Entra `error_description`, cut short, with `secrets` redacted.
pub(crate) fn sanitize_description(raw: &str, secrets: &[&str]) -> String {
    let first = raw.split(['\r', '\n']).next().unwrap_or_default().trim();
    let mut s: String = first.chars().take(DESCRIPTION_LIMIT).collect();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        if s.contains(secret) {
            s = s.replace(secret, "[redacted]");
        }
        // A secret cut by the length limit could survive as a prefix; drop the tail then.
        if let Some(pos) = longest_secret_prefix_at_end(&s, secret) {
            s.truncate(pos);
            s.push_str("[redacted]");
        }
    }
    s
}

fn longest_secret_prefix_at_end(s: &str, secret: &str) -> Option<usize> {
    (4..secret.len().min(s.len()) + 1)
        .rev()
        .filter(|&n| secret.is_char_boundary(n))
        .find(|&n| s.ends_with(&secret[..n]))
        .map(|n| s.len() - n)
}

/// The token endpoint answered with something that is neither a token nor an Entra error
/// (malformed JSON, a 200 without `access_token`, an HTML 503, a redirect…).
#[derive(Debug, Clone, thiserror::Error)]
#[error("could not decode the token endpoint's answer (HTTP {status}){}: {reason}",
    trace_id.as_deref().map(|t| format!(" [trace id {t}]")).unwrap_or_default())]
pub struct DecodeError {
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) trace_id: Option<String>,
    pub(crate) correlation_id: Option<String>,
    pub(crate) retry_after: Option<Duration>,
}

impl DecodeError {
    /// HTTP status of the answer.
    pub fn status(&self) -> u16 {
        self.status
    }
    /// Why decoding failed (a JSON path and error kind; never the body).
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// The request could not be completed at the transport level.
#[derive(Debug, thiserror::Error)]
#[error("token request {kind_text}: {message}", kind_text = match kind {
    TransportKind::Connect => "could not connect",
    TransportKind::Timeout => "timed out",
    TransportKind::Interrupted => "broke off",
    _ => "failed",
})]
pub struct TransportError {
    pub(crate) kind: TransportKind,
    pub(crate) message: String,
    #[source]
    pub(crate) source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// What kind of failure.
    pub fn kind(&self) -> TransportKind {
        self.kind
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
    /// The rejected field.
    pub fn field(&self) -> &str {
        &self.field
    }
    /// Why it was rejected.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl From<Error> for gdap_core::Error {
    /// A [`gdap_core::error::CredentialError`] carrying the status, `"AADSTS<first code>"` (or the
    /// `error` value) as service code, the codes, trace and correlation ids, the transient flag,
    /// and the typed error as source.
    fn from(e: Error) -> Self {
        if let Error::InvalidInput(i) = &e {
            return gdap_core::Error::invalid_input(i.field.clone(), i.reason.clone());
        }
        let mut c = gdap_core::error::CredentialError::new(e.to_string())
            .with_error_codes(e.aadsts_codes().to_vec())
            .with_ids(
                e.trace_id().map(str::to_owned),
                e.correlation_id().map(str::to_owned),
            )
            .transient(e.is_transient());
        if let Some(s) = e.status() {
            c = c.with_status(s);
        }
        if let Some(code) = e.aadsts_codes().first() {
            c = c.with_service_code(format!("AADSTS{code}"));
        } else if let Some(err) = e.error_code().filter(|s| !s.is_empty()) {
            c = c.with_service_code(err.to_owned());
        }
        c.with_source(e).into()
    }
}

#[cfg(test)]
mod tests;
