//! `gdap-bench`: `run [--out DIR]` measures every case (each in its own process, so peak RSS is
//! per case) and writes `DIR/results.json` and `DIR/README.md`; `case ...` runs one case and
//! prints one JSON line.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a CLI: printing is its job.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gdap_bench::{manifest, options, orchestrator, peak_rss_bytes, ready_tenants, seed_store};
use gdap_onboard::fakes::{MemoryJournal, MemoryTenantStore};
use gdap_onboard::{OrchestratorConfig, RunControl};
use gdap_sandbox::{FaultKind, FaultRule, Faults, Sandbox, World};
use serde_json::{Value, json};

const LATENCY: Duration = Duration::from_millis(25);
const PAGE: u64 = 300;
const SEED: u64 = 20_261_124;
const ONBOARD_TENANTS: usize = 500;
const ONBOARD_WORLD: usize = 1_100;
const ONBOARD_CONCURRENCY: usize = 16;
const PROPAGATION: Duration = Duration::from_millis(500);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("case") => case(&args[1..]),
        Some("run") => run(&args[1..]),
        _ => Err(
            "usage: gdap-bench run [--out DIR] | case sync N | case onboard clean|faulted | case lifecycle N"
                .into(),
        ),
    };
    if let Err(e) = result {
        eprintln!("gdap-bench: {e}");
        std::process::exit(1);
    }
}

fn rt() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

fn case(args: &[String]) -> Result<(), String> {
    let v = match (args.first().map(String::as_str), args.get(1)) {
        (Some("sync"), Some(n)) => rt()?.block_on(sync(n.parse().map_err(|_| "bad N")?))?,
        (Some("onboard"), Some(mode)) => rt()?.block_on(onboard(mode == "faulted"))?,
        (Some("lifecycle"), Some(n)) => {
            rt()?.block_on(lifecycle(n.parse().map_err(|_| "bad N")?))?
        }
        _ => return Err("unknown case".into()),
    };
    println!("{v}");
    Ok(())
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round()
}

async fn sync(tenants: usize) -> Result<Value, String> {
    let handle = Sandbox::builder()
        .world(World::seeded(SEED, tenants))
        .latency(LATENCY)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let rss_after_world = peak_rss_bytes().unwrap_or(0);
    let store = Arc::new(MemoryTenantStore::new());
    seed_store(store.as_ref(), &handle.snapshot()).await?;
    let config = OrchestratorConfig::default();
    let concurrency = config.user_count_concurrency;
    let o = orchestrator(&handle, config, store, Arc::new(MemoryJournal::new()));
    handle.reset_stats();
    let started = Instant::now();
    let report = o.sync().await.map_err(|e| e.to_string())?;
    let wall = started.elapsed();
    let stats = handle.stats();
    let rows = report.tenants.len();
    let list_route = "GET /graph/v1.0/tenantRelationships/delegatedAdminRelationships";
    let pages = stats.route(list_route);
    let other = stats.total_requests - pages;
    // Lower bound: the relationship pages are sequential (each needs the previous nextLink), then
    // the per-tenant requests (token + user count) run `concurrency` at a time.
    let ideal = LATENCY.as_secs_f64() * (pages as f64 + (other as f64 / concurrency as f64).ceil());
    let active_rels = handle
        .snapshot()
        .tenants
        .iter()
        .flat_map(|t| t.relationships.iter())
        .filter(|r| r.status == "active")
        .count() as u64;
    Ok(json!({
        "case": format!("sync {tenants}"),
        "tenants": tenants,
        "rows": rows,
        "wall_ms": ms(wall),
        "requests": stats.total_requests,
        "relationship_pages": pages,
        "expected_pages": active_rels.div_ceil(PAGE).max(1),
        "per_tenant_requests": other,
        "concurrency": concurrency,
        "ideal_ms": (ideal * 1000.0).round(),
        "ratio": wall.as_secs_f64() / ideal,
        "peak_rss_mb": peak_rss_bytes().unwrap_or(0) as f64 / 1_048_576.0,
        "rss_after_world_mb": rss_after_world as f64 / 1_048_576.0,
        "requests_per_route": stats.requests_per_route,
    }))
}

fn faults() -> Faults {
    let mut f = Faults::new().seed(12);
    for p in ["/graph/**", "/partnercenter/**"] {
        f = f
            .rule(FaultRule::on("*", p, FaultKind::ConnectionReset).probability(0.01))
            .rule(
                FaultRule::on(
                    "*",
                    p,
                    FaultKind::Status429 {
                        retry_after_secs: 1,
                    },
                )
                .probability(0.05),
            )
            .rule(
                FaultRule::on(
                    "*",
                    p,
                    FaultKind::Status503 {
                        retry_after_secs: Some(1),
                    },
                )
                .probability(0.05),
            );
    }
    f
}

async fn onboard(faulted: bool) -> Result<Value, String> {
    let handle = Sandbox::builder()
        .world(World::seeded(SEED, ONBOARD_WORLD))
        .latency(LATENCY)
        .propagation_delay(PROPAGATION)
        .faults(if faulted { faults() } else { Faults::none() })
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let snap = handle.snapshot();
    let tenants: Vec<gdap_core::TenantId> = ready_tenants(&snap)
        .iter()
        .take(ONBOARD_TENANTS)
        .filter_map(|t| t.id.parse().ok())
        .collect();
    if tenants.len() < ONBOARD_TENANTS {
        return Err(format!("only {} ready tenants", tenants.len()));
    }
    let store = Arc::new(MemoryTenantStore::new());
    seed_store(store.as_ref(), &snap).await?;
    let o = orchestrator(
        &handle,
        OrchestratorConfig::default().with_manifest(manifest(&handle)),
        store,
        Arc::new(MemoryJournal::new()),
    );
    handle.reset_stats();
    let started = Instant::now();
    let report = o
        .onboard(
            tenants,
            options(&handle, ONBOARD_CONCURRENCY),
            &RunControl::new(),
        )
        .await
        .map_err(|e| e.to_string())?;
    let wall = started.elapsed();
    let stats = handle.stats();
    let assignments = stats
        .writes
        .iter()
        .filter(|w| {
            w.method == "POST"
                && w.route.ends_with("/accessAssignments")
                && (200..300).contains(&w.status)
        })
        .count() as u64;
    let writes_ok = stats
        .writes
        .iter()
        .filter(|w| (200..300).contains(&w.status))
        .count();
    // Lower bound: all requests spread over the workers at the fixed latency, plus one
    // propagation wait per new access assignment (also spread over the workers); no rate limit
    // is configured.
    let n = ONBOARD_TENANTS as f64;
    let c = ONBOARD_CONCURRENCY as f64;
    let ideal = LATENCY.as_secs_f64() * (stats.total_requests as f64 / c).ceil()
        + PROPAGATION.as_secs_f64() * (assignments as f64 / c).ceil();
    Ok(json!({
        "case": if faulted { "onboard 500 faulted" } else { "onboard 500 clean" },
        "tenants": ONBOARD_TENANTS,
        "verified": report.counts.verified,
        "blocked": report.counts.blocked,
        "skipped": report.counts.skipped,
        "cancelled": report.counts.cancelled,
        "wall_ms": ms(wall),
        "requests": stats.total_requests,
        "requests_per_tenant": stats.total_requests as f64 / n,
        "writes_ok": writes_ok,
        "writes_ok_per_tenant": writes_ok as f64 / n,
        "new_access_assignments": assignments,
        "responses_429": stats.responses_429,
        "faults_injected": stats.faults_injected,
        "duplicate_writes": stats.duplicate_writes,
        "concurrency": ONBOARD_CONCURRENCY,
        "ideal_ms": (ideal * 1000.0).round(),
        "ratio": wall.as_secs_f64() / ideal,
        "peak_rss_mb": peak_rss_bytes().unwrap_or(0) as f64 / 1_048_576.0,
        "requests_per_route": stats.requests_per_route,
    }))
}

const LIFECYCLE_CONCURRENCY: usize = 8;

/// Bulk auto-extend over `n` active relationships (one in 20 with Global Administrator,
/// skipped), then Global Administrator removal on those through the 202 operation.
async fn lifecycle(n: usize) -> Result<Value, String> {
    use gdap_core::roles;
    use gdap_onboard::workflows::lifecycle::BulkOptions;
    let mut world = World::seeded(SEED, 0);
    let app = [
        roles::APPLICATION_ADMINISTRATOR.id_str(),
        roles::PRIVILEGED_ROLE_ADMINISTRATOR.id_str(),
    ];
    let ga = [
        roles::GLOBAL_ADMINISTRATOR.id_str(),
        roles::APPLICATION_ADMINISTRATOR.id_str(),
    ];
    let mut with_ga = 0usize;
    for i in 0..n {
        let name = format!("Bench Lifecycle {i:05}");
        if i % 20 == 0 {
            with_ga += 1;
            world.add_customer_with_relationship(&name, &ga, "PT0S");
        } else {
            world.add_customer_with_relationship(&name, &app, "PT0S");
        }
    }
    let handle = Sandbox::builder()
        .world(world)
        .latency(LATENCY)
        .propagation_delay(PROPAGATION)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let o = orchestrator(
        &handle,
        OrchestratorConfig::default(),
        Arc::new(MemoryTenantStore::new()),
        Arc::new(MemoryJournal::new()),
    );
    let options = BulkOptions::default()
        .with_concurrency(LIFECYCLE_CONCURRENCY)
        .with_poll(Duration::from_millis(250), Duration::from_secs(2));
    handle.reset_stats();
    let started = Instant::now();
    let extend = o
        .auto_extend_relationships(&options)
        .await
        .map_err(|e| e.to_string())?;
    let extend_wall = started.elapsed();
    let extend_stats = handle.stats();
    handle.reset_stats();
    let started = Instant::now();
    let removal = o
        .remove_global_admin(&options)
        .await
        .map_err(|e| e.to_string())?;
    let removal_wall = started.elapsed();
    let removal_stats = handle.stats();
    let c = LIFECYCLE_CONCURRENCY as f64;
    let pages = (n as u64).div_ceil(PAGE) as f64;
    // Lower bounds. Auto-extend: the listing pages in sequence, then per eligible relationship
    // one PATCH and one read-back, `c` at a time. Removal: the listing, then per relationship
    // with GA one PATCH, the wait before the first poll — the 202's Retry-After, which the
    // sandbox sets to the propagation delay in whole seconds (at least 1 s) and the workflow
    // honours —, one poll and one read-back.
    let first_poll = PROPAGATION.max(Duration::from_secs(1));
    let eligible = (n - with_ga) as f64;
    let extend_ideal = LATENCY.as_secs_f64() * (pages + (2.0 * eligible / c).ceil());
    let removal_ideal = LATENCY.as_secs_f64() * (pages + (3.0 * with_ga as f64 / c).ceil())
        + first_poll.as_secs_f64() * (with_ga as f64 / c).ceil();
    Ok(json!({
        "case": format!("lifecycle {n}"),
        "relationships": n,
        "with_global_admin": with_ga,
        "concurrency": LIFECYCLE_CONCURRENCY,
        "auto_extend": {
            "changed": extend.counts.changed,
            "skipped": extend.counts.skipped,
            "failed": extend.counts.failed,
            "wall_ms": ms(extend_wall),
            "requests": extend_stats.total_requests,
            "requests_per_relationship": extend_stats.total_requests as f64 / n as f64,
            "ideal_ms": (extend_ideal * 1000.0).round(),
            "ratio": extend_wall.as_secs_f64() / extend_ideal,
        },
        "remove_global_admin": {
            "changed": removal.counts.changed,
            "failed": removal.counts.failed,
            "wall_ms": ms(removal_wall),
            "requests": removal_stats.total_requests,
            "ideal_ms": (removal_ideal * 1000.0).round(),
            "ratio": removal_wall.as_secs_f64() / removal_ideal,
            "first_poll_after_ms": first_poll.as_millis() as u64,
        },
        "duplicate_writes": extend_stats.duplicate_writes + removal_stats.duplicate_writes,
        "wall_ms": ms(extend_wall + removal_wall),
        "ideal_ms": ((extend_ideal + removal_ideal) * 1000.0).round(),
        "ratio": (extend_wall + removal_wall).as_secs_f64() / (extend_ideal + removal_ideal),
        "requests": extend_stats.total_requests + removal_stats.total_requests,
        "peak_rss_mb": peak_rss_bytes().unwrap_or(0) as f64 / 1_048_576.0,
    }))
}

fn run(args: &[String]) -> Result<(), String> {
    let out = match args {
        [flag, dir] if flag == "--out" => std::path::PathBuf::from(dir),
        _ => std::path::PathBuf::from("bench"),
    };
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let cases: Vec<Vec<&str>> = vec![
        vec!["sync", "1000"],
        vec!["sync", "5000"],
        vec!["sync", "10000"],
        vec!["onboard", "clean"],
        vec!["onboard", "faulted"],
        vec!["lifecycle", "1000"],
    ];
    let mut results = Vec::new();
    for c in cases {
        eprintln!("bench: {} ...", c.join(" "));
        let o = std::process::Command::new(&exe)
            .arg("case")
            .args(&c)
            .output()
            .map_err(|e| e.to_string())?;
        if !o.status.success() {
            return Err(format!(
                "case {c:?} failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        let text = String::from_utf8_lossy(&o.stdout);
        let line = text.lines().last().ok_or("no output")?;
        let v: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        eprintln!(
            "bench: {} wall {} ms, ideal {} ms, ratio {:.2}, {} requests, peak RSS {:.0} MB",
            v["case"].as_str().unwrap_or("?"),
            v["wall_ms"],
            v["ideal_ms"],
            v["ratio"].as_f64().unwrap_or(0.0),
            v["requests"],
            v["peak_rss_mb"].as_f64().unwrap_or(0.0)
        );
        results.push(v);
    }
    let clean = results
        .iter()
        .find(|r| r["case"] == "onboard 500 clean")
        .cloned()
        .unwrap_or_default();
    let faulted = results
        .iter()
        .find(|r| r["case"] == "onboard 500 faulted")
        .cloned()
        .unwrap_or_default();
    let faulted_over_clean =
        faulted["wall_ms"].as_f64().unwrap_or(0.0) / clean["wall_ms"].as_f64().unwrap_or(1.0);
    let doc = json!({
        "latency_ms": LATENCY.as_millis() as u64,
        "page_size": PAGE,
        "propagation_ms": PROPAGATION.as_millis() as u64,
        "cases": results,
        "faulted_over_clean": faulted_over_clean,
    });
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let pretty = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    std::fs::write(out.join("results.json"), &pretty).map_err(|e| e.to_string())?;
    println!("{pretty}");
    println!("bench: faulted/clean = {faulted_over_clean:.2}");
    Ok(())
}
