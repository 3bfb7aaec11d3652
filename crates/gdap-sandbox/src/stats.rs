//! Introspection for tests: request counters per route, the write log, duplicate writes, 429s and
//! injected faults.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::response::Response;
use serde::Serialize;

/// One write request (anything but GET/HEAD/OPTIONS) as the sandbox saw it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WriteRecord {
    /// Request sequence number (1-based, over all requests).
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Route key (`METHOD /route/{param}`).
    pub route: String,
    /// Response status (0 when the connection was reset).
    pub status: u16,
    /// The write recreated something that already existed with the same content.
    pub duplicate: bool,
    /// What kind of object was duplicated (`appRoleAssignment`, `oauth2PermissionGrant`, ...).
    pub duplicate_kind: Option<String>,
    /// A Partner Center `MS-RequestId` replay answered from the stored result.
    pub replayed: bool,
    /// The injected fault that answered instead of the handler, if any.
    pub fault: Option<String>,
}

/// One injected fault.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FaultRecord {
    /// Request sequence number.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Fault names applied (e.g. `["latency", "status_429"]`).
    pub kinds: Vec<String>,
}

/// One Partner Center webhook event posted (or meant to be posted) to the registered callback,
/// recorded once its last attempt finished.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The event, e.g. `granular-admin-relationship-approved`.
    pub event_name: String,
    /// The event's `ResourceUri`
    /// (`{partner_center_url}/v1/granularAdminRelationships/{id}[/accessAssignments/{aid}]`).
    pub resource_uri: String,
    /// The callback URL it was posted to (the registration's `WebhookUrl` when it was queued).
    pub url: String,
    /// The HTTP status of the last attempt; `None` when the callback never answered (connection
    /// refused, timeout) or the URL is not http(s).
    pub status: Option<u16>,
    /// How many times it was posted (1 to 3; 0 for a URL that is not http(s)).
    pub attempts: u32,
    /// Whether the last attempt was answered 2xx.
    pub delivered: bool,
    /// Why the last attempt failed (`"HTTP 500"`, `"timed out after 5000 ms"`, ...).
    pub error: Option<String>,
    /// The correlation id of a validation (`test-created`) event.
    pub correlation_id: Option<String>,
}

/// Counters and logs since start (or the last `reset_stats`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// All requests received.
    pub total_requests: u64,
    /// Requests per route key, e.g.
    /// `"GET /graph/v1.0/tenantRelationships/delegatedAdminRelationships"` or
    /// `"POST /graph/v1.0/servicePrincipals/{id}/appRoleAssignedTo"` (`(unmatched)` for 404s).
    pub requests_per_route: BTreeMap<String, u64>,
    /// Responses per HTTP status.
    pub responses_per_status: BTreeMap<u16, u64>,
    /// Every write request, in arrival order.
    pub writes: Vec<WriteRecord>,
    /// Writes that recreated an existing object with identical content (even when answered with
    /// an error such as 400/409).
    pub duplicate_writes: u64,
    /// Duplicate writes per object kind.
    pub duplicates_per_kind: BTreeMap<String, u64>,
    /// Partner Center requests answered from a stored `MS-RequestId` result.
    pub replayed_requests: u64,
    /// 429 responses served (fault rules and rate limits).
    pub responses_429: u64,
    /// Requests answered by a rate limit.
    pub rate_limited: u64,
    /// Requests that had at least one fault applied (latency included).
    pub faults_injected: u64,
    /// Every injected fault, in arrival order.
    pub fault_log: Vec<FaultRecord>,
    /// Every finished webhook delivery, in completion order (which is the order the events
    /// happened: one worker delivers them one after the other).
    pub webhook_deliveries: Vec<WebhookDelivery>,
}

impl Stats {
    /// Requests counted for a route key (0 when none).
    pub fn route(&self, key: &str) -> u64 {
        self.requests_per_route.get(key).copied().unwrap_or(0)
    }

    /// Successful (2xx) writes whose route key equals `key`.
    pub fn successful_writes(&self, key: &str) -> usize {
        self.writes
            .iter()
            .filter(|w| w.route == key && (200..300).contains(&w.status))
            .count()
    }
}

/// Marks a response as answering a duplicate write.
#[derive(Debug, Clone)]
pub(crate) struct DuplicateWrite(pub(crate) &'static str);

/// Marks a response as a replayed Partner Center result.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Replayed;

/// Tags `resp` as answering a duplicate write of `kind`.
pub(crate) fn mark_duplicate(mut resp: Response, kind: &'static str) -> Response {
    resp.extensions_mut().insert(DuplicateWrite(kind));
    resp
}

/// Thread-safe recorder.
#[derive(Debug)]
pub(crate) struct Recorder {
    inner: Mutex<Stats>,
    /// Bumped after each recorded webhook delivery (waiters re-read the stats).
    deliveries: tokio::sync::watch::Sender<u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            inner: Mutex::default(),
            deliveries: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl Recorder {
    pub(crate) fn webhook_delivery(&self, d: WebhookDelivery) {
        self.with(|s| s.webhook_deliveries.push(d));
        self.deliveries.send_modify(|n| *n += 1);
    }

    /// A receiver that changes after every recorded webhook delivery.
    pub(crate) fn subscribe_deliveries(&self) -> tokio::sync::watch::Receiver<u64> {
        self.deliveries.subscribe()
    }

    /// The webhook deliveries recorded so far.
    pub(crate) fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.with(|s| s.webhook_deliveries.clone())
    }

    fn with<R>(&self, f: impl FnOnce(&mut Stats) -> R) -> R {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    /// Counts a new request; returns its sequence number.
    pub(crate) fn begin(&self, route: &str) -> u64 {
        self.with(|s| {
            s.total_requests += 1;
            *s.requests_per_route.entry(route.to_string()).or_default() += 1;
            s.total_requests
        })
    }

    pub(crate) fn fault(&self, rec: FaultRecord, rate_limited: bool) {
        self.with(|s| {
            s.faults_injected += 1;
            if rate_limited {
                s.rate_limited += 1;
            }
            s.fault_log.push(rec);
        })
    }

    pub(crate) fn finish(&self, status: u16, write: Option<WriteRecord>) {
        self.with(|s| {
            if status != 0 {
                *s.responses_per_status.entry(status).or_default() += 1;
            }
            if status == 429 {
                s.responses_429 += 1;
            }
            if let Some(w) = write {
                if w.duplicate {
                    s.duplicate_writes += 1;
                    if let Some(k) = &w.duplicate_kind {
                        *s.duplicates_per_kind.entry(k.clone()).or_default() += 1;
                    }
                }
                if w.replayed {
                    s.replayed_requests += 1;
                }
                s.writes.push(w);
            }
        })
    }

    pub(crate) fn snapshot(&self) -> Stats {
        self.with(|s| s.clone())
    }

    pub(crate) fn reset(&self) {
        self.with(|s| *s = Stats::default())
    }
}
