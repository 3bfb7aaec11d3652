//! A batch killed mid-run (its task aborted) and resumed from the SQLite journal by a fresh
//! orchestrator: the same end state as an uninterrupted run, and zero duplicate writes.

use std::sync::Arc;

use gdap_core::TenantId;
use gdap_onboard::ports::{Journal, StepOutcome, TenantStore};
use gdap_onboard::tenant::OnboardedVia;
use gdap_onboard::{ProgressEvent, RunControl, TenantOutcome};
use gdap_store::SqliteStore;
use tokio::sync::mpsc;

use crate::onboard::{
    faults, fully_granted, manifest, options, orchestrator, ready_tenants, sandbox, seed_store, tid,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_mid_run_and_resume_from_sqlite() {
    let handle = sandbox(faults()).await;
    let snap = handle.snapshot();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gdap.sqlite");
    let tenants: Vec<TenantId> = ready_tenants(&snap)
        .iter()
        .take(30)
        .map(|t| tid(t))
        .collect();

    let store = Arc::new(SqliteStore::open(&path).unwrap());
    seed_store(store.as_ref(), &snap).await;
    let first = orchestrator(&handle, manifest(&handle), store.clone(), store.clone());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let control = RunControl::new().with_progress(tx);
    let task = {
        let tenants = tenants.clone();
        let opts = options(&handle);
        tokio::spawn(async move { first.onboard(tenants, opts, &control).await })
    };
    // Kill the run after some progress: some tenants done, some mid-step, some not started.
    let mut events = 0;
    let mut finished = 0;
    while let Some(e) = rx.recv().await {
        events += 1;
        if matches!(e, ProgressEvent::TenantFinished { .. }) {
            finished += 1;
        }
        if events == 150 {
            task.abort();
            break;
        }
    }
    assert!(task.await.unwrap_err().is_cancelled());
    assert!(
        finished < tenants.len(),
        "killed too late: {finished} finished"
    );
    let run_id = store
        .list_runs()
        .await
        .unwrap()
        .last()
        .unwrap()
        .run_id
        .clone();
    let entries = store.entries(&run_id).await.unwrap();
    assert!(entries.iter().any(|e| e.outcome == StepOutcome::Started));
    drop(store);

    // A new process: a fresh store over the same file, a fresh orchestrator.
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let second = orchestrator(&handle, manifest(&handle), store.clone(), store.clone());
    let report = second
        .resume_latest(&RunControl::new())
        .await
        .unwrap()
        .expect("a run to resume");
    assert_eq!(report.run_id, run_id);
    assert_eq!(report.tenants.len(), 30);
    assert_eq!(report.counts.verified, 30, "{:#?}", report.counts);
    assert!(
        report
            .tenants
            .iter()
            .all(|t| t.outcome == TenantOutcome::Verified)
    );
    let stats = handle.stats();
    assert_eq!(stats.duplicate_writes, 0, "{:?}", stats.duplicates_per_kind);
    for t in &tenants {
        assert!(fully_granted(&handle, &t.to_string(), 7), "tenant {t}");
        let rec = store.get_record(t).await.unwrap().unwrap();
        assert_eq!(rec.onboarded_via, Some(OnboardedVia::PartnerCenter));
    }
    // Resuming a finished run changes nothing.
    handle.reset_stats();
    let again = second.resume(&run_id, &RunControl::new()).await.unwrap();
    assert_eq!(again.counts.verified, 30);
    assert_eq!(handle.stats().total_requests, 0);
    handle.shutdown().await;
}
