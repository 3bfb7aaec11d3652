//! A light, unverified look into JWTs: who signed in, which tenant, and whether MFA was used.
//!
//! Nothing here checks a signature. These helpers are for warnings and display (e.g. "Partner
//! Center will reject this token: no MFA"), never for authorization decisions.

use base64::Engine as _;
use gdap_core::AccessToken;
use serde::{Deserialize, Serialize};

/// The claims of an access or ID token this workspace looks at. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenClaims {
    /// Tenant id (`tid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    /// Object id of the user (`oid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    /// User principal name (`upn`, access tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// Sign-in name (`preferred_username`, ID tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Display name (`name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Authentication methods (`amr`), e.g. `["pwd", "mfa"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// Audience (`aud`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Delegated scopes (`scp`), space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// Application roles (`roles`, app-only tokens).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

impl TokenClaims {
    /// Decodes the payload of a JWT (`header.payload.signature`) without verifying it.
    /// `None` when the text is not a JWT (an opaque token) or its payload is not JSON.
    pub fn decode_unverified(jwt: &str) -> Option<Self> {
        let mut parts = jwt.split('.');
        let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        // `amr` and `roles` must be arrays; anything else is read as absent rather than failing.
        let mut obj = value.as_object()?.clone();
        for k in ["amr", "roles"] {
            if obj.get(k).is_some_and(|v| !v.is_array()) {
                obj.remove(k);
            }
        }
        serde_json::from_value(serde_json::Value::Object(obj)).ok()
    }

    /// The user's sign-in name: `upn`, else `preferred_username`.
    pub fn username(&self) -> Option<&str> {
        self.upn.as_deref().or(self.preferred_username.as_deref())
    }

    /// Whether `amr` contains `mfa`.
    pub fn has_mfa(&self) -> bool {
        self.amr.iter().any(|m| m.eq_ignore_ascii_case("mfa"))
    }
}

/// Whether an access token's `amr` claim contains `mfa` — Partner Center requires it for App+User
/// calls, so callers can warn before a 401.
///
/// `Some(false)` for a JWT without `mfa` in `amr` (or without `amr`, e.g. an app-only token);
/// `None` for an opaque (non-JWT) token, whose claims cannot be read.
///
/// ```
/// use gdap_core::AccessToken;
/// let t = AccessToken::new("opaque-token", time::OffsetDateTime::now_utc());
/// assert_eq!(gdap_auth::has_mfa_claim(&t), None);
/// ```
pub fn has_mfa_claim(token: &AccessToken) -> Option<bool> {
    TokenClaims::decode_unverified(token.expose()).map(|c| c.has_mfa())
}

/// The unverified claims of an access token; `None` for an opaque token.
pub fn access_token_claims(token: &AccessToken) -> Option<TokenClaims> {
    TokenClaims::decode_unverified(token.expose())
}
