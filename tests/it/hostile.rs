//! A compromised or broken endpoint: every client (Graph, Partner Center, the Entra token client)
//! against the sandbox's hostile fault kinds. Each must refuse or bound the answer: no request
//! reaches the other host (a second listener counts connections), a typed error comes back, the
//! wait stays bounded (short per-attempt timeout, elapsed checked) and so does memory (a 50 MB
//! body is cut at the body cap).
//!
//! Real time: the endless body is bounded by the per-attempt timeout, which paused time would
//! fire spuriously.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use gdap_auth::{AppCredentials, Authority, ClientSecretCredential, TokenClientOptions};
use gdap_core::{AppId, RetryOptions, StaticTokenCredential, TenantId, TokenCredential};
use gdap_graph::GraphClient;
use gdap_partner_center::PartnerCenterClient;
use gdap_sandbox::{FaultKind, FaultRule, Faults, Sandbox, SandboxHandle, World};
use secrecy::SecretString;

/// Per-attempt timeout of every client here.
const ATTEMPT: Duration = Duration::from_millis(800);
/// Deadline of each call, retries included.
const DEADLINE: Duration = Duration::from_secs(3);
/// What "bounded" means for one call: the deadline plus one attempt plus slack for a busy box.
const BOUND: Duration = Duration::from_secs(6);

/// A listener on another port that only counts the connections it gets.
struct Foreign {
    base: String,
    hits: Arc<AtomicUsize>,
}

async fn foreign() -> Foreign {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            h.fetch_add(1, Ordering::SeqCst);
            drop(sock);
        }
    });
    Foreign { base, hits }
}

fn retry() -> RetryOptions {
    RetryOptions::default()
        .with_delays(Duration::from_millis(50), Duration::from_millis(200))
        .with_total_deadline(DEADLINE)
}

struct Env {
    sandbox: SandboxHandle,
    graph: GraphClient,
    pc: PartnerCenterClient,
    auth: ClientSecretCredential,
    foreign: Foreign,
}

async fn env() -> Env {
    let sandbox = Sandbox::builder()
        .world(World::seeded(12, 5))
        .start()
        .await
        .unwrap();
    let info = sandbox.world_info();
    let graph_token = sandbox
        .issue_access_token(
            &info.admin_upn,
            &info.partner_tenant_id,
            "https://graph.microsoft.com/.default",
        )
        .unwrap();
    let pc_token = sandbox
        .issue_access_token(
            &info.admin_upn,
            &info.partner_tenant_id,
            "https://api.partnercenter.microsoft.com/.default",
        )
        .unwrap();
    let graph = GraphClient::builder()
        .with_endpoint(sandbox.graph_url())
        .with_credential(Arc::new(StaticTokenCredential::new(graph_token)))
        .with_retry(retry())
        .with_timeout(ATTEMPT)
        .build()
        .unwrap();
    let pc = PartnerCenterClient::builder()
        .with_endpoint(sandbox.partner_center_url())
        .with_credential(Arc::new(StaticTokenCredential::new(pc_token)))
        .with_retry(retry())
        .with_timeout(ATTEMPT)
        .build()
        .unwrap();
    let mut options = TokenClientOptions::default().with_retry(retry());
    options.timeout = Some(ATTEMPT);
    let app = AppCredentials::confidential(
        info.client_id.parse::<AppId>().unwrap(),
        SecretString::from(info.client_secret.clone()),
    );
    let auth = ClientSecretCredential::new_with_options(
        Authority::new(sandbox.authority_url()).unwrap(),
        info.partner_tenant_id.parse::<TenantId>().unwrap(),
        app,
        options,
    )
    .unwrap();
    Env {
        sandbox,
        graph,
        pc,
        auth,
        foreign: foreign().await,
    }
}

impl Env {
    /// Every Graph, Partner Center and login request meets `kind`.
    fn hostile(&self, kind: FaultKind) {
        let mut f = Faults::new();
        for p in ["/graph/**", "/partnercenter/**", "/login/**"] {
            f = f.rule(FaultRule::on("*", p, kind.clone()));
        }
        self.sandbox.set_faults(f);
        self.auth.clear_cache();
    }

    async fn graph_err(&self) -> (gdap_graph::Error, Duration) {
        let t = Instant::now();
        let r: Result<Vec<_>, _> = self.graph.list_relationships(None).try_collect().await;
        let e = r.expect_err("the Graph listing must fail");
        (e, t.elapsed())
    }

    async fn pc_err(&self) -> (gdap_partner_center::Error, Duration) {
        let t = Instant::now();
        let r: Result<Vec<_>, _> = self.pc.list_customers(None).try_collect().await;
        let e = r.expect_err("the Partner Center listing must fail");
        (e, t.elapsed())
    }

    async fn auth_err(&self) -> (gdap_core::Error, Duration) {
        let t = Instant::now();
        let e = self
            .auth
            .get_token(&[gdap_auth::scopes::GRAPH_DEFAULT])
            .await
            .expect_err("the token request must fail");
        (e, t.elapsed())
    }

    fn no_foreign_request(&self) {
        assert_eq!(
            self.foreign.hits.load(Ordering::SeqCst),
            0,
            "a request reached the other host"
        );
    }
}

/// The gdap-auth error behind a credential error.
fn auth_cause(e: &gdap_core::Error) -> &gdap_auth::Error {
    e.as_credential()
        .and_then(|c| c.cause())
        .and_then(|c| c.downcast_ref::<gdap_auth::Error>())
        .unwrap_or_else(|| panic!("not a gdap-auth error: {e:?}"))
}

fn pc_core(e: &gdap_partner_center::Error) -> &gdap_core::Error {
    e.as_core()
        .or_else(|| e.details().map(|d| d.core()))
        .unwrap_or_else(|| panic!("no pipeline error inside: {e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_link_to_another_host_is_refused() {
    let env = env().await;
    env.hostile(FaultKind::ForeignNextLink {
        base: env.foreign.base.clone(),
    });
    let (e, _) = env.graph_err().await;
    assert!(
        matches!(e.as_core(), Some(gdap_core::Error::ForeignOrigin(o)) if o.origin() == env.foreign.base),
        "{e:?}"
    );
    let (e, _) = env.pc_err().await;
    assert!(
        matches!(pc_core(&e), gdap_core::Error::ForeignOrigin(_)),
        "{e:?}"
    );
    // A token endpoint answering with a page is not a token: a typed decode error.
    let (e, _) = env.auth_err().await;
    assert!(
        matches!(auth_cause(&e), gdap_auth::Error::Decode(_)),
        "{e:?}"
    );
    env.no_foreign_request();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_host_is_not_followed() {
    let env = env().await;
    env.hostile(FaultKind::RedirectTo {
        base: env.foreign.base.clone(),
    });
    let (e, _) = env.graph_err().await;
    assert_eq!(e.status(), Some(302), "{e:?}");
    assert!(e.to_string().contains("not followed"), "{e}");
    let (e, _) = env.pc_err().await;
    assert_eq!(e.status(), Some(302), "{e:?}");
    let (e, _) = env.auth_err().await;
    match auth_cause(&e) {
        gdap_auth::Error::Decode(d) => assert_eq!(d.status(), 302),
        other => panic!("{other:?}"),
    }
    env.no_foreign_request();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_body_is_cut_at_the_cap() {
    let env = env().await;
    env.hostile(FaultKind::HugeBody {
        bytes: 50 * 1024 * 1024,
    });
    let (e, took) = env.graph_err().await;
    assert!(
        matches!(e.as_core(), Some(gdap_core::Error::BodyTooLarge { limit, .. }) if *limit == 16 * 1024 * 1024),
        "{e:?}"
    );
    assert!(took < BOUND, "{took:?}");
    let (e, took) = env.pc_err().await;
    assert!(
        matches!(pc_core(&e), gdap_core::Error::BodyTooLarge { .. }),
        "{e:?}"
    );
    assert!(took < BOUND, "{took:?}");
    // The token client caps its answers at 256 KiB.
    let (e, took) = env.auth_err().await;
    match auth_cause(&e) {
        gdap_auth::Error::Transport(t) => assert!(t.to_string().contains("exceeded"), "{t}"),
        other => panic!("{other:?}"),
    }
    assert!(took < BOUND, "{took:?}");
    // Nothing was retried: a body over the cap is not transient.
    let stats = env.sandbox.stats();
    assert_eq!(stats.faults_injected, 3, "{:?}", stats.fault_log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_ends_times_out() {
    let env = env().await;
    env.hostile(FaultKind::EndlessBody { interval_ms: 50 });
    let (e, took) = env.graph_err().await;
    assert!(
        e.as_core().is_some_and(gdap_core::Error::is_timeout),
        "{e:?}"
    );
    assert!(took < BOUND, "{took:?}");
    let (e, took) = env.pc_err().await;
    assert!(pc_core(&e).is_timeout(), "{e:?}");
    assert!(took < BOUND, "{took:?}");
    let (e, took) = env.auth_err().await;
    match auth_cause(&e) {
        gdap_auth::Error::Transport(t) => {
            assert_eq!(t.kind(), gdap_core::error::TransportKind::Timeout, "{t}")
        }
        other => panic!("{other:?}"),
    }
    assert!(took < BOUND, "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_page_is_a_decode_error() {
    let env = env().await;
    env.hostile(FaultKind::WrongContentType);
    let (e, _) = env.graph_err().await;
    match e.as_core() {
        Some(gdap_core::Error::Decode(d)) => {
            assert_eq!(d.content_type(), Some("text/html; charset=utf-8"));
            assert_eq!(d.status(), 200);
        }
        other => panic!("{other:?}"),
    }
    let (e, _) = env.pc_err().await;
    assert!(matches!(pc_core(&e), gdap_core::Error::Decode(_)), "{e:?}");
    let (e, _) = env.auth_err().await;
    assert!(
        matches!(auth_cause(&e), gdap_auth::Error::Decode(_)),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_of_ten_years_returns_the_throttled_error_at_once() {
    let env = env().await;
    env.hostile(FaultKind::Status429 {
        retry_after_secs: Faults::TEN_YEARS_SECS,
    });
    let ten_years = Duration::from_secs(Faults::TEN_YEARS_SECS);
    let (e, took) = env.graph_err().await;
    assert!(e.is_throttled(), "{e:?}");
    assert_eq!(e.retry_after(), Some(ten_years));
    assert!(took < Duration::from_secs(2), "{took:?}");
    let (e, took) = env.pc_err().await;
    assert!(e.is_throttled(), "{e:?}");
    assert_eq!(e.retry_after(), Some(ten_years));
    assert!(took < Duration::from_secs(2), "{took:?}");
    let (e, took) = env.auth_err().await;
    assert_eq!(auth_cause(&e).status(), Some(429), "{e:?}");
    assert_eq!(auth_cause(&e).retry_after(), Some(ten_years));
    assert!(took < Duration::from_secs(2), "{took:?}");
    // One attempt each: the wait would cross the deadline, so none was started.
    assert_eq!(env.sandbox.stats().faults_injected, 3);
}

/// The named profile mixes all of the above; whatever a call meets, it ends bounded with a
/// typed error or a result, and nothing reaches the other host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hostile_profile_is_survived() {
    let env = env().await;
    env.sandbox
        .set_faults(Faults::hostile(&env.foreign.base).seed(3));
    for _ in 0..6 {
        let t = Instant::now();
        let _ = env.graph.get_organization().await;
        let r: Result<Vec<_>, _> = env.pc.list_customers(None).try_collect().await;
        let _ = r;
        assert!(t.elapsed() < BOUND * 2, "{:?}", t.elapsed());
    }
    env.no_foreign_request();
    assert!(env.sandbox.stats().faults_injected > 0);
}

// ---------------------------------------------------------------------------------------------
// Truncated, oversized (10 MB) and wrong-typed bodies, for every client, from a raw server that
// answers exactly the bytes it is given.

/// A loopback server answering every request with `response` (raw HTTP/1.1 bytes), then closing.
async fn raw_server(response: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let response = Arc::new(response);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                // Read the request head and body so closing does not reset the connection early.
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_ascii_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let _ = sock.write_all(&response).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    base
}

fn http_response(status: &str, content_length: Option<usize>, body: &[u8]) -> Vec<u8> {
    let mut r =
        format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\nconnection: close\r\n");
    if let Some(n) = content_length {
        r.push_str(&format!("content-length: {n}\r\n"));
    }
    r.push_str("\r\n");
    let mut r = r.into_bytes();
    r.extend_from_slice(body);
    r
}

/// The three clients against `base`, with one attempt each so a case is a single exchange.
fn raw_clients(base: &str) -> (GraphClient, PartnerCenterClient, ClientSecretCredential) {
    let once = RetryOptions::none();
    let graph = GraphClient::builder()
        .with_endpoint(format!("{base}/graph/v1.0").parse().unwrap())
        .with_credential(Arc::new(StaticTokenCredential::new("canary-at")))
        .with_retry(once.clone())
        .with_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let pc = PartnerCenterClient::builder()
        .with_endpoint(format!("{base}/partnercenter").parse().unwrap())
        .with_credential(Arc::new(StaticTokenCredential::new("canary-at")))
        .with_retry(once.clone())
        .with_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut options = TokenClientOptions::default().with_retry(once);
    options.timeout = Some(Duration::from_secs(5));
    let auth = ClientSecretCredential::new_with_options(
        Authority::new(format!("{base}/login").parse().unwrap()).unwrap(),
        "aaaaaaaa-0000-0000-0000-000000000001".parse().unwrap(),
        AppCredentials::confidential(
            "11111111-2222-3333-4444-555555555555".parse().unwrap(),
            SecretString::from("canary-secret".to_owned()),
        ),
        options,
    )
    .unwrap();
    (graph, pc, auth)
}

/// What each client made of one answer: the error texts (bounded) and a kind.
async fn all_fail(response: Vec<u8>) -> [(String, &'static str); 3] {
    let base = raw_server(response).await;
    let (graph, pc, auth) = raw_clients(&base);
    let g: Result<Vec<_>, _> = graph.list_relationships(None).try_collect().await;
    let g = g.expect_err("graph must fail");
    let p: Result<Vec<_>, _> = pc.list_customers(None).try_collect().await;
    let p = p.expect_err("partner center must fail");
    let a = auth
        .get_token(&[gdap_auth::scopes::GRAPH_DEFAULT])
        .await
        .expect_err("token must fail");
    let kind_core = |e: &gdap_core::Error| match e {
        gdap_core::Error::Decode(_) => "decode",
        gdap_core::Error::Transport(_) => "transport",
        gdap_core::Error::BodyTooLarge { .. } => "too_large",
        _ => "other",
    };
    let kind_auth = |e: &gdap_auth::Error| match e {
        gdap_auth::Error::Decode(_) => "decode",
        gdap_auth::Error::Transport(_) => "transport",
        _ => "other",
    };
    let out = [
        (format!("{g} {g:?}"), kind_core(g.as_core().unwrap())),
        (format!("{p} {p:?}"), kind_core(pc_core(&p))),
        (format!("{a} {a:?}"), kind_auth(auth_cause(&a))),
    ];
    for (text, _) in &out {
        // Errors keep a bounded snippet, never the whole body.
        assert!(text.len() < 16 * 1024, "{} bytes of error text", text.len());
        assert!(!text.contains("canary-secret"), "{text}");
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_bodies_are_typed_errors() {
    // Valid HTTP, JSON cut in the middle.
    let cut = br#"{"value": [{"id": "5d027261-d21f-4aa9-b7db", "items": [{"#;
    let r = all_fail(http_response("200 OK", Some(cut.len()), cut)).await;
    assert_eq!(
        r.clone().map(|(_, k)| k),
        ["decode", "decode", "decode"],
        "{r:?}"
    );
    // The connection closes before Content-Length is reached.
    let r = all_fail(http_response("200 OK", Some(10_000), cut)).await;
    assert_eq!(
        r.clone().map(|(_, k)| k),
        ["transport", "transport", "transport"],
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_mb_body_is_bounded() {
    // 10 MB of a wrong-typed value: under the 16 MiB cap of Graph and Partner Center (read, then a
    // decode error with a 2 KB snippet), over the 256 KiB cap of the token client.
    let mut body = br#"{"value": 7, "items": 7, "access_token": ""#.to_vec();
    body.resize(10 * 1024 * 1024, b'x');
    body.extend_from_slice(b"\"}");
    let r = all_fail(http_response("200 OK", None, &body)).await;
    assert_eq!(
        r.clone().map(|(_, k)| k),
        ["decode", "decode", "transport"],
        "{r:?}"
    );
    assert!(r[2].0.contains("exceeded"), "{}", r[2].0);
    // Declared up front: the same, without reading the token answer at all.
    let r = all_fail(http_response("200 OK", Some(body.len()), &body)).await;
    assert_eq!(
        r.clone().map(|(_, k)| k),
        ["decode", "decode", "transport"],
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_typed_bodies_are_decode_errors() {
    for body in [
        &br#"{"value": [{"id": 5, "status": []}], "items": [{"id": 5, "companyProfile": 3}], "access_token": 5, "token_type": "Bearer", "expires_in": "soon"}"#[..],
        br#"[1, 2, 3]"#,
        br#""a string""#,
        br#"{"value": {"a": 1}, "items": null, "access_token": null}"#,
    ] {
        let r = all_fail(http_response("200 OK", Some(body.len()), body)).await;
        assert_eq!(r.clone().map(|(_, k)| k), ["decode", "decode", "decode"], "{r:?}");
    }
}
