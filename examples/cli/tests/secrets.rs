//! Secret hygiene: the CLI runs against a sandbox with a canary refresh token and client secret
//! (debug logging on), and neither canary — nor the rotated refresh token — appears in any stdout
//! (tables or JSON), stderr (logs, progress, errors) or file of the state directory other than the
//! 0600 `refresh-token` file, in plaintext (the SQLite database pages included).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use gdap_sandbox::{Sandbox, World};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn canaries_never_appear_in_output_logs_or_database() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handle = rt.block_on(async {
        Sandbox::builder()
            .world(World::seeded(7, 12))
            .propagation_delay(Duration::from_millis(200))
            .start()
            .await
            .unwrap()
    });
    let info = handle.world_info();
    // The sandbox's own refresh token and client secret are the canaries: unique random strings
    // only this test and the sandbox know.
    let refresh = handle.issue_refresh_token(
        &info.admin_upn,
        &["https://graph.microsoft.com/.default", "offline_access"],
    );
    let secret = info.client_secret.clone();
    assert!(refresh.len() > 20 && secret.len() > 8);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("gdap-cli-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let customer = handle
        .snapshot()
        .tenants
        .iter()
        .find(|t| !t.is_own)
        .expect("a customer")
        .id
        .clone();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_gdap"))
            .arg("--state-dir")
            .arg(&dir)
            .args(["--authority", handle.authority_url().as_str()])
            .args(["--graph-endpoint", handle.graph_url().as_str()])
            .args([
                "--partner-center-endpoint",
                handle.partner_center_url().as_str(),
            ])
            .args(["--security-group", &info.admin_group_ids[0]])
            .args(args)
            .env("GDAP_CLIENT_ID", &info.client_id)
            .env("GDAP_CLIENT_SECRET", &secret)
            .env("GDAP_REFRESH_TOKEN", &refresh)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap();
        let mut all = o.stdout.clone();
        all.extend_from_slice(&o.stderr);
        all
    };
    let outputs = [
        run(&["sync", "-o", "json"]),
        run(&["tenants"]),
        run(&["onboard", "--all-ready", "--concurrency", "2", "-o", "json"]),
        run(&["resume"]),
        run(&["expiring", "-o", "json"]),
        // A failing call too: an unknown tenant is a catalogue error.
        run(&["onboard", "00000000-0000-4000-8000-000000000001"]),
        // The relationship lifecycle (partner directory, webhook, bulk changes, trace).
        run(&["groups", "-o", "json"]),
        run(&["auto-extend", "--dry-run"]),
        run(&["remove-ga", "--dry-run", "-o", "json"]),
        run(&["repair", "--dry-run"]),
        run(&["trace", "--user", &info.admin_upn, "--tenant", &customer]),
        run(&[
            "wait-approval",
            "00000000-0000-4000-8000-000000000001-00000000-0000-4000-8000-000000000002",
            "--webhook-url",
            "https://msp.example/hooks/gdap",
            "--dry-run",
        ]),
    ];
    assert!(
        outputs.iter().any(|o| contains(o, "verified")),
        "the onboarding ran: {}",
        String::from_utf8_lossy(&outputs[2])
    );

    let mut canaries = vec![refresh.clone(), secret.clone()];
    let mut all_files = Vec::new();
    files(&dir, &mut all_files);
    for f in &all_files {
        if f.file_name().is_some_and(|n| n == "refresh-token") {
            // The one place the (rotated) refresh token lives; it must not leak elsewhere either.
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", f.display());
            canaries.push(std::fs::read_to_string(f).unwrap().trim().to_owned());
        }
    }
    for c in &canaries {
        for (i, o) in outputs.iter().enumerate() {
            assert!(!contains(o, c), "a secret is in the output of run {i}");
        }
        for f in all_files.iter().filter(|f| !f.ends_with("refresh-token")) {
            let bytes = std::fs::read(f).unwrap();
            assert!(!contains(&bytes, c), "a secret is in {}", f.display());
        }
    }
    assert!(
        all_files
            .iter()
            .any(|f| f.to_string_lossy().contains("gdap.db")),
        "the database was written: {all_files:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    rt.block_on(handle.shutdown());
}
