//! In-memory token cache keyed by (tenant, scopes), single-flight per key.
//!
//! Each key owns an async mutex. A caller takes it, checks the cached token, and only if the
//! token is missing or within the refresh margin of its expiry does it call the token endpoint,
//! still holding the lock; concurrent callers for the same key wait and then find the fresh
//! token. Different keys never wait on each other. Time is tokio's clock, so tests can move it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use gdap_core::AccessToken;
use tokio::time::Instant;

use crate::authority::TenantRef;

/// (tenant, scopes) with the scopes lowercased, sorted and deduplicated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    tenant: String,
    scopes: String,
}

impl CacheKey {
    pub(crate) fn new(tenant: &TenantRef, scopes: &[&str]) -> Self {
        let mut s: Vec<String> = scopes
            .iter()
            .map(|s| s.trim().to_ascii_lowercase())
            .collect();
        s.sort();
        s.dedup();
        Self {
            tenant: tenant.to_string().to_ascii_lowercase(),
            scopes: s.join(" "),
        }
    }
}

struct Cached {
    token: AccessToken,
    refresh_at: Instant,
}

type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

/// Exclusive access to one key's cached token.
pub(crate) struct SlotGuard {
    guard: tokio::sync::OwnedMutexGuard<Option<Cached>>,
    margin: Duration,
}

impl SlotGuard {
    /// The cached token, if it has more than the refresh margin left.
    pub(crate) fn fresh(&self) -> Option<AccessToken> {
        self.guard
            .as_ref()
            .filter(|c| Instant::now() < c.refresh_at)
            .map(|c| c.token.clone())
    }

    /// Caches `token`, valid for `lifetime` counted from `started` (taken before the request).
    pub(crate) fn store(&mut self, token: &AccessToken, lifetime: Duration, started: Instant) {
        *self.guard = Some(Cached {
            token: token.clone(),
            refresh_at: started + lifetime.saturating_sub(self.margin),
        });
    }
}

pub(crate) struct TokenCache {
    margin: Duration,
    slots: Mutex<HashMap<CacheKey, Slot>>,
}

impl TokenCache {
    pub(crate) fn new(margin: Duration) -> Self {
        Self {
            margin,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Takes the slot of `key`, waiting while another caller refreshes it. The caller checks
    /// [`SlotGuard::fresh`] and, if `None`, fetches and [`SlotGuard::store`]s while holding it.
    pub(crate) async fn lock(&self, key: CacheKey) -> SlotGuard {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default()
            .clone();
        SlotGuard {
            guard: slot.lock_owned().await,
            margin: self.margin,
        }
    }

    /// Forgets every cached token (e.g. after the service rejected one).
    pub(crate) fn clear(&self) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
