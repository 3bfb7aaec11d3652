#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report.
//! The built `gdap` binary against the sandbox: in-process (`--sandbox`), and an external one
//! started here and reached with the endpoint flags, as any server implementing the documented
//! routes would be.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command as StdCommand, Stdio};

use common::*;
use gdap_sandbox::SandboxHandle;

// ------------------------------------------------------------------------------------------
// Help and usage

#[test]
fn help() {
    let o = Out::of(gdap("help").arg("--help").output().unwrap());
    assert_eq!(o.code, 0);
    insta::assert_snapshot!("help", o.stdout);
}

// ------------------------------------------------------------------------------------------
// The table

#[test]
fn tenants_table() {
    let o = sandbox("tenants", &["tenants"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("tenants_table", o.transcript());
}

#[test]
fn tenants_json() {
    let o = sandbox("tenants-json", &["tenants", "-o", "json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = o.json();
    let rows = v["tenants"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        v["billableCount"].as_u64().unwrap() as usize + 1
    );
    assert!(rows.iter().any(|r| r["legacy"] == true));
    assert!(rows.iter().any(|r| r["isOwnPartnerTenant"] == true));
    insta::assert_snapshot!("tenants_json", redact(&o.stdout));
}

#[test]
fn sync_summary() {
    let o = sandbox("sync", &["sync"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("sync", o.transcript());
}

#[test]
fn expiring_and_audit() {
    let o = sandbox("expiring", &["expiring", "--within", "30d"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("expiring", o.transcript());
    let o = sandbox("audit", &["audit"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("audit", o.transcript());
}

// ------------------------------------------------------------------------------------------
// request-permissions and my-tenant

#[test]
fn request_permissions_prints_the_approval_link() {
    let tenant = lonely_tenant();
    let o = sandbox(
        "request",
        &["request-permissions", &tenant, "--template", "AppInstall"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("granularAdminRelationships/"));
    insta::assert_snapshot!("request_permissions", o.transcript());

    let o = sandbox(
        "request-json",
        &[
            "request-permissions",
            &tenant,
            "--template",
            "helpdesk",
            "--name",
            "Helpdesk for Contoso",
            "-o",
            "json",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = o.json();
    assert_eq!(v["outcome"], "requested");
    assert_eq!(v["displayName"], "Helpdesk for Contoso");
    insta::assert_snapshot!("request_permissions_json", redact(&o.stdout));
}

#[test]
fn request_permissions_on_a_tenant_with_an_active_relationship_explains() {
    let tenant = tenant_with_profile("missing_pra_only");
    let o = sandbox("request-active", &["request-permissions", &tenant]);
    assert_eq!(o.code, 3);
    assert!(o.stderr.contains("To resolve:"));
    insta::assert_snapshot!("request_permissions_active", o.transcript());
}

#[test]
fn my_tenant_show_disable_enable() {
    let o = sandbox("my-tenant", &["my-tenant"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("my_tenant_show", o.transcript());
    let o = sandbox("my-tenant-d", &["my-tenant", "disable", "-o", "json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.json()["enabled"], false);
    insta::assert_snapshot!("my_tenant_disable_json", redact(&o.stdout));
    let o = sandbox("my-tenant-e", &["my-tenant", "enable"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("my_tenant_enable", o.transcript());
}

// ------------------------------------------------------------------------------------------
// Bad input, as a new user would type it: one clear message and a meaningful exit code.

#[test]
fn malformed_guid_is_a_usage_error() {
    let o = sandbox("bad-guid", &["request-permissions", "not-a-guid"]);
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("bad_guid", o.transcript());
}

#[test]
fn unknown_tenant_is_a_usage_error() {
    let o = sandbox(
        "unknown-tenant",
        &[
            "request-permissions",
            "11111111-2222-3333-4444-555555555555",
        ],
    );
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("unknown_tenant", o.transcript());
}

#[test]
fn display_name_over_fifty_characters_is_refused() {
    let tenant = lonely_tenant();
    let name = "A relationship name that is much longer than fifty characters";
    assert!(name.chars().count() > 50);
    let o = sandbox(
        "long-name",
        &["request-permissions", &tenant, "--name", name],
    );
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("long_display_name", o.transcript());
}

#[test]
fn unknown_template_lists_the_templates() {
    let tenant = lonely_tenant();
    let o = sandbox(
        "bad-template",
        &["request-permissions", &tenant, "--template", "Everything"],
    );
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("unknown_template", o.transcript());
}

#[test]
fn missing_refresh_token_asks_to_connect() {
    let o = Out::of(
        gdap("no-token")
            .args([
                "--client-id",
                "11111111-2222-3333-4444-555555555555",
                "tenants",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(o.code, 4);
    insta::assert_snapshot!("missing_refresh_token", o.transcript());
}

#[test]
fn missing_client_id_is_a_usage_error() {
    let o = Out::of(gdap("no-client").arg("tenants").output().unwrap());
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("missing_client_id", o.transcript());
}

#[test]
fn endpoint_down_is_reported_once() {
    // Nothing listens on port 9 of the loopback interface.
    let o = Out::of(
        gdap("down")
            .args([
                "--authority",
                "http://127.0.0.1:9/login",
                "--client-id",
                "11111111-2222-3333-4444-555555555555",
                "tenants",
            ])
            .env("GDAP_REFRESH_TOKEN", "not-a-real-token")
            .output()
            .unwrap(),
    );
    assert_eq!(o.code, 1);
    assert!(!o.stderr.contains("not-a-real-token"));
    insta::assert_snapshot!("endpoint_down", o.transcript());
}

#[test]
fn faults_without_sandbox_is_a_usage_error() {
    let o = Out::of(
        gdap("faults")
            .args(["--faults", "flaky", "tenants"])
            .output()
            .unwrap(),
    );
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("faults_without_sandbox", o.transcript());
}

// ------------------------------------------------------------------------------------------
// An external server reached with the endpoint flags (each with a path prefix).

#[test]
fn endpoint_flags_reach_any_server_with_the_documented_routes() {
    let ext = External::start();
    let o = Out::of(
        ext.gdap("ext-tenants")
            .args(["tenants", "-o", "json"])
            .env("GDAP_REFRESH_TOKEN", ext.refresh_token())
            .output()
            .unwrap(),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = o.json();
    let active_customers = world()
        .tenants
        .iter()
        .filter(|t| {
            !t.is_own
                && t.relationships
                    .iter()
                    .any(|r| r.status == "active" && !r.is_reseller && !r.is_mlt)
        })
        .count();
    assert_eq!(v["tenants"].as_array().unwrap().len(), active_customers);
    let stats = ext.handle.stats();
    assert!(stats.route("GET /graph/v1.0/tenantRelationships/delegatedAdminRelationships") >= 1);
}

#[test]
fn expired_refresh_token_asks_to_reauthenticate() {
    let ext = External::start();
    let token = ext.refresh_token();
    ext.handle.revoke_refresh_tokens();
    let o = Out::of(
        ext.gdap("expired")
            .arg("tenants")
            .env("GDAP_REFRESH_TOKEN", &token)
            .output()
            .unwrap(),
    );
    assert_eq!(o.code, 4);
    assert!(!o.stderr.contains(&token));
    assert!(o.stderr.contains("gdap connect"));
    insta::assert_snapshot!("expired_refresh_token", o.transcript());
}

#[test]
fn connect_stores_the_refresh_token_with_0600_and_later_commands_use_it() {
    let ext = External::start();
    let dir = state_dir("connect");
    let info = ext.handle.world_info();
    let mut child = StdCommand::new(bin())
        .args([
            "--state-dir",
            dir.to_str().unwrap(),
            "--authority",
            ext.handle.authority_url().as_str(),
            "--graph-endpoint",
            ext.handle.graph_url().as_str(),
            "--partner-center-endpoint",
            ext.handle.partner_center_url().as_str(),
            "connect",
            "--timeout",
            "60",
        ])
        .env("GDAP_CLIENT_ID", &info.client_id)
        .env("GDAP_CLIENT_SECRET", &info.client_secret)
        .env_remove("GDAP_REFRESH_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Act as the browser: open the printed URL and follow the redirect back to the CLI.
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the CLI prints the sign-in URL")
            .unwrap();
        if line.starts_with("http://") {
            break line;
        }
    };
    assert!(url.contains("code_challenge="));
    assert!(url.contains("code_challenge_method=S256"));
    ext.rt.block_on(async {
        reqwest::Client::new().get(&url).send().await.unwrap();
    });
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "connect failed: {rest:?}");
    let stored = dir.join("refresh-token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let token = std::fs::read_to_string(&stored).unwrap();
    assert!(!token.trim().is_empty());
    assert!(
        rest.iter().all(|l| !l.contains(token.trim())),
        "the token was printed"
    );

    // The next command finds the token in the state directory (and the client id in it too).
    let o = Out::of(
        StdCommand::new(bin())
            .args([
                "--state-dir",
                dir.to_str().unwrap(),
                "--authority",
                ext.handle.authority_url().as_str(),
                "--graph-endpoint",
                ext.handle.graph_url().as_str(),
                "--partner-center-endpoint",
                ext.handle.partner_center_url().as_str(),
                "my-tenant",
            ])
            .env("GDAP_CLIENT_SECRET", &info.client_secret)
            .env_remove("GDAP_CLIENT_ID")
            .env_remove("GDAP_REFRESH_TOKEN")
            .output()
            .unwrap(),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn the_state_directory_keeps_the_records_between_runs() {
    let ext = External::start();
    let dir = state_dir("persist");
    let token = ext.refresh_token();
    let run = |args: &[&str]| {
        let mut c = ext.gdap_in(&dir);
        c.args(args).env("GDAP_REFRESH_TOKEN", &token);
        Out::of(c.output().unwrap())
    };
    let o = run(&["my-tenant", "-o", "json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.json()["enabled"], false);
    let o = run(&["my-tenant", "enable", "-o", "json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.json()["changed"], true);
    assert_eq!(o.json()["clientCredentialsOk"], true);
    let o = run(&["my-tenant", "-o", "json"]);
    assert_eq!(o.json()["enabled"], true);
    let o = run(&["tenants", "-o", "json"]);
    assert!(
        o.json()["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["isOwnPartnerTenant"] == true)
    );
    let o = run(&["my-tenant", "disable"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("my_tenant_disable_persisted", o.transcript());
    let o = run(&["my-tenant", "-o", "json"]);
    assert_eq!(o.json()["enabled"], false);
    assert!(dir.join("gdap.db").exists());
}

// ------------------------------------------------------------------------------------------
// The write side: demo, onboard (dry run, with faults), migrate, kill and resume.

#[test]
fn demo_onboards_every_ready_tenant() {
    let o = sandbox("demo", &["demo"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains(" 0 failed"));
    assert!(o.stdout.contains(", 0 duplicate writes"));
    // stderr holds the progress lines, in completion order: not snapshotted.
    insta::assert_snapshot!("demo", redact(&o.stdout));
}

#[test]
fn onboard_dry_run_changes_nothing() {
    let o = sandbox("dry-run", &["onboard", "--all-ready", "--dry-run"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("Dry run: nothing is changed."));
    insta::assert_snapshot!("onboard_dry_run", redact(&o.stdout));
    let o = sandbox(
        "dry-run-json",
        &["onboard", "--all-ready", "--dry-run", "-o", "json"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = o.json();
    assert_eq!(v["dryRun"], true);
    assert!(!v["plans"].as_array().unwrap().is_empty());
    insta::assert_snapshot!("onboard_dry_run_json", redact(&o.stdout));
}

#[test]
fn onboard_all_ready_with_faults_retries_and_never_writes_twice() {
    let o = sandbox(
        "faults",
        &[
            "--faults",
            "flaky",
            "onboard",
            "--all-ready",
            "--concurrency",
            "8",
        ],
    );
    assert!(o.code == 0 || o.code == 3, "{}", o.stderr);
    assert!(o.stdout.contains(", 0 duplicate writes"), "{}", o.stdout);
    assert!(
        !o.stdout.contains(" 0 faults injected"),
        "the flaky profile injected nothing"
    );
    insta::assert_snapshot!("onboard_all_ready_flaky", redact(&o.stdout));
}

#[test]
fn onboard_json_is_the_batch_report() {
    let o = sandbox("onboard-json", &["onboard", "--all-ready", "-o", "json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = o.json();
    assert_eq!(v["kind"], "onboard");
    assert_eq!(v["counts"]["blocked"], 0);
    assert!(v["counts"]["verified"].as_u64().unwrap() > 0);
}

#[test]
fn onboard_an_unknown_or_missing_tenant() {
    let o = sandbox(
        "onboard-unknown",
        &["onboard", "11111111-2222-3333-4444-555555555555"],
    );
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("onboard_unknown_tenant", o.transcript());
    let missing = tenant_with_profile("missing_pra_only");
    let o = sandbox("onboard-missing", &["onboard", &missing]);
    assert_eq!(o.code, 3, "{}", o.stdout);
    assert!(o.stdout.contains("To resolve:"));
    insta::assert_snapshot!("onboard_missing_roles", redact(&o.stdout));
}

#[test]
fn migrate_all_legacy() {
    let o = sandbox("migrate", &["migrate", "--all-legacy"]);
    assert!(o.code == 0 || o.code == 3, "{}", o.stderr);
    assert!(o.stdout.contains(", 0 duplicate writes"));
    insta::assert_snapshot!("migrate_all_legacy", redact(&o.stdout));
}

#[test]
fn resume_with_nothing_to_resume() {
    let o = sandbox("resume-nothing", &["resume"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("resume_nothing", o.transcript());
}

#[test]
fn killed_onboard_resumes_without_duplicate_writes() {
    let ext = External::start();
    let dir = state_dir("kill");
    let token = ext.refresh_token();
    let info = ext.handle.world_info();
    let group = info.admin_group_ids[0].clone();
    let args = |extra: &[&str]| {
        let mut v: Vec<String> = vec![
            "--state-dir".into(),
            dir.to_str().unwrap().into(),
            "--authority".into(),
            ext.handle.authority_url().to_string(),
            "--graph-endpoint".into(),
            ext.handle.graph_url().to_string(),
            "--partner-center-endpoint".into(),
            ext.handle.partner_center_url().to_string(),
            "--security-group".into(),
            group.clone(),
        ];
        v.extend(extra.iter().map(|s| (*s).to_owned()));
        v
    };
    let mut child = StdCommand::new(bin())
        .args(args(&["onboard", "--all-ready", "--concurrency", "2"]))
        .env("GDAP_CLIENT_ID", &info.client_id)
        .env("GDAP_CLIENT_SECRET", &info.client_secret)
        .env("GDAP_REFRESH_TOKEN", &token)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Kill it once a few tenants are done (the progress lines on stderr say so).
    let stderr = child.stderr.take().unwrap();
    let mut seen = 0;
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if line.starts_with('[') && line.contains("onboard") {
            seen += 1;
            if seen == 3 {
                break;
            }
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(seen, 3, "the batch finished too early to interrupt");
    let writes_before = ext.handle.stats().writes.len();
    assert!(writes_before > 0);

    let o = Out::of(
        StdCommand::new(bin())
            .args(args(&["resume", "-o", "json"]))
            .env("GDAP_CLIENT_ID", &info.client_id)
            .env("GDAP_CLIENT_SECRET", &info.client_secret)
            .env("GDAP_REFRESH_TOKEN", &token)
            .output()
            .unwrap(),
    );
    assert!(o.code == 0 || o.code == 3, "{}\n{}", o.stdout, o.stderr);
    let v = o.json();
    let counts = &v["counts"];
    assert_eq!(counts["cancelled"], 0);
    assert!(counts["verified"].as_u64().unwrap() >= 3);
    let stats = ext.handle.stats();
    assert_eq!(stats.duplicate_writes, 0, "{:?}", stats.duplicates_per_kind);
    assert!(stats.writes.len() > writes_before, "resume did the rest");

    // Every tenant of the run is now onboarded: a second resume writes nothing to Graph or
    // Partner Center (token requests aside).
    let api_writes = |h: &SandboxHandle| {
        h.stats()
            .writes
            .iter()
            .filter(|w| !w.path.starts_with("/login"))
            .count()
    };
    let before = api_writes(&ext.handle);
    let o = Out::of(
        StdCommand::new(bin())
            .args(args(&["resume"]))
            .env("GDAP_CLIENT_ID", &info.client_id)
            .env("GDAP_CLIENT_SECRET", &info.client_secret)
            .env("GDAP_REFRESH_TOKEN", &token)
            .output()
            .unwrap(),
    );
    assert!(o.code == 0 || o.code == 3, "{}", o.stderr);
    assert_eq!(api_writes(&ext.handle), before, "{}", o.stdout);
    assert_eq!(ext.handle.stats().duplicate_writes, 0);
}
