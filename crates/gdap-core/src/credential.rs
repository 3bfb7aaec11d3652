//! Where bearer tokens come from.

use std::fmt;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

use crate::error::Result;

/// An access token and when it stops working. The token text never prints.
#[derive(Clone)]
pub struct AccessToken {
    /// The bearer token.
    pub secret: SecretString,
    /// When the token expires.
    pub expires_on: OffsetDateTime,
}

impl AccessToken {
    /// Wraps a token string.
    pub fn new(secret: impl Into<String>, expires_on: OffsetDateTime) -> Self {
        Self {
            secret: SecretString::from(secret.into()),
            expires_on,
        }
    }

    /// Whether the token expires within `margin` of `now`.
    pub fn expires_within(&self, now: OffsetDateTime, margin: time::Duration) -> bool {
        self.expires_on - margin <= now
    }

    /// The token text, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        self.secret.expose_secret()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"[redacted]")
            .field("expires_on", &self.expires_on)
            .finish()
    }
}

/// A source of bearer tokens for a set of scopes, e.g. `["https://graph.microsoft.com/.default"]`.
///
/// Implementations cache and refresh as they see fit; the pipeline calls this before every
/// attempt. Implementations live in `gdap-auth`; [`StaticTokenCredential`] is for tests.
#[async_trait]
pub trait TokenCredential: Send + Sync + fmt::Debug {
    /// Returns a token valid for `scopes`.
    ///
    /// # Errors
    /// An [`Error::Credential`](crate::Error::Credential) describing why no token could be had.
    async fn get_token(&self, scopes: &[&str]) -> Result<AccessToken>;
}

/// A credential that always returns the same token. For tests and for tokens obtained elsewhere.
#[derive(Clone)]
pub struct StaticTokenCredential {
    token: AccessToken,
}

impl StaticTokenCredential {
    /// A credential returning `token`, valid for a day.
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            token: AccessToken::new(token, OffsetDateTime::now_utc() + time::Duration::days(1)),
        }
    }
}

impl fmt::Debug for StaticTokenCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticTokenCredential")
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenCredential for StaticTokenCredential {
    async fn get_token(&self, _scopes: &[&str]) -> Result<AccessToken> {
        Ok(self.token.clone())
    }
}
