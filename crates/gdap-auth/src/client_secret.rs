//! App-only tokens (`client_credentials`) for the MSP's own partner tenant, where no GDAP is
//! involved: the app is registered there and talks to Graph directly.

use std::fmt;

use async_trait::async_trait;
use gdap_core::{AccessToken, TenantId, TokenCredential};
use secrecy::ExposeSecret;

use crate::app::AppCredentials;
use crate::authority::{Authority, TenantRef};
use crate::cache::{CacheKey, TokenCache};
use crate::error::{Error, Result};
use crate::http::{Exchange, TokenClientOptions, TokenHttp};
use crate::scopes;

/// App-only access tokens for one tenant from the app's client secret, cached per scope set and
/// refreshed 5 minutes before expiry (single-flight per scope set).
///
/// Scopes must be `{resource}/.default` (Entra's rule for this grant), e.g.
/// [`scopes::GRAPH_DEFAULT`].
pub struct ClientSecretCredential {
    authority: Authority,
    tenant: TenantRef,
    app: AppCredentials,
    http: TokenHttp,
    cache: TokenCache,
}

impl ClientSecretCredential {
    /// A credential for `tenant`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `app` has no client secret.
    pub fn new(authority: Authority, tenant: TenantId, app: AppCredentials) -> Result<Self> {
        Self::new_with_options(authority, tenant, app, TokenClientOptions::default())
    }

    /// As [`new`](Self::new), with explicit client options.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `app` has no client secret.
    pub fn new_with_options(
        authority: Authority,
        tenant: TenantId,
        app: AppCredentials,
        options: TokenClientOptions,
    ) -> Result<Self> {
        if app.client_secret.is_none() {
            return Err(Error::invalid_input(
                "client_secret",
                "the client credentials grant needs a client secret",
            ));
        }
        Ok(Self {
            authority,
            tenant: TenantRef::id(tenant),
            app,
            cache: TokenCache::new(options.refresh_margin),
            http: TokenHttp::new(options),
        })
    }

    /// An app-only token for `scopes` (each `{resource}/.default`).
    ///
    /// # Errors
    /// The typed [`crate::Error`] (e.g. [`Error::InvalidClient`] for a wrong or expired secret).
    pub async fn token(&self, scopes: &[&str]) -> Result<AccessToken> {
        scopes::validate(scopes)?;
        if let Some(bad) = scopes.iter().find(|s| !s.ends_with("/.default")) {
            return Err(Error::invalid_input(
                "scopes",
                format!("client credentials need `{{resource}}/.default` scopes, got `{bad}`"),
            ));
        }
        let mut slot = self.cache.lock(CacheKey::new(&self.tenant, scopes)).await;
        if let Some(token) = slot.fresh() {
            return Ok(token);
        }
        let started = tokio::time::Instant::now();
        let (token, lifetime) = self.fetch(scopes).await?;
        slot.store(&token, lifetime, started);
        Ok(token)
    }

    /// Forgets the cached tokens.
    pub fn clear_cache(&self) {
        self.cache.clear();
    }

    async fn fetch(&self, scopes: &[&str]) -> Result<(AccessToken, std::time::Duration)> {
        let client = self
            .app
            .oauth_client()
            .set_token_uri(oauth2::TokenUrl::from_url(
                self.authority.token_url(&self.tenant),
            ));
        let exchange = Exchange::new(&self.http, &self.tenant);
        let outcome = client
            .exchange_client_credentials()
            .add_scopes(scopes.iter().map(|s| oauth2::Scope::new((*s).to_owned())))
            .request_async(&exchange)
            .await;
        let sent: Vec<&str> = self
            .app
            .client_secret
            .iter()
            .map(|s| s.expose_secret())
            .collect();
        let scope = scopes.join(" ");
        let resp = exchange.finish(outcome, &sent).inspect_err(|e| {
            tracing::debug!(tenant = %self.tenant, scope = %scope, grant = "client_credentials",
                codes = ?e.aadsts_codes(), trace_id = e.trace_id(), "token request failed");
        })?;
        let lifetime = crate::http::lifetime(&resp);
        tracing::debug!(tenant = %self.tenant, scope = %scope, grant = "client_credentials",
            expires_in = lifetime.as_secs(), "token acquired");
        Ok((crate::http::access_token(&resp), lifetime))
    }
}

impl fmt::Debug for ClientSecretCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecretCredential")
            .field("authority", &self.authority)
            .field("tenant", &self.tenant)
            .field("client_id", &self.app.client_id)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenCredential for ClientSecretCredential {
    async fn get_token(&self, scopes: &[&str]) -> gdap_core::Result<AccessToken> {
        Ok(self.token(scopes).await?)
    }
}
