//! Partner Center webhook events: the receiving route `POST /webhooks/partner-center/{key}`, the
//! callback URL to register (`GET /api/lifecycle/webhook/callback`) and the last outcomes
//! (`GET /api/lifecycle/webhook/events`).
//!
//! Partner Center calls the receiving route without a session, so it is public in
//! [`crate::ROUTES`] and guarded instead by its last path segment: a key derived from the
//! server's master key ([`crate::crypto`]), compared in constant time. A wrong key is answered
//! like any unknown path (404) before the body is read, and nothing else happens.
//!
//! **An event is a hint.** Its `Authorization: Signature` header is not verified: an approved or
//! activated event only makes the server re-read the relationship from Graph
//! (`Orchestrator::on_relationship_event`), which assigns the app-install groups when Graph shows
//! the relationship active. A repeated, late or forged event costs a read and writes nothing
//! twice. Events are processed in the background, one at a time in arrival order (so the
//! approved and activated events of one relationship cannot race to create the same
//! assignment); the caller gets 202 at once.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gdap_core::RelationshipId;
use gdap_onboard::workflows::lifecycle::{GroupTemplate, RelationshipEventOutcome};
use gdap_partner_center::WebhookEventErrorKind;
use gdap_partner_center::models::WebhookEvent;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::api::{ApiResult, ok};
use crate::app::{AppState, BODY_LIMIT};
use crate::auth::ct_eq;
use crate::error::{ApiError, ErrorBody};
use crate::jobs::explain_ctx;

/// How many events `GET /api/lifecycle/webhook/events` keeps (the oldest is dropped first).
pub(crate) const EVENT_LOG_LEN: usize = 100;
/// The receiving route's path, without the key.
const CALLBACK_PATH: &str = "/webhooks/partner-center/";
/// Event names are cut to this many characters in the log and the event list.
const NAME_LEN: usize = 64;

/// Where an event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
enum EventStatus {
    /// Queued or running: the relationship is being re-read.
    Processing,
    /// `on_relationship_event` answered: see `outcome`.
    Done,
    /// It failed: see `error` (a catalogue entry).
    Failed,
    /// Not an event this server acts on (see `detail`).
    Ignored,
}

/// One received event, as `GET /api/lifecycle/webhook/events` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct EventRecord {
    #[serde(skip)]
    seq: u64,
    event_name: String,
    relationship_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    received_at: OffsetDateTime,
    status: EventStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<RelationshipEventOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Box<ErrorBody>>,
}

#[derive(Default)]
struct EventLog {
    next: u64,
    records: VecDeque<EventRecord>,
}

/// The receiver's state: the path key, the last events, the queue's turn and a count of events
/// still processing (watched by [`Inbox::settled`]).
pub(crate) struct Inbox {
    key: SecretString,
    log: Mutex<EventLog>,
    turn: tokio::sync::Mutex<()>,
    processing: watch::Sender<usize>,
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox").finish_non_exhaustive()
    }
}

impl Inbox {
    /// An inbox whose path key is `key` (from [`crate::crypto::Sealer::webhook_key`]).
    pub(crate) fn new(key: SecretString) -> Self {
        Self {
            key,
            log: Mutex::new(EventLog::default()),
            turn: tokio::sync::Mutex::new(()),
            processing: watch::Sender::new(0),
        }
    }

    fn key_matches(&self, candidate: &str) -> bool {
        ct_eq(candidate, self.key.expose_secret())
    }

    fn log(&self) -> std::sync::MutexGuard<'_, EventLog> {
        match self.log.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Records a new event and returns its sequence number.
    fn record(&self, mut r: EventRecord) -> u64 {
        if r.status == EventStatus::Processing {
            self.processing.send_modify(|n| *n += 1);
        }
        let mut log = self.log();
        r.seq = log.next;
        log.next += 1;
        if log.records.len() == EVENT_LOG_LEN {
            log.records.pop_front();
        }
        let seq = r.seq;
        log.records.push_back(r);
        seq
    }

    /// Stores what processing event `seq` gave (dropped from the log already: nothing to store).
    fn settle(&self, seq: u64, result: Result<RelationshipEventOutcome, Box<ErrorBody>>) {
        {
            let mut log = self.log();
            if let Some(r) = log.records.iter_mut().find(|r| r.seq == seq) {
                match result {
                    Ok(o) => {
                        r.status = EventStatus::Done;
                        r.outcome = Some(o);
                    }
                    Err(e) => {
                        r.status = EventStatus::Failed;
                        r.error = Some(e);
                    }
                }
            }
        }
        self.processing.send_modify(|n| *n = n.saturating_sub(1));
    }

    /// Newest first.
    fn recent(&self) -> Vec<EventRecord> {
        self.log().records.iter().rev().cloned().collect()
    }

    /// Waits until no received event is still processing; false when `timeout` passed first.
    pub(crate) async fn settled(&self, timeout: Duration) -> bool {
        let mut rx = self.processing.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|n| *n == 0))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

fn short(s: &str) -> String {
    s.trim().chars().take(NAME_LEN).collect()
}

fn answer(status: StatusCode, what: &str) -> Response {
    (status, Json(json!({ "status": what }))).into_response()
}

/// `POST /webhooks/partner-center/{key}`: a Partner Center event. Wrong key → 404 (the body is
/// not read); body over 64 KiB → 413; not an event → 400; `test-created` → 200; a relationship
/// approved/activated event naming a relationship → 202, processed in the background; any other
/// event → 200, ignored.
pub(crate) async fn receive(
    State(state): State<AppState>,
    key: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let inbox = &state.webhooks;
    if !key.is_ok_and(|Path(k)| inbox.key_matches(&k)) {
        return crate::api::not_found().await.into_response();
    }
    let body = match Bytes::from_request(req, &()).await {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_large(),
        Err(r) => return ApiError::bad_request("invalidBody", r.body_text()).into_response(),
    };
    let event = match WebhookEvent::parse(&body) {
        Ok(e) => e,
        Err(e) => {
            let refused = e.as_webhook_event_error();
            tracing::info!(
                bytes = body.len(),
                kind = ?refused.map(|r| r.kind()),
                "partner center webhook: refused a body that is not an event"
            );
            if refused.is_some_and(|r| r.kind() == WebhookEventErrorKind::TooLarge) {
                return too_large();
            }
            let message = refused.map_or_else(|| e.to_string(), ToString::to_string);
            return ApiError::bad_request("invalidWebhookEvent", message).into_response();
        }
    };
    let name = short(&event.event_name);
    let relationship = event
        .relationship_id()
        .and_then(|id| RelationshipId::try_from(id.as_str()).ok());
    tracing::info!(
        event = ?name,
        relationship_id = relationship.as_ref().map(|r| r.as_str()),
        "partner center webhook event"
    );
    let mut record = EventRecord {
        seq: 0,
        event_name: name,
        relationship_id: relationship.as_ref().map(|r| r.as_str().to_owned()),
        received_at: OffsetDateTime::now_utc(),
        status: EventStatus::Ignored,
        detail: None,
        outcome: None,
        error: None,
    };
    let acts = event.is_relationship_approved() || event.is_relationship_activated();
    match relationship {
        Some(id) if acts => {
            if state.is_stopping() {
                // Partner Center delivers it again later.
                return answer(StatusCode::SERVICE_UNAVAILABLE, "stopping");
            }
            record.status = EventStatus::Processing;
            record.detail = Some(
                "re-reading the relationship from Graph; the app-install groups are assigned \
                 once it is active"
                    .into(),
            );
            let seq = inbox.record(record);
            spawn(&state, seq, id);
            answer(StatusCode::ACCEPTED, "accepted")
        }
        _ => {
            record.detail = Some(if event.is_test() {
                "test-created: the callback is reachable".into()
            } else if acts {
                "the event names no GDAP relationship (ResourceUri)".into()
            } else {
                "not a relationship approved/activated event: nothing to do".into()
            });
            inbox.record(record);
            answer(
                StatusCode::OK,
                if event.is_test() { "ok" } else { "ignored" },
            )
        }
    }
}

fn too_large() -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "bodyTooLarge",
        "Body too large",
        format!("the body is larger than {BODY_LIMIT} bytes"),
    )
    .into_response()
}

/// Runs `on_relationship_event` for event `seq` in the background, after the events before it.
fn spawn(state: &AppState, seq: u64, id: RelationshipId) {
    let st = state.clone();
    let mut tasks = match state.tasks.lock() {
        Ok(t) => t,
        Err(p) => p.into_inner(),
    };
    while tasks.try_join_next().is_some() {} // reap finished tasks
    tasks.spawn(async move {
        let _turn = st.webhooks.turn.lock().await;
        let result = match st.connection() {
            None => {
                tracing::warn!(relationship_id = %id, "partner center webhook: not connected; event dropped");
                Err(ApiError::not_connected().body)
            }
            Some(c) => c
                .orchestrator
                .on_relationship_event(&id, Some(&GroupTemplate::app_install()))
                .await
                .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(&st, None)).body),
        };
        match &result {
            Ok(o) => tracing::info!(relationship_id = %id, outcome = outcome_name(o), "partner center webhook event processed"),
            Err(e) => tracing::warn!(relationship_id = %id, key = %e.key, error = %e.message, "partner center webhook event failed"),
        }
        st.webhooks.settle(seq, result);
    });
}

fn outcome_name(o: &RelationshipEventOutcome) -> &'static str {
    match o {
        RelationshipEventOutcome::Active { .. } => "active",
        RelationshipEventOutcome::NotActiveYet { .. } => "notActiveYet",
        RelationshipEventOutcome::Ended { .. } => "ended",
        _ => "other",
    }
}

/// `GET /api/lifecycle/webhook/callback`: the URL to register with `POST /api/lifecycle/webhook`.
pub(crate) async fn callback(State(state): State<AppState>) -> ApiResult {
    let url = state
        .public_url
        .join(&format!(
            "{CALLBACK_PATH}{}",
            state.webhooks.key.expose_secret()
        ))
        .map_err(ApiError::internal)?;
    ok(json!({ "url": url }))
}

/// `GET /api/lifecycle/webhook/events`: the last [`EVENT_LOG_LEN`] events received, newest first.
pub(crate) async fn events(State(state): State<AppState>) -> ApiResult {
    ok(json!({ "events": state.webhooks.recent() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(status: EventStatus) -> EventRecord {
        EventRecord {
            seq: 0,
            event_name: "e".into(),
            relationship_id: None,
            received_at: OffsetDateTime::UNIX_EPOCH,
            status,
            detail: None,
            outcome: None,
            error: None,
        }
    }

    #[tokio::test]
    async fn the_log_keeps_the_last_events_and_counts_what_is_processing() {
        let inbox = Inbox::new(SecretString::from("k".to_owned()));
        assert!(inbox.key_matches("k") && !inbox.key_matches("K") && !inbox.key_matches(""));
        let first = inbox.record(rec(EventStatus::Processing));
        for _ in 0..EVENT_LOG_LEN {
            inbox.record(rec(EventStatus::Ignored));
        }
        let recent = inbox.recent();
        assert_eq!(recent.len(), EVENT_LOG_LEN);
        assert!(
            recent.iter().all(|r| r.seq != first),
            "the oldest is dropped"
        );
        assert!(!inbox.settled(Duration::from_millis(1)).await);
        // Settling an event no longer listed still ends its processing.
        inbox.settle(first, Err(ApiError::not_connected().body));
        assert!(inbox.settled(Duration::from_millis(1)).await);
        assert_eq!(recent[0].seq, EVENT_LOG_LEN as u64, "newest first");
    }
}
