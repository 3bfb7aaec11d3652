//! Partner Center client behaviour against wiremock, on paused tokio time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report.

mod proptests;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use gdap_core::{AppId, RetryOptions, StaticTokenCredential, TenantId, Url};
use gdap_partner_center::models::{
    ApplicationConsent, ApplicationGrant, ListCustomersOptions, PARTNER_CENTER_APP_ID,
    RelationshipToPartner,
};
use gdap_partner_center::{Error, PartnerCenterClient};
use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::matchers::{body_json, header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, Request as WireRequest, ResponseTemplate};

const CANARY: &str = "canary-pc-token-5b1e";
const PREFIX: &str = "/partnercenter";
const TENANT: &str = "0b9c4d2e-8f5a-4c1b-9e2d-3a4b5c6d7e8f";
const APP: &str = "6e2f1a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b";
const GRAPH: &str = "00000003-0000-0000-c000-000000000000";
const CORRELATION: &str = "c0ffee00-0000-4000-8000-000000000001";

fn tenant() -> TenantId {
    TENANT.parse().unwrap()
}

fn app() -> AppId {
    APP.parse().unwrap()
}

fn client(server: &MockServer) -> PartnerCenterClient {
    PartnerCenterClient::builder()
        .with_endpoint(Url::parse(&format!("{}{PREFIX}", server.uri())).unwrap())
        .with_credential(Arc::new(StaticTokenCredential::new(CANARY)))
        .with_retry(
            RetryOptions::default().with_delays(Duration::from_millis(100), Duration::from_secs(2)),
        )
        .with_correlation_id(CORRELATION.parse().unwrap())
        .without_timeout()
        .build()
        .unwrap()
}

fn consent() -> ApplicationConsent {
    ApplicationConsent::new(app(), "Contoso MSP Worker").with_grant(ApplicationGrant::new(
        GRAPH.parse().unwrap(),
        [
            "DelegatedPermissionGrant.ReadWrite.All",
            "Directory.ReadWrite.All",
            "AppRoleAssignment.ReadWrite.All",
        ],
    ))
}

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(format!(
        "{}/tests/it/fixtures/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn p(rest: &str) -> String {
    format!("{PREFIX}{rest}")
}

fn consents_path() -> String {
    p(&format!("/v1/customers/{TENANT}/applicationconsents"))
}

/// A lowest-priority catch-all so an unexpected call fails loudly.
async fn catch_all(server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500).set_body_string("unexpected request"))
        .with_priority(u8::MAX)
        .expect(0)
        .mount(server)
        .await;
}

fn hdr<'a>(r: &'a WireRequest, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The headers every call must carry.
fn assert_standard_headers(r: &WireRequest) {
    assert_eq!(
        hdr(r, "authorization"),
        Some(format!("Bearer {CANARY}").as_str())
    );
    assert_eq!(hdr(r, "accept"), Some("application/json"));
    assert_eq!(hdr(r, "ms-correlationid"), Some(CORRELATION));
    let rid = hdr(r, "ms-requestid").expect("MS-RequestId sent");
    Uuid::parse_str(rid).expect("MS-RequestId is a GUID");
}

/// Method, path, query, the Partner Center headers and the body of a received request. The token
/// is replaced after it was checked; `msRequestId` is redacted in snapshots.
fn request_summary(r: &WireRequest) -> Value {
    assert_standard_headers(r);
    json!({
        "method": r.method.as_str(),
        "path": r.url.path(),
        "query": r.url.query(),
        "headers": {
            "accept": hdr(r, "accept"),
            "authorization": hdr(r, "authorization").map(|_| "Bearer [token]"),
            "contentType": hdr(r, "content-type"),
            "msCorrelationId": hdr(r, "ms-correlationid"),
            "msRequestId": hdr(r, "ms-requestid"),
        },
        "body": if r.body.is_empty() { Value::Null } else { serde_json::from_slice::<Value>(&r.body).unwrap() },
    })
}

// ---------------------------------------------------------------------------------------------
// Customers

#[tokio::test(start_paused = true)]
async fn list_customers_follows_continuation_across_three_pages() {
    let server = MockServer::start().await;
    // Page 3: requested with the second token; the link on page 2 lacked `/v1`.
    Mock::given(method("GET"))
        .and(path(p("/v1/customers")))
        // A closure: wiremock's `header` matcher splits values on commas, and tokens are opaque.
        .and(|r: &WireRequest| hdr(r, "MS-ContinuationToken") == Some("tok-2,/=="))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("customers_page3")))
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    // Page 2: requested with the first token.
    Mock::given(method("GET"))
        .and(path(p("/v1/customers")))
        .and(query_param("seekOperation", "Next"))
        .and(|r: &WireRequest| hdr(r, "MS-ContinuationToken") == Some("tok-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("customers_page2")))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    // Page 1.
    Mock::given(method("GET"))
        .and(path(p("/v1/customers")))
        .and(query_param("size", "2"))
        .and(|r: &WireRequest| hdr(r, "MS-ContinuationToken").is_none())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("customers_page1"))
                .insert_header("isMfaCompliant", "true"),
        )
        .expect(1)
        .with_priority(3)
        .mount(&server)
        .await;
    catch_all(&server).await;

    let customers: Vec<_> = client(&server)
        .list_customers(Some(ListCustomersOptions::default().with_size(2)))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(customers.len(), 5);
    assert_eq!(
        customers[0].tenant_id().unwrap().to_string(),
        "11111111-1111-4111-8111-111111111111"
    );
    assert_eq!(
        customers[0].relationship_to_partner,
        Some(RelationshipToPartner::Reseller)
    );
    assert_eq!(
        customers[4]
            .relationship_to_partner
            .as_ref()
            .map(RelationshipToPartner::as_str),
        Some("somethingNew")
    );
    insta::assert_json_snapshot!("list_customers_decoded", customers);

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        assert_standard_headers(r);
    }
    let ids: std::collections::HashSet<_> = reqs
        .iter()
        .map(|r| hdr(r, "ms-requestid").unwrap())
        .collect();
    assert_eq!(
        ids.len(),
        3,
        "each page is its own call with its own MS-RequestId"
    );
    let sent: Vec<Value> = reqs
        .iter()
        .map(|r| {
            json!({
                "path": r.url.path(),
                "query": r.url.query(),
                "continuationToken": hdr(r, "ms-continuationtoken"),
            })
        })
        .collect();
    insta::assert_json_snapshot!("list_customers_requests", sent);
}

#[tokio::test(start_paused = true)]
async fn list_customers_is_lazy_and_uses_default_page_size() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(p("/v1/customers")))
        .and(query_param("size", "40"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("customers_page1")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let mut pager = client(&server).list_customers(None);
    assert!(server.received_requests().await.unwrap().is_empty());
    let first = pager.try_next().await.unwrap().unwrap();
    assert_eq!(
        first.company_profile.domain.as_deref(),
        Some("contoso.onmicrosoft.com")
    );
    // Dropped before the second page is needed: only one request was made.
}

#[tokio::test(start_paused = true)]
async fn list_customers_error_is_typed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(p("/v1/customers")))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"code": 900421, "description": "MFA required", "data": [], "source": "PartnerFD"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let err = client(&server)
        .list_customers(None)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(err.is_mfa_required(), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn get_customer_parses_and_exposes_mfa_header() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(p(&format!("/v1/customers/{TENANT}"))))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("customer"))
                .insert_header("isMfaCompliant", "false")
                .insert_header("MS-RequestId", "echoed-request-id")
                .insert_header("MS-CorrelationId", CORRELATION),
        )
        .expect(2)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let c = client(&server);
    let customer = c.get_customer(&tenant()).await.unwrap();
    assert_eq!(customer.tenant_id(), Some(tenant()));
    insta::assert_json_snapshot!("get_customer_decoded", customer);

    let with_meta = c.get_customer_with_meta(&tenant()).await.unwrap();
    assert_eq!(with_meta.meta.is_mfa_compliant, Some(false));
    assert_eq!(with_meta.meta.request_id, "echoed-request-id");
    assert_eq!(with_meta.meta.correlation_id, CORRELATION);
    assert_eq!(with_meta.meta.status, 200);

    let reqs = server.received_requests().await.unwrap();
    for r in &reqs {
        assert_standard_headers(r);
        assert_eq!(r.method.as_str(), "GET");
        assert_eq!(r.url.path(), p(&format!("/v1/customers/{TENANT}")));
        assert!(r.body.is_empty());
    }
    assert_ne!(
        hdr(&reqs[0], "ms-requestid"),
        hdr(&reqs[1], "ms-requestid"),
        "a new MS-RequestId for the next logical call"
    );
}

#[tokio::test(start_paused = true)]
async fn get_customer_not_found_and_malformed_json_are_typed() {
    let server = MockServer::start().await;
    let missing: TenantId = "22222222-2222-4222-8222-222222222222".parse().unwrap();
    Mock::given(method("GET"))
        .and(path(p(&format!("/v1/customers/{missing}"))))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "code": 60003, "description": "Tenant not found", "data": [], "source": "PartnerFD"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(p(&format!("/v1/customers/{TENANT}"))))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("{\"id\": \"x\", \"companyProfile\": ", "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let c = client(&server);

    let err = c.get_customer(&missing).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.service_code(), Some("60003"));
    assert_eq!(err.description(), Some("Tenant not found"));
    assert!(!err.is_retryable());

    let err = c.get_customer(&tenant()).await.unwrap_err();
    assert!(err.is_decode(), "{err:?}");
    assert!(matches!(err, Error::Core(gdap_core::Error::Decode(_))));
    assert_eq!(err.status(), Some(200));
    assert!(err.request_id().is_some());
}

// ---------------------------------------------------------------------------------------------
// Application consents

#[tokio::test(start_paused = true)]
async fn create_application_consent_sends_exact_request_and_parses_201() {
    let server = MockServer::start().await;
    let expected_body = json!({
        "applicationId": APP,
        "displayName": "Contoso MSP Worker",
        "applicationGrants": [{
            "enterpriseApplicationId": GRAPH,
            "scope": "DelegatedPermissionGrant.ReadWrite.All,Directory.ReadWrite.All,AppRoleAssignment.ReadWrite.All"
        }]
    });
    Mock::given(method("POST"))
        .and(path(consents_path()))
        .and(header("content-type", "application/json"))
        .and(header_exists("ms-requestid"))
        .and(body_json(&expected_body))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(fixture("consent_created"))
                .insert_header("isMfaCompliant", "true"),
        )
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;

    let created = client(&server)
        .create_application_consent_with_meta(&tenant(), &consent())
        .await
        .unwrap();
    assert_eq!(created.meta.status, 201);
    assert_eq!(created.meta.is_mfa_compliant, Some(true));
    assert_eq!(created.value.application_id, app());
    assert_eq!(created.value.application_grants.len(), 1);
    insta::assert_json_snapshot!("create_application_consent_decoded", created.value);

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1);
    assert_standard_headers(&reqs[0]);
    insta::assert_json_snapshot!(
        "create_application_consent_request",
        request_summary(&reqs[0]),
        { ".headers.msRequestId" => "[request-id]" }
    );
}

#[tokio::test(start_paused = true)]
async fn create_application_consent_with_empty_201_returns_the_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(consents_path()))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let created = client(&server)
        .create_application_consent(&tenant(), &consent())
        .await
        .unwrap();
    assert_eq!(created, consent());
}

#[tokio::test(start_paused = true)]
async fn create_application_consent_409_is_already_exists() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(consents_path()))
        .respond_with(
            ResponseTemplate::new(409)
                .set_body_json(json!({
                    "code": 600041, "description": "Permission entry already exists.",
                    "data": ["PermissionEntryAlreadyExists"], "source": "PartnerFD"
                }))
                .insert_header("MS-CorrelationId", CORRELATION),
        )
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let err = client(&server)
        .create_application_consent(&tenant(), &consent())
        .await
        .unwrap_err();
    assert!(err.is_already_exists(), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(err.status(), Some(409));
    assert_eq!(err.service_code(), Some("600041"));
    assert_eq!(err.correlation_id(), Some(CORRELATION));
    let details = err.details().unwrap();
    assert_eq!(details.data(), ["PermissionEntryAlreadyExists"]);
    assert_eq!(
        details.request_id(),
        server.received_requests().await.unwrap()[0]
            .headers
            .get("ms-requestid")
            .and_then(|v| v.to_str().ok())
    );
    let text = format!("{err}");
    assert!(text.contains("already exists"), "{text}");
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(
        source.contains("Permission entry already exists."),
        "{source}"
    );
    assert!(!format!("{err:?}").contains(CANARY));
}

#[tokio::test(start_paused = true)]
async fn create_application_consent_400_permission_entry_exists_is_already_exists() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(consents_path()))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": 2000, "description": "Permission entry already exists.", "data": [], "source": "PartnerFD"
        })))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let err = client(&server)
        .create_application_consent(&tenant(), &consent())
        .await
        .unwrap_err();
    assert!(err.is_already_exists(), "{err:?}");
    assert_eq!(err.status(), Some(400));
}

#[tokio::test(start_paused = true)]
async fn other_400_is_a_service_error_not_already_exists() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(consents_path()))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": 800002, "description": "Invalid request input", "data": [], "source": "PartnerFD"
        })))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let err = client(&server)
        .create_application_consent(&tenant(), &consent())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Service(_)), "{err:?}");
    assert!(!err.is_already_exists());
    assert_eq!(err.service_code(), Some("800002"));
}

#[tokio::test(start_paused = true)]
async fn retried_post_reuses_its_ms_request_id_and_next_call_gets_a_new_one() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(consents_path()))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3").set_body_json(
            json!({"statusCode": 429, "message": "Rate limit is exceeded. Try again in 3 seconds."}),
        ))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(consents_path()))
        .respond_with(ResponseTemplate::new(201).set_body_json(fixture("consent_created")))
        .expect(2)
        .with_priority(2)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let c = client(&server);
    let started = tokio::time::Instant::now();
    c.create_application_consent(&tenant(), &consent())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "Retry-After honoured"
    );
    c.create_application_consent(&tenant(), &consent())
        .await
        .unwrap();

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 3);
    let ids: Vec<_> = reqs
        .iter()
        .map(|r| hdr(r, "ms-requestid").unwrap())
        .collect();
    assert_eq!(
        ids[0], ids[1],
        "the retry of one call reuses its MS-RequestId"
    );
    assert_ne!(ids[1], ids[2], "the next call gets a new MS-RequestId");
    assert_eq!(reqs[0].body, reqs[1].body);
}

#[tokio::test(start_paused = true)]
async fn post_is_not_blindly_retried_on_500() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(consents_path()))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "code": 800003, "description": "Unexpected service error", "data": [], "source": "PartnerFD"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .create_application_consent(&tenant(), &consent())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Service(_)), "{err:?}");
    assert_eq!(err.status(), Some(500));
    // The server may have acted: the caller reads back before writing again.
    assert!(err.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn throttled_post_exhausting_retries_is_throttled_with_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(consents_path()))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "2").set_body_json(
            json!({"statusCode": 429, "message": "Rate limit is exceeded. Try again in 2 seconds."}),
        ))
        .expect(2)
        .mount(&server)
        .await;
    let c = PartnerCenterClient::builder()
        .with_endpoint(Url::parse(&format!("{}{PREFIX}", server.uri())).unwrap())
        .with_credential(Arc::new(StaticTokenCredential::new(CANARY)))
        .with_retry(RetryOptions::default().with_max_attempts(2))
        .without_timeout()
        .build()
        .unwrap();
    let err = c
        .create_application_consent(&tenant(), &consent())
        .await
        .unwrap_err();
    assert!(err.is_throttled(), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
    assert_eq!(
        err.description(),
        Some("Rate limit is exceeded. Try again in 2 seconds.")
    );
    assert!(err.to_string().contains("retry after 2 s"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn mfa_401_is_mfa_required_and_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(consents_path()))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("WWW-Authenticate", "Bearer error=\"invalid_token\"")
                .set_body_json(json!({
                    "code": 900421, "description": "Multi-factor authentication is required for this request.",
                    "data": [], "source": "PartnerFD"
                })),
        )
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let err = client(&server)
        .create_application_consent(&tenant(), &consent())
        .await
        .unwrap_err();
    assert!(err.is_mfa_required(), "{err:?}");
    assert!(err.is_auth());
    assert!(!err.is_retryable());
    assert_eq!(err.service_code(), Some("900421"));
    let msg = err.to_string();
    assert!(msg.contains("sign in again with MFA"), "{msg}");
    insta::assert_snapshot!("mfa_required_message", msg);
}

#[tokio::test(start_paused = true)]
async fn mfa_is_recognised_by_description_alone() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(p(&format!("/v1/customers/{TENANT}"))))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"code": 400, "description": "MFA required", "data": [], "source": "PartnerFD"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server).get_customer(&tenant()).await.unwrap_err();
    assert!(err.is_mfa_required(), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn plain_401_is_auth_but_not_mfa() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(p(&format!("/v1/customers/{TENANT}"))))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "code": 800001, "description": "Partner Token missing in request context", "data": [], "source": "PartnerFD"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server).get_customer(&tenant()).await.unwrap_err();
    assert!(!err.is_mfa_required(), "{err:?}");
    assert!(err.is_auth());
    assert_eq!(err.status(), Some(401));
}

#[tokio::test(start_paused = true)]
async fn forbidden_carries_the_admin_agent_hint() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(consents_path()))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "code": 2032, "description": "Unsupported token", "data": [], "source": "PartnerFD"
        })))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let err = client(&server)
        .create_application_consent(&tenant(), &consent())
        .await
        .unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    assert!(!err.is_retryable());
    let msg = err.to_string();
    assert!(msg.contains("Admin Agent role"), "{msg}");
    assert!(msg.contains("GDAP security groups"), "{msg}");
    assert!(msg.contains("consented in your MSP tenant"), "{msg}");
    insta::assert_snapshot!("forbidden_message", msg);
}

#[tokio::test(start_paused = true)]
async fn malformed_error_body_is_still_typed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(consents_path()))
        .respond_with(ResponseTemplate::new(409).set_body_raw("<html>conflict", "text/html"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(502).set_body_raw("{\"code\": ", "application/json"))
        .expect(1..)
        .mount(&server)
        .await;
    let c = client(&server);
    let err = c
        .create_application_consent(&tenant(), &consent())
        .await
        .unwrap_err();
    assert!(err.is_already_exists(), "{err:?}");
    assert_eq!(err.service_code(), None);
    let err = c
        .delete_application_consent(&tenant(), &app())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Service(_)), "{err:?}");
    assert_eq!(err.status(), Some(502));
}

#[tokio::test(start_paused = true)]
async fn malformed_201_body_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(consents_path()))
        .respond_with(
            ResponseTemplate::new(201).set_body_raw("{\"applicationId\": 5", "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .create_application_consent(&tenant(), &consent())
        .await
        .unwrap_err();
    assert!(err.is_decode(), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn invalid_consents_are_refused_before_sending() {
    let server = MockServer::start().await;
    catch_all(&server).await;
    let c = client(&server);
    let empty = ApplicationConsent::new(app(), "x");
    let err = c
        .create_application_consent(&tenant(), &empty)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Core(gdap_core::Error::InvalidInput(_))),
        "{err:?}"
    );
    let pc = ApplicationConsent::new(app(), "x").with_grant(ApplicationGrant::new(
        PARTNER_CENTER_APP_ID,
        ["user_impersonation"],
    ));
    let err = c
        .create_application_consent(&tenant(), &pc)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Partner Center app"), "{err}");
    let no_scope = ApplicationConsent::new(app(), "x")
        .with_grant(ApplicationGrant::new(GRAPH.parse().unwrap(), [" ", ""]));
    let err = c
        .create_application_consent(&tenant(), &no_scope)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no scope"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn list_application_consents_accepts_array_and_collection() {
    let server = MockServer::start().await;
    let other: TenantId = "33333333-3333-4333-8333-333333333333".parse().unwrap();
    Mock::given(method("GET"))
        .and(path(consents_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([fixture("consent_created")])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(p(&format!(
            "/v1/customers/{other}/applicationconsents"
        ))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalCount": 1, "items": [fixture("consent_created")],
            "attributes": {"objectType": "Collection"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let c = client(&server);
    let a = c.list_application_consents(&tenant()).await.unwrap();
    let b = c.list_application_consents(&other).await.unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a, b);
    assert_eq!(
        a[0].application_grants[0].scopes().collect::<Vec<_>>(),
        [
            "DelegatedPermissionGrant.ReadWrite.All",
            "Directory.ReadWrite.All",
            "AppRoleAssignment.ReadWrite.All"
        ]
    );
    insta::assert_json_snapshot!("list_application_consents_decoded", a);
    for r in server.received_requests().await.unwrap() {
        assert_standard_headers(&r);
        assert!(r.body.is_empty());
    }
}

#[tokio::test(start_paused = true)]
async fn delete_application_consent_accepts_200_and_204() {
    let server = MockServer::start().await;
    let other: TenantId = "33333333-3333-4333-8333-333333333333".parse().unwrap();
    Mock::given(method("DELETE"))
        .and(path(format!("{}/{APP}", consents_path())))
        .respond_with(ResponseTemplate::new(204).insert_header("isMfaCompliant", "true"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(p(&format!(
            "/v1/customers/{other}/applicationconsents/{APP}"
        ))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let c = client(&server);
    let meta = c
        .delete_application_consent_with_meta(&tenant(), &app())
        .await
        .unwrap()
        .meta;
    assert_eq!(meta.status, 204);
    assert_eq!(meta.is_mfa_compliant, Some(true));
    c.delete_application_consent(&other, &app()).await.unwrap();
    let reqs = server.received_requests().await.unwrap();
    for r in &reqs {
        assert_standard_headers(r);
        assert!(r.body.is_empty());
    }
    let sent: Vec<Value> = reqs.iter().map(request_summary).collect();
    insta::assert_json_snapshot!(
        "delete_application_consent_requests",
        sent,
        { "[].headers.msRequestId" => "[request-id]" }
    );
}

#[tokio::test(start_paused = true)]
async fn delete_missing_consent_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "code": 1000, "description": "Not found", "data": [], "source": "PartnerFD"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .delete_application_consent(&tenant(), &app())
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn idempotent_delete_is_retried_on_503_with_the_same_request_id() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    client(&server)
        .delete_application_consent(&tenant(), &app())
        .await
        .unwrap();
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(hdr(&reqs[0], "ms-requestid"), hdr(&reqs[1], "ms-requestid"));
}

#[tokio::test(start_paused = true)]
async fn validate_mfa_header_is_opt_in_and_builder_defaults_hold() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("ValidateMfa", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("customer")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let c = PartnerCenterClient::builder()
        .with_endpoint(Url::parse(&server.uri()).unwrap())
        .with_credential(Arc::new(StaticTokenCredential::new(CANARY)))
        .with_validate_mfa(true)
        .with_user_agent("gdap-tests/1")
        .without_timeout()
        .build()
        .unwrap();
    c.get_customer(&tenant()).await.unwrap();
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs[0].url.path(), format!("/v1/customers/{TENANT}"));
    assert_eq!(hdr(&reqs[0], "user-agent"), Some("gdap-tests/1"));
    // A random correlation id per client when none is configured.
    Uuid::parse_str(c.correlation_id()).unwrap();
    assert_eq!(hdr(&reqs[0], "ms-correlationid"), Some(c.correlation_id()));

    let default = PartnerCenterClient::builder()
        .with_credential(Arc::new(StaticTokenCredential::new(CANARY)))
        .build()
        .unwrap();
    assert_eq!(
        default.endpoint().as_str(),
        "https://api.partnercenter.microsoft.com/"
    );
    assert!(!format!("{default:?}").contains(CANARY));
    let err = PartnerCenterClient::builder().build().unwrap_err();
    assert!(matches!(
        err,
        Error::Core(gdap_core::Error::InvalidInput(_))
    ));
}
