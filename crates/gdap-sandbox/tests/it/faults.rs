use std::time::{Duration, Instant};

use gdap_sandbox::{FaultKind, FaultRule, Faults, Stats};
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

const REL: &str = "/tenantRelationships/delegatedAdminRelationships?$top=1";

async fn statuses(e: &Env, tok: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        match e.http.get(e.graph(REL)).bearer_auth(tok).send().await {
            Ok(r) => out.push(r.status().as_u16()),
            Err(_) => out.push(0),
        }
    }
    out
}

#[tokio::test]
async fn status_faults_first_n_and_every_nth() {
    let faults = Faults::new()
        .rule(
            FaultRule::on(
                "GET",
                "/graph/v1.0/tenantRelationships/**",
                FaultKind::Status429 {
                    retry_after_secs: 3,
                },
            )
            .first(2),
        )
        .rule(
            FaultRule::on(
                "GET",
                "/graph/v1.0/tenantRelationships/**",
                FaultKind::Status503 {
                    retry_after_secs: Some(1),
                },
            )
            .every_nth(4),
        )
        .rule(FaultRule::on(
            "GET",
            "/graph/v1.0/organization",
            FaultKind::Status500,
        ));
    let e = start(builder().faults(faults)).await;
    let tok = e.graph_token().await;
    let r = e
        .http
        .get(e.graph(REL))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "3");
    let v: Value = r.json().await.unwrap();
    assert_eq!(err_code(&v), "TooManyRequests");
    // Requests 2..=8 of the route: 429, ok, 503 (4th), ok, ok, ok, 503 (8th).
    let got = statuses(&e, &tok, 7).await;
    assert_eq!(got, vec![429, 200, 503, 200, 200, 200, 503]);
    let r = e
        .http
        .get(e.graph("/organization"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let st: Stats = e.h.stats();
    assert_eq!(st.responses_429, 2);
    assert_eq!(st.faults_injected, 5);
    assert_eq!(
        st.route("GET /graph/v1.0/tenantRelationships/delegatedAdminRelationships"),
        8
    );
    // Login is untouched by Graph rules (the token call above succeeded).
    assert_eq!(st.route("POST /login/{tenant}/oauth2/v2.0/token"), 1);
}

#[tokio::test]
async fn partner_center_throttle_body() {
    let faults = Faults::new().rule(
        FaultRule::on(
            "*",
            "/partnercenter/**",
            FaultKind::Status429 {
                retry_after_secs: 57,
            },
        )
        .first(1),
    );
    let e = start(builder().faults(faults)).await;
    let pc = e.pc_token().await;
    let r = e
        .http
        .get(e.pc("/v1/customers"))
        .bearer_auth(&pc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "57");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["statusCode"], 429);
    assert_eq!(
        v["message"],
        "Rate limit is exceeded. Try again in 57 seconds."
    );
}

#[tokio::test]
async fn connection_reset_drops_the_connection() {
    let faults = Faults::new().rule(
        FaultRule::on(
            "POST",
            "/partnercenter/v1/customers/*/applicationconsents",
            FaultKind::ConnectionReset,
        )
        .first(1),
    );
    let e = start(builder().faults(faults)).await;
    let pc = e.pc_token().await;
    let t = e.tenant_with("ready_ga", true).id.clone();
    let err = e
        .http
        .post(e.pc(&format!("/v1/customers/{t}/applicationconsents")))
        .bearer_auth(&pc)
        .json(&serde_json::json!({"applicationId": e.info.client_id, "applicationGrants": [{"enterpriseApplicationId": GRAPH_APP, "scope": "User.Read"}]}))
        .send()
        .await
        .expect_err("the connection is reset");
    assert!(!err.is_timeout(), "{err:?}");
    // The write never reached the handler.
    assert!(
        e.h.snapshot()
            .tenants
            .iter()
            .find(|x| x.id == t)
            .unwrap()
            .consents
            .is_empty()
    );
    let st = e.h.stats();
    let w = st
        .writes
        .iter()
        .find(|w| w.path.ends_with("applicationconsents"))
        .unwrap();
    assert_eq!(
        (w.status, w.fault.as_deref()),
        (0, Some("connection_reset"))
    );
    // The next attempt works.
    assert_eq!(
        e.consent(&pc, &t, "User.Read").await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn timeout_holds_longer_than_the_client_waits() {
    let faults = Faults::new().rule(FaultRule::on("GET", "/graph/**", FaultKind::Timeout).first(1));
    let e = start(
        builder()
            .faults(faults)
            .timeout_hold(Duration::from_secs(3)),
    )
    .await;
    let tok = e.graph_token().await;
    let err = e
        .http
        .get(e.graph(REL))
        .bearer_auth(&tok)
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .expect_err("times out");
    assert!(err.is_timeout());
    assert_eq!(statuses(&e, &tok, 1).await, vec![200]);
    // Shutdown ends held requests quickly.
    e.h.set_faults(Faults::new().rule(FaultRule::new(FaultKind::Timeout).path("/graph/**")));
    let http = e.http.clone();
    let url = e.graph(REL);
    let tok2 = tok.clone();
    let held = tokio::spawn(async move {
        http.get(url)
            .bearer_auth(tok2)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = Instant::now();
    e.h.shutdown().await;
    assert!(t0.elapsed() < Duration::from_secs(2));
    let res = held.await.unwrap();
    assert!(matches!(res, Ok(504) | Err(_)), "{res:?}");
}

#[tokio::test]
async fn latency_fixed_and_random() {
    let e = start(builder().latency(Duration::from_millis(150))).await;
    let tok = e.graph_token().await;
    let t0 = Instant::now();
    statuses(&e, &tok, 1).await;
    assert!(t0.elapsed() >= Duration::from_millis(150));
    let faults = Faults::new().seed(3).rule(FaultRule::on(
        "GET",
        "/graph/**",
        FaultKind::RandomLatency {
            min_ms: 100,
            max_ms: 120,
        },
    ));
    let e = start(builder().faults(faults)).await;
    let tok = e.graph_token().await;
    let t0 = Instant::now();
    statuses(&e, &tok, 2).await;
    assert!(t0.elapsed() >= Duration::from_millis(200));
    let st = e.h.stats();
    assert_eq!(st.fault_log.len(), 2);
    assert_eq!(st.fault_log[0].kinds, vec!["random_latency".to_string()]);
    let rule = FaultRule::on(
        "GET",
        "/graph/v1.0/organization",
        FaultKind::Latency { ms: 120 },
    );
    e.h.set_faults(Faults::new().rule(rule));
    let t0 = Instant::now();
    let _ = e
        .http
        .get(e.graph("/organization"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(120));
}

#[tokio::test]
async fn rate_limits_global_and_per_tenant() {
    let e = start(builder().faults(Faults::new().global_rate_limit(1.0, 3))).await;
    let tok = e.graph_token().await;
    let got = statuses(&e, &tok, 5).await;
    assert_eq!(&got[..3], &[200, 200, 200]);
    assert_eq!(got[3], 429);
    let r = e
        .http
        .get(e.graph(REL))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert!(e.h.stats().rate_limited >= 2);
    // Per tenant: the partner tenant's bucket is separate from a customer's.
    let e = start(builder().faults(Faults::new().tenant_rate_limit(0.5, 2))).await;
    let tok = e.graph_token().await;
    let t = e.tenant_with("ready_ga", true).id.clone();
    let ctok =
        e.h.issue_access_token(&e.info.admin_upn, &t, GRAPH)
            .unwrap();
    assert_eq!(statuses(&e, &tok, 3).await, vec![200, 200, 429]);
    let r = e
        .http
        .get(e.graph("/organization"))
        .bearer_auth(&ctok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Login is never rate limited.
    e.graph_token().await;
}

async fn fault_sequence(seed: u64) -> Vec<(u64, Vec<String>)> {
    let faults = Faults::new()
        .seed(seed)
        .rule(
            FaultRule::on(
                "*",
                "/graph/**",
                FaultKind::Status429 {
                    retry_after_secs: 1,
                },
            )
            .probability(0.3),
        )
        .rule(
            FaultRule::on(
                "*",
                "/graph/**",
                FaultKind::Status503 {
                    retry_after_secs: None,
                },
            )
            .probability(0.2),
        )
        .rule(
            FaultRule::on(
                "*",
                "/graph/**",
                FaultKind::RandomLatency {
                    min_ms: 0,
                    max_ms: 2,
                },
            )
            .probability(0.5),
        );
    let e = start(builder().faults(faults)).await;
    let tok = e.graph_token().await;
    statuses(&e, &tok, 40).await;
    e.h.stats()
        .fault_log
        .into_iter()
        .map(|f| (f.seq, f.kinds))
        .collect()
}

#[tokio::test]
async fn same_seed_same_fault_sequence() {
    let a = fault_sequence(11).await;
    let b = fault_sequence(11).await;
    let c = fault_sequence(12).await;
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[tokio::test]
async fn flaky_profile_spares_login() {
    let e = start(builder().faults(Faults::profile("flaky").unwrap())).await;
    for _ in 0..30 {
        let r = e.token_raw(&e.info.partner_tenant_id, &e.rt, GRAPH).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let tok = e.graph_token().await;
    let got = statuses(&e, &tok, 150).await;
    assert!(
        got.iter().any(|s| *s != 200),
        "some faults in 150 Graph calls"
    );
    assert!(got.iter().filter(|s| **s == 200).count() > 100);
    assert!(Faults::profile("nope").is_err());
    // Faults deserialize from JSON (CLI/config files).
    let f: Faults = serde_json::from_str(r#"{"seed":1,"rules":[{"method":"GET","path":"/graph/**","kind":{"type":"status_429","retry_after_secs":2},"trigger":{"type":"first_n","n":1}}],"tenant_rate_limit":{"per_second":5.0,"burst":10}}"#).unwrap();
    assert_eq!(f.rules.len(), 1);
}
