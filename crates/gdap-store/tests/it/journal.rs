//! The journal: the same results as `MemoryJournal`, crash safety, concurrency, corrupt rows.

use std::sync::Arc;

use gdap_core::TenantId;
use gdap_onboard::fakes::MemoryJournal;
use gdap_onboard::ports::{JournalEntry, RunRecord, StepOutcome};
use gdap_onboard::{Journal, PortErrorKind};
use gdap_store::{Durability, SqliteStore, StoreOptions};
use serde_json::json;
use time::Duration;
use time::macros::{datetime, offset};

use crate::{t0, temp_store};

fn tid(n: u8) -> TenantId {
    format!("{n:08x}-aaaa-4000-8000-000000000000")
        .parse()
        .unwrap()
}

fn entry(run: &str, tenant: u8, step: &str, outcome: StepOutcome, minute: i64) -> JournalEntry {
    JournalEntry::new(
        run,
        tid(tenant),
        step,
        outcome,
        format!("{step} → {outcome:?}"),
        t0() + Duration::minutes(minute),
    )
}

/// A run killed half-way: tenant 1 finished consent and was inside the grant step; tenant 2's
/// consent failed; tenant 3 skipped consent; tenant 4's step was cancelled; run `other` did
/// everything.
fn half_finished_run() -> Vec<JournalEntry> {
    use StepOutcome::*;
    vec![
        entry("run-1", 1, "consent", Started, 0),
        entry("run-1", 2, "consent", Started, 0),
        entry(
            "other",
            1,
            "grant:Microsoft Graph:User.Read.All",
            Changed,
            0,
        ),
        entry("run-1", 1, "consent", Changed, 1),
        entry("run-1", 2, "consent", Failed, 1),
        entry(
            "run-1",
            1,
            "grant:Microsoft Graph:User.Read.All",
            Started,
            2,
        ),
        entry("run-1", 3, "consent", Skipped, 2),
        entry("run-1", 4, "consent", Started, 3),
        entry("run-1", 4, "consent", Cancelled, 3),
        entry("run-1", 5, "verify", Passed, 4),
    ]
}

/// The `is_done` questions a resume asks.
fn questions() -> Vec<(&'static str, u8, &'static str)> {
    vec![
        ("run-1", 1, "consent"),
        ("run-1", 1, "grant:Microsoft Graph:User.Read.All"),
        ("run-1", 2, "consent"),
        ("run-1", 3, "consent"),
        ("run-1", 4, "consent"),
        ("run-1", 5, "verify"),
        ("run-1", 5, "consent"),
        ("other", 1, "grant:Microsoft Graph:User.Read.All"),
        ("other", 2, "grant:Microsoft Graph:User.Read.All"),
        ("nope", 1, "consent"),
    ]
}

/// What the fake answers (and the contract says): only Passed/Changed count as done.
const EXPECTED_DONE: [bool; 10] = [
    true, false, false, false, false, true, false, true, false, false,
];

fn runs() -> Vec<RunRecord> {
    vec![
        RunRecord::new(
            "run-b",
            "onboard",
            json!({"tenants": ["x"], "dryRun": false}),
            t0(),
        ),
        RunRecord::new(
            "run-a",
            "migrate",
            json!({"tenants": [], "nested": {"n": 1.5, "s": "ü"}}),
            t0() - Duration::hours(1),
        ),
        // Same instant as run-b in another offset: ties keep insertion order.
        RunRecord::new(
            "run-c",
            "refreshEmail",
            json!(null),
            t0().to_offset(offset!(-05:30)),
        ),
    ]
}

#[derive(Debug, PartialEq)]
struct Observed {
    entries: Vec<JournalEntry>,
    other: Vec<JournalEntry>,
    none: Vec<JournalEntry>,
    done: Vec<bool>,
    runs: Vec<RunRecord>,
    run_a: Option<RunRecord>,
    missing_run: Option<RunRecord>,
    runs_after_replace: Vec<RunRecord>,
}

async fn script(j: &dyn Journal) -> Observed {
    for e in half_finished_run() {
        j.append(&e).await.unwrap();
    }
    let mut done = Vec::new();
    for (run, tenant, step) in questions() {
        done.push(j.is_done(run, &tid(tenant), step).await.unwrap());
    }
    for r in runs() {
        j.put_run(&r).await.unwrap();
    }
    let runs_listed = j.list_runs().await.unwrap();
    let run_a = j.get_run("run-a").await.unwrap();
    let missing_run = j.get_run("run-z").await.unwrap();
    // Replacing a header keeps its place among equal times.
    let mut b2 = runs()[0].clone();
    b2.spec = json!({"replaced": true});
    j.put_run(&b2).await.unwrap();
    Observed {
        entries: j.entries("run-1").await.unwrap(),
        other: j.entries("other").await.unwrap(),
        none: j.entries("nope").await.unwrap(),
        done,
        runs: runs_listed,
        run_a,
        missing_run,
        runs_after_replace: j.list_runs().await.unwrap(),
    }
}

#[tokio::test]
async fn behaves_like_the_memory_journal() {
    let memory = script(&MemoryJournal::new()).await;
    let (_dir, _path, store) = temp_store();
    let observed = script(&store).await;
    assert_eq!(observed, memory);
    let expected: Vec<_> = half_finished_run()
        .into_iter()
        .filter(|e| e.run_id == "run-1")
        .collect();
    assert_eq!(observed.entries, expected);
    assert_eq!(observed.other.len(), 1);
    assert!(observed.none.is_empty());
    assert_eq!(observed.done, EXPECTED_DONE);
    let order: Vec<_> = observed.runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(order, ["run-a", "run-b", "run-c"]);
    assert_eq!(observed.run_a, Some(runs()[1].clone()));
    assert_eq!(observed.missing_run, None);
    assert_eq!(
        observed.runs_after_replace[1].spec,
        json!({"replaced": true})
    );
}

#[tokio::test]
async fn every_outcome_and_odd_text_round_trips() {
    let (_dir, _path, store) = temp_store();
    let outcomes = [
        StepOutcome::Started,
        StepOutcome::Passed,
        StepOutcome::Changed,
        StepOutcome::Skipped,
        StepOutcome::Failed,
        StepOutcome::Cancelled,
    ];
    let mut written = Vec::new();
    for (i, o) in outcomes.into_iter().enumerate() {
        let e = JournalEntry::new(
            "r'; DROP TABLE journal; --",
            tid(1),
            format!("step \"{i}\" ünïcødé"),
            o,
            "",
            datetime!(2026-01-02 03:04:05 +09:00) + Duration::nanoseconds(i as i64),
        );
        store.append(&e).await.unwrap();
        written.push(e);
    }
    assert_eq!(
        store.entries("r'; DROP TABLE journal; --").await.unwrap(),
        written
    );
}

#[tokio::test]
async fn entries_survive_a_killed_process_and_resume_answers_correctly() {
    let (_dir, path, store) = temp_store();
    for e in half_finished_run() {
        store.append(&e).await.unwrap();
    }
    store.put_run(&runs()[0]).await.unwrap();
    // A killed process: the connection is never closed, the WAL never checkpointed.
    std::mem::forget(store);
    assert!(path.with_extension("db-wal").exists());

    let reopened = SqliteStore::open(&path).unwrap();
    let expected: Vec<_> = half_finished_run()
        .into_iter()
        .filter(|e| e.run_id == "run-1")
        .collect();
    assert_eq!(reopened.entries("run-1").await.unwrap(), expected);
    assert_eq!(
        reopened.get_run("run-b").await.unwrap(),
        Some(runs()[0].clone())
    );
    let mut done = Vec::new();
    for (run, tenant, step) in questions() {
        done.push(reopened.is_done(run, &tid(tenant), step).await.unwrap());
    }
    assert_eq!(done, EXPECTED_DONE);
    // The resumed run carries on where it stopped, appending after the old entries.
    reopened
        .append(&entry(
            "run-1",
            1,
            "grant:Microsoft Graph:User.Read.All",
            StepOutcome::Changed,
            9,
        ))
        .await
        .unwrap();
    assert!(
        reopened
            .is_done("run-1", &tid(1), "grant:Microsoft Graph:User.Read.All")
            .await
            .unwrap()
    );
    let after = reopened.entries("run-1").await.unwrap();
    assert_eq!(after.len(), expected.len() + 1);
    assert_eq!(after.last().unwrap().outcome, StepOutcome::Changed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_appends_are_all_present() {
    for durability in [Durability::Full, Durability::Normal] {
        let (_dir, path) = crate::temp_db();
        let store = Arc::new(
            SqliteStore::open_with(
                &path,
                StoreOptions::default().with_journal_durability(durability),
            )
            .unwrap(),
        );
        let tasks: Vec<_> = (0..50u8)
            .map(|i| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let e = entry("batch", i, &format!("step-{i}"), StepOutcome::Changed, 0);
                    store.append(&e).await.unwrap();
                    store
                        .is_done("batch", &tid(i), &format!("step-{i}"))
                        .await
                        .unwrap()
                })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap(), "read-back after append");
        }
        drop(store);
        let reopened = SqliteStore::open(&path).unwrap();
        let got = reopened.entries("batch").await.unwrap();
        assert_eq!(got.len(), 50, "{durability:?}");
        let mut steps: Vec<_> = got.iter().map(|e| e.step.clone()).collect();
        steps.sort();
        steps.dedup();
        assert_eq!(steps.len(), 50);
    }
}

#[tokio::test]
async fn delete_journal_run_removes_entries_and_header() {
    let (_dir, _path, store) = temp_store();
    for e in half_finished_run() {
        store.append(&e).await.unwrap();
    }
    store.put_run(&runs()[1]).await.unwrap();
    assert_eq!(store.delete_journal_run("run-a").await.unwrap(), 0);
    assert_eq!(store.get_run("run-a").await.unwrap(), None);
    assert_eq!(store.delete_journal_run("run-1").await.unwrap(), 9);
    assert!(store.entries("run-1").await.unwrap().is_empty());
    assert_eq!(store.entries("other").await.unwrap().len(), 1);
}

#[tokio::test]
async fn corrupt_entry_is_a_typed_error_naming_table_and_key() {
    let (_dir, path, store) = temp_store();
    for e in half_finished_run() {
        store.append(&e).await.unwrap();
    }
    store.put_run(&runs()[0]).await.unwrap();
    drop(store);
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("UPDATE journal SET outcome = 'exploded' WHERE seq = 4", [])
        .unwrap();
    raw.execute("UPDATE journal SET at = 'yesterday' WHERE seq = 5", [])
        .unwrap();
    raw.execute(
        "UPDATE journal_runs SET spec = '{' WHERE run_id = 'run-b'",
        [],
    )
    .unwrap();
    drop(raw);
    let store = SqliteStore::open(&path).unwrap();
    let e = store.entries("run-1").await.unwrap_err();
    assert_eq!(e.kind(), PortErrorKind::Other);
    assert!(
        e.message()
            .contains("corrupt row in table journal (key 4): unknown outcome \"exploded\""),
        "{e}"
    );
    let e = store.get_run("run-b").await.unwrap_err();
    assert!(
        e.message().contains("journal_runs") && e.message().contains("run-b"),
        "{e}"
    );
    // Other runs are unaffected.
    assert_eq!(store.entries("other").await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_time_outside_the_storable_range_is_refused_as_invalid() {
    let store = SqliteStore::open_in_memory().unwrap();
    let mut e = entry("r", 1, "s", StepOutcome::Passed, 0);
    e.at = datetime!(-0001-01-01 00:00 UTC);
    let err = store.append(&e).await.unwrap_err();
    assert_eq!(err.kind(), PortErrorKind::Invalid);
    assert!(store.entries("r").await.unwrap().is_empty());
}
