#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // a benchmark: panics and prints are its report.
//! 500 concurrent `GET /api/tenants` on 127.0.0.1 against a sandbox-mode server: all must
//! succeed. Run: `cargo bench -p gdap-server --bench concurrent_tenants`.

use std::time::{Duration, Instant};

use gdap_server::{CloudMode, Config, Role};

const CONCURRENT: usize = 500;
const ROUNDS: usize = 3;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gdap.db");
    let token = gdap_server::add_user(&db, "bench@msp.example", Role::Admin)
        .await
        .unwrap();
    let config = Config::new(
        db,
        "127.0.0.1:0".parse().unwrap(),
        CloudMode::Sandbox {
            tenants: 200,
            seed: 7,
        },
    );
    let server = gdap_server::start(config).await.unwrap();
    let url = format!("{}/api/tenants", server.url());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENT)
        .build()
        .unwrap();
    // Warm-up: the first request syncs 200 tenants from the sandbox.
    let t = Instant::now();
    let first = client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert!(first.status().is_success());
    let body = first.bytes().await.unwrap();
    println!(
        "first GET (sync on open, 200 tenants): {:?}, {} bytes",
        t.elapsed(),
        body.len()
    );

    for round in 1..=ROUNDS {
        let start = Instant::now();
        let tasks: Vec<_> = (0..CONCURRENT)
            .map(|_| {
                let client = client.clone();
                let url = url.clone();
                let token = token.clone();
                tokio::spawn(async move {
                    let t = Instant::now();
                    let r = client.get(&url).bearer_auth(&token).send().await?;
                    let status = r.status();
                    let _ = r.bytes().await?;
                    Ok::<_, reqwest::Error>((status, t.elapsed()))
                })
            })
            .collect();
        let mut latencies: Vec<Duration> = Vec::with_capacity(CONCURRENT);
        let mut failures = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok((s, d)) if s.is_success() => latencies.push(d),
                _ => failures += 1,
            }
        }
        let wall = start.elapsed();
        latencies.sort();
        let p = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];
        println!(
            "round {round}: {CONCURRENT} concurrent GET /api/tenants: {} ok, {failures} failed, wall {:?}, {:.0} req/s, p50 {:?}, p99 {:?}, max {:?}",
            latencies.len(),
            wall,
            CONCURRENT as f64 / wall.as_secs_f64(),
            p(0.5),
            p(0.99),
            p(1.0)
        );
        assert_eq!(failures, 0, "every request must succeed");
    }
    server.shutdown(Duration::from_secs(5)).await;
}
