use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_gdap-sandbox");

#[test]
fn bad_flags_give_clap_errors() {
    for args in [
        &["serve", "--tenants", "many"][..],
        &["serve", "--faults", "chaos"],
        &["serve", "--bogus"],
        &["launch"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error:"), "{args:?}: {err}");
    }
    let out = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--tenants"));
}

#[tokio::test]
async fn serve_prints_its_urls_and_answers() {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--tenants",
            "25",
            "--seed",
            "3",
            "--port",
            "0",
            "--faults",
            "none",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .strip_prefix("gdap-sandbox listening on ")
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let mut printed = vec![first];
    for _ in 0..12 {
        printed.push(lines.next().unwrap().unwrap());
    }
    let text = printed.join("\n");
    assert!(
        text.contains(&format!("{base}/graph/v1.0"))
            && text.contains(&format!("{base}/partnercenter")),
        "{text}"
    );
    let r = reqwest::get(format!("{base}/health")).await.unwrap();
    assert_eq!(r.text().await.unwrap(), "ok");
    child.kill().unwrap();
    child.wait().unwrap();
}
