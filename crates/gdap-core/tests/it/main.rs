//! Pipeline behaviour against wiremock, on paused tokio time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report.

mod proptests;
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use gdap_core::{
    Error, PageStyle, Pager, Pipeline, Request, RetryOptions, StaticTokenCredential, Url,
};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CANARY: &str = "canary-token-7f3c1d9e";

fn pipeline(server: &MockServer) -> Pipeline {
    Pipeline::builder()
        .with_endpoint(Url::parse(&format!("{}/v1.0", server.uri())).unwrap())
        .with_credential(Arc::new(StaticTokenCredential::new(CANARY)))
        .with_scopes(["https://graph.microsoft.com/.default"])
        .with_retry(
            RetryOptions::default().with_delays(Duration::from_millis(100), Duration::from_secs(2)),
        )
        .without_timeout()
        .build()
        .unwrap()
}

async fn catch_all(server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500).set_body_string("unexpected request"))
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_on_virtual_time() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/things"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "7"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/things"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    catch_all(&server).await;

    let started = tokio::time::Instant::now();
    let v: Value = pipeline(&server)
        .send_json(Request::get("things"))
        .await
        .unwrap();
    assert_eq!(v["ok"], true);
    assert!(
        started.elapsed() >= Duration::from_secs(7),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn service_unavailable_then_ok_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"n": 1})))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    let v: Value = pipeline(&server)
        .send_json(Request::get("x"))
        .await
        .unwrap();
    assert_eq!(v["n"], 1);
}

#[tokio::test(start_paused = true)]
async fn a_post_that_times_out_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let p = Pipeline::builder()
        .with_endpoint(Url::parse(&server.uri()).unwrap())
        .with_credential(Arc::new(StaticTokenCredential::new(CANARY)))
        .with_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let err = p
        .send(
            Request::post("relationships")
                .json(&json!({"displayName": "x"}))
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    // One attempt of 5 s (virtual); a retry would need another 5 s plus a backoff.
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(5) && elapsed < Duration::from_secs(10),
        "{elapsed:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_post_with_500_is_not_retried_but_429_is() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/a"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/b"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/b"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({})))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    let p = pipeline(&server);
    let err = p.send(Request::post("a")).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    p.send(Request::post("b")).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn attempts_stop_at_the_cap_and_keep_the_details() {
    let server = MockServer::start().await;
    let body = json!({"error": {"code": "serviceBusy", "message": "try later",
        "innerError": {"request-id": "req-42", "date": "2025-02-13T10:17:06"}}});
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_json(body))
        .expect(3)
        .mount(&server)
        .await;
    let p = Pipeline::builder()
        .with_endpoint(Url::parse(&server.uri()).unwrap())
        .with_credential(Arc::new(StaticTokenCredential::new(CANARY)))
        .with_retry(RetryOptions::default().with_max_attempts(3))
        .without_timeout()
        .build()
        .unwrap();
    let err = p.send(Request::get("x")).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.service_code(), Some("serviceBusy"));
    assert_eq!(err.request_id(), Some("req-42"));
    assert!(err.client_request_id().is_some());
    assert!(err.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn the_same_client_request_id_on_every_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .with_priority(2)
        .mount(&server)
        .await;
    let p = pipeline(&server);
    p.send(Request::get("x")).await.unwrap();
    p.send(Request::get("x")).await.unwrap();
    let ids: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.headers
                .get("client-request-id")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 4);
    assert!(ids[0] == ids[1] && ids[1] == ids[2], "{ids:?}");
    assert_ne!(ids[2], ids[3], "a new logical call gets a new id");
}

fn page(items: std::ops::Range<u32>, next: Option<String>) -> Value {
    let mut v = json!({"value": items.map(|i| json!({"n": i})).collect::<Vec<_>>()});
    if let Some(n) = next {
        v["@odata.nextLink"] = json!(n);
    }
    v
}

#[tokio::test(start_paused = true)]
async fn three_pages_in_order_with_one_page_buffered() {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("GET"))
        .and(path("/v1.0/items"))
        .and(query_param("$top", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(page(0..2, Some(format!("{base}/v1.0/items?$skiptoken=p2")))),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("$skiptoken", "p2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(page(2..4, Some(format!("{base}/v1.0/items?$skiptoken=p3")))),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("$skiptoken", "p3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(4..5, None)))
        .expect(1)
        .mount(&server)
        .await;

    #[derive(serde::Deserialize)]
    struct Item {
        n: u32,
    }
    let mut pager: Pager<Item> = Pager::new(
        pipeline(&server),
        PageStyle::OData,
        Request::get("items").query("$top", "2"),
    );
    let first = pager.next().await.unwrap().unwrap();
    assert_eq!(first.n, 0);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "page 2 not fetched yet"
    );
    let second = pager.next().await.unwrap().unwrap();
    assert_eq!(second.n, 1);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "still one page"
    );
    let rest: Vec<Item> = pager.try_collect().await.unwrap();
    assert_eq!(rest.iter().map(|i| i.n).collect::<Vec<_>>(), vec![2, 3, 4]);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_next_link_to_another_host_is_refused() {
    let server = MockServer::start().await;
    let evil = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            0..1,
            Some(format!("{}/steal?$skiptoken=x", evil.uri())),
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&evil)
        .await;
    let pager: Pager<Value> =
        Pager::new(pipeline(&server), PageStyle::OData, Request::get("items"));
    let results: Vec<_> = pager.collect().await;
    assert!(results[0].is_ok());
    let err = results[1].as_ref().unwrap_err();
    assert!(matches!(err, Error::ForeignOrigin(_)), "{err:?}");
    assert!(evil.received_requests().await.unwrap().is_empty());
    assert_eq!(results.len(), 2, "the stream ends after the error");
}

#[tokio::test(start_paused = true)]
async fn redirects_are_not_followed() {
    let server = MockServer::start().await;
    let evil = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", format!("{}/x", evil.uri()).as_str()),
        )
        .mount(&server)
        .await;
    let err = pipeline(&server).send(Request::get("x")).await.unwrap_err();
    assert_eq!(err.status(), Some(302));
    assert!(err.to_string().contains("not followed"));
    assert!(evil.received_requests().await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn continuation_pages_replay_the_token_header() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        // wiremock's header matcher splits on commas; compare the raw value instead.
        .and(|r: &wiremock::Request| {
            r.headers
                .get("MS-ContinuationToken")
                .is_some_and(|v| v.as_bytes() == b"tok,/=2")
        })
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"totalCount": 1, "items": [{"n": 2}]})),
        )
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"totalCount": 2, "items": [{"n": 0}, {"n": 1}],
            "links": {"next": {"uri": "/v1/customers?size=2&seekOperation=Next", "method": "GET",
                "headers": [{"key": "MS-ContinuationToken", "value": "tok,/=2"}]}}}),
        ))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    let p = Pipeline::builder()
        .with_endpoint(Url::parse(&server.uri()).unwrap())
        .with_credential(Arc::new(StaticTokenCredential::new(CANARY)))
        .without_timeout()
        .build()
        .unwrap();
    let items: Vec<Value> = Pager::new(
        p,
        PageStyle::Continuation,
        Request::get("v1/customers").query("size", "2"),
    )
    .try_collect()
    .await
    .unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[2]["n"], 2);
}

#[tokio::test(start_paused = true)]
async fn html_with_200_and_malformed_json_are_typed_decode_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/html"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("<html>login</html>", "text/html")
                .insert_header("request-id", "r-9"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/bad"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{\"value\": [", "application/json"))
        .mount(&server)
        .await;
    let p = Pipeline::builder()
        .with_endpoint(Url::parse(&server.uri()).unwrap())
        .with_credential(Arc::new(StaticTokenCredential::new(CANARY)))
        .without_timeout()
        .build()
        .unwrap();
    let err = p
        .send_json::<Value>(Request::get("html"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode(_)));
    assert_eq!(err.status(), Some(200));
    assert_eq!(err.request_id(), Some("r-9"));
    let err = p.send_json::<Value>(Request::get("bad")).await.unwrap_err();
    assert!(matches!(err, Error::Decode(_)));
}

#[tokio::test(start_paused = true)]
async fn oversized_bodies_are_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(vec![b'a'; 64 * 1024], "application/json"),
        )
        .mount(&server)
        .await;
    let p = Pipeline::builder()
        .with_endpoint(Url::parse(&server.uri()).unwrap())
        .with_credential(Arc::new(StaticTokenCredential::new(CANARY)))
        .with_max_body_bytes(1024)
        .without_timeout()
        .build()
        .unwrap();
    let err = p.send(Request::get("x")).await.unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { .. }), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn the_token_never_appears_in_debug_or_display() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": {"code": "InvalidAuthenticationToken", "message": "bad"}}),
        ))
        .mount(&server)
        .await;
    let p = pipeline(&server);
    let err = p.send(Request::get("x")).await.unwrap_err();
    let cred = StaticTokenCredential::new(CANARY);
    let token = gdap_core::TokenCredential::get_token(&cred, &[])
        .await
        .unwrap();
    let texts = [
        format!("{err}"),
        format!("{err:?}"),
        format!("{p:?}"),
        format!("{cred:?}"),
        format!("{token:?}"),
        format!(
            "{:?}",
            Request::get("x")
                .header("authorization", &format!("Bearer {CANARY}"))
                .unwrap()
        ),
    ];
    for t in texts {
        assert!(!t.contains(CANARY), "token leaked in: {t}");
    }
    assert!(err.is_auth());
    // The header was sent, though.
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        sent.headers.get("authorization").unwrap(),
        &format!("Bearer {CANARY}")
    );
}

#[tokio::test(start_paused = true)]
async fn endpoint_path_prefix_and_odata_query_encoding() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(
            "/v1.0/tenantRelationships/delegatedAdminRelationships",
        ))
        .and(query_param("$filter", "status eq 'active'"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .expect(1)
        .mount(&server)
        .await;
    let p = pipeline(&server);
    let url = p
        .resolve(
            &Request::get("/tenantRelationships/delegatedAdminRelationships")
                .query("$filter", "status eq 'active'"),
        )
        .unwrap();
    assert!(
        url.as_str()
            .ends_with("delegatedAdminRelationships?$filter=status%20eq%20%27active%27"),
        "{url}"
    );
    let v: Value = p
        .send_json(
            Request::get("tenantRelationships/delegatedAdminRelationships")
                .query("$filter", "status eq 'active'"),
        )
        .await
        .unwrap();
    assert_eq!(v["value"], json!([]));
}

#[tokio::test(start_paused = true)]
async fn connect_errors_are_retried_even_for_post() {
    // Bind then drop a listener so the port refuses connections.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let p = Pipeline::builder()
        .with_endpoint(Url::parse(&format!("http://{addr}")).unwrap())
        .with_credential(Arc::new(StaticTokenCredential::new(CANARY)))
        .with_retry(RetryOptions::default().with_max_attempts(3))
        .without_timeout()
        .build()
        .unwrap();
    let err = p.send(Request::post("x")).await.unwrap_err();
    match &err {
        Error::Transport(t) => assert!(t.request_not_sent()),
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(err.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn continuation_link_rewrite_applies_to_relative_links() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/pc/v1/customers"))
        .and(query_param("seekOperation", "Next"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": [{"n": 1}]})))
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/pc/v1/customers"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"items": [{"n": 0}],
            "links": {"next": {"uri": "/customers?seekOperation=Next", "headers": []}}})),
        )
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let p = Pipeline::builder()
        .with_endpoint(Url::parse(&format!("{}/pc", server.uri())).unwrap())
        .with_credential(Arc::new(StaticTokenCredential::new(CANARY)))
        .without_timeout()
        .build()
        .unwrap();
    let items: Vec<Value> = Pager::with_link_rewrite(
        p,
        PageStyle::Continuation,
        Request::get("v1/customers"),
        |uri| format!("/v1{uri}"),
    )
    .try_collect()
    .await
    .unwrap();
    assert_eq!(items.len(), 2);
}
