//! A canary refresh token (and client secret) must never show up in Debug, Display, tracing
//! output or any error, on success or on failure.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use gdap_auth::scopes::GRAPH_DEFAULT;
use gdap_auth::{AuthCodeFlow, InMemoryRefreshTokenSink, RefreshTokenCredential, TenantRef};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::*;

const CANARY_RT: &str = "CANARY-RT-7f3a9c1e";
const CANARY_RT_ROTATED: &str = "CANARY-RT-rotated-55d1";
const CANARY_SECRET: &str = "CANARY-SECRET-b01d";
const CANARY_CODE: &str = "CANARY-CODE-9e2f";

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One process-wide subscriber writing into a buffer. A per-test `set_default` subscriber races
/// with tests on other threads that register the same callsites with no subscriber (tracing then
/// caches "never" for them), so events went missing; a global one sees every event of every
/// test, which also puts every test's tracing output under the canary check below.
fn captured_logs() -> &'static Buffer {
    static LOGS: OnceLock<Buffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Buffer::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        buf
    })
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains("CANARY"), "{what} leaked a canary:\n{text}");
}

fn describe(err: &dyn std::error::Error) -> String {
    let mut out = format!("{err} | {err:?}");
    let mut src = err.source();
    while let Some(s) = src {
        out.push_str(&format!(" | {s} | {s:?}"));
        src = s.source();
    }
    out
}

#[tokio::test]
async fn the_canary_never_appears_in_debug_display_tracing_or_errors() {
    let buf = captured_logs();

    let server = MockServer::start().await;
    // Partner tenant: success, rotating to another canary.
    Mock::given(method("POST"))
        .and(path(token_path(PARTNER)))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(
            "at-partner",
            Some(CANARY_RT_ROTATED),
            3600,
        )))
        .expect(1)
        .mount(&server)
        .await;
    // Customer tenant: an error whose description echoes what we sent (worst case).
    Mock::given(method("POST"))
        .and(path(token_path(CUSTOMER)))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": format!("AADSTS50177: refresh_token={CANARY_RT_ROTATED}&client_secret={CANARY_SECRET}\r\nTrace ID: t1"),
            "error_codes": [50177],
            "trace_id": "t1",
        })))
        .expect(1)
        .mount(&server)
        .await;
    // A third tenant: a 200 without access_token that carries a refresh token.
    let third = "cccccccc-0000-0000-0000-000000000003";
    Mock::given(method("POST"))
        .and(path(token_path(third)))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3600, "refresh_token": CANARY_RT
        })))
        .expect(1)
        .mount(&server)
        .await;
    // The code exchange: an error echoing the code.
    Mock::given(method("POST"))
        .and(path(token_path("organizations")))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": format!("AADSTS54005: code {CANARY_CODE} was already redeemed"),
            "error_codes": [54005],
        })))
        .expect(1)
        .mount(&server)
        .await;

    let sink = Arc::new(InMemoryRefreshTokenSink::new());
    let cred = RefreshTokenCredential::new_with_options(
        authority(&server),
        app(CANARY_SECRET),
        SecretString::from(CANARY_RT),
        sink.clone(),
        options(),
    );
    let mut seen = String::new();
    seen.push_str(&format!("{cred:?} {sink:?} {:?}", app(CANARY_SECRET)));

    let partner = cred.for_tenant(tenant(PARTNER));
    seen.push_str(&format!("{partner:?}"));
    let token = partner.get_token(&[GRAPH_DEFAULT]).await.unwrap();
    seen.push_str(&format!("{token:?}"));

    let err = cred
        .token_for(&TenantRef::id(tenant(CUSTOMER)), &[GRAPH_DEFAULT])
        .await
        .unwrap_err();
    assert!(err.is_no_gdap_access());
    let description = err.details().unwrap().description().unwrap().to_owned();
    assert!(description.contains("[redacted]"), "{description}");
    seen.push_str(&describe(&err));
    seen.push_str(&description);
    let core: gdap_core::Error = err.into();
    seen.push_str(&describe(&core));

    let err = cred
        .for_tenant(tenant(third))
        .get_token(&[GRAPH_DEFAULT])
        .await
        .unwrap_err();
    seen.push_str(&describe(&err));

    let flow = AuthCodeFlow::new_with_options(
        authority(&server),
        app(CANARY_SECRET),
        url::Url::parse("http://127.0.0.1:4000/cb").unwrap(),
        gdap_auth::scopes::PARTNER_CONNECT_SCOPES,
        options(),
    )
    .unwrap();
    seen.push_str(&format!("{flow:?}"));
    let (_, pending) = flow.authorize_url();
    seen.push_str(&format!("{pending:?}"));
    let err = flow
        .exchange(SecretString::from(CANARY_CODE), pending.verifier)
        .await
        .unwrap_err();
    seen.push_str(&describe(&err));

    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("token acquired"),
        "acquisitions are traced:\n{logs}"
    );
    assert!(logs.contains(PARTNER), "with the tenant:\n{logs}");
    assert!(
        logs.contains("https://graph.microsoft.com/.default"),
        "and the scope:\n{logs}"
    );
    assert_clean("tracing output", &logs);
    assert_clean("Debug/Display/errors", &seen);
    // The rotated canary did reach the sink, which is where it belongs.
    assert!(sink.latest().is_some());
}
