#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report.
//! gdap-auth against wiremock: flows, caching, rotation, error mapping, secrets.

mod auth_code;
mod client_secret;
mod errors;
mod proptests;
mod refresh;
mod secrets;

use std::collections::HashMap;
use std::time::Duration;

use gdap_auth::{AppCredentials, Authority, TokenClientOptions};
use gdap_core::{AppId, RetryOptions, TenantId};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::{MockServer, Request};

pub(crate) const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
pub(crate) const PARTNER: &str = "aaaaaaaa-0000-0000-0000-000000000001";
pub(crate) const CUSTOMER: &str = "bbbbbbbb-0000-0000-0000-000000000002";

/// The sandbox-style authority: the mock server with a `/login` path prefix.
pub(crate) fn authority(server: &MockServer) -> Authority {
    format!("{}/login", server.uri()).parse().unwrap()
}

pub(crate) fn token_path(tenant: &str) -> String {
    format!("/login/{tenant}/oauth2/v2.0/token")
}

pub(crate) fn app(secret: &str) -> AppCredentials {
    AppCredentials::confidential(
        CLIENT_ID.parse::<AppId>().unwrap(),
        SecretString::from(secret.to_owned()),
    )
}

pub(crate) fn tenant(s: &str) -> TenantId {
    s.parse().unwrap()
}

/// Test options: no per-attempt timeout (paused time), fast deterministic retries.
pub(crate) fn options() -> TokenClientOptions {
    TokenClientOptions::default()
        .without_timeout()
        .with_retry(RetryOptions {
            jitter: false,
            ..RetryOptions::default()
                .with_max_attempts(3)
                .with_delays(Duration::from_millis(100), Duration::from_secs(5))
        })
}

pub(crate) fn token_body(access: &str, refresh: Option<&str>, expires_in: u64) -> Value {
    let mut v = json!({
        "token_type": "Bearer",
        "scope": "https://graph.microsoft.com/.default",
        "expires_in": expires_in,
        "ext_expires_in": expires_in,
        "access_token": access,
    });
    if let Some(r) = refresh {
        v["refresh_token"] = json!(r);
    }
    v
}

pub(crate) fn entra_error(error: &str, code: u32, trace: &str) -> Value {
    json!({
        "error": error,
        "error_description": format!("AADSTS{code}: Something happened.\r\nTrace ID: {trace}\r\nCorrelation ID: corr-{code}\r\nTimestamp: 2026-01-09 02:02:12Z"),
        "error_codes": [code],
        "timestamp": "2026-01-09 02:02:12Z",
        "trace_id": trace,
        "correlation_id": format!("corr-{code}"),
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    })
}

pub(crate) fn form(req: &Request) -> HashMap<String, String> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

/// A JWT-shaped token (unsigned) with the given payload.
pub(crate) fn jwt(payload: &Value) -> String {
    use base64::Engine as _;
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.sig",
        e.encode(br#"{"alg":"none","typ":"JWT"}"#),
        e.encode(payload.to_string())
    )
}
