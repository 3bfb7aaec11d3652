#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report.
//! gdap-server over real HTTP on 127.0.0.1, against gdap-sandbox.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use gdap_sandbox::{Sandbox, SandboxHandle, World};
use gdap_server::{
    CloudMode, Config, Endpoints, KeySource, Permission, ROUTES, Role, RunningServer,
};
use reqwest::{Client, Method, StatusCode, header};
use secrecy::SecretString;
use serde_json::{Value, json};

/// A fixed test key (base64 of 32 bytes).
const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn sandbox(tenants: usize, latency: Duration) -> SandboxHandle {
    Sandbox::builder()
        .world(World::seeded(11, tenants))
        .latency(latency)
        .propagation_delay(Duration::from_millis(10))
        .start()
        .await
        .unwrap()
}

async fn server(db: &Path, sb: &SandboxHandle) -> RunningServer {
    let mut config = Config::new(
        db.to_path_buf(),
        "127.0.0.1:0".parse().unwrap(),
        CloudMode::Endpoints(Endpoints::of_sandbox(sb).unwrap()),
    );
    config.key = KeySource::Inline(SecretString::from(KEY.to_owned()));
    config.job_concurrency = 2;
    gdap_server::start(config).await.unwrap()
}

fn set_cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Runs /connect → sandbox authorize → /connect/callback as `token`'s member.
async fn connect(c: &Client, base: &str, token: &str) -> reqwest::Response {
    let r = c
        .get(format!("{base}/connect"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&r, "gdap_oauth").expect("pending sign-in cookie");
    let authorize = location(&r);
    let r = c.get(&authorize).send().await.unwrap();
    assert!(r.status().is_redirection(), "authorize: {}", r.status());
    let callback = location(&r);
    assert!(
        callback.starts_with(&format!("{base}/connect/callback?")),
        "{callback}"
    );
    c.get(&callback)
        .bearer_auth(token)
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

async fn users(db: &Path) -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    for r in Role::ALL {
        let email = format!("{}@msp.example", r.as_str());
        out.insert(
            r.as_str(),
            gdap_server::add_user(db, &email, r).await.unwrap(),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_matrix_every_role_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gdap.db");
    let sb = sandbox(12, Duration::ZERO).await;
    let tokens = users(&db).await;
    let srv = server(&db, &sb).await;
    let base = srv.url();
    let c = client();
    assert_eq!(
        connect(&c, &base, &tokens["owner"]).await.status(),
        StatusCode::SEE_OTHER
    );

    let table = json_of(
        c.get(format!("{base}/api/tenants"))
            .bearer_auth(&tokens["owner"])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let rows = table["tenants"].as_array().unwrap();
    let ready = rows
        .iter()
        .find(|t| {
            t["actions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "onboard")
        })
        .expect("a Ready tenant")["tenantId"]
        .as_str()
        .unwrap()
        .to_owned();

    let admin_upn = sb.world_info().admin_upn;

    // Allowed: the status each route answers for a member who may use it.
    let allowed = |m: &str, p: &str| -> Vec<u16> {
        match (m, p) {
            ("GET", "/healthz") | ("GET", "/login") => vec![200],
            ("POST", "/login") => vec![415],
            ("GET", "/connect/callback") => vec![400],
            ("POST", "/logout") | ("GET", "/connect") => vec![303],
            ("GET", "/api/jobs/{id}") => vec![404],
            ("POST", "/api/onboard") | ("POST", "/api/migrate") => vec![202],
            ("POST", "/api/tenants/{id}/migrate") => vec![409],
            // 409 tenantBusy while the batch job above still holds the tenant's lock.
            ("POST", "/api/tenants/{id}/onboard")
            | ("POST", "/api/tenants/{id}/refresh-email-perms") => vec![200, 409],
            // A new request, or refused because an active relationship already has the roles.
            ("POST", "/api/tenants/{id}/request-permissions") => vec![200, 409],
            // Public, but the path key is wrong (`{key}` literally): 404, whoever calls.
            ("POST", "/webhooks/partner-center/{key}") => vec![404],
            _ => vec![200],
        }
    };
    let mut checked = 0;
    for (role, token) in &tokens {
        let role: Role = role.parse().unwrap();
        for &(m, p, perm) in ROUTES {
            if p == "/disconnect" {
                continue; // checked last: it ends the connection
            }
            let url = format!(
                "{base}{}",
                p.replace(
                    "{id}",
                    if p.starts_with("/api/jobs") {
                        "no-such-job"
                    } else {
                        &ready
                    }
                )
            );
            let mut req = c
                .request(Method::from_bytes(m.as_bytes()).unwrap(), &url)
                .bearer_auth(token);
            if p == "/api/onboard" || p == "/api/migrate" {
                req = req.json(&json!({ "tenantIds": [ready] }));
            }
            // Lifecycle routes: dry runs (the permission is per route, so a dry run is checked
            // like the real run; tests/lifecycle.rs has the real runs) and a trace of the admin.
            if p == "/api/lifecycle/webhook" {
                req = req.json(&json!({ "url": "https://msp.example/hooks/pc", "dryRun": true }));
            } else if m == "POST" && p.starts_with("/api/lifecycle/") {
                req = req.json(&json!({ "dryRun": true }));
            } else if p == "/api/lifecycle/trace" {
                req = req.query(&[("user", admin_upn.as_str()), ("tenant", ready.as_str())]);
            }
            let status = req.send().await.unwrap().status().as_u16();
            let want = if role.can(perm) {
                allowed(m, p)
            } else {
                vec![403]
            };
            assert!(
                want.contains(&status),
                "{role} {m} {p}: got {status}, want {want:?}"
            );
            checked += 1;

            // Anonymous: 401 for the API, the login page for HTML GETs.
            if role == Role::Owner {
                let anon = c
                    .request(Method::from_bytes(m.as_bytes()).unwrap(), &url)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                let want: Vec<u16> = match perm {
                    Permission::Public => allowed(m, p),
                    _ if m == "GET" && !p.starts_with("/api/") => vec![303],
                    _ => vec![401],
                };
                assert!(
                    want.contains(&anon),
                    "anonymous {m} {p}: got {anon}, want {want:?}"
                );
            }
        }
    }
    assert_eq!(checked, 5 * (ROUTES.len() - 1));
    // The matrix deleted the tenant (DELETE /api/tenants/{id}) while the jobs it started onboard
    // it: onboard it once more, after every delete, so its final state is known (409 while a
    // job still holds it).
    let mut onboarded = false;
    for _ in 0..500 {
        let r = c
            .post(format!("{base}/api/tenants/{ready}/onboard"))
            .bearer_auth(&tokens["owner"])
            .send()
            .await
            .unwrap();
        match r.status() {
            StatusCode::OK => {
                assert_eq!(json_of(r).await["outcome"], "verified");
                onboarded = true;
                break;
            }
            StatusCode::CONFLICT => tokio::time::sleep(Duration::from_millis(20)).await,
            other => panic!("onboard: {other} {}", json_of(r).await),
        }
    }
    assert!(onboarded, "the tenant stayed busy");
    for role in ["guest", "billing", "member"] {
        let s = c
            .post(format!("{base}/disconnect"))
            .bearer_auth(&tokens[role])
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(
            s,
            if role == "member" {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            },
            "{role} /disconnect"
        );
    }
    // Disconnect keeps the onboarded tenants: the table still shows them as Monitoring.
    let after = json_of(
        c.get(format!("{base}/api/tenants"))
            .bearer_auth(&tokens["admin"])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(after["connected"], false);
    let row = after["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenantId"] == ready.as_str())
        .unwrap();
    assert_eq!(row["status"], "monitoring");
    // Re-authenticate: connection back, tenants kept.
    assert_eq!(
        connect(&c, &base, &tokens["admin"]).await.status(),
        StatusCode::SEE_OTHER
    );
    let conn = json_of(
        c.get(format!("{base}/api/connection"))
            .bearer_auth(&tokens["admin"])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(conn["connected"], true);
    srv.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_csrf_bodies_and_seed_003_messages() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gdap.db");
    let sb = sandbox(6, Duration::ZERO).await;
    let tokens = users(&db).await;
    let srv = server(&db, &sb).await;
    let base = srv.url();
    let c = client();
    connect(&c, &base, &tokens["admin"]).await;

    // Login form: double-submit CSRF, then an HttpOnly SameSite=Strict session.
    let r = c.get(format!("{base}/login")).send().await.unwrap();
    let login_cookie = set_cookie(&r, "gdap_login_csrf").unwrap();
    let csrf = login_cookie.split_once('=').unwrap().1.to_owned();
    let bad = c
        .post(format!("{base}/login"))
        .form(&[
            ("email", "admin@msp.example"),
            ("token", tokens["admin"].as_str()),
            ("csrf", "forged"),
        ])
        .header(header::COOKIE, &login_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(format!("{base}/login"))
        .form(&[
            ("email", "admin@msp.example"),
            ("token", tokens["admin"].as_str()),
            ("csrf", csrf.as_str()),
        ])
        .header(header::COOKIE, &login_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let raw = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("gdap_session="))
        .unwrap();
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Strict"),
        "{raw}"
    );
    let session = set_cookie(&r, "gdap_session").unwrap();
    let page = c
        .get(format!("{base}/"))
        .header(header::COOKIE, &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for col in [
        "Tenant",
        "GDAP Permissions",
        "Users",
        "Status",
        "Email Perms",
        "Actions",
        "Sync Tenants",
        "Re-authenticate with Microsoft Partner Center",
    ] {
        assert!(page.contains(col), "page lacks {col}");
    }
    let page_csrf = page
        .split("name=\"csrf\" content=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let no_csrf = c
        .post(format!("{base}/api/sync"))
        .header(header::COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    assert_eq!(json_of(no_csrf).await["error"]["key"], "csrf");
    let with = c
        .post(format!("{base}/api/sync"))
        .header(header::COOKIE, &session)
        .header("x-csrf-token", &page_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), StatusCode::OK);

    // Bodies: bad JSON 400, wrong type 415, too large 413 — all with a clear JSON message.
    let admin = &tokens["admin"];
    let r = c
        .post(format!("{base}/api/onboard"))
        .bearer_auth(admin)
        .header(header::CONTENT_TYPE, "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        json_of(r).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    let r = c
        .post(format!("{base}/api/onboard"))
        .bearer_auth(admin)
        .header(header::CONTENT_TYPE, "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let big = format!("{{\"tenantIds\":[\"{}\"]}}", "a".repeat(70 * 1024));
    let r = c
        .post(format!("{base}/api/onboard"))
        .bearer_auth(admin)
        .header(header::CONTENT_TYPE, "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Seed 003: a second partner tenant is 409; hard-deleting the own tenant is 403 with the message.
    let r = c
        .post(format!("{base}/api/my-tenant/enable"))
        .bearer_auth(admin)
        .json(&json!({"tenantId": "11111111-2222-3333-4444-555555555555"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "first partner tenant");
    let r = c
        .post(format!("{base}/api/my-tenant/enable"))
        .bearer_auth(admin)
        .json(&json!({"tenantId": "99999999-2222-3333-4444-555555555555"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = c
        .delete(format!(
            "{base}/api/tenants/11111111-2222-3333-4444-555555555555"
        ))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body = json_of(r).await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains(
            "Cannot hard-delete the MSP's own partner tenant. Disable via /my-tenant first."
        ),
        "{body}"
    );
    // Member: enable/disable is owner/admin only.
    let r = c
        .post(format!("{base}/api/my-tenant/disable"))
        .bearer_auth(&tokens["member"])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    srv.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_state_mismatch_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gdap.db");
    let sb = sandbox(3, Duration::ZERO).await;
    let tokens = users(&db).await;
    let srv = server(&db, &sb).await;
    let base = srv.url();
    let c = client();
    let admin = &tokens["admin"];

    let r = c
        .get(format!("{base}/connect"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    let cookie = set_cookie(&r, "gdap_oauth").unwrap();
    let r = c.get(location(&r)).send().await.unwrap();
    let callback = url::Url::parse(&location(&r)).unwrap();
    let code: String = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let forged = format!("{base}/connect/callback?code={code}&state=forged-state");
    let r = c
        .get(&forged)
        .bearer_auth(admin)
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(r).await["error"]["key"], "oauthStateMismatch");
    // The pending sign-in is single-use: replaying the real callback now fails too.
    let r = c
        .get(callback.as_str())
        .bearer_auth(admin)
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // No pending sign-in in this browser at all.
    let r = c
        .get(callback.as_str())
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await["error"]["key"], "noPendingSignIn");
    let conn = json_of(
        c.get(format!("{base}/api/connection"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(conn["connected"], false);
    srv.shutdown(Duration::from_secs(5)).await;
}

fn files_of(db: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", db.display())))
        .filter(|p| p.exists())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_is_encrypted_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gdap.db");
    let sb = sandbox(3, Duration::ZERO).await;
    let tokens = users(&db).await;
    let srv = server(&db, &sb).await;
    let c = client();
    connect(&c, &srv.url(), &tokens["admin"]).await;
    // Use the connection so a rotated token is stored too.
    let r = c
        .get(format!("{}/api/tenants", srv.url()))
        .bearer_auth(&tokens["admin"])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    srv.shutdown(Duration::from_secs(5)).await;

    // The canary: the stored refresh token itself, decrypted independently with the key.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let sealed: Vec<u8> = conn
        .query_row(
            "SELECT encrypted_refresh_token FROM partner_connection",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    let key = base64::engine::general_purpose::STANDARD
        .decode(KEY)
        .unwrap();
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&key));
    assert_eq!(sealed[0], 1);
    let plain = cipher
        .decrypt(
            Nonce::from_slice(&sealed[1..13]),
            Payload {
                msg: &sealed[13..],
                aad: b"gdap-server/partner-refresh-token/v1",
            },
        )
        .unwrap();
    assert!(plain.len() > 20, "a real refresh token");
    let canary = &plain[..plain.len().min(40)];
    let files = files_of(&db);
    assert!(!files.is_empty());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(canary.len()).any(|w| w == canary),
            "plaintext refresh token found in {}",
            f.display()
        );
    }
    // API tokens are stored hashed too.
    let all = std::fs::read(&db).unwrap();
    for t in tokens.values() {
        assert!(!all.windows(t.len()).any(|w| w == t.as_bytes()));
    }
}

async fn wait_job(
    c: &Client,
    base: &str,
    token: &str,
    job: &str,
    until: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..600 {
        let r = c
            .get(format!("{base}/api/jobs/{job}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let v = json_of(r).await;
        if until(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("job {job} did not reach the state in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_job_survives_a_restart_without_duplicate_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gdap.db");
    let sb = sandbox(40, Duration::from_millis(15)).await;
    let tokens = users(&db).await;
    let admin = tokens["admin"].clone();
    let c = client();
    let srv = server(&db, &sb).await;
    let base = srv.url();
    connect(&c, &base, &admin).await;
    let table = json_of(
        c.get(format!("{base}/api/tenants"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let ids: Vec<String> = table["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            t["actions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "onboard")
        })
        .map(|t| t["tenantId"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.len() >= 6, "enough Ready tenants: {}", ids.len());
    sb.reset_stats();
    let r = c
        .post(format!("{base}/api/onboard"))
        .bearer_auth(&admin)
        .json(&json!({ "tenantIds": ids }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job = json_of(r).await["jobId"].as_str().unwrap().to_owned();
    let mid = wait_job(&c, &base, &admin, &job, |v| {
        v["counts"]["done"].as_u64().unwrap() + v["counts"]["failed"].as_u64().unwrap() >= 2
    })
    .await;
    assert!(
        mid["counts"]["pending"].as_u64().unwrap() > 0,
        "killed mid-run: {}",
        mid["counts"]
    );
    srv.kill().await;

    // Same database, new process state: the job resumes by itself.
    let srv = server(&db, &sb).await;
    let base = srv.url();
    let end = wait_job(&c, &base, &admin, &job, |v| {
        v["job"]["status"] == "completed"
    })
    .await;
    let items = end["items"].as_array().unwrap();
    // Done means verified by read-back: every item carries its workflow report.
    let done: Vec<&str> = items
        .iter()
        .filter(|i| i["status"] == "done")
        .map(|i| i["tenantId"].as_str().unwrap())
        .collect();
    for i in items {
        let report = &i["report"];
        match i["status"].as_str().unwrap() {
            "done" => {
                assert_eq!(report["outcome"], "verified", "{i}");
                let verify = report["steps"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|s| s["step"] == "verify")
                    .unwrap_or_else(|| panic!("no verify step: {i}"));
                assert!(
                    verify["status"] == "passed" || verify["status"] == "changed",
                    "{i}"
                );
            }
            "failed" => {
                assert_eq!(report["outcome"], "blocked", "{i}");
                assert!(i["error"]["key"].is_string(), "catalogue error: {i}");
            }
            other => panic!("unexpected item status {other}: {i}"),
        }
    }
    assert!(
        done.len() >= ids.len() - 1,
        "most Ready tenants verified: {end}"
    );
    assert_eq!(end["counts"]["total"].as_u64().unwrap() as usize, ids.len());
    assert_eq!(end["counts"]["pending"], 0);
    assert_eq!(end["counts"]["running"], 0);

    let stats = sb.stats();
    assert_eq!(
        stats.duplicate_writes, 0,
        "duplicates: {:?}",
        stats.duplicates_per_kind
    );
    let mut consents: BTreeMap<String, usize> = BTreeMap::new();
    for w in stats
        .writes
        .iter()
        .filter(|w| w.path.ends_with("/applicationconsents") && (200..300).contains(&w.status))
    {
        *consents.entry(w.path.to_lowercase()).or_default() += 1;
    }
    assert!(
        consents.values().all(|n| *n == 1),
        "a consent written twice: {consents:?}"
    );
    // A tenant whose report says the consent was written has exactly that one write.
    for i in items.iter().filter(|i| i["status"] == "done") {
        let t = i["tenantId"].as_str().unwrap().to_lowercase();
        let consent = i["report"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == "consentPartnerCenter")
            .unwrap();
        if consent["status"] == "changed" {
            assert!(
                consents.keys().any(|p| p.contains(&t)),
                "{t} reports a consent but none was written"
            );
        }
    }
    // The Graph side is done too now: app role grants were written.
    assert!(
        stats
            .writes
            .iter()
            .any(|w| w.path.ends_with("/appRoleAssignedTo") && (200..300).contains(&w.status)),
        "no app role grant written: {:?}",
        stats.writes.iter().map(|w| &w.path).collect::<Vec<_>>()
    );
    // The table shows them onboarded.
    let table = json_of(
        c.get(format!("{base}/api/tenants?sync=false"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    for t in &done {
        let row = table["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["tenantId"] == *t)
            .unwrap();
        assert_eq!(row["status"], "monitoring", "{t}");
    }
    srv.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_tenant_routes_return_the_verified_report_or_the_catalogue_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gdap.db");
    let sb = sandbox(12, Duration::ZERO).await;
    let tokens = users(&db).await;
    let admin = tokens["admin"].clone();
    let c = client();
    let srv = server(&db, &sb).await;
    let base = srv.url();
    connect(&c, &base, &admin).await;
    let table = json_of(
        c.get(format!("{base}/api/tenants"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let rows = table["tenants"].as_array().unwrap();
    let with_action = |a: &str| {
        rows.iter()
            .find(|t| t["actions"].as_array().unwrap().iter().any(|x| x == a))
            .map(|t| t["tenantId"].as_str().unwrap().to_owned())
    };
    let ready = with_action("onboard").expect("a Ready tenant");
    let not_ready = rows
        .iter()
        .find(|t| t["gdap"]["state"] == "missing" || t["gdap"].get("missing").is_some())
        .map(|t| t["tenantId"].as_str().unwrap().to_owned());

    // Dry run: the plan, and nothing written anywhere.
    sb.reset_stats();
    let r = c
        .post(format!("{base}/api/tenants/{ready}/onboard?dryRun=true"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let plan = json_of(r).await;
    assert_eq!(plan["dryRun"], true, "{plan}");
    let writes = plan["plans"][0]["writes"].as_array().unwrap();
    assert!(!writes.is_empty(), "an onboard plan writes: {plan}");
    let r = c
        .post(format!("{base}/api/onboard"))
        .bearer_auth(&admin)
        .json(&json!({ "tenantIds": [ready], "dryRun": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "batch dry run answers at once");
    assert_eq!(json_of(r).await["plans"].as_array().unwrap().len(), 1);
    // (Token requests are POSTs too; they change nothing.)
    let written: Vec<_> = sb
        .stats()
        .writes
        .into_iter()
        .filter(|w| !w.path.ends_with("/oauth2/v2.0/token"))
        .collect();
    assert!(written.is_empty(), "a dry run wrote: {written:?}");

    // The real thing: 200 with the report, verified by read-back; the row turns Monitoring.
    let r = c
        .post(format!("{base}/api/tenants/{ready}/onboard"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("x-gdap-run-id"));
    let report = json_of(r).await;
    assert_eq!(report["tenantId"], ready.as_str());
    assert_eq!(report["outcome"], "verified", "{report}");
    assert!(
        report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["step"] == "grantAppRoles" && s["status"] == "changed"),
        "{report}"
    );
    let after = json_of(
        c.get(format!("{base}/api/tenants?sync=false"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let row = after["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenantId"] == ready.as_str())
        .unwrap();
    assert_eq!(row["status"], "monitoring");
    // Again: nothing to write, still verified, no duplicate.
    let r = c
        .post(format!("{base}/api/tenants/{ready}/onboard"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let again = json_of(r).await;
    assert_eq!(again["outcome"], "verified");
    assert!(
        again["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] != "changed"),
        "a rerun wrote: {again}"
    );
    assert_eq!(sb.stats().duplicate_writes, 0);

    // Migrate a tenant that is not legacy: 409 with the catalogue row, and the report.
    let r = c
        .post(format!("{base}/api/tenants/{ready}/migrate"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = json_of(r).await;
    assert!(body["error"]["key"].is_string(), "{body}");
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    assert_eq!(body["report"]["outcome"], "blocked", "{body}");

    // A tenant without the GDAP roles: blocked at preflight, 422 naming the missing roles.
    {
        let t = not_ready.expect("a tenant without the GDAP roles in the seeded world");
        let r = c
            .post(format!("{base}/api/tenants/{t}/onboard"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = json_of(r).await;
        assert_eq!(body["report"]["outcome"], "blocked", "{body}");
        assert_eq!(body["error"]["key"], "gdapPermissionsMissing", "{body}");
        assert!(
            body["error"]["details"][0]
                .as_str()
                .unwrap()
                .starts_with("Missing: "),
            "names the missing roles: {body}"
        );
        assert_eq!(sb.stats().duplicate_writes, 0);
    }
    srv.shutdown(Duration::from_secs(5)).await;
}
