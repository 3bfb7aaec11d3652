//! Background batch jobs over `gdap-onboard`'s batch runs.
//!
//! A job is a `gdap-store` job plus one job item per tenant (the item's status JSON holds the
//! server's `{status, detail, error, report}`, see [`crate::db`]); its id IS the journal run id (`BatchRun::with_run_id`), so the journal (run header, `Started` + outcome of
//! every step, each tenant's final report) lives in `gdap-store` under the same id. The run's
//! progress events move the items live (`pending` → `running` (step) → `done` / `failed` /
//! `skipped`); at the end each item keeps the tenant's `TenantReport`. At start every job left
//! `running` continues with `Orchestrator::resume(job id)`: finished tenants keep their report,
//! the others start again from the first step, which re-checks before writing, so nothing is
//! written twice.
//!
//! A tenant never has two actions at once: a job takes the per-tenant lock of each of its open
//! tenants (in tenant-id order, so two jobs sharing tenants cannot deadlock) before the run
//! starts, and releases each as soon as that tenant finishes; a single-tenant action takes the
//! lock or answers 409 `tenantBusy`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gdap_core::TenantId;
use gdap_onboard::{
    BatchRun, ExplainContext, ProgressEvent, RunControl, TenantOutcome, TenantReport,
};
use gdap_store::{JobId, JobStatus};
use tokio::sync::{OwnedMutexGuard, mpsc};

use crate::actions::{self, Action};
use crate::app::AppState;
use crate::cloud::Connected;
use crate::error::{ApiError, ErrorBody};

/// The journal step name of a tenant's final report (`gdap-onboard`'s `TENANT_STEP`).
const TENANT_STEP: &str = "tenant";

/// Per-tenant locks.
#[derive(Default)]
pub(crate) struct TenantLocks {
    map: Mutex<HashMap<TenantId, Arc<tokio::sync::Mutex<()>>>>,
}

impl TenantLocks {
    fn lock_of(&self, t: TenantId) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = match self.map.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        map.entry(t).or_default().clone()
    }

    /// Waits for the tenant's lock.
    pub(crate) async fn acquire(&self, t: TenantId) -> OwnedMutexGuard<()> {
        self.lock_of(t).lock_owned().await
    }

    /// Takes the tenant's lock if free.
    pub(crate) fn try_acquire(&self, t: TenantId) -> Option<OwnedMutexGuard<()>> {
        self.lock_of(t).try_lock_owned().ok()
    }
}

/// The explain context of the current connection.
pub(crate) fn explain_ctx(state: &AppState, tenant: Option<TenantId>) -> ExplainContext {
    let mut ctx = ExplainContext::new();
    if let Some(c) = state.connection() {
        if let Some(u) = &c.account.user_email {
            ctx = ctx.with_user_email(u.clone());
        }
        ctx = ctx.with_admin_consent(c.client_id, state.endpoints.authority.clone());
    }
    if let Some(t) = tenant {
        ctx = ctx.with_tenant_id(t);
    }
    ctx
}

/// Creates a job and starts it in the background. Returns the job id (= the journal run id).
pub(crate) async fn start(
    state: &AppState,
    action: Action,
    tenants: Vec<TenantId>,
    created_by: &str,
) -> Result<String, ApiError> {
    let c = state.connection().ok_or_else(ApiError::not_connected)?;
    // Refuse now rather than in the background when no run can start.
    actions::options(&c, state.job_concurrency)?;
    let id = JobId::new_random();
    let mut seen = std::collections::HashSet::new();
    let tenants: Vec<TenantId> = tenants.into_iter().filter(|t| seen.insert(*t)).collect();
    state
        .db
        .create_job(
            id,
            action.as_str().to_owned(),
            created_by.to_owned(),
            &tenants,
        )
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(job = %id, action = action.as_str(), tenants = tenants.len(), "job created");
    spawn(state, id, action);
    Ok(id.to_string())
}

/// Resumes every job a previous process left running.
pub(crate) async fn resume_all(state: &AppState) -> anyhow::Result<usize> {
    let jobs = state.db.unfinished_jobs().await?;
    let n = jobs.len();
    for (id, kind) in jobs {
        let Some(action) = Action::parse(&kind) else {
            tracing::warn!(job = %id, %kind, "unknown job kind; left as is");
            continue;
        };
        tracing::info!(job = %id, "resuming job");
        spawn(state, id, action);
    }
    Ok(n)
}

fn spawn(state: &AppState, id: JobId, action: Action) {
    let st = state.clone();
    let mut tasks = match state.tasks.lock() {
        Ok(t) => t,
        Err(p) => p.into_inner(),
    };
    tasks.spawn(async move {
        if let Err(e) = run_job(&st, id, action).await {
            tracing::error!(job = %id, error = %e, "job failed to run; it resumes at next start");
        }
    });
}

/// An item's row values for a finished tenant: status, detail, error body.
fn item_of(report: &TenantReport) -> (&'static str, String, Option<serde_json::Value>) {
    let status = match report.outcome {
        TenantOutcome::Verified => "done",
        TenantOutcome::Blocked => "failed",
        TenantOutcome::Skipped => "skipped",
        // Cancelled (graceful shutdown): continues at the next start.
        _ => "pending",
    };
    let error = report
        .error()
        .and_then(|e| serde_json::to_value(ErrorBody::from_entry(e)).ok());
    (status, actions::summary(report), error)
}

async fn write_item(state: &AppState, job: JobId, report: &TenantReport) {
    let (status, detail, error) = item_of(report);
    let json = serde_json::to_value(report).ok();
    if let Err(e) = state
        .db
        .set_item(job, report.tenant_id, status, Some(detail), error, json)
        .await
    {
        tracing::error!(%job, tenant = %report.tenant_id, error = %e, "cannot record a job item");
    }
}

/// Marks `tenants` failed with `err` (the run could not start or be recorded).
async fn fail_items(state: &AppState, job: JobId, tenants: &[TenantId], err: &ApiError) {
    let body = serde_json::to_value(&err.body).ok();
    for t in tenants {
        let r = state
            .db
            .set_item(
                job,
                *t,
                "failed",
                Some(err.body.message.clone()),
                body.clone(),
                None,
            )
            .await;
        if let Err(e) = r {
            tracing::error!(%job, tenant = %t, error = %e, "cannot record a job item");
        }
    }
}

async fn run_job(state: &AppState, job: JobId, action: Action) -> anyhow::Result<()> {
    let run_id = job.to_string();
    let id = run_id.as_str();
    let items = state.db.item_states(job).await?;
    let tenants: Vec<TenantId> = items.iter().map(|(t, _)| *t).collect();
    let mut open: Vec<TenantId> = items
        .iter()
        .filter(|(_, s)| s == "pending" || s == "running")
        .map(|(t, _)| *t)
        .collect();
    open.sort();
    open.dedup();

    // The locks of every tenant still to do, in tenant-id order, before any call.
    let mut guards = HashMap::new();
    for t in &open {
        if state.is_stopping() {
            return Ok(());
        }
        guards.insert(*t, state.locks.acquire(*t).await);
    }
    if state.is_stopping() {
        return Ok(());
    }
    let Some(c) = state.connection() else {
        fail_items(state, job, &open, &ApiError::not_connected()).await;
        state.db.finish_job(job, JobStatus::Completed).await?;
        return Ok(());
    };

    let (tx, rx) = mpsc::unbounded_channel();
    let control = RunControl::new()
        .with_progress(tx)
        .with_cancellation(state.cancel.clone());
    let tracker = tokio::spawn(track(state.clone(), c.clone(), job, rx, guards));
    let result = run_or_resume(state, &c, id, action, tenants).await;
    let result = match result {
        Ok(run) => match run {
            Run::Resume => c.orchestrator.resume(id, &control).await,
            Run::Fresh(run) => c.orchestrator.run_batch(run, &control).await,
        }
        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(state, None))),
        Err(e) => Err(e),
    };
    drop(control);
    let _ = tracker.await;

    match result {
        Ok(report) => {
            for r in &report.tenants {
                write_item(state, job, r).await;
            }
            tracing::info!(job = %id, counts = ?report.counts, "run finished");
            if report.counts.cancelled > 0 || state.is_stopping() {
                tracing::info!(job = %id, "job interrupted by shutdown; it resumes at next start");
                return Ok(());
            }
            state.db.finish_job(job, JobStatus::Completed).await?;
        }
        Err(err) => {
            fail_items(state, job, &open, &err).await;
            state.db.finish_job(job, JobStatus::Failed).await?;
        }
    }
    Ok(())
}

enum Run {
    /// The journal has the run's header: continue it.
    Resume,
    /// No header yet (a new job, or the process stopped before the run was recorded).
    Fresh(BatchRun),
}

async fn run_or_resume(
    state: &AppState,
    c: &Connected,
    id: &str,
    action: Action,
    tenants: Vec<TenantId>,
) -> Result<Run, ApiError> {
    let header = c
        .orchestrator
        .ports()
        .journal
        .get_run(id)
        .await
        .map_err(ApiError::internal)?;
    if header.is_some() {
        return Ok(Run::Resume);
    }
    let options = actions::options(c, state.job_concurrency)?;
    Ok(Run::Fresh(
        BatchRun::new(action.kind(), tenants, options).with_run_id(id),
    ))
}

/// The tenant's final report, from the journal (written just before `TenantFinished`).
async fn journaled_report(c: &Connected, run: &str, t: TenantId) -> Option<TenantReport> {
    let entries = c.orchestrator.ports().journal.entries(run).await.ok()?;
    entries
        .iter()
        .rev()
        .find(|e| e.tenant_id == t && e.step == TENANT_STEP)
        .and_then(|e| serde_json::from_str(&e.detail).ok())
}

/// Moves the job's items with the run's progress events; releases each tenant's lock when it
/// finishes.
async fn track(
    state: AppState,
    c: Connected,
    job: JobId,
    mut rx: mpsc::UnboundedReceiver<ProgressEvent>,
    mut guards: HashMap<TenantId, OwnedMutexGuard<()>>,
) {
    while let Some(ev) = rx.recv().await {
        match ev {
            ProgressEvent::StepStarted {
                tenant_id, step, ..
            } => {
                let r = state
                    .db
                    .set_item(
                        job,
                        tenant_id,
                        "running",
                        Some(format!("{}…", step.as_str())),
                        None,
                        None,
                    )
                    .await;
                if let Err(e) = r {
                    tracing::warn!(%job, tenant = %tenant_id, error = %e, "cannot record progress");
                }
            }
            ProgressEvent::TenantFinished {
                tenant_id, outcome, ..
            } => {
                // The full report of a blocked tenant (its catalogue error) is shown at once;
                // a verified one gets its report when the run ends.
                let report = if outcome == TenantOutcome::Blocked {
                    journaled_report(&c, &job.to_string(), tenant_id).await
                } else {
                    None
                };
                match report {
                    Some(r) => write_item(&state, job, &r).await,
                    None => {
                        let (status, detail) = match outcome {
                            TenantOutcome::Verified => ("done", "verified"),
                            TenantOutcome::Blocked => ("failed", "blocked"),
                            TenantOutcome::Skipped => ("skipped", "skipped"),
                            _ => ("pending", "interrupted; resumes at the next start"),
                        };
                        let r = state
                            .db
                            .set_item(job, tenant_id, status, Some(detail.to_owned()), None, None)
                            .await;
                        if let Err(e) = r {
                            tracing::warn!(%job, tenant = %tenant_id, error = %e, "cannot record progress");
                        }
                    }
                }
                if outcome == TenantOutcome::Verified {
                    actions::refresh_rows(&state, &[tenant_id]).await;
                }
                guards.remove(&tenant_id);
            }
            _ => {}
        }
    }
}
