//! Partner Center webhook delivery (partner-center.md §6.2): events the world queues when a
//! relationship or an access assignment changes are posted, off the request path, to the
//! registered callback.
//!
//! One worker task delivers the events in the order they were queued: a `POST` of the PascalCase
//! event JSON with `Authorization: Signature <base64>`, `X-MS-Signature-Algorithm: rsa-sha256`
//! and `X-MS-Certificate-Url`, up to [`MAX_ATTEMPTS`] attempts with a doubling pause between
//! them. The signature is **not** Microsoft's RSA scheme: it is HMAC-SHA256 of the body under a
//! key derived from the world seed (see `SandboxHandle::webhook_signature`). Every finished
//! delivery is recorded in [`Stats::webhook_deliveries`](crate::Stats::webhook_deliveries).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, watch};

use crate::state::Clock;
use crate::stats::{Recorder, WebhookDelivery};
use crate::world::{Ms, PendingWebhook, SEC, WebhookResource};

/// Attempts per event (Partner Center makes 10; the sandbox keeps tests short).
pub(crate) const MAX_ATTEMPTS: u32 = 3;

/// `POST .../validationEvents` calls allowed per sliding minute (reference §6.1).
pub(crate) const VALIDATIONS_PER_MINUTE: usize = 2;

/// Path of the placeholder certificate named by `X-MS-Certificate-Url`.
pub(crate) const CERTIFICATE_PATH: &str = "/partnercenter/webhooks/sandbox-certificate";

/// What `GET {CERTIFICATE_PATH}` answers.
pub(crate) const CERTIFICATE_PLACEHOLDER: &str = "gdap-sandbox: there is no certificate here. \
Sandbox webhook events are signed with HMAC-SHA256 under a sandbox-local key (Authorization: \
Signature <base64>), not with Microsoft's RSA certificate; a receiver must treat every event as a \
hint and re-read the resource.\n";

/// The event body, PascalCase and in the documented key order.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventBody<'a> {
    event_name: &'a str,
    resource_uri: &'a str,
    resource_name: &'a str,
    audit_uri: Option<&'a str>,
    resource_change_utc_date: &'a str,
}

/// One attempt as `GET .../validationEvents/{correlationId}` reports it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ValidationResult {
    pub(crate) response_code: String,
    pub(crate) response_message: String,
    pub(crate) system_error: bool,
    pub(crate) date_time_utc: String,
}

/// A validation (`test-created`) event and what became of it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Validation {
    pub(crate) correlation_id: String,
    pub(crate) partner_id: String,
    /// `inProgress` until the delivery finished, then `completed`.
    pub(crate) status: &'static str,
    pub(crate) callback_url: String,
    pub(crate) results: Vec<ValidationResult>,
}

/// Validation records and the throttle window, shared by the handlers and the worker.
#[derive(Debug, Default)]
pub(crate) struct Validations {
    pub(crate) records: HashMap<String, Validation>,
    /// Sandbox times of the recent `POST .../validationEvents` calls (throttle window).
    pub(crate) posted: VecDeque<Ms>,
}

impl Validations {
    /// Admits one more validation call at `now`, or says how many seconds to wait.
    pub(crate) fn admit(&mut self, now: Ms) -> Result<(), u64> {
        let window = 60 * SEC;
        while self.posted.front().is_some_and(|t| now - t >= window) {
            self.posted.pop_front();
        }
        if self.posted.len() >= VALIDATIONS_PER_MINUTE {
            let oldest = self.posted.front().copied().unwrap_or(now);
            let wait = (oldest + window - now).max(SEC);
            return Err(((wait + SEC - 1) / SEC).unsigned_abs());
        }
        self.posted.push_back(now);
        Ok(())
    }
}

/// Delivery settings chosen on the builder.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeliveryOptions {
    /// Per-attempt timeout (connect + answer).
    pub(crate) timeout: Duration,
    /// Pause before the second attempt; doubled before each later one.
    pub(crate) retry_delay: Duration,
    /// Whether callbacks on hosts other than loopback are contacted (default: no).
    pub(crate) any_host: bool,
}

/// Whether `url`'s host is this machine (`localhost`, `127.0.0.0/8`, `[::1]`).
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The request-side handle: queues events for the worker and holds the signing key.
#[derive(Debug)]
pub(crate) struct Dispatcher {
    tx: mpsc::UnboundedSender<PendingWebhook>,
    key: [u8; 32],
    pub(crate) validations: Arc<Mutex<Validations>>,
}

impl Dispatcher {
    /// Hands queued events to the worker (never blocks; dropped once the sandbox stopped).
    pub(crate) fn enqueue(&self, events: Vec<PendingWebhook>) {
        for ev in events {
            if self.tx.send(ev).is_err() {
                break;
            }
        }
    }

    /// `base64(HMAC-SHA256(key, body))`, what follows `Signature ` in `Authorization`.
    pub(crate) fn signature(&self, body: &[u8]) -> String {
        sign(&self.key, body)
    }

    pub(crate) fn validations(&self) -> MutexGuard<'_, Validations> {
        lock(&self.validations)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The signing key of a world: SHA-256 of a fixed label and the seed.
fn key_for(seed: u64) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"gdap-sandbox webhook signing key")
        .chain_update(seed.to_le_bytes())
        .finalize()
        .into()
}

/// HMAC-SHA256 (RFC 2104) of `msg` under a key of at most 64 bytes, base64 (standard, padded).
pub(crate) fn sign(key: &[u8], msg: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(key, msg))
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// What the worker needs; it holds no reference to the server state.
struct Worker {
    client: reqwest::Client,
    key: [u8; 32],
    /// `{base}/partnercenter`.
    partner_center: String,
    certificate_url: String,
    anchor: time::OffsetDateTime,
    clock: Arc<Clock>,
    options: DeliveryOptions,
    stats: Arc<Recorder>,
    validations: Arc<Mutex<Validations>>,
}

/// Starts the delivery worker on the current runtime; it stops when `shutdown` turns true or the
/// dispatcher is dropped.
pub(crate) fn start(
    seed: u64,
    base: &str,
    anchor: time::OffsetDateTime,
    clock: Arc<Clock>,
    options: DeliveryOptions,
    stats: Arc<Recorder>,
    shutdown: watch::Receiver<bool>,
) -> Result<Dispatcher, reqwest::Error> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(options.timeout)
        .user_agent("gdap-sandbox-webhooks")
        .build()?;
    let (tx, rx) = mpsc::unbounded_channel();
    let key = key_for(seed);
    let validations = Arc::new(Mutex::new(Validations::default()));
    let worker = Worker {
        client,
        key,
        partner_center: format!("{base}/partnercenter"),
        certificate_url: format!("{base}{CERTIFICATE_PATH}"),
        anchor,
        clock,
        options,
        stats,
        validations: validations.clone(),
    };
    tokio::spawn(worker.run(rx, shutdown));
    Ok(Dispatcher {
        tx,
        key,
        validations,
    })
}

impl Worker {
    async fn run(
        self,
        mut rx: mpsc::UnboundedReceiver<PendingWebhook>,
        mut stop: watch::Receiver<bool>,
    ) {
        loop {
            let ev = tokio::select! {
                ev = rx.recv() => match ev {
                    Some(ev) => ev,
                    None => break,
                },
                _ = stop.wait_for(|v| *v) => break,
            };
            tokio::select! {
                () = self.deliver(ev) => {}
                _ = stop.wait_for(|v| *v) => break,
            }
        }
    }

    fn wall(&self, ms: Ms) -> String {
        crate::util::rfc3339(self.anchor + time::Duration::milliseconds(ms))
    }

    async fn deliver(&self, ev: PendingWebhook) {
        let pc = &self.partner_center;
        let (resource_uri, resource_name) = match &ev.resource {
            WebhookResource::Relationship(id) => (
                format!("{pc}/v1/granularAdminRelationships/{id}"),
                "GranularAdminRelationship",
            ),
            WebhookResource::Assignment {
                relationship,
                assignment,
            } => (
                format!(
                    "{pc}/v1/granularAdminRelationships/{relationship}/accessAssignments/{assignment}"
                ),
                "GranularAdminAccessAssignment",
            ),
            WebhookResource::Test => (format!("{pc}/v1/webhooks/registration/test"), "test"),
        };
        let changed = self.wall(ev.changed);
        let body = EventBody {
            event_name: ev.event_name,
            resource_uri: &resource_uri,
            resource_name,
            audit_uri: None,
            resource_change_utc_date: &changed,
        };
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let mut rec = WebhookDelivery {
            event_name: ev.event_name.to_owned(),
            resource_uri,
            url: ev.url.clone(),
            status: None,
            attempts: 0,
            delivered: false,
            error: None,
            correlation_id: ev.validation.clone(),
        };
        let target = url::Url::parse(&ev.url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"));
        match target {
            None => rec.error = Some("the callback is not an absolute http(s) URL".to_owned()),
            // A test sandbox must not reach out of the machine (nor resolve names there).
            Some(url) if !self.options.any_host && !is_loopback(&url) => {
                rec.error = Some(
                    "not sent: the sandbox delivers only to loopback callbacks \
                     (SandboxBuilder::webhook_to_any_host)"
                        .to_owned(),
                );
            }
            Some(url) => self.attempts(url, &body, &ev, &mut rec).await,
        }
        if let Some(cid) = &ev.validation
            && let Some(v) = lock(&self.validations).records.get_mut(cid)
        {
            v.status = "completed";
        }
        tracing::debug!(
            event = %rec.event_name,
            status = ?rec.status,
            attempts = rec.attempts,
            delivered = rec.delivered,
            "gdap-sandbox webhook delivery"
        );
        self.stats.webhook_delivery(rec);
    }

    async fn attempts(
        &self,
        url: url::Url,
        body: &[u8],
        ev: &PendingWebhook,
        rec: &mut WebhookDelivery,
    ) {
        let signature = format!("Signature {}", sign(&self.key, body));
        let mut pause = self.options.retry_delay;
        for attempt in 1..=MAX_ATTEMPTS {
            if attempt > 1 {
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2);
            }
            rec.attempts = attempt;
            let sent = self
                .client
                .post(url.clone())
                .header("content-type", "application/json")
                .header("authorization", &signature)
                .header("x-ms-signature-algorithm", "rsa-sha256")
                .header("x-ms-certificate-url", &self.certificate_url)
                .header("x-gdap-sandbox-signature", "hmac-sha256")
                .body(body.to_vec())
                .send()
                .await;
            let result = match sent {
                Ok(resp) => {
                    let status = resp.status();
                    rec.status = Some(status.as_u16());
                    rec.delivered = status.is_success();
                    rec.error = (!rec.delivered).then(|| format!("HTTP {}", status.as_u16()));
                    // The answer's body is not needed; dropping the response closes it.
                    drop(resp);
                    ValidationResult {
                        response_code: status_name(status),
                        response_message: String::new(),
                        system_error: false,
                        date_time_utc: self.wall(self.clock.now()),
                    }
                }
                Err(e) => {
                    let what = if e.is_timeout() {
                        format!("timed out after {} ms", self.options.timeout.as_millis())
                    } else if e.is_connect() {
                        "could not connect to the callback".to_owned()
                    } else {
                        "the request to the callback failed".to_owned()
                    };
                    rec.status = None;
                    rec.delivered = false;
                    rec.error = Some(what.clone());
                    ValidationResult {
                        response_code: String::new(),
                        response_message: what,
                        system_error: true,
                        date_time_utc: self.wall(self.clock.now()),
                    }
                }
            };
            if let Some(cid) = &ev.validation
                && let Some(v) = lock(&self.validations).records.get_mut(cid)
            {
                v.results.push(result);
            }
            if rec.delivered {
                break;
            }
        }
    }
}

/// .NET's `HttpStatusCode` name, as Partner Center reports it (`OK`, `InternalServerError`).
fn status_name(status: reqwest::StatusCode) -> String {
    match status.canonical_reason() {
        Some("OK") => "OK".to_owned(),
        Some(reason) => reason
            .split([' ', '-'])
            .map(|w| {
                let mut c = w.chars();
                c.next().map_or_else(String::new, |f| {
                    f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase()
                })
            })
            .collect(),
        None => status.as_u16().to_string(),
    }
}

#[cfg(test)]
mod tests;
