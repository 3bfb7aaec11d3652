//! Property tests: token responses and token errors of any shape, JWT-ish strings, authorities
//! and tenant references never panic, and never echo the secrets that were sent.

use std::sync::Arc;

use gdap_auth::{
    AccessToken, Authority, ClientSecretCredential, InMemoryRefreshTokenSink,
    RefreshTokenCredential, TenantRef, TokenClaims, TokenCredential, has_mfa_claim,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use secrecy::SecretString;
use serde_json::Value;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{CUSTOMER, PARTNER, app, authority, options, tenant};

const CANARY_RT: &str = "canary-rt-0a1b2c3d4e";
const CANARY_SECRET: &str = "canary-secret-9f8e7d";

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        Just(Value::String(CANARY_RT.to_owned())),
        Just(Value::String(format!("AADSTS50177: {CANARY_SECRET} x"))),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("access_token".to_owned()),
                    Just("refresh_token".to_owned()),
                    Just("token_type".to_owned()),
                    Just("expires_in".to_owned()),
                    Just("ext_expires_in".to_owned()),
                    Just("scope".to_owned()),
                    Just("id_token".to_owned()),
                    Just("error".to_owned()),
                    Just("error_description".to_owned()),
                    Just("error_codes".to_owned()),
                    Just("trace_id".to_owned()),
                    Just("correlation_id".to_owned()),
                    Just("suberror".to_owned()),
                    ".{0,12}",
                ],
                inner,
                0..7,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid token answer or Entra error with one member replaced by anything.
fn mutated_answer() -> impl Strategy<Value = Value> {
    let base = prop_oneof![
        Just(super::token_body("at-1", Some("rt-2"), 3600)),
        Just(super::entra_error("invalid_grant", 50177, "trace-1")),
    ];
    (base, any::<usize>(), arb_json()).prop_map(|(mut b, pick, r)| {
        if let Value::Object(m) = &mut b {
            let keys: Vec<String> = m.keys().cloned().collect();
            m.insert(keys[pick % keys.len()].clone(), r);
        }
        b
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn claims_of_any_string(s in prop_oneof![
        ".*",
        "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,200}\\.[A-Za-z0-9_-]{0,10}",
    ]) {
        let _ = TokenClaims::decode_unverified(&s).map(|c| (c.has_mfa(), c.username().map(str::len)));
        let tok = AccessToken::new(s, time::OffsetDateTime::UNIX_EPOCH);
        let _ = has_mfa_claim(&tok);
    }

    #[test]
    fn claims_of_any_json_payload(v in arb_json()) {
        let _ = TokenClaims::decode_unverified(&super::jwt(&v));
    }

    #[test]
    fn authorities_and_tenant_refs_of_any_string(s in ".{0,80}") {
        if let Ok(a) = s.parse::<Authority>() {
            let t: TenantRef = PARTNER.parse().unwrap();
            let _ = (a.token_url(&t), a.authorize_url(&t));
        }
        if let Ok(t) = s.parse::<TenantRef>() {
            let _ = (t.to_string(), t.tenant_id());
        }
        let _ = TenantRef::domain(&s);
    }
}

/// Token endpoint answers of any shape (200 or an error status) become a token or a typed error
/// through both credentials; no error text carries the refresh token or the client secret sent.
#[test]
fn token_answers_of_any_shape() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(MockServer::start());
    let body = prop_oneof![
        arb_json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        mutated_answer().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        prop::collection::vec(any::<u8>(), 0..200),
    ];
    let status = prop_oneof![Just(200u16), Just(400), Just(401), 100u16..600];
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(status, body), |(status, body)| {
            rt.block_on(async {
                server.reset().await;
                Mock::given(wiremock::matchers::any())
                    .respond_with(
                        ResponseTemplate::new(status).set_body_raw(body, "application/json"),
                    )
                    .mount(&server)
                    .await;
                let refresh = RefreshTokenCredential::new_with_options(
                    authority(&server),
                    app(CANARY_SECRET),
                    SecretString::from(CANARY_RT.to_owned()),
                    Arc::new(InMemoryRefreshTokenSink::new()),
                    options().with_retry(gdap_core::RetryOptions::none()),
                );
                let secret = ClientSecretCredential::new_with_options(
                    authority(&server),
                    tenant(PARTNER),
                    app(CANARY_SECRET),
                    options().with_retry(gdap_core::RetryOptions::none()),
                )
                .unwrap();
                let scopes = [gdap_auth::scopes::GRAPH_DEFAULT];
                // (result, secrets that credential sent)
                for (result, sent) in [
                    (
                        refresh
                            .for_tenant(tenant(CUSTOMER))
                            .get_token(&scopes)
                            .await,
                        &[CANARY_RT, CANARY_SECRET][..],
                    ),
                    (secret.get_token(&scopes).await, &[CANARY_SECRET][..]),
                ] {
                    match result {
                        Ok(tok) => assert!(!tok.expose().is_empty()),
                        Err(e) => {
                            let cause = e
                                .as_credential()
                                .and_then(|c| c.cause())
                                .map(|c| format!("{c} {c:?}"));
                            let text = format!("{e} {e:?} {cause:?}");
                            for s in sent {
                                assert!(!text.contains(s), "{text}");
                            }
                            let _ = (e.is_retryable(), e.aadsts_codes(), e.service_code());
                        }
                    }
                }
            });
            Ok(())
        })
        .unwrap();
}
