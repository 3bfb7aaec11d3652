//! Property tests: no Partner Center parser panics, whatever the input — models on arbitrary
//! bytes / JSON / mutated fixtures, and error and page bodies of any shape through the client.

use futures::StreamExt;
use gdap_partner_center::models::{
    ApplicationConsent, ApplicationGrant, CompanyProfile, Customer, RelationshipToPartner,
    WebhookEvent, WebhookRegistration,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        Just(Value::String(super::TENANT.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("code".to_owned()),
                    Just("description".to_owned()),
                    Just("data".to_owned()),
                    Just("items".to_owned()),
                    Just("links".to_owned()),
                    Just("next".to_owned()),
                    Just("uri".to_owned()),
                    Just("headers".to_owned()),
                    Just("key".to_owned()),
                    Just("value".to_owned()),
                    Just("continuationToken".to_owned()),
                    ".{0,12}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn mutate(mut base: Value, pick: usize, replacement: Value) -> Value {
    if let Value::Object(m) = &mut base {
        let keys: Vec<String> = m.keys().cloned().collect();
        if !keys.is_empty() {
            m.insert(keys[pick % keys.len()].clone(), replacement);
        }
    }
    base
}

fn decode_all(bytes: &[u8]) {
    if let Ok(c) = serde_json::from_slice::<Customer>(bytes) {
        let _ = c.tenant_id();
        let _ = serde_json::to_vec(&c).unwrap();
    }
    let _ = serde_json::from_slice::<CompanyProfile>(bytes);
    let _ = serde_json::from_slice::<RelationshipToPartner>(bytes);
    if let Ok(c) = serde_json::from_slice::<ApplicationConsent>(bytes) {
        let _ = serde_json::to_vec(&c).unwrap();
    }
    if let Ok(g) = serde_json::from_slice::<ApplicationGrant>(bytes) {
        let _ = g.scopes().count();
    }
    if let Ok(r) = serde_json::from_slice::<WebhookRegistration>(bytes) {
        let _ = r.has_event("test-created");
        let _ = serde_json::to_vec(&r).unwrap();
    }
    check_event(bytes);
}

/// `WebhookEvent::parse` never panics; what it accepts has a non-blank name, ids of the promised
/// shape, and round-trips through its PascalCase serialization.
fn check_event(bytes: &[u8]) {
    match WebhookEvent::parse(bytes) {
        Ok(e) => {
            assert!(!e.event_name.trim().is_empty());
            let _ = (e.is_relationship_approved(), e.is_relationship_activated());
            let _ = (
                e.is_relationship_ended(),
                e.is_access_assignment_event(),
                e.is_test(),
            );
            if let Some(id) = e.relationship_id() {
                assert!(!id.is_empty() && id.len() <= 100);
                assert!(
                    id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
                    "{id}"
                );
            }
            if let Some(id) = e.access_assignment_id() {
                assert!(!id.is_empty() && id.len() <= 100);
                assert!(!id.contains('/') && !id.contains('?'), "{id}");
            }
            let again = WebhookEvent::parse(&serde_json::to_vec(&e).unwrap()).unwrap();
            assert_eq!(again, e);
        }
        Err(err) => {
            assert!(err.is_decode());
            let _ = (err.to_string(), format!("{err:?}"));
        }
    }
}

/// A current-thread runtime and a mock server for the cases that go through the client.
fn rt_and_server() -> (tokio::runtime::Runtime, MockServer) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(MockServer::start());
    (rt, server)
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn models_decode_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        decode_all(&bytes);
    }

    #[test]
    fn models_decode_arbitrary_json(v in arb_json()) {
        decode_all(&serde_json::to_vec(&v).unwrap());
    }

    #[test]
    fn models_decode_fixtures_with_one_field_replaced(pick in any::<usize>(), r in arb_json()) {
        for name in [
            "customer", "consent_created", "webhook_registration", "webhook_registration_camel",
            "webhook_event_relationship_approved", "webhook_event_assignment_created",
            "webhook_event_test_created", "webhook_event_camel",
        ] {
            decode_all(&serde_json::to_vec(&mutate(super::fixture(name), pick, r.clone())).unwrap());
        }
        let mut page = super::fixture("customers_page1");
        if let Some(items) = page.get_mut("items").and_then(Value::as_array_mut)
            && let Some(first) = items.first_mut()
        {
            *first = mutate(first.clone(), pick, r);
        }
        decode_all(&serde_json::to_vec(&page["items"][0]).unwrap());
    }

    #[test]
    fn webhook_event_ids_from_any_resource_uri(
        prefix in prop_oneof![Just(String::new()), ".{0,30}"],
        segment in prop_oneof![
            Just("granularAdminRelationships".to_owned()),
            Just("granularadminrelationships".to_owned()),
            ".{0,10}",
        ],
        id in prop_oneof![".{0,120}", "[0-9a-fA-F-]{0,110}"],
        tail in prop_oneof![
            Just(String::new()),
            "/accessAssignments/[0-9a-zA-Z_-]{0,110}",
            ".{0,40}",
        ],
    ) {
        let uri = format!("{prefix}/{segment}/{id}{tail}");
        let body = serde_json::json!({"EventName": "granular-admin-access-assignment-created", "ResourceUri": uri});
        check_event(&serde_json::to_vec(&body).unwrap());
    }

    #[test]
    fn relationship_to_partner_keeps_any_value(s in ".{0,40}") {
        let _ = RelationshipToPartner::from(s.as_str()).is_reseller();
    }
}

/// Error answers of any status and body become a typed error whose predicates and text work.
#[test]
fn error_bodies_of_any_shape_are_classified() {
    let (rt, server) = rt_and_server();
    let client = super::client(&server);
    let body = prop_oneof![
        arb_json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        prop::collection::vec(any::<u8>(), 0..200),
    ];
    runner(48)
        .run(&(400u16..600, body), |(status, body)| {
            rt.block_on(async {
                server.reset().await;
                Mock::given(wiremock::matchers::any())
                    .respond_with(
                        ResponseTemplate::new(status).set_body_raw(body, "application/json"),
                    )
                    .mount(&server)
                    .await;
                let err = client.get_customer(&super::tenant()).await.unwrap_err();
                let _ = (
                    err.to_string(),
                    format!("{err:?}"),
                    err.status(),
                    err.service_code(),
                );
                let _ = (
                    err.is_already_exists(),
                    err.is_mfa_required(),
                    err.is_retryable(),
                );
                let _ = (err.is_throttled(), err.retry_after(), err.description());
            });
            Ok(())
        })
        .unwrap();
}

/// Customer pages of any shape end the listing with items or a typed error.
#[test]
fn customer_pages_of_any_shape_end_cleanly() {
    let (rt, server) = rt_and_server();
    let client = super::client(&server);
    runner(48)
        .run(&arb_json(), |body| {
            rt.block_on(async {
                server.reset().await;
                Mock::given(wiremock::matchers::any())
                    .respond_with(ResponseTemplate::new(200).set_body_json(&body))
                    .mount(&server)
                    .await;
                let items: Vec<_> = client.list_customers(None).take(50).collect().await;
                for item in items {
                    if let Err(e) = item {
                        let _ = e.to_string();
                    }
                }
            });
            Ok(())
        })
        .unwrap();
}
