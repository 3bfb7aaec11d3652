#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report.
//! Secret hygiene: the partner refresh token and the app's client secret appear in no log line
//! and no API response of gdap-server, through the OAuth connect and a sync.
//!
//! Its own test binary: it installs a global tracing subscriber (TRACE, every target but the
//! sandbox, which stands in for Microsoft) that captures every line the server would write.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use gdap_sandbox::{Sandbox, World};
use gdap_server::{CloudMode, Config, Endpoints, KeySource, Role};
use reqwest::{Client, StatusCode, header};
use secrecy::SecretString;

/// A fixed test key (base64 of 32 bytes).
const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The refresh token the server holds now, decrypted independently with the key.
fn stored_refresh_token(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    let sealed: Vec<u8> = conn
        .query_row(
            "SELECT encrypted_refresh_token FROM partner_connection",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let key = base64::engine::general_purpose::STANDARD
        .decode(KEY)
        .unwrap();
    let plain = ChaCha20Poly1305::new(Key::from_slice(&key))
        .decrypt(
            Nonce::from_slice(&sealed[1..13]),
            Payload {
                msg: &sealed[13..],
                aad: b"gdap-server/partner-refresh-token/v1",
            },
        )
        .unwrap();
    let token = String::from_utf8(plain).unwrap();
    assert!(token.len() > 20, "a real refresh token");
    token
}

/// What a response shows a client: status line, headers and body.
async fn shown(r: reqwest::Response) -> (StatusCode, String) {
    let status = r.status();
    let mut text = format!("{status}\n");
    for (k, v) in r.headers() {
        text.push_str(&format!("{k}: {}\n", v.to_str().unwrap_or("<bytes>")));
    }
    text.push_str(&r.text().await.unwrap());
    (status, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_logs_or_api_responses_through_connect_and_sync() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace,gdap_sandbox=off"))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init()
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gdap.db");
    let sb = Sandbox::builder()
        .world(World::seeded(11, 3))
        .propagation_delay(Duration::from_millis(10))
        .start()
        .await
        .unwrap();
    let client_secret = sb.world_info().client_secret.clone();
    let admin = gdap_server::add_user(&db, "admin@msp.example", Role::Admin)
        .await
        .unwrap();
    let mut config = Config::new(
        db.clone(),
        "127.0.0.1:0".parse().unwrap(),
        CloudMode::Endpoints(Endpoints::of_sandbox(&sb).unwrap()),
    );
    config.key = KeySource::Inline(SecretString::from(KEY.to_owned()));
    let srv = gdap_server::start(config).await.unwrap();
    let base = srv.url();
    let c = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Everything the server answered, as a client sees it.
    let mut answers = Vec::new();

    // OAuth connect: /connect → sandbox authorize → /connect/callback.
    let r = c
        .get(format!("{base}/connect"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let authorize = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let cookie = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gdap_oauth="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("pending sign-in cookie");
    answers.push(shown(r).await.1);
    let r = c.get(&authorize).send().await.unwrap();
    assert!(r.status().is_redirection(), "authorize: {}", r.status());
    let callback = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let r = c
        .get(&callback)
        .bearer_auth(&admin)
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let (status, text) = shown(r).await;
    assert!(status.is_success() || status.is_redirection(), "{text}");
    answers.push(text);
    let first_token = stored_refresh_token(&db);

    // A sync and the reads after it (the refresh token is used, and may rotate).
    for (method, path) in [
        (reqwest::Method::POST, "/api/sync"),
        (reqwest::Method::GET, "/api/tenants"),
        (reqwest::Method::GET, "/api/connection"),
        (reqwest::Method::GET, "/api/me"),
        (reqwest::Method::GET, "/"),
    ] {
        let r = c
            .request(method.clone(), format!("{base}{path}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        let (status, text) = shown(r).await;
        assert_eq!(status, StatusCode::OK, "{method} {path}: {text}");
        answers.push(text);
    }
    let last_token = stored_refresh_token(&db);
    srv.shutdown(Duration::from_secs(5)).await;

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    // The capture works and saw the server at work (not an empty buffer passing vacuously).
    assert!(logs.lines().count() > 10, "captured logs:\n{logs}");
    assert!(logs.contains("gdap_server"), "captured logs:\n{logs}");
    assert!(answers.iter().any(|a| a.contains("tenants")));

    let canaries = [
        ("the client secret", client_secret.as_str()),
        ("the first refresh token", first_token.as_str()),
        ("the last refresh token", last_token.as_str()),
    ];
    for (what, secret) in canaries {
        // A 16-character prefix is enough to catch a secret cut short in a message.
        let probe = &secret[..secret.len().min(16)];
        for line in logs.lines() {
            assert!(!line.contains(probe), "{what} in a log line: {line}");
        }
        for a in &answers {
            assert!(!a.contains(probe), "{what} in an API response: {a}");
        }
    }
}
