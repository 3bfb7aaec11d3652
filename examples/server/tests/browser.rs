#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests: a panic is the failure report.
//! The managed-tenants page in headless Chromium (Debian `chromium`), sandbox mode: onboard
//! selected tenants through the API the page's script calls, and check the rendered table
//! changes. Keeps a screenshot in `docs/tenants-page.png`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use gdap_server::{CloudMode, Config, Role};
use serde_json::{Value, json};

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|b| {
            Command::new("which")
                .arg(b)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim().to_owned()))
        })
}

fn run_chromium(bin: &Path, profile: &Path, extra: &[&str], url: &str) -> String {
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn row_of<'a>(dom: &'a str, tenant: &str) -> &'a str {
    let start = dom
        .find(&format!("data-tenant=\"{tenant}\""))
        .expect("row rendered");
    let rest = &dom[start..];
    &rest[..rest.find("</tr>").unwrap()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_in_headless_chromium_onboards_selected_tenants() {
    let Some(bin) = chromium() else {
        eprintln!(
            "\n!!!!! NO CHROMIUM: the browser test did not run. Install it: apt-get install -y chromium !!!!!\n"
        );
        assert!(
            std::env::var("CI").is_err(),
            "CI must have chromium (.ci/run installs it)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gdap.db");
    let token = gdap_server::add_user(&db, "admin@msp.example", Role::Admin)
        .await
        .unwrap();
    let config = Config::new(
        db,
        "127.0.0.1:0".parse().unwrap(),
        CloudMode::Sandbox {
            tenants: 24,
            seed: 7,
        },
    );
    let server = gdap_server::start(config).await.unwrap();
    let port = server.addr().port();
    // Basic credentials in the URL: Chromium sends them on the top-level navigation.
    let page_url = format!("http://admin%40msp.example:{token}@127.0.0.1:{port}/?auth=basic");
    let profile = dir.path().join("chromium");

    let before = tokio::task::spawn_blocking({
        let (bin, profile, url) = (bin.clone(), profile.clone(), page_url.clone());
        move || run_chromium(&bin, &profile, &["--dump-dom"], &url)
    })
    .await
    .unwrap();
    assert!(
        before.contains("GDAP Permissions") && before.contains("Email Perms"),
        "table rendered"
    );
    // Select the first three Ready, not-yet-onboarded rows (checkbox values).
    let c = reqwest::Client::new();
    let table: Value = c
        .get(format!("{}/api/tenants?sync=false", server.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let picked: Vec<String> = table["tenants"]
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
        .take(3)
        .map(|t| t["tenantId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(picked.len(), 3);
    for t in &picked {
        let row = row_of(&before, t);
        assert!(
            row.contains("Not Protected") && row.contains("class=\"pick\""),
            "{row}"
        );
    }
    // And one tenant whose relationships lack the roles: the workflow must stop for it.
    let missing = table["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["gdap"]["state"] == "missing")
        .expect("a tenant without the GDAP roles")["tenantId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut job_tenants = picked.clone();
    job_tenants.push(missing.clone());
    // What the page's "Onboard" button does for the checked rows, then poll the job.
    let job: Value = c
        .post(format!("{}/api/onboard", server.url()))
        .bearer_auth(&token)
        .json(&json!({ "tenantIds": job_tenants }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job = job["jobId"].as_str().unwrap().to_owned();
    let mut finished = false;
    let mut done: Vec<String> = Vec::new();
    for _ in 0..500 {
        let v: Value = c
            .get(format!("{}/api/jobs/{job}", server.url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["job"]["status"] == "completed" {
            // Done means verified by read-back (the report says so); a tenant the workflow
            // stops for shows the catalogue's error.
            let items = v["items"].as_array().unwrap();
            for i in items {
                match i["status"].as_str().unwrap() {
                    "done" => assert_eq!(i["report"]["outcome"], "verified", "{i}"),
                    "failed" => {
                        assert_eq!(i["tenantId"], missing.as_str(), "{i}");
                        assert_eq!(i["report"]["outcome"], "blocked", "{i}");
                        assert_eq!(i["error"]["key"], "gdapPermissionsMissing", "{i}");
                        assert!(i["error"]["key"].is_string(), "catalogue error: {i}");
                        assert!(!i["error"]["message"].as_str().unwrap().is_empty(), "{i}");
                    }
                    other => panic!("item {other}: {i}"),
                }
            }
            done = items
                .iter()
                .filter(|i| i["status"] == "done")
                .map(|i| i["tenantId"].as_str().unwrap().to_owned())
                .collect();
            eprintln!("browser job: {}", v["counts"]);
            assert_eq!(done, picked, "all three Ready tenants verified: {v}");
            assert_eq!(v["counts"]["failed"], 1, "{v}");
            finished = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(finished, "job completed");

    let after = tokio::task::spawn_blocking({
        let (bin, profile, url) = (bin.clone(), profile.clone(), page_url.clone());
        move || run_chromium(&bin, &profile, &["--dump-dom"], &url)
    })
    .await
    .unwrap();
    for t in &done {
        let row = row_of(&after, t);
        assert!(row.contains("Monitoring"), "row updated: {row}");
        assert!(
            !row.contains(">Onboard<"),
            "no Onboard action any more: {row}"
        );
    }
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/tenants-page.png");
    tokio::task::spawn_blocking({
        let (bin, profile, url, shot) =
            (bin.clone(), profile.clone(), page_url.clone(), shot.clone());
        move || {
            let arg = format!("--screenshot={}", shot.display());
            run_chromium(&bin, &profile, &[&arg, "--window-size=1400,900"], &url)
        }
    })
    .await
    .unwrap();
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "screenshot written"
    );
    server.shutdown(Duration::from_secs(5)).await;
}
