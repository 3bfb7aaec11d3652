use gdap_auth::scopes::GRAPH_DEFAULT;
use gdap_auth::{AppCredentials, ClientSecretCredential, Error, TokenCredential, has_mfa_claim};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::*;

#[tokio::test]
async fn client_credentials_for_the_partner_tenant_are_cached() {
    let server = MockServer::start().await;
    let app_only = jwt(&json!({"tid": PARTNER, "roles": ["Directory.Read.All"], "idtyp": "app"}));
    Mock::given(method("POST"))
        .and(path(token_path(PARTNER)))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(&app_only, None, 3600)))
        .expect(1)
        .mount(&server)
        .await;
    let cred = ClientSecretCredential::new_with_options(
        authority(&server),
        tenant(PARTNER),
        app("client-secret-1"),
        options(),
    )
    .unwrap();
    let t1 = cred.get_token(&[GRAPH_DEFAULT]).await.unwrap();
    let t2 = cred.get_token(&[GRAPH_DEFAULT]).await.unwrap();
    assert_eq!(t1.expose(), t2.expose());
    // App-only tokens carry no amr.
    assert_eq!(has_mfa_claim(&t1), Some(false));

    let reqs = server.received_requests().await.unwrap();
    let f = form(&reqs[0]);
    assert_eq!(f["grant_type"], "client_credentials");
    assert_eq!(f["scope"], GRAPH_DEFAULT);
    assert_eq!(f["client_id"], CLIENT_ID);
    assert_eq!(f["client_secret"], "client-secret-1");
    assert_eq!(f.len(), 4);
}

#[tokio::test]
async fn client_credentials_need_a_secret_and_default_scopes() {
    let server = MockServer::start().await;
    let public = AppCredentials::public(CLIENT_ID.parse().unwrap());
    assert!(matches!(
        ClientSecretCredential::new(authority(&server), tenant(PARTNER), public),
        Err(Error::InvalidInput(_))
    ));
    let cred = ClientSecretCredential::new(authority(&server), tenant(PARTNER), app("s")).unwrap();
    let err = cred
        .token(&["https://graph.microsoft.com/User.Read.All"])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_client() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path(PARTNER)))
        .respond_with(ResponseTemplate::new(401).set_body_json(entra_error(
            "invalid_client",
            7000215,
            "trace-ic",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let cred = ClientSecretCredential::new_with_options(
        authority(&server),
        tenant(PARTNER),
        app("wrong"),
        options(),
    )
    .unwrap();
    let err = cred.get_token(&[GRAPH_DEFAULT]).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.aadsts_codes(), &[7000215]);
    assert_eq!(err.request_id(), Some("trace-ic"));
    let typed = err
        .as_credential()
        .and_then(|c| c.cause())
        .and_then(|c| c.downcast_ref::<Error>());
    assert!(typed.is_some_and(Error::is_invalid_client));
}

#[test]
fn authority_and_tenant_refs() {
    let a: gdap_auth::Authority = "http://127.0.0.1:9/login/".parse().unwrap();
    let t: gdap_auth::TenantRef = PARTNER.parse().unwrap();
    assert_eq!(t.tenant_id(), Some(tenant(PARTNER)));
    assert_eq!(
        a.authorize_url(&t).as_str(),
        format!("http://127.0.0.1:9/login/{PARTNER}/oauth2/v2.0/authorize")
    );
    assert_eq!(
        gdap_auth::Authority::default()
            .token_url(&"Contoso.onmicrosoft.com".parse().unwrap())
            .as_str(),
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    assert_eq!(
        "organizations"
            .parse::<gdap_auth::TenantRef>()
            .unwrap()
            .to_string(),
        "organizations"
    );
    assert_eq!(
        "COMMON".parse::<gdap_auth::TenantRef>().unwrap(),
        gdap_auth::TenantRef::common()
    );
    for bad in ["", "a/b", "no-dot", "x..y", "evil.com?x=1"] {
        assert!(bad.parse::<gdap_auth::TenantRef>().is_err(), "{bad}");
    }
    for bad in [
        "http://login.example.com",
        "ftp://x",
        "https://h/p?q=1",
        "https://u:p@h",
    ] {
        assert!(bad.parse::<gdap_auth::Authority>().is_err(), "{bad}");
    }
}

#[test]
fn mfa_claim_helper() {
    let at = |s: String| gdap_auth::AccessToken::new(s, time::OffsetDateTime::now_utc());
    assert_eq!(
        has_mfa_claim(&at(jwt(&json!({"amr": ["pwd", "mfa"]})))),
        Some(true)
    );
    assert_eq!(
        has_mfa_claim(&at(jwt(&json!({"amr": ["pwd"]})))),
        Some(false)
    );
    assert_eq!(has_mfa_claim(&at(jwt(&json!({"amr": "mfa"})))), Some(false));
    assert_eq!(has_mfa_claim(&at("opaque-sandbox-token".into())), None);
    assert_eq!(has_mfa_claim(&at("a.b.c".into())), None);
}
