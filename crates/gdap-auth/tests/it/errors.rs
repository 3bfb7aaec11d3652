use std::sync::Arc;

use gdap_auth::scopes::GRAPH_DEFAULT;
use gdap_auth::{Error, InMemoryRefreshTokenSink, RefreshTokenCredential, TenantRef};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::*;

async fn refresh_error(status: u16, body: serde_json::Value) -> Error {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path(CUSTOMER)))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;
    let cred = RefreshTokenCredential::new_with_options(
        authority(&server),
        app("client-secret-1"),
        SecretString::from("rt-1"),
        Arc::new(InMemoryRefreshTokenSink::new()),
        options(),
    );
    cred.token_for(&TenantRef::id(tenant(CUSTOMER)), &[GRAPH_DEFAULT])
        .await
        .unwrap_err()
}

#[tokio::test]
async fn each_aadsts_code_maps_to_its_variant_with_the_trace_id_kept() {
    type Check = fn(&Error) -> bool;
    let cases: Vec<(&str, u32, u16, Check)> = vec![
        ("invalid_grant", 50177, 400, |e| {
            matches!(e, Error::NoGdapAccess(_)) && e.is_no_gdap_access()
        }),
        ("invalid_grant", 50020, 400, |e| {
            matches!(e, Error::NoGdapAccess(_))
        }),
        ("invalid_grant", 65001, 400, |e| {
            matches!(e, Error::ConsentMissing(_)) && e.is_consent_missing()
        }),
        ("invalid_grant", 700082, 400, |e| {
            matches!(e, Error::RefreshTokenExpired(_)) && e.is_reauth_required()
        }),
        ("invalid_grant", 700084, 400, |e| {
            matches!(e, Error::RefreshTokenExpired(_)) && e.is_reauth_required()
        }),
        ("interaction_required", 50076, 400, |e| {
            matches!(e, Error::MfaRequired(_)) && e.is_mfa_required()
        }),
        ("interaction_required", 50079, 400, |e| {
            matches!(e, Error::MfaRequired(_)) && e.is_mfa_required()
        }),
        ("invalid_grant", 530034, 400, |e| {
            matches!(e, Error::DelegatedAdminBlocked(_)) && e.is_mfa_required()
        }),
        ("invalid_grant", 90099, 400, |e| {
            matches!(e, Error::PartnerPreconsentMissing(_)) && e.is_partner_preconsent_missing()
        }),
        ("invalid_client", 7000215, 401, |e| {
            matches!(e, Error::InvalidClient(_)) && e.is_invalid_client()
        }),
        ("invalid_request", 90002, 400, |e| {
            matches!(e, Error::Other(_))
        }),
    ];
    for (error, code, status, check) in cases {
        let trace = format!("trace-{code}");
        let err = refresh_error(status, entra_error(error, code, &trace)).await;
        assert!(check(&err), "AADSTS{code} -> {err:?}");
        assert_eq!(err.aadsts_codes(), &[code]);
        assert_eq!(err.trace_id(), Some(trace.as_str()));
        assert_eq!(err.correlation_id(), Some(format!("corr-{code}").as_str()));
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.error_code(), Some(error));
        let d = err.details().unwrap();
        assert_eq!(d.timestamp(), Some("2026-01-09 02:02:12Z"));
        assert_eq!(d.tenant(), Some(CUSTOMER));
        assert_eq!(
            d.description(),
            Some(format!("AADSTS{code}: Something happened.").as_str())
        );
        assert!(err.to_string().contains(&format!("AADSTS{code}")), "{err}");
        assert!(err.to_string().contains(&trace), "{err}");
        assert!(!err.is_transient());

        // The orchestration core sees the same codes through gdap-core.
        let core: gdap_core::Error = err.into();
        assert_eq!(core.aadsts_codes(), &[code]);
        assert_eq!(core.service_code(), Some(format!("AADSTS{code}").as_str()));
        assert_eq!(core.request_id(), Some(trace.as_str()));
        assert!(core.is_auth());
    }
}

#[tokio::test]
async fn an_unknown_code_is_kept_raw() {
    let err = refresh_error(400, entra_error("invalid_grant", 9_999_999, "t")).await;
    assert!(
        matches!(&err, Error::Other(d) if d.error() == "invalid_grant" && d.error_codes() == [9_999_999])
    );
    let err = refresh_error(400, json!({"error": "invalid_client"})).await;
    assert!(err.is_invalid_client());
    assert!(err.aadsts_codes().is_empty());
    let core: gdap_core::Error = err.into();
    assert_eq!(core.service_code(), Some("invalid_client"));
}

#[tokio::test]
async fn malformed_json_and_missing_access_token_are_decode_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path(PARTNER)))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(b"{\"access_token\": \"x\", ".to_vec(), "application/json"),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(token_path(PARTNER)))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-in-a-broken-answer"
        })))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(token_path(PARTNER)))
        .respond_with(
            ResponseTemplate::new(503).set_body_raw(b"<html>down</html>".to_vec(), "text/html"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let cred = RefreshTokenCredential::new_with_options(
        authority(&server),
        app("s"),
        SecretString::from("rt-1"),
        Arc::new(InMemoryRefreshTokenSink::new()),
        options(),
    );
    let t = TenantRef::id(tenant(PARTNER));

    let err = cred.token_for(&t, &[GRAPH_DEFAULT]).await.unwrap_err();
    assert!(
        matches!(&err, Error::Decode(d) if d.status() == 200),
        "{err:?}"
    );
    assert!(!err.is_transient());

    let err = cred.token_for(&t, &[GRAPH_DEFAULT]).await.unwrap_err();
    match &err {
        Error::Decode(d) => assert!(d.reason().contains("missing field `access_token`"), "{d:?}"),
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert!(!format!("{err} {err:?}").contains("rt-in-a-broken-answer"));

    // An HTML 503 without Retry-After: not retried, a transient decode error.
    let err = cred.token_for(&t, &[GRAPH_DEFAULT]).await.unwrap_err();
    assert!(
        matches!(&err, Error::Decode(d) if d.status() == 503),
        "{err:?}"
    );
    assert!(err.is_transient());
}
