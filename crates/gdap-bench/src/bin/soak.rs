//! `gdap-soak`: the `gdap` CLI onboards 500 tenants of a long-lived sandbox (loopback) under random
//! faults; the CLI process is killed with SIGKILL at 5 random points and resumed each time. Checks
//! that every tenant ends verified or blocked with a reason, that the sandbox saw zero duplicate
//! writes, and that no journal entry was lost (the final report covers every tenant of the run,
//! and one more `resume` writes nothing). Bounded: each CLI run has a 10-minute cap.
//!
//! `gdap-soak [--gdap PATH] [--tenants N] [--kills K] [--seed S]`.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a CLI: printing is its job.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gdap_bench::ready_tenants;
use gdap_sandbox::{FaultKind, FaultRule, Faults, Sandbox, SandboxHandle, World};
use rand::{Rng, SeedableRng};
use serde_json::Value;

const RUN_CAP: Duration = Duration::from_secs(600);

struct Opts {
    gdap: PathBuf,
    tenants: usize,
    kills: usize,
    seed: u64,
}

fn opts() -> Result<Opts, String> {
    let mut o = Opts {
        gdap: PathBuf::from("target/release/gdap"),
        tenants: 500,
        kills: 5,
        seed: 20_261_124,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().ok_or(format!("{a} needs a value"))?;
        match a.as_str() {
            "--gdap" => o.gdap = PathBuf::from(v),
            "--tenants" => o.tenants = v.parse().map_err(|_| "bad --tenants")?,
            "--kills" => o.kills = v.parse().map_err(|_| "bad --kills")?,
            "--seed" => o.seed = v.parse().map_err(|_| "bad --seed")?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(o)
}

fn faults(seed: u64) -> Faults {
    let mut f = Faults::new().seed(seed);
    for p in ["/graph/**", "/partnercenter/**"] {
        f = f
            .rule(FaultRule::on("*", p, FaultKind::ConnectionReset).probability(0.01))
            .rule(
                FaultRule::on(
                    "*",
                    p,
                    FaultKind::Status429 {
                        retry_after_secs: 0,
                    },
                )
                .probability(0.05),
            )
            .rule(
                FaultRule::on(
                    "*",
                    p,
                    FaultKind::Status503 {
                        retry_after_secs: Some(0),
                    },
                )
                .probability(0.05),
            );
    }
    f
}

fn gdap(o: &Opts, h: &SandboxHandle, dir: &Path, token: &str, extra: &[String]) -> Command {
    let info = h.world_info();
    let mut c = Command::new(&o.gdap);
    c.arg("--state-dir")
        .arg(dir)
        .args(["--authority", h.authority_url().as_str()])
        .args(["--graph-endpoint", h.graph_url().as_str()])
        .args(["--partner-center-endpoint", h.partner_center_url().as_str()])
        .args(["--security-group", &info.admin_group_ids[0]])
        .args(extra)
        .env("GDAP_CLIENT_ID", &info.client_id)
        .env("GDAP_CLIENT_SECRET", &info.client_secret)
        .env("GDAP_REFRESH_TOKEN", token)
        .stdin(Stdio::null());
    c
}

/// Drains `pipe` on its own thread, so the child never blocks writing to a full pipe.
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

/// Runs to completion (bounded), returning the JSON report.
///
/// stdout and stderr are read while the child runs: a report larger than the pipe buffer
/// (64 KiB; ~170 KB for 100 tenants) would otherwise block the child in `write` forever.
fn finish(mut c: Command) -> Result<Value, String> {
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > RUN_CAP {
            let _ = child.kill();
            let _ = child.wait();
            return Err("a CLI run exceeded its time cap".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let text = String::from_utf8_lossy(&stdout);
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "no JSON report ({e}); exit {:?}; stderr: {}",
            status.code(),
            String::from_utf8_lossy(&stderr)
        )
    })
}

fn main() {
    if let Err(e) = soak() {
        eprintln!("soak: FAILED: {e}");
        std::process::exit(1);
    }
}

fn soak() -> Result<(), String> {
    let o = opts()?;
    if !o.gdap.exists() {
        return Err(format!(
            "{} not found (build gdap-cli first)",
            o.gdap.display()
        ));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let world = o.tenants * 2 + 200;
    let handle = rt.block_on(async {
        Sandbox::builder()
            .world(World::seeded(o.seed, world))
            .faults(faults(o.seed))
            .propagation_delay(Duration::from_millis(200))
            .latency(Duration::from_millis(2))
            .start()
            .await
            .map_err(|e| e.to_string())
    })?;
    let snap = handle.snapshot();
    let tenants: Vec<String> = ready_tenants(&snap)
        .iter()
        .take(o.tenants)
        .map(|t| t.id.clone())
        .collect();
    if tenants.len() < o.tenants {
        return Err(format!("only {} ready tenants", tenants.len()));
    }
    let info = handle.world_info();
    let token = handle.issue_refresh_token(
        &info.admin_upn,
        &["https://graph.microsoft.com/.default", "offline_access"],
    );
    let dir = std::env::temp_dir().join(format!("gdap-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(o.seed);
    let started = Instant::now();

    // The first run and then each resume are killed at a random point.
    let mut onboard: Vec<String> = vec!["onboard".into(), "--concurrency".into(), "8".into()];
    onboard.extend(tenants.iter().cloned());
    let mut kills = 0;
    for i in 0..o.kills {
        let args = if i == 0 {
            onboard.clone()
        } else {
            vec!["resume".into()]
        };
        let mut child = gdap(&o, &handle, &dir, &token, &args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let at = Duration::from_millis(rng.random_range(1_500..6_000));
        std::thread::sleep(at);
        if child.try_wait().map_err(|e| e.to_string())?.is_none() {
            child.kill().map_err(|e| e.to_string())?; // SIGKILL
            kills += 1;
        }
        let _ = child.wait();
        let s = handle.stats();
        eprintln!(
            "soak: run {} killed at {:.1} s ({} writes so far, {} duplicates)",
            i + 1,
            at.as_secs_f64(),
            s.writes.len(),
            s.duplicate_writes
        );
    }
    let report = finish(gdap(
        &o,
        &handle,
        &dir,
        &token,
        &["resume".into(), "-o".into(), "json".into()],
    ))?;

    // Every tenant of the run is in the final report, verified or blocked with a reason.
    let rows = report["tenants"]
        .as_array()
        .ok_or("no tenants in the report")?;
    let seen: BTreeSet<String> = rows
        .iter()
        .filter_map(|t| t["tenantId"].as_str().map(str::to_ascii_lowercase))
        .collect();
    let wanted: BTreeSet<String> = tenants.iter().map(|t| t.to_ascii_lowercase()).collect();
    let lost = wanted.difference(&seen).count();
    let mut bad = Vec::new();
    for t in rows {
        let outcome = t["outcome"].as_str().unwrap_or("?");
        let reason = t["steps"]
            .as_array()
            .is_some_and(|s| s.iter().any(|st| !st["error"].is_null()));
        match outcome {
            "verified" => {}
            "blocked" if reason => {}
            _ => bad.push(format!("{} {outcome}", t["tenantId"])),
        }
    }
    // Nothing left to do: another resume writes nothing to Graph or Partner Center.
    let api_writes = |h: &SandboxHandle| {
        h.stats()
            .writes
            .iter()
            .filter(|w| !w.path.starts_with("/login"))
            .count()
    };
    let before = api_writes(&handle);
    let again = finish(gdap(
        &o,
        &handle,
        &dir,
        &token,
        &["resume".into(), "-o".into(), "json".into()],
    ))?;
    let extra_writes = api_writes(&handle) - before;
    let stats = handle.stats();
    let dup = stats.duplicate_writes;
    eprintln!(
        "soak: {} verified, {} blocked, {} faults injected, {} writes, {} requests, {:.0} s",
        report["counts"]["verified"],
        report["counts"]["blocked"],
        stats.faults_injected,
        stats.writes.len(),
        stats.total_requests,
        started.elapsed().as_secs_f64()
    );
    println!(
        "soak: {} tenants, {kills} kills, {dup} duplicates, {lost} lost",
        tenants.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
    if kills < o.kills {
        return Err(format!(
            "only {kills} of {} runs were still going when killed",
            o.kills
        ));
    }
    if dup != 0 {
        return Err(format!(
            "{dup} duplicate writes: {:?}",
            stats.duplicates_per_kind
        ));
    }
    if lost != 0 {
        return Err(format!("{lost} tenants missing from the final report"));
    }
    if !bad.is_empty() {
        return Err(format!(
            "tenants not verified nor blocked with a reason: {bad:?}"
        ));
    }
    if extra_writes != 0 {
        return Err(format!(
            "a resume after completion wrote {extra_writes} times ({})",
            again["counts"]
        ));
    }
    rt.block_on(handle.shutdown());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report larger than the pipe buffer (64 KiB) is read while the child runs; before, the
    /// child blocked in `write` and the run hit its time cap (the soak's final resume "stalled").
    #[test]
    fn finish_reads_a_report_larger_than_the_pipe_buffer() {
        let mut c = Command::new("sh");
        c.args([
            "-c",
            r#"printf '"'; head -c 300000 /dev/zero | tr '\0' a; printf '"'; echo done >&2"#,
        ]);
        let started = Instant::now();
        let v = finish(c).unwrap();
        assert_eq!(v.as_str().map(str::len), Some(300_000));
        assert!(started.elapsed() < Duration::from_secs(30));
    }
}
