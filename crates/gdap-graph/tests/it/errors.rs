//! Graph error bodies and hostile answers become typed errors, never panics.

use gdap_graph::{Error, RelationshipId, RetryOptions};
use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

use crate::*;

fn rel_path() -> String {
    format!("tenantRelationships/delegatedAdminRelationships/{REL_ID}")
}

fn rel() -> RelationshipId {
    REL_ID.parse().unwrap()
}

async fn get_with(response: ResponseTemplate) -> Error {
    let server = MockServer::start().await;
    given("GET", &rel_path())
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    client_with(&server, RetryOptions::none())
        .get_relationship(&rel())
        .await
        .unwrap_err()
}

#[tokio::test(start_paused = true)]
async fn graph_error_body_is_typed() {
    let err = get_with(ResponseTemplate::new(403).set_body_json(json!({"error": {
        "code": "Authorization_RequestDenied",
        "message": "Insufficient privileges to complete the operation.",
        "innerError": {"date": "2025-02-13T10:17:06", "request-id": "req-403", "client-request-id": "c-403"}}})))
    .await;
    assert!(err.is_insufficient_privileges());
    assert!(err.is_auth());
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.service_code(), Some("Authorization_RequestDenied"));
    assert_eq!(
        err.message(),
        Some("Insufficient privileges to complete the operation.")
    );
    assert_eq!(err.request_id(), Some("req-403"));
    assert_eq!(err.date(), Some("2025-02-13T10:17:06"));
    assert!(err.client_request_id().is_some());
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test(start_paused = true)]
async fn disallowed_operation_and_not_found() {
    let err = get_with(ResponseTemplate::new(403).set_body_json(json!({"error": {
        "code": "disallowedOperation", "message": "not in this state", "innerError": {"request-id": "r"}}})))
    .await;
    assert!(err.is_disallowed_operation());
    assert!(!err.is_already_exists());
    let err = get_with(ResponseTemplate::new(404).set_body_json(json!({"error": {
        "code": "notFound", "message": "nope"}})))
    .await;
    assert!(err.is_not_found());
}

#[tokio::test(start_paused = true)]
async fn throttling_is_typed_with_retry_after() {
    let err = get_with(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "3")
            .set_body_json(
                json!({"error": {"code": "activityLimitReached", "message": "slow down",
                "innerError": {"code": "throttledRequest", "request-id": "req-429"}}}),
            ),
    )
    .await;
    assert!(err.is_throttled());
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(3)));
    assert_eq!(err.inner_code(), Some("throttledRequest"));
}

#[tokio::test(start_paused = true)]
async fn throttled_get_is_retried_then_succeeds() {
    let server = MockServer::start().await;
    given("GET", &rel_path())
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "2"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    given("GET", &rel_path())
        .respond_with(ok_json(200, relationship(REL_ID, "active", "x")))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let started = tokio::time::Instant::now();
    client(&server).get_relationship(&rel()).await.unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn malformed_json_is_a_decode_error_with_status_and_request_id() {
    let err = get_with(
        ResponseTemplate::new(200)
            .insert_header("request-id", "req-bad-json")
            .insert_header("content-type", "application/json")
            .set_body_string("{\"id\": \"abc\", "),
    )
    .await;
    assert_eq!(err.status(), Some(200));
    assert_eq!(err.request_id(), Some("req-bad-json"));
    assert!(matches!(err.as_core(), Some(gdap_core::Error::Decode(_))));
}

#[tokio::test(start_paused = true)]
async fn html_200_is_a_decode_error() {
    let err = get_with(
        ResponseTemplate::new(200)
            .insert_header("request-id", "req-html")
            .insert_header("content-type", "text/html")
            .set_body_string("<html><body>Sign in</body></html>"),
    )
    .await;
    assert_eq!(err.status(), Some(200));
    assert_eq!(err.request_id(), Some("req-html"));
    assert!(!err.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn non_graph_500_keeps_status_and_request_id() {
    let err = get_with(
        ResponseTemplate::new(500)
            .insert_header("request-id", "req-500")
            .set_body_string("upstream connect error or disconnect/reset before headers"),
    )
    .await;
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.request_id(), Some("req-500"));
    assert_eq!(err.service_code(), None);
    assert!(err.is_retryable());
    assert!(!err.is_already_exists());
    assert!(err.as_http().unwrap().body_snippet().contains("upstream"));
}

#[tokio::test(start_paused = true)]
async fn wrong_shaped_json_item_is_a_decode_error() {
    let err = get_with(
        ResponseTemplate::new(200)
            .insert_header("request-id", "req-shape")
            .set_body_json(json!({"id": 42})),
    )
    .await;
    assert_eq!(err.status(), Some(200));
    assert_eq!(err.request_id(), Some("req-shape"));
}
