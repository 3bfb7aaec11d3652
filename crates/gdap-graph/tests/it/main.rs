//! gdap-graph against wiremock: one mock server per test, paused tokio time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report.

/// A JSON snapshot with run-time values (ids, times, ETags) redacted.
macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::assert_json_snapshot!($name, $value, {
            ".**.id" => "[id]",
            ".**.createdDateTime" => "[ts]",
            ".**.lastModifiedDateTime" => "[ts]",
            ".**.activatedDateTime" => "[ts]",
            ".**.endDateTime" => "[ts]",
            ".**[\"@odata.etag\"]" => "[etag]",
        })
    };
}

mod assignments;
mod consent;
mod errors;
mod gdap;
mod groups;
mod models;
mod proptests;
mod relationships;

use std::sync::Arc;
use std::time::Duration;

use gdap_core::StaticTokenCredential;
use gdap_graph::{GraphClient, RetryOptions, Url};
use serde_json::{Value, json};
use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

pub(crate) const TOKEN: &str = "canary-token-5b1e9f";
pub(crate) const PREFIX: &str = "/graph/v1.0";
pub(crate) const REL_ID: &str =
    "5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836";
pub(crate) const ETAG: &str = "W/\"JyIxODAwZTY4My0wMDAwLTAyMDAtMDAwMC02MTU0OWFmMDAwMDAiJw==\"";
pub(crate) const CUSTOMER: &str = "4128d7f7-5a36-4b5d-8f25-6d1d3e4c7b7a";
pub(crate) const GA: &str = "62e90394-69f5-4237-9190-012177145e10";
pub(crate) const EXCHANGE_ADMIN: &str = "29232cdf-9323-42fd-ade2-1d097af3e4de";

pub(crate) fn client_with(server: &MockServer, retry: RetryOptions) -> GraphClient {
    GraphClient::builder()
        .with_endpoint(Url::parse(&format!("{}{PREFIX}", server.uri())).unwrap())
        .with_credential(Arc::new(StaticTokenCredential::new(TOKEN)))
        .with_retry(retry)
        .without_timeout()
        .build()
        .unwrap()
}

pub(crate) fn client(server: &MockServer) -> GraphClient {
    client_with(
        server,
        RetryOptions::default().with_delays(Duration::from_millis(100), Duration::from_secs(2)),
    )
}

/// A mock for `verb {PREFIX}/{p}` that also requires the bearer token, the Prefer header and a
/// client-request-id.
pub(crate) fn given(verb: &str, p: &str) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(format!("{PREFIX}/{p}")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("prefer", "include-unknown-enum-members"))
        .and(header_exists("client-request-id"))
}

/// Lowest priority: anything unexpected is a 500 the test will notice.
pub(crate) async fn catch_all(server: &MockServer, expected: u64) {
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500).set_body_string("unexpected request"))
        .with_priority(u8::MAX)
        .expect(expected)
        .mount(server)
        .await;
}

pub(crate) fn ok_json(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("request-id", "11111111-2222-3333-4444-555555555555")
        .set_body_json(body)
}

/// The JSON body of the `n`th request the server received.
pub(crate) async fn sent_body(server: &MockServer, n: usize) -> Value {
    let reqs = server.received_requests().await.unwrap();
    serde_json::from_slice(&reqs[n].body).unwrap()
}

pub(crate) fn relationship(id: &str, status: &str, name: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.delegatedAdminRelationship",
        "@odata.etag": ETAG,
        "id": id,
        "displayName": name,
        "duration": "P730D",
        "autoExtendDuration": "PT0S",
        "status": status,
        "customer": {"tenantId": CUSTOMER, "displayName": "Contoso"},
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": EXCHANGE_ADMIN}]},
        "createdDateTime": "2022-02-10T11:24:42.3148266Z",
        "lastModifiedDateTime": "2022-02-10T11:26:44.9941884Z",
        "activatedDateTime": null,
        "endDateTime": "2024-02-10T11:24:42.3148266Z"
    })
}

pub(crate) fn reseller_relationship(id: &str) -> Value {
    let mut v = relationship(id, "approvalPending", "Reseller relationship");
    v["@odata.type"] = json!("#microsoft.graph.resellerDelegatedAdminRelationship");
    v["indirectProviderTenantId"] = json!("9f4e3b6a-1a2b-4c3d-8e9f-0a1b2c3d4e5f");
    v["isPartnerConsentPending"] = json!(true);
    v
}

pub(crate) fn assignment(status: &str) -> Value {
    json!({
        "@odata.etag": ETAG,
        "id": "a97a9b4c-6da6-4a5d-b12f-6a4d8e7e5e0e",
        "accessContainer": {
            "accessContainerId": "1d6a2f36-3f1c-4b69-8d3c-1b0a2e4d5f6a",
            "accessContainerType": "securityGroup"
        },
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": EXCHANGE_ADMIN}]},
        "status": status,
        "createdDateTime": "2022-02-10T11:24:42.3148266Z",
        "lastModifiedDateTime": "2022-02-10T11:24:42.3148266Z"
    })
}
