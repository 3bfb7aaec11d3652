use std::time::Duration;

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::*;

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

async fn authorize(
    e: &Env,
    verifier: &str,
    redirect: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut q = vec![
        ("client_id", e.info.client_id.as_str()),
        ("response_type", "code"),
        ("redirect_uri", redirect),
        (
            "scope",
            "https://graph.microsoft.com/.default offline_access openid",
        ),
        ("state", "st-123"),
        ("code_challenge_method", "S256"),
    ];
    let ch = challenge(verifier);
    q.push(("code_challenge", &ch));
    q.extend_from_slice(extra);
    e.http
        .get(e.url("/login/organizations/oauth2/v2.0/authorize"))
        .query(&q)
        .send()
        .await
        .unwrap()
}

fn code_from(loc: &str) -> (String, String) {
    let u = url::Url::parse(loc).unwrap();
    let get = |k: &str| {
        u.query_pairs()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    (get("code"), get("state"))
}

async fn redeem(
    e: &Env,
    code: &str,
    redirect: &str,
    verifier: Option<&str>,
) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", e.info.client_id.as_str()),
        ("client_secret", e.info.client_secret.as_str()),
        ("code", code),
        ("redirect_uri", redirect),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    let r = e
        .http
        .post(e.token_url("organizations"))
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

#[tokio::test]
async fn authorization_code_with_pkce_end_to_end() {
    let e = env().await;
    let redirect = "http://localhost:8400/callback";
    let verifier = "a-verifier-with-enough-entropy-0123456789-abcdefghijkl";
    let r = authorize(&e, verifier, redirect, &[]).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with(redirect));
    let (code, state) = code_from(&loc);
    assert_eq!(state, "st-123");
    // Wrong verifier -> 50148.
    let (s, v) = redeem(&e, &code, redirect, Some("wrong")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error_codes"][0], 50148);
    // Missing verifier -> 50148 too.
    let (s, _) = redeem(&e, &code, redirect, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Right verifier -> tokens.
    let (s, v) = redeem(&e, &code, redirect, Some(verifier)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert!(v["refresh_token"].is_string());
    assert!(v["id_token"].as_str().unwrap().split('.').count() == 3);
    // The code is single-use.
    let (s, v) = redeem(&e, &code, redirect, Some(verifier)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error_codes"][0], 54005);
    // Redirect URI mismatch.
    let r = authorize(&e, verifier, redirect, &[]).await;
    let (code, _) = code_from(r.headers()["location"].to_str().unwrap());
    let (s, v) = redeem(&e, &code, "http://localhost:9999/other", Some(verifier)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error_codes"][0], 500112);
}

#[tokio::test]
async fn authorize_rejects_bad_inputs() {
    let e = env().await;
    // Non-loopback redirect -> 400 AADSTS50011.
    let r = authorize(&e, "v", "https://evil.example/cb", &[]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error_codes"][0], 50011);
    // User declines -> redirect with error and state.
    let r = authorize(
        &e,
        "v",
        "http://127.0.0.1:5000/cb",
        &[("login_hint", "denied")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = r.headers()["location"].to_str().unwrap();
    assert!(
        loc.contains("error=access_denied") && loc.contains("state=st-123"),
        "{loc}"
    );
    // Unknown client.
    let r = e
        .http
        .get(e.url("/login/common/oauth2/v2.0/authorize"))
        .query(&[
            ("client_id", "00000000-0000-0000-0000-000000000001"),
            ("response_type", "code"),
            ("redirect_uri", "http://localhost/cb"),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error_codes"][0], 700016);
}

#[tokio::test]
async fn token_error_shape_and_client_errors() {
    let e = env().await;
    // Wrong secret -> 401 invalid_client 7000215.
    let r = e
        .http
        .post(e.token_url(&e.info.partner_tenant_id))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", e.info.client_id.as_str()),
            ("client_secret", "nope"),
            ("refresh_token", e.rt.as_str()),
            ("scope", GRAPH),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_client");
    assert_eq!(v["error_codes"][0], 7000215);
    let desc = v["error_description"].as_str().unwrap();
    assert!(
        desc.starts_with("AADSTS7000215: ")
            && desc.contains("\r\nTrace ID: ")
            && desc.contains("\r\nCorrelation ID: ")
            && desc.contains("\r\nTimestamp: ")
    );
    let ts = v["timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), "2016-01-09 02:02:12Z".len());
    assert!(v["trace_id"].is_string() && v["correlation_id"].is_string());
    // Unknown tenant -> 90002.
    let r = e
        .token_raw("11111111-2222-3333-4444-555555555555", &e.rt, GRAPH)
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["error_codes"][0], 90002);
    // Unsupported grant type.
    let r = e
        .http
        .post(e.token_url("organizations"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", e.info.client_id.as_str()),
            ("client_secret", e.info.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
    // Two resources in one request -> 28000.
    let r = e
        .token_raw(&e.info.partner_tenant_id, &e.rt, &format!("{GRAPH} {PC}"))
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["error_codes"][0], 28000);
    // Garbage refresh token.
    let r = e
        .token_raw(&e.info.partner_tenant_id, "garbage", GRAPH)
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
}

#[tokio::test]
async fn refresh_token_rotation_and_revocation() {
    let e = env().await;
    let tid = e.info.partner_tenant_id.clone();
    let r = e
        .token_raw(&tid, &e.rt, &format!("{GRAPH} offline_access"))
        .await;
    let v: Value = r.json().await.unwrap();
    let rt2 = v["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt2, e.rt);
    // Both the rotated and (non-strict default) old tokens work.
    e.token_for(&tid, &rt2, GRAPH).await;
    e.token_for(&tid, &e.rt, GRAPH).await;
    e.h.revoke_refresh_tokens();
    let r = e.token_raw(&tid, &rt2, GRAPH).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_grant");
    assert_eq!(v["error_codes"][0], 700082);
}

#[tokio::test]
async fn strict_rotation_and_inactivity_expiry() {
    let e = start(builder().strict_refresh_rotation(true)).await;
    let tid = e.info.partner_tenant_id.clone();
    let v: Value = e.token_raw(&tid, &e.rt, GRAPH).await.json().await.unwrap();
    let rt2 = v["refresh_token"].as_str().unwrap().to_string();
    let r = e.token_raw(&tid, &e.rt, GRAPH).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error_codes"][0], 700082);
    // 91 days of inactivity expire the newest one too.
    e.h.advance_clock(Duration::from_secs(91 * 24 * 3600));
    let r = e.token_raw(&tid, &rt2, GRAPH).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error_codes"][0], 700082);
}

#[tokio::test]
async fn customer_tokens_need_gdap_access_and_consent() {
    let e = env().await;
    // No admin assignment -> 50177.
    let t = e.tenant_with("ready_ga", false).id.clone();
    let r = e.token_raw(&t, &e.rt, GRAPH).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_grant");
    assert_eq!(v["error_codes"][0], 50177);
    // Access but no consent (no SP of the app) -> 65001.
    let t = e.tenant_with("ready_ga", true).id.clone();
    let r = e.token_raw(&t, &e.rt, GRAPH).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error_codes"][0], 65001, "{v}");
    assert_eq!(v["suberror"], "consent_required");
    // After consent -> token.
    let tok = e.customer_token(&t).await;
    let (s, v) = e.get(&e.graph("/organization"), &tok).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["value"][0]["id"], t.as_str());
    // A specific scope that was not consented -> 65001.
    let r = e
        .token_raw(&t, &e.rt, "https://graph.microsoft.com/Mail.Read")
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["error_codes"][0], 65001);
}

#[tokio::test]
async fn expired_access_token_is_rejected() {
    let e = start(builder().access_token_lifetime(Duration::from_secs(60))).await;
    let tok = e.graph_token().await;
    let url = e.graph("/tenantRelationships/delegatedAdminRelationships?$top=1");
    assert_eq!(e.get(&url, &tok).await.0, StatusCode::OK);
    e.h.advance_clock(Duration::from_secs(61));
    let (s, v) = e.get(&url, &tok).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(err_code(&v), "InvalidAuthenticationToken");
    // No token at all.
    let r = e.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A Partner Center token on Graph: wrong audience.
    let pc = e.pc_token().await;
    let (s, _) = e.get(&url, &pc).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn client_credentials_in_own_tenant_and_customer() {
    let e = env().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", e.info.client_id.as_str()),
        ("client_secret", e.info.client_secret.as_str()),
        ("scope", GRAPH),
    ];
    let r = e
        .http
        .post(e.token_url(&e.info.partner_tenant_id))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let tok = v["access_token"].as_str().unwrap();
    assert!(v.get("refresh_token").is_none());
    // App-only token reads the own tenant.
    let r = e
        .http
        .get(e.graph("/users/$count"))
        .bearer_auth(tok)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "42");
    // ...and may list relationships (DelegatedAdminRelationship.ReadWrite.All app role).
    assert_eq!(
        e.get(
            &e.graph("/tenantRelationships/delegatedAdminRelationships?$top=1"),
            tok
        )
        .await
        .0,
        StatusCode::OK
    );
    // A customer where the app has no SP -> 700016.
    let t = e.tenant_with("ready_ga", true).id.clone();
    let r = e
        .http
        .post(e.token_url(&t))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["error_codes"][0], 700016);
    // Non-.default scope -> 1002012.
    let r = e
        .http
        .post(e.token_url(&e.info.partner_tenant_id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", e.info.client_id.as_str()),
            ("client_secret", e.info.client_secret.as_str()),
            ("scope", "https://graph.microsoft.com/User.Read.All"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["error_codes"][0], 1002012);
}

#[tokio::test]
async fn authorize_accepts_consent_for_several_resources_but_token_requests_do_not() {
    let e = env().await;
    let redirect = "http://127.0.0.1:5000/cb";
    let verifier = "another-verifier-with-enough-entropy-0123456789-abcdef";
    let ch = challenge(verifier);
    let r = e
        .http
        .get(e.url("/login/organizations/oauth2/v2.0/authorize"))
        .query(&[
            ("client_id", e.info.client_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            (
                "scope",
                "https://graph.microsoft.com/User.Read.All https://api.partnercenter.microsoft.com/user_impersonation offline_access",
            ),
            ("state", "s"),
            ("code_challenge_method", "S256"),
            ("code_challenge", &ch),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let (code, _) = code_from(&loc);
    assert!(!code.is_empty(), "{loc}");
    // A token request naming two resources is still refused.
    let r = e
        .http
        .post(e.token_url("organizations"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", e.info.client_id.as_str()),
            ("client_secret", e.info.client_secret.as_str()),
            (
                "scope",
                "https://graph.microsoft.com/.default https://api.partnercenter.microsoft.com/.default",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
