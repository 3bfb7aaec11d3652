//! Shared server state: the world, issued tokens, the lazy clock and the configuration.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::faults::FaultEngine;
use crate::stats::Recorder;
use crate::webhooks::Dispatcher;
use crate::world::{Ms, World};

/// The sandbox clock: milliseconds since start (tokio time, so paused time works) plus a manual
/// offset that tests can advance.
#[derive(Debug)]
pub(crate) struct Clock {
    start: tokio::time::Instant,
    skew: AtomicI64,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            start: tokio::time::Instant::now(),
            skew: AtomicI64::new(0),
        }
    }

    pub(crate) fn now(&self) -> Ms {
        self.start.elapsed().as_millis() as Ms + self.skew.load(Ordering::Relaxed)
    }

    pub(crate) fn advance(&self, by: Duration) {
        self.skew.fetch_add(by.as_millis() as Ms, Ordering::Relaxed);
    }
}

/// Behaviour knobs set on the builder.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) propagation_delay: Ms,
    pub(crate) consent_delay: Ms,
    pub(crate) duplicate_consent_status: u16,
    pub(crate) auto_approve_after: Option<Ms>,
    pub(crate) access_token_lifetime: Ms,
    pub(crate) refresh_token_inactivity: Ms,
    pub(crate) strict_refresh_rotation: bool,
    pub(crate) require_mfa_for_partner_center: bool,
    pub(crate) timeout_hold: Duration,
    /// `http://127.0.0.1:{port}`.
    pub(crate) base: String,
    /// Wall time of sandbox time zero.
    pub(crate) anchor: time::OffsetDateTime,
    /// Fixed latency added to every request.
    pub(crate) latency: Duration,
}

/// Which API an access token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    Graph,
    PartnerCenter,
}

impl Audience {
    pub(crate) fn resource(self) -> &'static str {
        match self {
            Audience::Graph => "https://graph.microsoft.com",
            Audience::PartnerCenter => "https://api.partnercenter.microsoft.com",
        }
    }
}

/// What an access token stands for.
#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    /// `Some(user id)` for delegated (App+User) tokens, `None` for app-only tokens.
    pub(crate) user: Option<String>,
    /// Index of the tenant the token was issued by.
    pub(crate) tenant: usize,
    /// Index of the client application.
    pub(crate) client_app: usize,
    pub(crate) audience: Audience,
    pub(crate) scopes: Vec<String>,
    pub(crate) amr: Vec<String>,
    pub(crate) expires: Ms,
}

/// A refresh token.
#[derive(Debug, Clone)]
pub(crate) struct RefreshToken {
    pub(crate) user: String,
    pub(crate) client_app: usize,
    pub(crate) amr: Vec<String>,
    pub(crate) last_used: Ms,
    pub(crate) revoked: bool,
}

/// An authorization code.
#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub(crate) client_app: usize,
    pub(crate) redirect_uri: String,
    pub(crate) challenge: Option<(String, String)>,
    pub(crate) scopes: Vec<String>,
    pub(crate) user: String,
    pub(crate) amr: Vec<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) expires: Ms,
    pub(crate) used: bool,
}

/// Issued tokens and codes.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    pub(crate) access: HashMap<String, AccessToken>,
    pub(crate) refresh: HashMap<String, RefreshToken>,
    pub(crate) codes: HashMap<String, AuthCode>,
}

/// A stored Partner Center response for `MS-RequestId` replay.
#[derive(Debug, Clone)]
pub(crate) struct StoredResponse {
    pub(crate) status: u16,
    pub(crate) body: Option<serde_json::Value>,
}

/// Everything behind the one lock.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) world: World,
    pub(crate) tokens: Tokens,
    /// `(method path, MS-RequestId)` -> response.
    pub(crate) pc_replay: HashMap<(String, String), StoredResponse>,
}

/// The state shared by every handler.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) core: Mutex<Core>,
    pub(crate) clock: Arc<Clock>,
    pub(crate) config: Config,
    pub(crate) stats: Arc<Recorder>,
    pub(crate) faults: Mutex<FaultEngine>,
    pub(crate) shutdown: tokio::sync::watch::Receiver<bool>,
    /// Partner Center webhook delivery (queue, signing key, validation records).
    pub(crate) webhooks: Dispatcher,
}

impl AppState {
    /// Locks the core and applies due time-based transitions. Webhook events the world queued
    /// while the lock was held are handed to the delivery worker when the guard is dropped.
    pub(crate) fn lock(&self) -> CoreGuard<'_> {
        let mut g = self.core.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.clock.now();
        g.world.tick(now);
        CoreGuard {
            guard: g,
            webhooks: &self.webhooks,
        }
    }

    pub(crate) fn now(&self) -> Ms {
        self.clock.now()
    }
}

/// The locked core. On drop it hands the queued webhook events to the delivery worker (a channel
/// send: delivery itself happens on another task, never on the request path).
pub(crate) struct CoreGuard<'a> {
    guard: MutexGuard<'a, Core>,
    webhooks: &'a Dispatcher,
}

impl std::ops::Deref for CoreGuard<'_> {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.guard
    }
}

impl std::ops::DerefMut for CoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Core {
        &mut self.guard
    }
}

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        let outbox = &mut self.guard.world.webhook_outbox;
        if !outbox.is_empty() {
            self.webhooks.enqueue(std::mem::take(outbox));
        }
    }
}

/// Shared handle to the state.
pub(crate) type Shared = Arc<AppState>;
