//! Throughput benchmark: seeds 10,000 tenants, then fires GET requests at ~64 concurrency over
//! loopback with reqwest and prints requests/s.
//!
//! Run: `cargo bench -p gdap-sandbox --bench throughput` (release profile).
//! Knobs (env): `SBX_TENANTS` (10000), `SBX_REQUESTS` (20000), `SBX_CONCURRENCY` (64).

// A benchmark binary: printing the figures is its output.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use gdap_sandbox::{Sandbox, World};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let tenants = env_usize("SBX_TENANTS", 10_000);
    let requests = env_usize("SBX_REQUESTS", 20_000);
    let concurrency = env_usize("SBX_CONCURRENCY", 64);

    let mut seed_times = Vec::new();
    let mut world = None;
    for _ in 0..3 {
        let t0 = Instant::now();
        let w = World::seeded(7, tenants);
        seed_times.push(t0.elapsed());
        world = Some(w);
    }
    let best = seed_times.iter().min().copied().unwrap_or_default();
    println!(
        "seed {tenants} tenants: best {:?} of {:?}",
        best, seed_times
    );

    let world = world.expect("seeded");
    let customers = world.customer_tenant_ids();
    let rel_ids: Vec<String> = customers
        .iter()
        .take(500)
        .flat_map(|t| world.relationship_ids_for(t))
        .collect();
    let h = Sandbox::builder()
        .world(world)
        .start()
        .await
        .expect("start");
    let info = h.world_info();
    let graph = h
        .issue_access_token(
            &info.admin_upn,
            "organizations",
            "https://graph.microsoft.com/.default",
        )
        .unwrap();
    let pc = h
        .issue_access_token(
            &info.admin_upn,
            "organizations",
            "https://api.partnercenter.microsoft.com/.default",
        )
        .unwrap();
    let customer_tokens: Vec<(String, String)> = customers
        .iter()
        .filter(|t| h.with_world(|w| w.admin_has_gdap_access(t)))
        .take(200)
        .map(|t| {
            (
                t.clone(),
                h.issue_access_token(&info.admin_upn, t, "https://graph.microsoft.com/.default")
                    .unwrap(),
            )
        })
        .collect();
    let g = h.graph_url().to_string();
    let p = h.partner_center_url().to_string();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();

    // The request mix: GDAP lists and gets, customers, Partner Center paging, customer-tenant reads.
    let mix: Vec<usize> = std::env::var("SBX_MIX")
        .ok()
        .map(|m| m.split(',').filter_map(|x| x.parse().ok()).collect())
        .filter(|m: &Vec<usize>| !m.is_empty())
        .unwrap_or_else(|| (0..6).collect());
    let make = move |i: usize| -> (String, String) {
        match mix[i % mix.len()] {
            0 => (
                format!(
                    "{g}/tenantRelationships/delegatedAdminRelationships?$top=50&$filter=status eq 'active'"
                ),
                graph.clone(),
            ),
            1 => (
                format!(
                    "{g}/tenantRelationships/delegatedAdminRelationships/{}",
                    rel_ids[i % rel_ids.len()]
                ),
                graph.clone(),
            ),
            2 => (
                format!("{g}/tenantRelationships/delegatedAdminCustomers?$top=100"),
                graph.clone(),
            ),
            3 => (format!("{p}/v1/customers?size=100"), pc.clone()),
            4 => {
                let (_, tok) = &customer_tokens[i % customer_tokens.len()];
                (
                    format!(
                        "{g}/servicePrincipals?$filter=appId eq '00000003-0000-0000-c000-000000000000'&$select=id,appRoles"
                    ),
                    tok.clone(),
                )
            }
            _ => {
                let (_, tok) = &customer_tokens[i % customer_tokens.len()];
                (format!("{g}/organization"), tok.clone())
            }
        }
    };

    // Warm-up (connections, caches).
    run(&client, &make, 0..(concurrency * 4), concurrency).await;
    h.reset_stats();
    let t0 = Instant::now();
    let (ok, failed) = run(&client, &make, 0..requests, concurrency).await;
    let elapsed = t0.elapsed();
    let rps = ok as f64 / elapsed.as_secs_f64();
    println!(
        "{ok} GETs ({failed} failed) at concurrency {concurrency} in {:.2?}: {rps:.0} requests/s",
        elapsed
    );
    let st = h.stats();
    println!(
        "server counted {} requests; statuses {:?}",
        st.total_requests, st.responses_per_status
    );
    h.shutdown().await;
    if failed > 0 {
        eprintln!("warning: {failed} requests failed");
    }
    let _ = Duration::ZERO;
}

async fn run(
    client: &reqwest::Client,
    make: &(impl Fn(usize) -> (String, String) + Sync),
    range: std::ops::Range<usize>,
    concurrency: usize,
) -> (usize, usize) {
    let results: Vec<bool> = futures::stream::iter(range)
        .map(|i| {
            let (url, tok) = make(i);
            let client = client.clone();
            async move {
                match client.get(url).bearer_auth(tok).send().await {
                    Ok(r) => {
                        let ok = r.status().is_success();
                        let _ = r.bytes().await;
                        ok
                    }
                    Err(_) => false,
                }
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let ok = results.iter().filter(|x| **x).count();
    (ok, results.len() - ok)
}
