//! Property tests: no parser of gdap-core panics, whatever the input.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use gdap_core::service_error::{DefaultErrorParser, ErrorBodyParser};
use gdap_core::{
    AppId, AppRoleId, AssignmentId, GrantId, PageStyle, Pager, Pipeline, RelationshipId, Request,
    RetryOptions, RoleTemplateId, SecurityGroupId, ServicePrincipalId, StaticTokenCredential,
    TenantId, Url, UserId,
};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// Arbitrary JSON values, a few levels deep.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("error".to_owned()),
                    Just("code".to_owned()),
                    Just("message".to_owned()),
                    Just("innerError".to_owned()),
                    Just("value".to_owned()),
                    Just("items".to_owned()),
                    Just("@odata.nextLink".to_owned()),
                    Just("links".to_owned()),
                    Just("next".to_owned()),
                    Just("uri".to_owned()),
                    Just("headers".to_owned()),
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

/// Strings that look like GUIDs and ids, plus anything at all.
fn id_like() -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        "[0-9a-fA-F-]{0,80}",
        "\\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\}?",
        "[A-Za-z0-9_-]{0,300}",
    ]
}

macro_rules! check_id {
    ($ty:ty, $s:expr) => {{
        let s: &str = $s;
        let parsed = s.parse::<$ty>();
        if let Ok(id) = &parsed {
            // Display round-trips through FromStr.
            let again: $ty = id.to_string().parse().unwrap();
            assert_eq!(&again, id);
            let _ = format!("{id:?}");
        } else if let Err(e) = &parsed {
            // The echo of the input is bounded.
            assert!(
                e.to_string().len() < 64 * 10 + 200,
                "{}",
                e.to_string().len()
            );
        }
        // serde agrees with FromStr.
        let json = serde_json::to_string(s).unwrap();
        let via_serde = serde_json::from_str::<$ty>(&json);
        assert_eq!(via_serde.is_ok(), parsed.is_ok());
    }};
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ids_parse_any_string_without_panicking(s in id_like()) {
        check_id!(TenantId, &s);
        check_id!(AppId, &s);
        check_id!(ServicePrincipalId, &s);
        check_id!(RoleTemplateId, &s);
        check_id!(SecurityGroupId, &s);
        check_id!(UserId, &s);
        check_id!(AppRoleId, &s);
        check_id!(RelationshipId, &s);
        check_id!(AssignmentId, &s);
        check_id!(GrantId, &s);
    }

    #[test]
    fn ids_from_arbitrary_json_bytes(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        let _ = serde_json::from_slice::<TenantId>(&bytes);
        let _ = serde_json::from_slice::<RelationshipId>(&bytes);
        let _ = serde_json::from_slice::<GrantId>(&bytes);
    }

    #[test]
    fn ids_from_arbitrary_json_values(v in arb_json()) {
        let _ = serde_json::from_value::<TenantId>(v.clone());
        let _ = serde_json::from_value::<AssignmentId>(v.clone());
        let _ = serde_json::from_value::<Vec<AppRoleId>>(v);
    }

    #[test]
    fn retry_after_parses_any_header_value(
        ra in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..40),
            "[0-9]{0,30}".prop_map(String::into_bytes),
            "-?[0-9]{0,20}(\\.[0-9]{0,20})?(e[+-]?[0-9]{1,4})?".prop_map(String::into_bytes),
            prop_oneof![Just("NaN"), Just("inf"), Just("-inf"), Just("1e308"), Just("-0")]
                .prop_map(|s| s.as_bytes().to_vec()),
            "(Mon|Tue|Sun), [0-9]{2} (Jan|Feb|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT"
                .prop_map(String::into_bytes),
        ],
        ms in prop::option::of(prop_oneof![
            "[0-9]{0,25}".prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..30),
        ]),
    ) {
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_bytes(&ra) {
            headers.insert("retry-after", v);
        }
        if let Some(ms) = ms
            && let Ok(v) = HeaderValue::from_bytes(&ms)
        {
            headers.insert("x-ms-retry-after-ms", v);
        }
        let _ = gdap_core::retry::parse_retry_after(&headers);
    }

    #[test]
    fn error_parser_reads_any_bytes(status in 100u16..600, bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = DefaultErrorParser.parse(status, &bytes);
    }

    #[test]
    fn error_parser_reads_any_json(status in 100u16..600, v in arb_json()) {
        let bytes = serde_json::to_vec(&v).unwrap();
        let parsed = DefaultErrorParser.parse(status, &bytes);
        let _ = format!("{parsed:?}");
        // Graph-shaped bodies with an arbitrary `error` member, too.
        let graph = serde_json::to_vec(&serde_json::json!({ "error": v })).unwrap();
        let _ = DefaultErrorParser.parse(status, &graph);
    }
}

/// Every page body (arbitrary JSON, both styles) through a real pager over loopback: the stream
/// ends with items or a typed error, never a panic, and never follows a link off the origin.
#[test]
fn pager_survives_arbitrary_page_bodies() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(MockServer::start());
    let pipeline = Pipeline::builder()
        .with_endpoint(Url::parse(&format!("{}/v1.0", server.uri())).unwrap())
        .with_credential(Arc::new(StaticTokenCredential::new("canary-prop")))
        .with_retry(RetryOptions::none())
        .with_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(arb_json(), any::<bool>()), |(body, odata)| {
            rt.block_on(async {
                server.reset().await;
                Mock::given(wiremock::matchers::any())
                    .respond_with(ResponseTemplate::new(200).set_body_json(&body))
                    .mount(&server)
                    .await;
                let style = if odata {
                    PageStyle::OData
                } else {
                    PageStyle::Continuation
                };
                let pager: Pager<Value> = Pager::new(pipeline.clone(), style, Request::get("/x"));
                // A self-referencing next link with empty pages would loop; cap the items read.
                let items: Vec<_> = pager.take(50).collect().await;
                for item in items {
                    if let Err(e) = item {
                        let _ = e.to_string();
                    }
                }
                // The first request, plus at most one per item yielded: a page loop stays bounded.
                let sent = server.received_requests().await.unwrap_or_default().len();
                assert!(sent <= 51, "{sent} requests");
            });
            Ok(())
        })
        .unwrap();
}

/// A page whose next link repeats the request just made (a self `@odata.nextLink`, or the same
/// continuation token again) ends the listing with a decode error after one request, instead of
/// looping forever.
#[tokio::test(start_paused = true)]
async fn a_page_linking_to_itself_ends_the_listing() {
    for odata in [true, false] {
        let server = MockServer::start().await;
        let body = if odata {
            serde_json::json!({"value": [1], "@odata.nextLink": format!("{}/v1.0/x", server.uri())})
        } else {
            serde_json::json!({"items": [1], "continuationToken": "same"})
        };
        // Continuation: the first request has no token, so the replay with "same" is a second,
        // different request; the third would repeat it.
        let expected = if odata { 1 } else { 2 };
        Mock::given(wiremock::matchers::any())
            .respond_with(ResponseTemplate::new(200).set_body_json(&body))
            .expect(expected)
            .mount(&server)
            .await;
        let pipeline = Pipeline::builder()
            .with_endpoint(Url::parse(&format!("{}/v1.0", server.uri())).unwrap())
            .with_credential(Arc::new(StaticTokenCredential::new("canary-prop")))
            .without_timeout()
            .build()
            .unwrap();
        let style = if odata {
            PageStyle::OData
        } else {
            PageStyle::Continuation
        };
        let items: Vec<_> = Pager::<Value>::new(pipeline, style, Request::get("/x"))
            .collect()
            .await;
        let last = items.last().unwrap().as_ref().unwrap_err();
        assert!(matches!(last, gdap_core::Error::Decode(_)), "{last:?}");
        assert!(last.to_string().contains("repeats"), "{last}");
        // The repeating page is refused whole: its items are not delivered.
        assert_eq!(items.len(), expected as usize);
    }
}
