//! Webhook registration: `/webhooks/v1/registration` and `/webhooks/v1/registration/events`;
//! and the events Partner Center posts to the callback ([`WebhookEvent`]).

use gdap_core::Url;
use gdap_partner_center::models::{
    GDAP_ACCESS_ASSIGNMENT_EVENTS, GDAP_APPROVAL_EVENTS, GDAP_RELATIONSHIP_APPROVED,
    MAX_WEBHOOK_EVENT_BYTES, TEST_CREATED, WebhookEvent, WebhookRegistration,
};
use gdap_partner_center::{Error, WebhookEventErrorKind};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{assert_standard_headers, catch_all, client, fixture, hdr, p, request_summary};

const CALLBACK: &str = "https://msp.example/api/PublicWebhooks?Type=PartnerCenter";

fn registration_path() -> String {
    p("/webhooks/v1/registration")
}

fn callback() -> Url {
    Url::parse(CALLBACK).unwrap()
}

fn events() -> Vec<String> {
    vec![
        TEST_CREATED.to_owned(),
        GDAP_RELATIONSHIP_APPROVED.to_owned(),
    ]
}

fn expected_body() -> Value {
    json!({
        "WebhookUrl": CALLBACK,
        "WebhookEvents": ["test-created", "granular-admin-relationship-approved"],
    })
}

/// Invalid input detected before sending, with the field it names.
fn invalid_field(err: &Error) -> &str {
    match err {
        Error::Core(gdap_core::Error::InvalidInput(i)) => i.field(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn list_webhook_events_sends_get_and_parses_array_or_collection() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(p("/webhooks/v1/registration/events")))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("webhook_events")))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(p("/webhooks/v1/registration/events")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalCount": 7, "items": fixture("webhook_events"),
            "attributes": {"objectType": "Collection"}
        })))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let c = client(&server);

    let bare = c.list_webhook_events().await.unwrap();
    let collection = c.list_webhook_events().await.unwrap();
    assert_eq!(bare, collection);
    assert!(bare.iter().any(|e| e == GDAP_RELATIONSHIP_APPROVED));
    assert!(
        GDAP_APPROVAL_EVENTS
            .iter()
            .all(|a| bare.iter().any(|e| e == a))
    );

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    assert_ne!(
        hdr(&reqs[0], "ms-requestid"),
        hdr(&reqs[1], "ms-requestid"),
        "a new MS-RequestId for the next logical call"
    );
    insta::assert_json_snapshot!(
        "list_webhook_events_request",
        request_summary(&reqs[0]),
        { ".headers.msRequestId" => "[request-id]" }
    );
}

#[tokio::test(start_paused = true)]
async fn get_webhook_registration_reads_pascal_and_camel_case() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(registration_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("webhook_registration")))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(registration_path()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("webhook_registration_camel")),
        )
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let c = client(&server);

    let pascal = c.get_webhook_registration().await.unwrap().unwrap();
    let camel = c.get_webhook_registration().await.unwrap().unwrap();
    assert_eq!(pascal, camel);
    assert_eq!(pascal.webhook_url, CALLBACK);
    assert_eq!(pascal.webhook_events, events());
    assert!(pascal.subscriber_id.is_some());
    assert!(pascal.last_modified_timestamp.is_some());
    assert!(pascal.has_event(GDAP_RELATIONSHIP_APPROVED));
    insta::assert_json_snapshot!(
        "get_webhook_registration_decoded",
        pascal,
        { ".subscriberId" => "[id]", ".lastModifiedTimestamp" => "[ts]" }
    );

    let reqs = server.received_requests().await.unwrap();
    for r in &reqs {
        assert_standard_headers(r);
        assert!(r.body.is_empty());
    }
    insta::assert_json_snapshot!(
        "get_webhook_registration_request",
        request_summary(&reqs[0]),
        { ".headers.msRequestId" => "[request-id]" }
    );
}

#[tokio::test(start_paused = true)]
async fn get_webhook_registration_404_or_empty_is_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(registration_path()))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "code": 1000,
            "description": "Not found: no webhook registration exists for this partner.",
            "data": [], "source": "PartnerFD"
        })))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(registration_path()))
        .respond_with(ResponseTemplate::new(200))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(registration_path()))
        .respond_with(ResponseTemplate::new(200).set_body_raw("null", "application/json"))
        .expect(1)
        .with_priority(3)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let c = client(&server);
    assert_eq!(c.get_webhook_registration().await.unwrap(), None);
    assert_eq!(c.get_webhook_registration().await.unwrap(), None);
    assert_eq!(c.get_webhook_registration().await.unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn create_webhook_registration_sends_pascal_case_body_and_parses_the_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(registration_path()))
        .and(header("content-type", "application/json"))
        .and(body_json(expected_body()))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(fixture("webhook_registration_camel")),
        )
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;

    let created = client(&server)
        .create_webhook_registration(&callback(), &events())
        .await
        .unwrap();
    assert_eq!(created.webhook_url, CALLBACK);
    assert_eq!(created.webhook_events, events());
    assert_eq!(
        created.subscriber_id.as_deref(),
        Some("8d3c1f0e-2b4a-4c6d-9e8f-0a1b2c3d4e5f")
    );
    insta::assert_json_snapshot!(
        "create_webhook_registration_decoded",
        created,
        { ".subscriberId" => "[id]", ".lastModifiedTimestamp" => "[ts]" }
    );

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1);
    // PascalCase on the wire, exactly two keys.
    let sent: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(sent, expected_body());
    insta::assert_json_snapshot!(
        "create_webhook_registration_request",
        request_summary(&reqs[0]),
        { ".headers.msRequestId" => "[request-id]" }
    );
}

#[tokio::test(start_paused = true)]
async fn create_webhook_registration_accepts_a_loopback_http_callback_and_constants() {
    let server = MockServer::start().await;
    // The mock server itself is a loopback http URL, as a test receiver would be.
    let local = Url::parse(&format!("{}/hooks", server.uri())).unwrap();
    Mock::given(method("POST"))
        .and(path(registration_path()))
        .and(body_json(json!({
            "WebhookUrl": local.as_str(),
            "WebhookEvents": GDAP_APPROVAL_EVENTS,
        })))
        // A sparse answer: the rest comes from the request.
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"SubscriberId": "s-1"})))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(registration_path()))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let c = client(&server);

    let sparse = c
        .create_webhook_registration(&local, GDAP_APPROVAL_EVENTS)
        .await
        .unwrap();
    assert_eq!(sparse.subscriber_id.as_deref(), Some("s-1"));
    assert_eq!(sparse.webhook_url, local.as_str());
    assert_eq!(sparse.webhook_events, GDAP_APPROVAL_EVENTS);

    let empty = c
        .create_webhook_registration(&callback(), &events())
        .await
        .unwrap();
    assert_eq!(empty, WebhookRegistration::new(CALLBACK, events()));
}

#[tokio::test(start_paused = true)]
async fn second_create_409_is_a_typed_conflict_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(registration_path()))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({
            "code": 800002,
            "description": "A webhook registration already exists for this partner; use PUT to update it.",
            "data": [], "source": "PartnerFD"
        })))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let err = client(&server)
        .create_webhook_registration(&callback(), &events())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::WebhookRegistrationExists(_)),
        "{err:?}"
    );
    assert!(err.is_conflict());
    assert!(
        !err.is_already_exists(),
        "is_already_exists is the consent predicate"
    );
    assert!(!err.is_retryable());
    assert_eq!(err.status(), Some(409));
    assert_eq!(err.service_code(), Some("800002"));
    let sent = server.received_requests().await.unwrap();
    assert_eq!(err.request_id(), hdr(&sent[0], "ms-requestid"));
    assert_eq!(err.correlation_id(), Some(super::CORRELATION));
    let msg = err.to_string();
    assert!(msg.contains("webhook registration already exists"), "{msg}");
    assert!(msg.contains("PUT"), "{msg}");
    insta::assert_snapshot!("webhook_registration_exists_message", msg);
}

#[tokio::test(start_paused = true)]
async fn update_webhook_registration_sends_put_and_404_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(registration_path()))
        .and(body_json(expected_body()))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("webhook_registration")))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(registration_path()))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "code": 1000,
            "description": "Not found: no webhook registration exists for this partner.",
            "data": [], "source": "PartnerFD"
        })))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let c = client(&server);

    let updated = c
        .update_webhook_registration(&callback(), &events())
        .await
        .unwrap();
    assert_eq!(updated.webhook_url, CALLBACK);
    assert_eq!(updated.webhook_events, events());
    insta::assert_json_snapshot!(
        "update_webhook_registration_decoded",
        updated,
        { ".subscriberId" => "[id]", ".lastModifiedTimestamp" => "[ts]" }
    );

    let err = c
        .update_webhook_registration(&callback(), &events())
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(!err.is_conflict());
    assert!(err.to_string().contains("webhook registration"), "{err}");

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    insta::assert_json_snapshot!(
        "update_webhook_registration_request",
        request_summary(&reqs[0]),
        { ".headers.msRequestId" => "[request-id]" }
    );
}

#[tokio::test(start_paused = true)]
async fn idempotent_put_is_retried_on_503_with_the_same_request_id() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("webhook_registration")))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    client(&server)
        .update_webhook_registration(&callback(), &events())
        .await
        .unwrap();
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    assert_eq!(hdr(&reqs[0], "ms-requestid"), hdr(&reqs[1], "ms-requestid"));
    assert_eq!(reqs[0].body, reqs[1].body);
}

#[tokio::test(start_paused = true)]
async fn delete_webhook_registration_sends_delete_and_404_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(registration_path()))
        .respond_with(ResponseTemplate::new(204))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(registration_path()))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "code": 1000, "description": "Not found", "data": [], "source": "PartnerFD"
        })))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let c = client(&server);
    c.delete_webhook_registration().await.unwrap();
    let err = c.delete_webhook_registration().await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].body.is_empty());
    insta::assert_json_snapshot!(
        "delete_webhook_registration_request",
        request_summary(&reqs[0]),
        { ".headers.msRequestId" => "[request-id]" }
    );
}

#[tokio::test(start_paused = true)]
async fn invalid_registrations_are_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("webhook_registration")))
        .expect(0)
        .mount(&server)
        .await;
    let c = client(&server);
    let plain_http = Url::parse("http://msp.example/hook").unwrap();
    let too_long = Url::parse(&format!("https://msp.example/{}", "a".repeat(2100))).unwrap();
    let none: Vec<String> = Vec::new();
    let blank = vec![TEST_CREATED.to_owned(), "  ".to_owned()];
    let twice = vec![
        GDAP_RELATIONSHIP_APPROVED.to_owned(),
        TEST_CREATED.to_owned(),
        GDAP_RELATIONSHIP_APPROVED.to_owned(),
    ];
    let cases: [(&Url, &[String], &str, &str); 5] = [
        (&plain_http, &events(), "WebhookUrl", "https"),
        (&too_long, &events(), "WebhookUrl", "2048"),
        (&callback(), &none, "WebhookEvents", "at least one"),
        (&callback(), &blank, "WebhookEvents", "empty"),
        (&callback(), &twice, "WebhookEvents", "twice"),
    ];
    for (url, evs, field, says) in cases {
        for err in [
            c.create_webhook_registration(url, evs).await.unwrap_err(),
            c.update_webhook_registration(url, evs).await.unwrap_err(),
        ] {
            assert_eq!(invalid_field(&err), field, "{err}");
            let msg = err.to_string();
            assert!(msg.contains(says), "{msg}");
            assert!(!msg.contains("msp.example"), "the URL is not echoed: {msg}");
            assert!(!err.is_retryable());
        }
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn malformed_json_is_a_typed_decode_error() {
    let server = MockServer::start().await;
    let truncated = || {
        ResponseTemplate::new(200).set_body_raw("{\"webhookUrl\": \"https://", "application/json")
    };
    Mock::given(method("GET"))
        .and(path(p("/webhooks/v1/registration/events")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": [1, 2]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(registration_path()))
        .respond_with(truncated())
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(registration_path()))
        // Well-formed JSON without the required WebhookUrl.
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"webhookEvents": []})))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(registration_path()))
        .respond_with(truncated())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(registration_path()))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>ok</html>", "text/html"))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let c = client(&server);

    let errs = [
        c.list_webhook_events().await.unwrap_err(),
        c.get_webhook_registration().await.unwrap_err(),
        c.get_webhook_registration().await.unwrap_err(),
        c.create_webhook_registration(&callback(), &events())
            .await
            .unwrap_err(),
        c.update_webhook_registration(&callback(), &events())
            .await
            .unwrap_err(),
    ];
    for err in errs {
        assert!(err.is_decode(), "{err:?}");
        assert!(matches!(err, Error::Core(gdap_core::Error::Decode(_))));
        assert_eq!(err.status(), Some(200));
        assert!(err.request_id().is_some());
    }
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_errors_not_panics() {
    let server = MockServer::start().await;
    let boom = || {
        ResponseTemplate::new(500).set_body_json(json!({
            "code": 500, "description": "Internal server error", "data": [], "source": "PartnerFD"
        }))
    };
    // A POST is not retried on 500: the server may have acted.
    Mock::given(method("POST"))
        .and(path(registration_path()))
        .respond_with(boom())
        .expect(1)
        .mount(&server)
        .await;
    // Idempotent calls are retried until the policy gives up.
    Mock::given(method("GET"))
        .respond_with(boom())
        .expect(2..)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(500).set_body_raw("{\"code\": ", "application/json"))
        .expect(2..)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let c = client(&server);

    let err = c
        .create_webhook_registration(&callback(), &events())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Service(_)), "{err:?}");
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.description(), Some("Internal server error"));
    assert!(err.is_retryable());
    assert!(!err.is_conflict());

    for err in [
        c.get_webhook_registration().await.unwrap_err(),
        c.list_webhook_events().await.unwrap_err(),
        c.delete_webhook_registration().await.unwrap_err(),
    ] {
        assert_eq!(err.status(), Some(500), "{err:?}");
        assert!(!err.is_not_found());
        let _ = err.to_string();
    }
}

// ------------------------------------------------------------------ events posted to the callback

const EVENT_RID: &str = "7e4a6b1c-1d2e-4f3a-9b8c-0d1e2f3a4b5c-9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";

fn event_fixture(name: &str) -> WebhookEvent {
    let bytes = serde_json::to_vec(&fixture(name)).unwrap();
    WebhookEvent::parse(&bytes).unwrap()
}

#[test]
fn webhook_event_fixtures_decode_with_ids_and_predicates() {
    let approved = event_fixture("webhook_event_relationship_approved");
    assert!(approved.is_relationship_approved());
    assert!(!approved.is_relationship_activated() && !approved.is_access_assignment_event());
    assert_eq!(approved.relationship_id().as_deref(), Some(EVENT_RID));
    assert_eq!(approved.access_assignment_id(), None);
    assert_eq!(
        approved.resource_name.as_deref(),
        Some("GranularAdminRelationship")
    );
    assert_eq!(approved.audit_uri, None);

    let created = event_fixture("webhook_event_assignment_created");
    assert!(created.is_access_assignment_event());
    assert_eq!(created.event_name, GDAP_ACCESS_ASSIGNMENT_EVENTS[0]);
    assert_eq!(created.relationship_id().as_deref(), Some(EVENT_RID));
    assert_eq!(
        created.access_assignment_id().as_deref(),
        Some("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
    );
    assert!(created.audit_uri.is_some());

    let test = event_fixture("webhook_event_test_created");
    assert!(test.is_test());
    assert_eq!(test.relationship_id(), None);
    assert_eq!(test.resource_name.as_deref(), Some("test"));

    // camelCase keys, a lower-case path segment and an unknown key.
    let camel = event_fixture("webhook_event_camel");
    assert!(camel.is_relationship_ended());
    assert_eq!(camel.relationship_id().as_deref(), Some(EVENT_RID));

    insta::assert_json_snapshot!("webhook_events_decoded", [approved, created, test, camel]);
}

#[test]
fn webhook_event_bodies_that_are_not_events_are_refused_with_a_kind() {
    let kind = |body: &[u8]| {
        let err = WebhookEvent::parse(body).unwrap_err();
        assert!(err.is_decode(), "{err:?}");
        assert!(matches!(err, Error::InvalidWebhookEvent(_)));
        assert!(!err.is_retryable() && !err.is_auth());
        assert_eq!(err.request_id(), None);
        let e = err.as_webhook_event_error().unwrap();
        assert_eq!(e.body_len(), body.len());
        (e.kind(), err.to_string())
    };
    let (k, msg) = kind(b"{\"EventName\": \"test-created\"");
    assert_eq!(k, WebhookEventErrorKind::Malformed);
    assert!(msg.contains("not a Partner Center event"), "{msg}");
    let (k, msg) = kind(br#"{"ResourceName": "test", "AuditUri": null}"#);
    assert_eq!(k, WebhookEventErrorKind::MissingEventName);
    assert!(msg.contains("no EventName"), "{msg}");

    // A body over 64 KiB is refused before it is decoded, whatever it holds.
    let mut big = serde_json::to_vec(&fixture("webhook_event_relationship_approved")).unwrap();
    big.resize(MAX_WEBHOOK_EVENT_BYTES + 1, b' ');
    let (k, msg) = kind(&big);
    assert_eq!(k, WebhookEventErrorKind::TooLarge);
    assert!(
        msg.contains("65537 bytes") && msg.contains("65536"),
        "{msg}"
    );
    big.pop();
    assert!(
        WebhookEvent::parse(&big)
            .unwrap()
            .is_relationship_approved()
    );
}
