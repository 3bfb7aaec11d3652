//! Partner Center webhook delivery: events reach a callback registered over HTTP, only the
//! registered ones, retried on failure, recorded in `Stats`, never on the request path.
//!
//! These tests run on real time (short retry pauses): the delivery timeout is a tokio timer,
//! which paused time would fire early while the callback answers over loopback.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore};

use crate::common::*;

const REL: &str = "/tenantRelationships/delegatedAdminRelationships";
const APPROVED: &str = "granular-admin-relationship-approved";
const ACTIVATED: &str = "granular-admin-relationship-activated";
const TERMINATED: &str = "granular-admin-relationship-terminated";
const ASSIGNMENT_CREATED: &str = "granular-admin-access-assignment-created";
const ASSIGNMENT_ACTIVATED: &str = "granular-admin-access-assignment-activated";
const ASSIGNMENT_UPDATED: &str = "granular-admin-access-assignment-updated";
const ASSIGNMENT_DELETED: &str = "granular-admin-access-assignment-deleted";
const TEST_CREATED: &str = "test-created";
const WAIT: Duration = Duration::from_secs(10);

/// One request the callback received.
#[derive(Debug, Clone)]
struct Hit {
    headers: HeaderMap,
    body: Vec<u8>,
    json: Value,
}

#[derive(Clone)]
struct ReceiverState {
    hits: Arc<Mutex<Vec<Hit>>>,
    /// Statuses to answer, in order; 200 once used up.
    script: Arc<Mutex<Vec<u16>>>,
    /// When set, each request waits for a permit before answering.
    hold: Option<Arc<Semaphore>>,
    arrived: Arc<Notify>,
}

/// A webhook callback on `127.0.0.1:0`, run by the test.
struct Receiver {
    url: String,
    state: ReceiverState,
}

impl Receiver {
    async fn start(script: &[u16], hold: Option<Arc<Semaphore>>) -> Receiver {
        let state = ReceiverState {
            hits: Arc::default(),
            script: Arc::new(Mutex::new(script.to_vec())),
            hold,
            arrived: Arc::new(Notify::new()),
        };
        let app = Router::new()
            .route("/hooks/pc", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks/pc?Type=PartnerCenter"),
            state,
        }
    }

    fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().unwrap().clone()
    }

    fn event_names(&self) -> Vec<String> {
        self.hits()
            .iter()
            .map(|h| h.json["EventName"].as_str().unwrap().to_owned())
            .collect()
    }
}

async fn receive(State(s): State<ReceiverState>, headers: HeaderMap, body: Bytes) -> AxumStatus {
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    s.hits.lock().unwrap().push(Hit {
        headers,
        body: body.to_vec(),
        json,
    });
    s.arrived.notify_one();
    if let Some(hold) = &s.hold {
        hold.acquire().await.unwrap().forget();
    }
    let status = {
        let mut script = s.script.lock().unwrap();
        if script.is_empty() {
            200
        } else {
            script.remove(0)
        }
    };
    AxumStatus::from_u16(status).unwrap()
}

fn sandbox() -> gdap_sandbox::SandboxBuilder {
    builder()
        .auto_approve_after(Duration::from_secs(30))
        .webhook_retry_delay(Duration::from_millis(10))
}

/// Registers `url` for `events` over HTTP with an admin Partner Center token.
async fn register(e: &Env, url: &str, events: &[&str]) {
    let pc = e.pc_token().await;
    let (s, v, _) = e
        .send_json(
            Method::POST,
            &e.pc("/webhooks/v1/registration"),
            &pc,
            json!({"WebhookUrl": url, "WebhookEvents": events}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["webhookUrl"], url);
}

/// Creates a relationship pinned to a customer without one, locks it for approval (auto
/// approval is due 30 s later) and returns its id.
async fn locked_relationship(e: &Env, tok: &str, name: &str, nth: usize) -> String {
    let t = e.tenants(|t| t.relationships.is_empty())[nth].id.clone();
    let (s, v, _) = e
        .send_json(
            Method::POST,
            &e.graph(REL),
            tok,
            json!({
                "displayName": name,
                "duration": "P730D",
                "customer": {"tenantId": t},
                "accessDetails": {"unifiedRoles": [{"roleDefinitionId": APP_ADMIN}, {"roleDefinitionId": PRA}]},
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let (s, _, _) = e
        .send_json(
            Method::POST,
            &e.graph(&format!("{REL}/{id}/requests")),
            tok,
            json!({"action": "lockForApproval"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    id
}

fn relationship_uri(e: &Env, id: &str) -> String {
    format!(
        "{}/v1/granularAdminRelationships/{id}",
        e.h.partner_center_url()
    )
}

#[tokio::test]
async fn approval_and_assignment_events_reach_the_registered_callback() {
    let e = start(sandbox()).await;
    let rx = Receiver::start(&[], None).await;
    register(
        &e,
        &rx.url,
        &[
            APPROVED,
            ACTIVATED,
            ASSIGNMENT_CREATED,
            ASSIGNMENT_ACTIVATED,
            ASSIGNMENT_UPDATED,
            ASSIGNMENT_DELETED,
        ],
    )
    .await;
    let tok = e.graph_token().await;
    let id = locked_relationship(&e, &tok, "Webhook approval", 0).await;

    // Not due yet: nothing is emitted (events are applied lazily when time passes).
    e.h.advance_clock(Duration::from_secs(29));
    assert_eq!(
        e.get(&e.graph(&format!("{REL}/{id}")), &tok).await.1["status"],
        "approvalPending"
    );
    assert!(e.h.stats().webhook_deliveries.is_empty());

    e.h.advance_clock(Duration::from_secs(2));
    let done = e.h.wait_for_webhook_deliveries(2, WAIT).await.unwrap();
    assert_eq!(rx.event_names(), [APPROVED, ACTIVATED]);
    let uri = relationship_uri(&e, &id);
    for (hit, delivery) in rx.hits().iter().zip(&done) {
        let j = &hit.json;
        assert_eq!(j["ResourceUri"], uri.as_str());
        assert_eq!(j["ResourceName"], "GranularAdminRelationship");
        assert!(j.get("AuditUri").is_some_and(Value::is_null), "{j}");
        let when = j["ResourceChangeUtcDate"].as_str().unwrap();
        assert!(
            time::OffsetDateTime::parse(when, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "{when}"
        );
        let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 5, "{keys:?}");

        let h = &hit.headers;
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(
            h["authorization"].to_str().unwrap(),
            format!("Signature {}", e.h.webhook_signature(&hit.body))
        );
        assert_eq!(h["x-ms-signature-algorithm"], "rsa-sha256");
        assert_eq!(
            h["x-ms-certificate-url"].to_str().unwrap(),
            e.url("/partnercenter/webhooks/sandbox-certificate")
        );

        assert_eq!(delivery.resource_uri, uri);
        assert_eq!(delivery.url, rx.url);
        assert_eq!(
            (delivery.status, delivery.attempts, delivery.delivered),
            (Some(200), 1, true)
        );
        assert_eq!(delivery.error, None);
    }
    // The certificate URL is a placeholder that says so.
    let r = e
        .http
        .get(e.url("/partnercenter/webhooks/sandbox-certificate"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("not with Microsoft's RSA"));

    // An access assignment: created at once, activated after the propagation delay.
    let (s, v, _) = e
        .send_json(
            Method::POST,
            &e.graph(&format!("{REL}/{id}/accessAssignments")),
            &tok,
            json!({
                "accessContainer": {"accessContainerId": e.info.admin_group_ids[0], "accessContainerType": "securityGroup"},
                "accessDetails": {"unifiedRoles": [{"roleDefinitionId": APP_ADMIN}]},
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let aid = v["id"].as_str().unwrap().to_owned();
    e.h.wait_for_webhook_deliveries(3, WAIT).await.unwrap();
    e.h.advance_clock(Duration::from_secs(3));
    let done = e.h.wait_for_webhook_deliveries(4, WAIT).await.unwrap();
    assert_eq!(
        rx.event_names(),
        [
            APPROVED,
            ACTIVATED,
            ASSIGNMENT_CREATED,
            ASSIGNMENT_ACTIVATED
        ]
    );
    let a_uri = format!("{uri}/accessAssignments/{aid}");
    for hit in &rx.hits()[2..] {
        assert_eq!(hit.json["ResourceUri"], a_uri.as_str());
        assert_eq!(hit.json["ResourceName"], "GranularAdminAccessAssignment");
    }
    assert!(done.iter().all(|d| d.delivered));

    // Terminating is not registered: no event. A later registered event proves nothing was
    // delivered in between (one worker delivers in order).
    let (s, _, _) = e
        .send_json(
            Method::POST,
            &e.graph(&format!("{REL}/{id}/requests")),
            &tok,
            json!({"action": "terminate"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    e.h.advance_clock(Duration::from_secs(3));
    assert_eq!(
        e.get(&e.graph(&format!("{REL}/{id}")), &tok).await.1["status"],
        "terminated"
    );
    let other = locked_relationship(&e, &tok, "Webhook approval 2", 1).await;
    e.h.approve_relationship(&other).unwrap();
    let done = e.h.wait_for_webhook_deliveries(6, WAIT).await.unwrap();
    assert_eq!(done.len(), 6);
    assert!(done.iter().all(|d| d.event_name != TERMINATED));
    assert_eq!(done[4].resource_uri, relationship_uri(&e, &other));
    assert_eq!(rx.hits().len(), 6);
}

#[tokio::test]
async fn a_registration_without_the_event_gets_nothing_and_validation_events_work() {
    let e = start(sandbox()).await;
    let rx = Receiver::start(&[], None).await;
    let tok = e.graph_token().await;
    let pc = e.pc_token().await;
    let validation = e.pc("/webhooks/v1/registration/validationEvents");

    // No registration at all: nothing to deliver to, and no validation event.
    let first = locked_relationship(&e, &tok, "No registration", 0).await;
    e.h.approve_relationship(&first).unwrap();
    let (s, _, _) = e
        .send_json(Method::POST, &validation, &pc, json!(null))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Registered for the test event only: approvals are not delivered.
    register(&e, &rx.url, &[TEST_CREATED]).await;
    let second = locked_relationship(&e, &tok, "Test only", 1).await;
    e.h.advance_clock(Duration::from_secs(31));
    assert_eq!(
        e.get(&e.graph(&format!("{REL}/{second}")), &tok).await.1["status"],
        "active"
    );
    let r = e
        .http
        .post(&validation)
        .bearer_auth(&pc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cid = r.json::<Value>().await.unwrap()["correlationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = e.h.wait_for_webhook_deliveries(1, WAIT).await.unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(rx.event_names(), [TEST_CREATED]);
    assert_eq!(done[0].correlation_id.as_deref(), Some(cid.as_str()));
    let j = &rx.hits()[0].json;
    assert_eq!(j["ResourceName"], "test");
    assert_eq!(
        j["ResourceUri"].as_str().unwrap(),
        format!("{}/v1/webhooks/registration/test", e.h.partner_center_url())
    );

    let (s, v) = e.get(&format!("{validation}/{cid}"), &pc).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["correlationId"], cid.as_str());
    assert_eq!(v["partnerId"], e.info.partner_tenant_id.as_str());
    assert_eq!(v["status"], "completed");
    assert_eq!(v["callbackUrl"], rx.url.as_str());
    assert_eq!(v["results"].as_array().unwrap().len(), 1);
    assert_eq!(v["results"][0]["responseCode"], "OK");
    assert_eq!(v["results"][0]["systemError"], false);
    assert_eq!(
        e.get(&format!("{validation}/{}", uuid::Uuid::new_v4()), &pc)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // Two validation calls per minute; the third is throttled.
    let r = e
        .http
        .post(&validation)
        .bearer_auth(&pc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = e
        .http
        .post(&validation)
        .bearer_auth(&pc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    e.h.advance_clock(Duration::from_secs(61));
    let r = e
        .http
        .post(&validation)
        .bearer_auth(&pc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    e.h.wait_for_webhook_deliveries(3, WAIT).await.unwrap();
    assert_eq!(rx.event_names(), [TEST_CREATED; 3]);

    // A registration without test-created cannot send validation events.
    e.h.with_world_mut(|w| w.set_webhook_registration(&rx.url, &[APPROVED]));
    let r = e
        .http
        .post(&validation)
        .bearer_auth(&pc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_failing_callback_is_retried_and_recorded() {
    let e = start(sandbox()).await;
    let tok = e.graph_token().await;

    // 500 three times: three attempts, recorded as not delivered.
    let rx = Receiver::start(&[500, 500, 500], None).await;
    register(&e, &rx.url, &[APPROVED]).await;
    let first = locked_relationship(&e, &tok, "Failing callback", 0).await;
    e.h.approve_relationship(&first).unwrap();
    let done = e.h.wait_for_webhook_deliveries(1, WAIT).await.unwrap();
    assert_eq!(
        (done[0].status, done[0].attempts, done[0].delivered),
        (Some(500), 3, false)
    );
    assert_eq!(done[0].error.as_deref(), Some("HTTP 500"));
    let hits = rx.hits();
    assert_eq!(hits.len(), 3);
    assert!(hits.iter().all(|h| h.body == hits[0].body
        && h.headers["authorization"] == hits[0].headers["authorization"]));

    // 503 then 200: delivered on the second attempt.
    let rx2 = Receiver::start(&[503], None).await;
    e.h.with_world_mut(|w| w.set_webhook_registration(&rx2.url, &[APPROVED]));
    let second = locked_relationship(&e, &tok, "Flaky callback", 1).await;
    e.h.approve_relationship(&second).unwrap();
    let done = e.h.wait_for_webhook_deliveries(2, WAIT).await.unwrap();
    assert_eq!(
        (done[1].status, done[1].attempts, done[1].delivered),
        (Some(200), 2, true)
    );
    assert_eq!(rx2.hits().len(), 2);

    // Nobody listening: three attempts without an answer.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("http://127.0.0.1:{port}/gone");
    e.h.with_world_mut(|w| w.set_webhook_registration(&url, &[APPROVED]));
    let third = locked_relationship(&e, &tok, "Closed callback", 2).await;
    e.h.approve_relationship(&third).unwrap();
    let done = e.h.wait_for_webhook_deliveries(3, WAIT).await.unwrap();
    assert_eq!(
        (done[2].status, done[2].attempts, done[2].delivered),
        (None, 3, false)
    );
    assert!(done[2].error.is_some());

    // Only http(s) callbacks are contacted.
    e.h.with_world_mut(|w| w.set_webhook_registration("ftp://127.0.0.1/x", &[APPROVED]));
    let fourth = locked_relationship(&e, &tok, "Not http", 3).await;
    e.h.approve_relationship(&fourth).unwrap();
    let done = e.h.wait_for_webhook_deliveries(4, WAIT).await.unwrap();
    assert_eq!((done[3].status, done[3].attempts), (None, 0));

    // A callback off this machine is not contacted (no traffic, not even a name lookup).
    e.h.with_world_mut(|w| {
        w.set_webhook_registration("https://msp.example/gdap/webhook", &[APPROVED]);
    });
    let fifth = locked_relationship(&e, &tok, "Off machine", 4).await;
    e.h.approve_relationship(&fifth).unwrap();
    let done = e.h.wait_for_webhook_deliveries(5, WAIT).await.unwrap();
    assert_eq!(
        (done[4].status, done[4].attempts, done[4].delivered),
        (None, 0, false)
    );
    assert!(
        done[4]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("loopback")),
        "{:?}",
        done[4].error
    );
    assert_eq!(e.h.stats().webhook_deliveries, done);

    e.h.reset_stats();
    assert!(e.h.stats().webhook_deliveries.is_empty());
}

#[tokio::test]
async fn deliveries_never_block_the_api_request() {
    let e = start(sandbox()).await;
    let hold = Arc::new(Semaphore::new(0));
    let rx = Receiver::start(&[], Some(hold.clone())).await;
    register(&e, &rx.url, &[APPROVED, ACTIVATED, TEST_CREATED]).await;
    let tok = e.graph_token().await;
    let pc = e.pc_token().await;
    let id = locked_relationship(&e, &tok, "Held callback", 0).await;
    e.h.advance_clock(Duration::from_secs(31));

    // The read that applies the approval answers while the callback holds the first event.
    let url = e.graph(&format!("{REL}/{id}"));
    let (s, v) = tokio::time::timeout(Duration::from_secs(2), e.get(&url, &tok))
        .await
        .expect("the API answers while the callback is held");
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("active")));
    tokio::time::timeout(WAIT, rx.state.arrived.notified())
        .await
        .expect("the approved event arrived");
    assert_eq!(rx.event_names(), [APPROVED]);
    assert!(e.h.stats().webhook_deliveries.is_empty());

    // So does a validation call, whose event queues behind the held one.
    let validation = e.pc("/webhooks/v1/registration/validationEvents");
    let r = tokio::time::timeout(
        Duration::from_secs(2),
        e.http.post(&validation).bearer_auth(&pc).send(),
    )
    .await
    .expect("the validation call answers at once")
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cid = r.json::<Value>().await.unwrap()["correlationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, v) = e.get(&format!("{validation}/{cid}"), &pc).await;
    assert_eq!(v["status"], "inProgress");
    assert_eq!(v["results"], json!([]));

    hold.add_permits(10);
    let done = e.h.wait_for_webhook_deliveries(3, WAIT).await.unwrap();
    assert_eq!(rx.event_names(), [APPROVED, ACTIVATED, TEST_CREATED]);
    assert!(done.iter().all(|d| d.delivered && d.attempts == 1));
    let (_, v) = e.get(&format!("{validation}/{cid}"), &pc).await;
    assert_eq!(v["status"], "completed");
}
