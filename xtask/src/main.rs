//! Project automation. `cargo xtask ci` is the test command CI runs.
#![allow(clippy::print_stdout, clippy::print_stderr)] // xtask is a CLI: printing is its job.

use std::env;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let result = match task {
        "ci" => ci(),
        "fmt" => fmt(),
        "lint" => lint(),
        "test" => test(),
        "doc" => doc(),
        "bench" => bench(),
        "soak" => soak(),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\n\
                 tasks:\n  ci    fmt + lint + test + doc, failing fast (what CI runs)\n  \
                 fmt   cargo fmt --check\n  lint  clippy -D warnings on every target\n  \
                 test  nextest (or cargo test) + doctests, snapshots read-only\n  \
                 doc   cargo doc with -D warnings\n  \
                 bench release run of gdap-bench: sync 1k/5k/10k, onboard 500 clean and faulted,\n        lifecycle 1000 (auto-extend + GA removal);\n        \
                 writes bench/results.json (bench/README.md is written from it by hand)\n  \
                 soak  release run of gdap-soak: the gdap CLI onboarding 500 tenants, killed 5 times\n        \
                 and resumed (not part of ci)"
            );
            return if task == "help" {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("xtask {task} failed: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("$ {cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} exited with {status}"))
    }
}

fn cargo() -> Command {
    Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn ci() -> Result<(), String> {
    fmt()?;
    lint()?;
    test()?;
    doc()
}

fn fmt() -> Result<(), String> {
    run(cargo().args(["fmt", "--all", "--", "--check"]))
}

fn lint() -> Result<(), String> {
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))
}

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn test() -> Result<(), String> {
    // insta never writes snapshots when CI is set: a mismatch or a new snapshot fails the run.
    let mut runner = if has_nextest() {
        let mut c = cargo();
        c.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
        c
    } else {
        let mut c = cargo();
        c.args(["test", "--workspace", "--all-targets", "--no-fail-fast"]);
        c
    };
    runner.env("CI", "true").env("INSTA_UPDATE", "no");
    run(&mut runner)?;
    run(cargo()
        .args(["test", "--doc", "--workspace"])
        .env("CI", "true"))?;
    pending_snapshots()
}

/// Fails when any `.snap.new` / `.pending-snap` file exists: an unreviewed snapshot change.
fn pending_snapshots() -> Result<(), String> {
    let mut pending = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(".")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    stack.push(p);
                }
            } else if name.ends_with(".snap.new") || name.ends_with(".pending-snap") {
                pending.push(p.display().to_string());
            }
        }
    }
    if pending.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "pending insta snapshots (review and commit them):\n  {}",
            pending.join("\n  ")
        ))
    }
}

fn bench() -> Result<(), String> {
    run(cargo().args(["build", "--release", "-p", "gdap-bench"]))?;
    run(Command::new("target/release/gdap-bench").args(["run", "--out", "bench"]))
}

fn soak() -> Result<(), String> {
    run(cargo().args(["build", "--release", "-p", "gdap-bench", "-p", "gdap-cli"]))?;
    run(Command::new("target/release/gdap-soak").args(["--gdap", "target/release/gdap"]))
}

fn doc() -> Result<(), String> {
    run(cargo()
        .args(["doc", "--no-deps", "--workspace"])
        .env("RUSTDOCFLAGS", "-D warnings"))
}
