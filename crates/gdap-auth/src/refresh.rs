//! The partner admin's refresh token, turned into access tokens for any (tenant, scope).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use gdap_core::{AccessToken, TenantId, TokenCredential};
use oauth2::TokenResponse as _;
use secrecy::{ExposeSecret, SecretString};

use crate::app::AppCredentials;
use crate::authority::{Authority, TenantRef};
use crate::cache::{CacheKey, TokenCache};
use crate::error::Result;
use crate::http::{Exchange, TokenClientOptions, TokenHttp};
use crate::scopes::{self, OFFLINE_ACCESS};

/// Why a rotated refresh token could not be stored; the sink's own error.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Where rotated refresh tokens go. Entra returns a new refresh token with most responses; the
/// credential switches to it at once and hands it here so the caller can persist it (encrypted
/// at rest) and nothing is lost across restarts.
///
/// Calls are serialized: `store` is never called concurrently by one credential, and the last
/// call carries the credential's current token.
#[async_trait]
pub trait RefreshTokenSink: Send + Sync {
    /// Persists the newest refresh token.
    ///
    /// # Errors
    /// The sink's own failure. The credential logs it (without the token) and carries on with
    /// the new token in memory; the previously stored token stays valid.
    async fn store(&self, refresh_token: &SecretString) -> std::result::Result<(), SinkError>;
}

/// A sink that keeps the latest token in memory: for tests and for callers that persist on
/// shutdown.
#[derive(Default)]
pub struct InMemoryRefreshTokenSink {
    latest: std::sync::Mutex<Option<SecretString>>,
    stores: AtomicUsize,
}

impl InMemoryRefreshTokenSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last token stored.
    pub fn latest(&self) -> Option<SecretString> {
        self.latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// How many times `store` was called.
    pub fn store_count(&self) -> usize {
        self.stores.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for InMemoryRefreshTokenSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryRefreshTokenSink")
            .field("store_count", &self.store_count())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl RefreshTokenSink for InMemoryRefreshTokenSink {
    async fn store(&self, refresh_token: &SecretString) -> std::result::Result<(), SinkError> {
        *self
            .latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(refresh_token.clone());
        self.stores.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Access tokens from the partner admin's refresh token (`grant_type=refresh_token`), for the
/// partner tenant (Graph, Partner Center) and, through GDAP, for customer tenants (Graph).
///
/// - Tokens are cached per (tenant, scopes) and refreshed when less than 5 minutes are left.
/// - Concurrent requests for one (tenant, scopes) make one token request.
/// - Every rotated refresh token replaces the current one and goes to the [`RefreshTokenSink`].
/// - Cloning is cheap and shares the cache and the current refresh token.
///
/// ```no_run
/// # use std::sync::Arc;
/// # use gdap_auth::*;
/// # async fn demo(app: AppCredentials, rt: secrecy::SecretString, customer: gdap_core::TenantId) -> gdap_core::Result<()> {
/// let sink = Arc::new(InMemoryRefreshTokenSink::new());
/// let cred = RefreshTokenCredential::new(Authority::public_cloud(), app, rt, sink);
/// let graph_in_customer = cred.for_tenant(customer);
/// let token = graph_in_customer.get_token(&[scopes::GRAPH_DEFAULT]).await?;
/// # let _ = token; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RefreshTokenCredential {
    inner: Arc<Inner>,
}

struct Inner {
    authority: Authority,
    app: AppCredentials,
    http: TokenHttp,
    cache: TokenCache,
    /// The current refresh token; the lock also serializes rotation and the sink.
    current: tokio::sync::Mutex<SecretString>,
    sink: Arc<dyn RefreshTokenSink>,
}

impl RefreshTokenCredential {
    /// A credential using `refresh_token`, handing rotated tokens to `sink`.
    pub fn new(
        authority: Authority,
        app: AppCredentials,
        refresh_token: SecretString,
        sink: Arc<dyn RefreshTokenSink>,
    ) -> Self {
        Self::new_with_options(
            authority,
            app,
            refresh_token,
            sink,
            TokenClientOptions::default(),
        )
    }

    /// As [`new`](Self::new), with explicit client options (timeouts, retries, refresh margin).
    pub fn new_with_options(
        authority: Authority,
        app: AppCredentials,
        refresh_token: SecretString,
        sink: Arc<dyn RefreshTokenSink>,
        options: TokenClientOptions,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                authority,
                app,
                cache: TokenCache::new(options.refresh_margin),
                http: TokenHttp::new(options),
                current: tokio::sync::Mutex::new(refresh_token),
                sink,
            }),
        }
    }

    /// A [`TokenCredential`] for `tenant` (the partner tenant, or a customer tenant through
    /// GDAP), sharing this credential's cache and current refresh token.
    pub fn for_tenant(&self, tenant: TenantId) -> Arc<dyn TokenCredential> {
        self.for_tenant_ref(TenantRef::id(tenant))
    }

    /// As [`for_tenant`](Self::for_tenant), for any [`TenantRef`].
    pub fn for_tenant_ref(&self, tenant: TenantRef) -> Arc<dyn TokenCredential> {
        Arc::new(TenantCredential {
            cred: self.clone(),
            tenant,
        })
    }

    /// An access token for `scopes` in `tenant`, from the cache when it has more than the
    /// refresh margin left.
    ///
    /// # Errors
    /// The typed [`crate::Error`]: [`Error::NoGdapAccess`](crate::Error::NoGdapAccess) for a
    /// customer tenant without GDAP access, [`Error::RefreshTokenExpired`](crate::Error::RefreshTokenExpired)
    /// when the admin must sign in again, and so on.
    pub async fn token_for(&self, tenant: &TenantRef, scopes: &[&str]) -> Result<AccessToken> {
        scopes::validate(scopes)?;
        let mut slot = self.inner.cache.lock(CacheKey::new(tenant, scopes)).await;
        if let Some(token) = slot.fresh() {
            return Ok(token);
        }
        let started = tokio::time::Instant::now();
        let (token, lifetime) = self.inner.refresh(tenant, scopes).await?;
        slot.store(&token, lifetime, started);
        Ok(token)
    }

    /// The current refresh token (the newest one received).
    pub async fn current_refresh_token(&self) -> SecretString {
        self.inner.current.lock().await.clone()
    }

    /// Forgets all cached access tokens; the next call asks Entra again.
    pub fn clear_cache(&self) {
        self.inner.cache.clear();
    }
}

impl Inner {
    async fn refresh(
        &self,
        tenant: &TenantRef,
        scopes: &[&str],
    ) -> Result<(AccessToken, std::time::Duration)> {
        let rt = self.current.lock().await.clone();
        let mut request_scopes: Vec<&str> = scopes.to_vec();
        if !request_scopes
            .iter()
            .any(|s| s.eq_ignore_ascii_case(OFFLINE_ACCESS))
        {
            request_scopes.push(OFFLINE_ACCESS);
        }
        let client = self
            .app
            .oauth_client()
            .set_token_uri(oauth2::TokenUrl::from_url(self.authority.token_url(tenant)));
        let oauth_rt = oauth2::RefreshToken::new(rt.expose_secret().to_owned());
        let exchange = Exchange::new(&self.http, tenant);
        let outcome = client
            .exchange_refresh_token(&oauth_rt)
            .add_scopes(
                request_scopes
                    .iter()
                    .map(|s| oauth2::Scope::new((*s).to_owned())),
            )
            .request_async(&exchange)
            .await;
        let secret = self.app.client_secret.as_ref().map(|s| s.expose_secret());
        let sent: Vec<&str> = [Some(rt.expose_secret()), secret]
            .into_iter()
            .flatten()
            .collect();
        let scope = scopes.join(" ");
        let resp = match exchange.finish(outcome, &sent) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(tenant = %tenant, scope = %scope, grant = "refresh_token",
                    codes = ?e.aadsts_codes(), trace_id = e.trace_id(), "token request failed");
                return Err(e);
            }
        };
        if let Some(new_rt) = resp.refresh_token() {
            self.rotate(SecretString::from(new_rt.secret().clone()), tenant)
                .await;
        }
        let lifetime = crate::http::lifetime(&resp);
        tracing::debug!(tenant = %tenant, scope = %scope, grant = "refresh_token",
            expires_in = lifetime.as_secs(), "token acquired");
        Ok((crate::http::access_token(&resp), lifetime))
    }

    async fn rotate(&self, new_rt: SecretString, tenant: &TenantRef) {
        let mut current = self.current.lock().await;
        if current.expose_secret() == new_rt.expose_secret() {
            return;
        }
        *current = new_rt;
        if let Err(e) = self.sink.store(&current).await {
            tracing::warn!(tenant = %tenant, error = %e,
                "could not persist the rotated refresh token; keeping it in memory");
        }
    }
}

impl fmt::Debug for RefreshTokenCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenCredential")
            .field("authority", &self.inner.authority)
            .field("client_id", &self.inner.app.client_id)
            .finish_non_exhaustive()
    }
}

/// A [`RefreshTokenCredential`] bound to one tenant (see
/// [`RefreshTokenCredential::for_tenant`]).
#[derive(Clone)]
struct TenantCredential {
    cred: RefreshTokenCredential,
    tenant: TenantRef,
}

impl fmt::Debug for TenantCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantCredential")
            .field("tenant", &self.tenant)
            .field("client_id", &self.cred.inner.app.client_id)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenCredential for TenantCredential {
    async fn get_token(&self, scopes: &[&str]) -> gdap_core::Result<AccessToken> {
        Ok(self.cred.token_for(&self.tenant, scopes).await?)
    }
}
