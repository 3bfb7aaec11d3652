//! What the `gdap` binary tests share: a clean command per test (own state directory, no GDAP_*
//! from the developer's shell), the transcript of a run, the redaction of what changes between
//! runs, the seeded world's ids, and an external sandbox reached with the endpoint flags.
#![allow(dead_code)] // each test binary uses a different part of it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use assert_cmd::Command;
use gdap_sandbox::{Sandbox, SandboxBuilder, SandboxHandle, World};

pub(crate) const SEED: u64 = 7;
pub(crate) const TENANTS: usize = 30;

pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_gdap")
}

/// A fresh, empty state directory for one test.
pub(crate) fn state_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "gdap-cli-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `gdap` with a clean environment (no GDAP_* from the developer's shell) and its own state dir.
pub(crate) fn gdap(name: &str) -> Command {
    gdap_in(&state_dir(name))
}

/// `gdap` with a clean environment and the state directory `dir`.
pub(crate) fn gdap_in(dir: &std::path::Path) -> Command {
    let mut c = Command::new(bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("GDAP_") || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    c.env("NO_COLOR", "1");
    c.arg("--state-dir").arg(dir);
    c
}

/// `gdap --sandbox --tenants 30 --seed 7 ARGS`.
pub(crate) fn sandbox(name: &str, args: &[&str]) -> Out {
    sandbox_with(name, TENANTS, args)
}

/// `gdap --sandbox --tenants N --seed 7 ARGS`.
pub(crate) fn sandbox_with(name: &str, tenants: usize, args: &[&str]) -> Out {
    let mut c = gdap(name);
    c.args([
        "--sandbox",
        "--tenants",
        &tenants.to_string(),
        "--seed",
        "7",
    ])
    .args(args);
    Out::of(c.output().unwrap())
}

pub(crate) struct Out {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Out {
    pub(crate) fn of(o: std::process::Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8(o.stdout).unwrap(),
            stderr: String::from_utf8(o.stderr).unwrap(),
        }
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Exit code, stdout and stderr, redacted, for a snapshot.
    pub(crate) fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code,
            redact(&self.stdout),
            redact(&self.stderr)
        )
    }
}

pub(crate) fn is_hex(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_hexdigit)
}

/// Redacts what changes between runs or machines: GUIDs (tenant, relationship, request ids),
/// dates and times, days-left counts, loopback ports.
pub(crate) fn redact(s: &str) -> String {
    let s = &redact_state_dirs(s);
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        // GUID 8-4-4-4-12
        if i + 36 <= b.len() {
            let g = &b[i..i + 36];
            let dashes = [8, 13, 18, 23].iter().all(|&d| g[d] == b'-');
            let hex = dashes
                && [(0, 8), (9, 13), (14, 18), (19, 23), (24, 36)]
                    .iter()
                    .all(|&(a, z)| is_hex(&g[a..z]));
            if hex {
                out.push_str("[guid]");
                i += 36;
                continue;
            }
        }
        // date YYYY-MM-DD, optionally followed by THH:MM:SS(.fff)Z
        if i + 10 <= b.len()
            && b[i..i + 4].iter().all(u8::is_ascii_digit)
            && b[i + 4] == b'-'
            && b[i + 5..i + 7].iter().all(u8::is_ascii_digit)
            && b[i + 7] == b'-'
            && b[i + 8..i + 10].iter().all(u8::is_ascii_digit)
        {
            let mut j = i + 10;
            if j < b.len() && b[j] == b'T' {
                j += 1;
                while j < b.len() && (b[j].is_ascii_digit() || b[j] == b':' || b[j] == b'.') {
                    j += 1;
                }
                if j < b.len() && b[j] == b'Z' {
                    j += 1;
                }
                out.push_str("[datetime]");
            } else {
                out.push_str("[date]");
            }
            i = j;
            continue;
        }
        // "(12d" / " 12d" days left → [n]d
        if (b[i] == b'(' || b[i] == b' ') && i + 1 < b.len() && b[i + 1].is_ascii_digit() {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j < b.len()
                && b[j] == b'd'
                && (j + 1 == b.len() || !b[j + 1].is_ascii_alphanumeric())
            {
                out.push(b[i] as char);
                out.push_str("[n]d");
                i = j + 1;
                continue;
            }
        }
        // YYYYMMDD in generated relationship names
        if i + 8 <= b.len()
            && b[i..i + 2] == *b"20"
            && b[i..i + 8].iter().all(u8::is_ascii_digit)
            && (i + 8 == b.len() || !b[i + 8].is_ascii_digit())
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
        {
            out.push_str("[yyyymmdd]");
            i += 8;
            continue;
        }
        // 127.0.0.1:PORT
        if s[i..].starts_with("127.0.0.1:") {
            out.push_str("127.0.0.1:[port]");
            i += "127.0.0.1:".len();
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            continue;
        }
        let ch = s[i..].chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    // Request, write and fault counts depend on polling, token caching and retry timing; the
    // duplicate-write count does not (and must be 0).
    let out = out
        .lines()
        .map(|l| match l.strip_prefix("Sandbox: ") {
            Some(rest) => {
                let dups = rest
                    .split(", ")
                    .find(|p| p.ends_with("duplicate writes"))
                    .unwrap_or("? duplicate writes");
                format!("Sandbox: [n] writes, {dups}, [n] faults injected ([n] requests).")
            }
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if out.ends_with('\n') { "\n" } else { "" };
    // Days-left numbers in JSON ("daysLeft": 12) are not stable across midnight either.
    out.lines()
        .map(|l| match l.find("\"daysLeft\": ") {
            Some(p) if !l.contains("null") => format!("{}\"daysLeft\": [n],", &l[..p]),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if out.ends_with('\n') { "\n" } else { "" }
}

/// `<target tmp>/gdap-cli-<name>-<pid>-<n>` → `[state-dir]`.
pub(crate) fn redact_state_dirs(s: &str) -> String {
    let tmp = env!("CARGO_TARGET_TMPDIR");
    let mut out = String::new();
    let mut rest = s;
    while let Some(p) = rest.find(tmp) {
        out.push_str(&rest[..p]);
        let after = &rest[p + tmp.len()..];
        let after = after.strip_prefix('/').unwrap_or(after);
        let end = after.find('/').unwrap_or(after.len());
        out.push_str("[state-dir]");
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

pub(crate) fn world() -> gdap_sandbox::WorldSnapshot {
    World::seeded(SEED, TENANTS).snapshot()
}

pub(crate) fn tenant_with_profile(profile: &str) -> String {
    world()
        .tenants
        .into_iter()
        .find(|t| !t.is_own && t.profile == profile)
        .unwrap_or_else(|| panic!("a {profile} tenant"))
        .id
}

pub(crate) fn lonely_tenant() -> String {
    world()
        .tenants
        .into_iter()
        .find(|t| !t.is_own && t.relationships.is_empty())
        .expect("a tenant without relationships")
        .id
}

/// An external sandbox server, reached with the endpoint flags (each with a path prefix).
pub(crate) struct External {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) handle: SandboxHandle,
}

impl External {
    pub(crate) fn start() -> Self {
        Self::start_with(|b| b)
    }

    /// Seed 7, 30 tenants, 200 ms propagation, and what `configure` adds.
    pub(crate) fn start_with(configure: impl FnOnce(SandboxBuilder) -> SandboxBuilder) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let handle = rt.block_on(async {
            configure(
                Sandbox::builder()
                    .world(World::seeded(SEED, TENANTS))
                    .propagation_delay(Duration::from_millis(200)),
            )
            .start()
            .await
            .unwrap()
        });
        Self { rt, handle }
    }

    /// `gdap` pointed at this server, with the app's id and secret in the environment.
    pub(crate) fn gdap(&self, name: &str) -> Command {
        self.gdap_in(&state_dir(name))
    }

    /// The same, with the state directory `dir`.
    pub(crate) fn gdap_in(&self, dir: &std::path::Path) -> Command {
        let info = self.handle.world_info();
        let mut c = gdap_in(dir);
        c.args([
            "--authority",
            self.handle.authority_url().as_str(),
            "--graph-endpoint",
            self.handle.graph_url().as_str(),
            "--partner-center-endpoint",
            self.handle.partner_center_url().as_str(),
        ])
        .env("GDAP_CLIENT_ID", &info.client_id)
        .env("GDAP_CLIENT_SECRET", &info.client_secret);
        c
    }

    pub(crate) fn refresh_token(&self) -> String {
        let info = self.handle.world_info();
        self.handle.issue_refresh_token(
            &info.admin_upn,
            &["https://graph.microsoft.com/.default", "offline_access"],
        )
    }
}
