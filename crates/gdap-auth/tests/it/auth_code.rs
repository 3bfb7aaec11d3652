use base64::Engine as _;
use gdap_auth::scopes::{GRAPH_CONNECT_SCOPES, PARTNER_CONNECT_SCOPES};
use gdap_auth::{AuthCodeFlow, Error, PendingAuthorization, has_mfa_claim};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::Digest as _;
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::*;

fn flow(server: &MockServer) -> AuthCodeFlow {
    AuthCodeFlow::new_with_options(
        authority(server),
        app("client-secret-1"),
        Url::parse("http://127.0.0.1:4000/callback").unwrap(),
        PARTNER_CONNECT_SCOPES,
        options(),
    )
    .unwrap()
}

#[tokio::test]
async fn authorize_url_carries_pkce_state_and_all_connect_scopes() {
    let server = MockServer::start().await;
    let flow = flow(&server);
    let (url, pending) = flow.authorize_url();
    assert_eq!(
        url.path(),
        "/login/organizations/oauth2/v2.0/authorize",
        "the authority's path prefix is kept"
    );
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["redirect_uri"], "http://127.0.0.1:4000/callback");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["state"], pending.state.secret());
    assert!(pending.state.secret().len() >= 16);
    assert!(!q.contains_key("client_secret"));
    let scopes: Vec<&str> = q["scope"].split(' ').collect();
    assert_eq!(scopes, PARTNER_CONNECT_SCOPES);
    assert_eq!(scopes.len(), 10);

    // The challenge is the S256 of the verifier we keep.
    let session = serde_json::to_value(&pending).unwrap();
    let verifier = session["verifier"].as_str().unwrap().to_owned();
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    assert_eq!(q["code_challenge"], expected);

    // A second authorize gets a different state and verifier.
    let (_, other) = flow.authorize_url();
    assert_ne!(other.state.secret(), pending.state.secret());

    // The pending authorization round-trips through a session store, and never prints.
    let back: PendingAuthorization = serde_json::from_value(session).unwrap();
    assert!(back.verify_state(pending.state.secret()).is_ok());
    assert!(!format!("{back:?}").contains(&verifier));
    assert_eq!(
        flow.exchange_scopes().len(),
        9,
        "graph scopes + offline_access"
    );
}

#[tokio::test]
async fn code_exchange_sends_code_verifier_and_the_right_form() {
    let server = MockServer::start().await;
    let access =
        jwt(&json!({"tid": PARTNER, "upn": "admin@partner.example", "amr": ["pwd", "mfa"]}));
    let id_token = jwt(
        &json!({"tid": PARTNER, "preferred_username": "admin@partner.example", "name": "Admin"}),
    );
    let mut body = token_body(&access, Some("refresh-1"), 3600);
    body["id_token"] = json!(id_token);
    body["scope"] = json!("https://graph.microsoft.com/User.Read.All offline_access");
    Mock::given(method("POST"))
        .and(path(token_path("organizations")))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;

    let flow = flow(&server);
    let (_, pending) = flow.authorize_url();
    let verifier = serde_json::to_value(&pending).unwrap()["verifier"]
        .as_str()
        .unwrap()
        .to_owned();

    // A wrong state is refused before anything is sent.
    let err = flow
        .complete(
            pending.clone(),
            "forged-state",
            SecretString::from("code-1"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");

    let state = pending.state.secret().to_owned();
    let set = flow
        .complete(pending, &state, SecretString::from("code-1"))
        .await
        .unwrap();
    assert_eq!(set.access_token.expose(), access);
    assert_eq!(
        set.refresh_token
            .as_ref()
            .map(|r| r.expose_secret().to_owned()),
        Some("refresh-1".to_owned())
    );
    assert_eq!(set.scopes.len(), 2);
    let id = set.id_token.clone().unwrap();
    assert_eq!(id.username(), Some("admin@partner.example"));
    assert_eq!(has_mfa_claim(&set.access_token), Some(true));
    assert_eq!(
        set.access_token_claims().unwrap().tid.as_deref(),
        Some(PARTNER)
    );
    assert!(!format!("{set:?}").contains("refresh-1"));

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1);
    let f = form(&reqs[0]);
    assert_eq!(f["grant_type"], "authorization_code");
    assert_eq!(f["code"], "code-1");
    assert_eq!(f["code_verifier"], verifier);
    assert_eq!(f["redirect_uri"], "http://127.0.0.1:4000/callback");
    assert_eq!(f["client_id"], CLIENT_ID);
    assert_eq!(f["client_secret"], "client-secret-1");
    // One resource per token request: the Graph scopes of the sign-in, plus offline_access.
    let mut expected: Vec<&str> = GRAPH_CONNECT_SCOPES.to_vec();
    expected.push("offline_access");
    assert_eq!(f["scope"].split(' ').collect::<Vec<_>>(), expected);
    assert!(!f["scope"].contains("partnercenter"));
    assert_eq!(f.len(), 7, "{f:?}");
    assert!(
        reqs[0].headers.get("authorization").is_none(),
        "secret goes in the body"
    );
}

#[tokio::test]
async fn redirects_from_the_token_endpoint_are_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(token_path("organizations")))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/elsewhere", server.uri())),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::path("/elsewhere"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("stolen", None, 3600)))
        .expect(0)
        .mount(&server)
        .await;
    let flow = flow(&server);
    let (_, pending) = flow.authorize_url();
    let err = flow
        .exchange(SecretString::from("code-1"), pending.verifier)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode(d) if d.status() == 302),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(302));
}

#[tokio::test]
async fn redirect_uri_and_scopes_are_validated() {
    let server = MockServer::start().await;
    let bad = AuthCodeFlow::new(
        authority(&server),
        app("s"),
        Url::parse("http://example.com/callback").unwrap(),
        PARTNER_CONNECT_SCOPES,
    );
    assert!(matches!(bad, Err(Error::InvalidInput(_))));
    let bad = AuthCodeFlow::new(
        authority(&server),
        app("s"),
        Url::parse("https://app.example.com/callback").unwrap(),
        &[],
    );
    assert!(matches!(bad, Err(Error::InvalidInput(_))));
}
