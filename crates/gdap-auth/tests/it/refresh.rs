use std::sync::Arc;
use std::time::Duration;

use gdap_auth::scopes::{GRAPH_DEFAULT, PARTNER_CENTER_USER_IMPERSONATION};
use gdap_auth::{InMemoryRefreshTokenSink, RefreshTokenCredential, TenantRef};
use secrecy::{ExposeSecret, SecretString};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::*;

fn credential(server: &MockServer, sink: &Arc<InMemoryRefreshTokenSink>) -> RefreshTokenCredential {
    RefreshTokenCredential::new_with_options(
        authority(server),
        app("client-secret-1"),
        SecretString::from("rt-1"),
        sink.clone(),
        options(),
    )
}

#[tokio::test]
async fn two_tenants_cache_separately_and_the_refresh_token_rotates() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path(PARTNER)))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(
            "at-partner",
            Some("rt-2"),
            3600,
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(token_path(CUSTOMER)))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(
            "at-customer",
            Some("rt-3"),
            3600,
        )))
        .expect(1)
        .mount(&server)
        .await;
    let sink = Arc::new(InMemoryRefreshTokenSink::new());
    let cred = credential(&server, &sink);
    let partner = cred.for_tenant(tenant(PARTNER));
    let customer = cred.for_tenant(tenant(CUSTOMER));

    for _ in 0..3 {
        assert_eq!(
            partner.get_token(&[GRAPH_DEFAULT]).await.unwrap().expose(),
            "at-partner"
        );
        assert_eq!(
            customer.get_token(&[GRAPH_DEFAULT]).await.unwrap().expose(),
            "at-customer"
        );
    }

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    let (first, second) = (form(&reqs[0]), form(&reqs[1]));
    assert_eq!(first["grant_type"], "refresh_token");
    assert_eq!(first["refresh_token"], "rt-1");
    assert_eq!(
        first["scope"],
        "https://graph.microsoft.com/.default offline_access"
    );
    assert_eq!(first["client_id"], CLIENT_ID);
    assert_eq!(first["client_secret"], "client-secret-1");
    // The second request already uses the rotated token.
    assert_eq!(second["refresh_token"], "rt-2");

    assert_eq!(sink.store_count(), 2);
    assert_eq!(sink.latest().unwrap().expose_secret(), "rt-3");
    assert_eq!(cred.current_refresh_token().await.expose_secret(), "rt-3");
}

#[tokio::test]
async fn scope_sets_are_cached_separately_and_order_does_not_matter() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path(PARTNER)))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("at", None, 3600)))
        .expect(2)
        .mount(&server)
        .await;
    let sink = Arc::new(InMemoryRefreshTokenSink::new());
    let cred = credential(&server, &sink);
    let t = TenantRef::id(tenant(PARTNER));
    cred.token_for(&t, &[GRAPH_DEFAULT]).await.unwrap();
    cred.token_for(&t, &[PARTNER_CENTER_USER_IMPERSONATION])
        .await
        .unwrap();
    cred.token_for(&t, &["HTTPS://graph.microsoft.com/.default"])
        .await
        .unwrap();
    // No refresh token in the answers: nothing to rotate, nothing stored.
    assert_eq!(sink.store_count(), 0);
    assert_eq!(cred.current_refresh_token().await.expose_secret(), "rt-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_calls_for_one_key_make_one_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path(CUSTOMER)))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(token_body("at-1", Some("rt-2"), 3600))
                .set_delay(Duration::from_millis(50)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let sink = Arc::new(InMemoryRefreshTokenSink::new());
    let cred = credential(&server, &sink).for_tenant(tenant(CUSTOMER));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let cred = cred.clone();
            tokio::spawn(async move { cred.get_token(&[GRAPH_DEFAULT]).await })
        })
        .collect();
    for t in futures::future::join_all(tasks).await {
        assert_eq!(t.unwrap().unwrap().expose(), "at-1");
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(sink.store_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_token_four_minutes_from_expiry_is_refreshed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path(PARTNER)))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(
            "at-1",
            Some("rt-2"),
            3600,
        )))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(token_path(PARTNER)))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(
            "at-2",
            Some("rt-3"),
            3600,
        )))
        .expect(1)
        .mount(&server)
        .await;
    let sink = Arc::new(InMemoryRefreshTokenSink::new());
    let cred = credential(&server, &sink).for_tenant(tenant(PARTNER));

    assert_eq!(
        cred.get_token(&[GRAPH_DEFAULT]).await.unwrap().expose(),
        "at-1"
    );
    // 6 minutes left: still served from the cache.
    tokio::time::advance(Duration::from_secs(54 * 60)).await;
    assert_eq!(
        cred.get_token(&[GRAPH_DEFAULT]).await.unwrap().expose(),
        "at-1"
    );
    // 4 minutes left: refreshed.
    tokio::time::advance(Duration::from_secs(2 * 60)).await;
    assert_eq!(
        cred.get_token(&[GRAPH_DEFAULT]).await.unwrap().expose(),
        "at-2"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert_eq!(sink.latest().unwrap().expose_secret(), "rt-3");
}

#[tokio::test(start_paused = true)]
async fn a_token_issued_with_four_minutes_left_is_not_reused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path(PARTNER)))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("short", None, 240)))
        .expect(2)
        .mount(&server)
        .await;
    let sink = Arc::new(InMemoryRefreshTokenSink::new());
    let cred = credential(&server, &sink).for_tenant(tenant(PARTNER));
    cred.get_token(&[GRAPH_DEFAULT]).await.unwrap();
    cred.get_token(&[GRAPH_DEFAULT]).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn throttled_token_requests_wait_for_retry_after_then_succeed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path(PARTNER)))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "2"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(token_path(PARTNER)))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("at", None, 3600)))
        .expect(1)
        .mount(&server)
        .await;
    let sink = Arc::new(InMemoryRefreshTokenSink::new());
    let cred = credential(&server, &sink).for_tenant(tenant(PARTNER));
    let started = tokio::time::Instant::now();
    assert_eq!(
        cred.get_token(&[GRAPH_DEFAULT]).await.unwrap().expose(),
        "at"
    );
    assert!(started.elapsed() >= Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn a_500_is_not_retried_but_is_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path(PARTNER)))
        .respond_with(ResponseTemplate::new(500).set_body_json(entra_error(
            "temporarily_unavailable",
            50001,
            "trace-500",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let sink = Arc::new(InMemoryRefreshTokenSink::new());
    let cred = credential(&server, &sink);
    let err = cred
        .token_for(&TenantRef::id(tenant(PARTNER)), &[GRAPH_DEFAULT])
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(err.status(), Some(500));
    let core: gdap_core::Error = err.into();
    assert!(core.is_retryable());
}

#[tokio::test]
async fn connection_refused_is_a_transient_transport_error() {
    // Bind and drop a listener so the port is (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let authority: gdap_auth::Authority = format!("http://127.0.0.1:{port}/login").parse().unwrap();
    let cred = RefreshTokenCredential::new_with_options(
        authority,
        app("s"),
        SecretString::from("rt"),
        Arc::new(InMemoryRefreshTokenSink::new()),
        options().with_retry(gdap_core::RetryOptions::none()),
    );
    let err = cred
        .token_for(&TenantRef::id(tenant(PARTNER)), &[GRAPH_DEFAULT])
        .await
        .unwrap_err();
    assert!(matches!(err, gdap_auth::Error::Transport(_)), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn bad_scopes_are_rejected_before_sending() {
    let server = MockServer::start().await;
    let sink = Arc::new(InMemoryRefreshTokenSink::new());
    let cred = credential(&server, &sink);
    let t = TenantRef::id(tenant(PARTNER));
    assert!(matches!(
        cred.token_for(&t, &[]).await,
        Err(gdap_auth::Error::InvalidInput(_))
    ));
    assert!(matches!(
        cred.token_for(&t, &["a b"]).await,
        Err(gdap_auth::Error::InvalidInput(_))
    ));
    assert!(server.received_requests().await.unwrap().is_empty());
}
