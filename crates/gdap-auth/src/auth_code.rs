//! The partner admin's interactive sign-in (Connect / Re-authenticate): authorization code with
//! PKCE and a random `state`.
//!
//! 1. [`AuthCodeFlow::authorize_url`] gives the URL to send the browser to and a
//!    [`PendingAuthorization`] (state + PKCE verifier) to keep server-side, e.g. in the session.
//! 2. The redirect comes back with `code` and `state`; the caller checks the state with
//!    [`PendingAuthorization::verify_state`] and calls [`AuthCodeFlow::exchange`] (or does both
//!    with [`AuthCodeFlow::complete`]).
//! 3. The [`TokenSet`]'s refresh token seeds a [`RefreshTokenCredential`](crate::RefreshTokenCredential).

use std::fmt;

use oauth2::TokenResponse as _;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use crate::app::AppCredentials;
use crate::authority::{Authority, TenantRef};
use crate::claims::TokenClaims;
use crate::error::{Error, Result};
use crate::http::{Exchange, TokenClientOptions, TokenHttp};
use crate::scopes;

/// The authorization-code flow of one app and redirect URI.
///
/// Scopes: the authorize request asks consent for every scope given (Entra's `/authorize` accepts
/// several resources), but a token request may name only one resource, so the code exchange asks
/// for the scopes of the *first* resource in the list plus `offline_access` / OpenID scopes. With
/// [`PARTNER_CONNECT_SCOPES`](crate::scopes::PARTNER_CONNECT_SCOPES) that is Graph; Partner Center
/// tokens then come from the refresh token. Override with [`with_exchange_scopes`](Self::with_exchange_scopes).
pub struct AuthCodeFlow {
    authority: Authority,
    tenant: TenantRef,
    app: AppCredentials,
    redirect_uri: Url,
    scopes: Vec<String>,
    exchange_scopes: Vec<String>,
    http: TokenHttp,
}

/// Extra parameters of the authorize request.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AuthorizeOptions {
    /// `login_hint`: pre-fills the account (e.g. the admin who connected last time).
    pub login_hint: Option<String>,
    /// `prompt`: `login`, `select_account`, `consent` or `none`.
    pub prompt: Option<String>,
    /// `domain_hint`: skips home-realm discovery.
    pub domain_hint: Option<String>,
}

impl AuthorizeOptions {
    /// Sets `login_hint`.
    pub fn with_login_hint(mut self, hint: impl Into<String>) -> Self {
        self.login_hint = Some(hint.into());
        self
    }
    /// Sets `prompt`.
    pub fn with_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = Some(prompt.into());
        self
    }
}

impl AuthCodeFlow {
    /// A flow for `app`, redirecting to `redirect_uri` (https, or http on a loopback host),
    /// asking consent for `scopes` (typically [`scopes::PARTNER_CONNECT_SCOPES`]). The tenant
    /// segment defaults to `organizations`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unusable redirect URI or scope list.
    pub fn new(
        authority: Authority,
        app: AppCredentials,
        redirect_uri: Url,
        scopes: &[&str],
    ) -> Result<Self> {
        Self::new_with_options(
            authority,
            app,
            redirect_uri,
            scopes,
            TokenClientOptions::default(),
        )
    }

    /// As [`new`](Self::new), with explicit client options.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn new_with_options(
        authority: Authority,
        app: AppCredentials,
        redirect_uri: Url,
        scopes: &[&str],
        options: TokenClientOptions,
    ) -> Result<Self> {
        let loopback = matches!(
            redirect_uri.host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]")
        );
        let scheme_ok =
            redirect_uri.scheme() == "https" || (redirect_uri.scheme() == "http" && loopback);
        if !scheme_ok || redirect_uri.fragment().is_some() {
            return Err(Error::invalid_input(
                "redirect_uri",
                "must be https (http only on a loopback host) without a fragment",
            ));
        }
        scopes::validate(scopes)?;
        let exchange_scopes = default_exchange_scopes(scopes);
        Ok(Self {
            authority,
            tenant: TenantRef::organizations(),
            app,
            redirect_uri,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            exchange_scopes,
            http: TokenHttp::new(options),
        })
    }

    /// Uses `tenant` in the authorize and token URLs instead of `organizations`.
    pub fn with_tenant(mut self, tenant: TenantRef) -> Self {
        self.tenant = tenant;
        self
    }

    /// Sets the scopes asked for in the code exchange (one resource plus OpenID scopes).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty or malformed list.
    pub fn with_exchange_scopes(mut self, scopes: &[&str]) -> Result<Self> {
        scopes::validate(scopes)?;
        self.exchange_scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        Ok(self)
    }

    /// The scopes of the authorize request.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The scopes of the code exchange.
    pub fn exchange_scopes(&self) -> &[String] {
        &self.exchange_scopes
    }

    /// The URL to send the browser to, and the state + PKCE verifier to keep until the redirect
    /// comes back.
    pub fn authorize_url(&self) -> (Url, PendingAuthorization) {
        self.authorize_url_with(&AuthorizeOptions::default())
    }

    /// As [`authorize_url`](Self::authorize_url), with `login_hint` / `prompt` / `domain_hint`.
    pub fn authorize_url_with(&self, options: &AuthorizeOptions) -> (Url, PendingAuthorization) {
        let client = self
            .app
            .oauth_client()
            .set_auth_uri(oauth2::AuthUrl::from_url(
                self.authority.authorize_url(&self.tenant),
            ))
            .set_redirect_uri(oauth2::RedirectUrl::from_url(self.redirect_uri.clone()));
        let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
        let mut req = client
            .authorize_url(oauth2::CsrfToken::new_random)
            .add_scopes(self.scopes.iter().map(|s| oauth2::Scope::new(s.clone())))
            .set_pkce_challenge(challenge)
            .add_extra_param("response_mode", "query");
        for (k, v) in [
            ("login_hint", &options.login_hint),
            ("prompt", &options.prompt),
            ("domain_hint", &options.domain_hint),
        ] {
            if let Some(v) = v {
                req = req.add_extra_param(k, v.clone());
            }
        }
        let (url, state) = req.url();
        (
            url,
            PendingAuthorization {
                state: CsrfState(SecretString::from(state.into_secret())),
                verifier: PkceVerifier(SecretString::from(verifier.into_secret())),
            },
        )
    }

    /// Checks `returned_state` against `pending` and exchanges `code`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the state does not match (nothing is sent), else as
    /// [`exchange`](Self::exchange).
    pub async fn complete(
        &self,
        pending: PendingAuthorization,
        returned_state: &str,
        code: SecretString,
    ) -> Result<TokenSet> {
        pending.verify_state(returned_state)?;
        self.exchange(code, pending.verifier).await
    }

    /// Exchanges the authorization `code` (with the PKCE `verifier`) for tokens. The caller must
    /// have verified the `state` first. Redirects from the token endpoint are not followed.
    ///
    /// # Errors
    /// The typed [`crate::Error`] from the token endpoint (e.g. `invalid_grant` for a used or
    /// expired code, [`Error::MfaRequired`]).
    pub async fn exchange(&self, code: SecretString, verifier: PkceVerifier) -> Result<TokenSet> {
        if code.expose_secret().is_empty() {
            return Err(Error::invalid_input("code", "must not be empty"));
        }
        let client = self
            .app
            .oauth_client()
            .set_token_uri(oauth2::TokenUrl::from_url(
                self.authority.token_url(&self.tenant),
            ))
            .set_redirect_uri(oauth2::RedirectUrl::from_url(self.redirect_uri.clone()));
        let exchange = Exchange::new(&self.http, &self.tenant);
        let scope = self.exchange_scopes.join(" ");
        let outcome = client
            .exchange_code(oauth2::AuthorizationCode::new(
                code.expose_secret().to_owned(),
            ))
            .set_pkce_verifier(oauth2::PkceCodeVerifier::new(
                verifier.0.expose_secret().to_owned(),
            ))
            .add_extra_param("scope", scope.clone())
            .request_async(&exchange)
            .await;
        let secret = self.app.client_secret.as_ref().map(|s| s.expose_secret());
        let sent: Vec<&str> = [
            Some(code.expose_secret()),
            Some(verifier.0.expose_secret()),
            secret,
        ]
        .into_iter()
        .flatten()
        .collect();
        let resp = exchange.finish(outcome, &sent).inspect_err(|e| {
            tracing::debug!(tenant = %self.tenant, scope = %scope, grant = "authorization_code",
                codes = ?e.aadsts_codes(), trace_id = e.trace_id(), "token request failed");
        })?;
        tracing::debug!(tenant = %self.tenant, scope = %scope, grant = "authorization_code",
            expires_in = crate::http::lifetime(&resp).as_secs(), "token acquired");
        Ok(TokenSet {
            access_token: crate::http::access_token(&resp),
            refresh_token: resp
                .refresh_token()
                .map(|r| SecretString::from(r.secret().clone())),
            scopes: resp
                .scopes()
                .map(|s| s.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
            id_token: resp
                .extra_fields()
                .id_token
                .as_deref()
                .and_then(TokenClaims::decode_unverified),
        })
    }
}

fn default_exchange_scopes(scopes: &[&str]) -> Vec<String> {
    let first_resource = scopes
        .iter()
        .find(|s| !scopes::is_reserved(s))
        .map(|s| scopes::resource_of(s));
    scopes
        .iter()
        .filter(|s| scopes::is_reserved(s) || Some(scopes::resource_of(s)) == first_resource)
        .map(|s| (*s).to_owned())
        .collect()
}

impl fmt::Debug for AuthCodeFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthCodeFlow")
            .field("authority", &self.authority)
            .field("tenant", &self.tenant)
            .field("client_id", &self.app.client_id)
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// What the authorize step left to check and use when the redirect comes back. Serializable so
/// a server can keep it in a (server-side, encrypted) session; `Debug` prints nothing of it.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingAuthorization {
    /// The `state` sent; the redirect must bring it back unchanged.
    pub state: CsrfState,
    /// The PKCE code verifier for the exchange.
    pub verifier: PkceVerifier,
}

impl PendingAuthorization {
    /// Checks the `state` from the redirect, in constant time.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when it does not match.
    pub fn verify_state(&self, returned: &str) -> Result<()> {
        if constant_time_eq(self.state.0.expose_secret().as_bytes(), returned.as_bytes()) {
            Ok(())
        } else {
            Err(Error::invalid_input(
                "state",
                "does not match the pending authorization (possible CSRF)",
            ))
        }
    }
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthorization")
            .finish_non_exhaustive()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The random `state` of an authorize request.
#[derive(Clone)]
pub struct CsrfState(SecretString);

impl CsrfState {
    /// The state text (it travels in the URL; still keep it out of logs).
    pub fn secret(&self) -> &str {
        self.0.expose_secret()
    }
}

/// A PKCE code verifier (secret until the exchange).
#[derive(Clone)]
pub struct PkceVerifier(SecretString);

impl PkceVerifier {
    /// Wraps a verifier kept elsewhere.
    pub fn new(verifier: SecretString) -> Self {
        Self(verifier)
    }
}

macro_rules! secret_serde {
    ($t:ident) => {
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($t), "([redacted])"))
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.0.expose_secret())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                Ok(Self(SecretString::from(String::deserialize(d)?)))
            }
        }
    };
}
secret_serde!(CsrfState);
secret_serde!(PkceVerifier);

/// What the code exchange returned. `Debug` never prints the tokens.
#[derive(Clone)]
#[non_exhaustive]
pub struct TokenSet {
    /// The access token (for the exchange scopes' resource, normally Graph).
    pub access_token: gdap_core::AccessToken,
    /// The refresh token, when `offline_access` was granted: store it and build a
    /// [`RefreshTokenCredential`](crate::RefreshTokenCredential) from it.
    pub refresh_token: Option<SecretString>,
    /// The scopes granted, as Entra listed them.
    pub scopes: Vec<String>,
    /// The ID token's claims (unverified), when `openid` was requested.
    pub id_token: Option<TokenClaims>,
}

impl TokenSet {
    /// The access token's claims (unverified); `None` for an opaque token.
    pub fn access_token_claims(&self) -> Option<TokenClaims> {
        crate::claims::access_token_claims(&self.access_token)
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &self.access_token)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("scopes", &self.scopes)
            .field("id_token", &self.id_token)
            .finish_non_exhaustive()
    }
}
