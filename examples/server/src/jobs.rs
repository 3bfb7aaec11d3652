//! Background batch jobs: rows in `server_jobs` / `server_job_items`, steps in the journal,
//! resumed at start, and a per-tenant lock so a tenant never has two actions at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::StreamExt as _;
use gdap_core::TenantId;
use gdap_onboard::ExplainContext;
use tokio::sync::OwnedMutexGuard;

use crate::actions::{self, Action};
use crate::app::AppState;
use crate::error::ApiError;

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

/// Creates a job and starts it in the background. Returns the job id.
pub(crate) async fn start(
    state: &AppState,
    action: Action,
    tenants: Vec<TenantId>,
    created_by: &str,
) -> Result<String, ApiError> {
    let id = uuid::Uuid::new_v4().to_string();
    let mut seen = std::collections::HashSet::new();
    let tenants: Vec<TenantId> = tenants.into_iter().filter(|t| seen.insert(*t)).collect();
    state
        .db
        .create_job(
            id.clone(),
            action.as_str().to_owned(),
            created_by.to_owned(),
            tenants.iter().map(ToString::to_string).collect(),
        )
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(job = %id, action = action.as_str(), tenants = tenants.len(), "job created");
    spawn(state, id.clone(), action, tenants);
    Ok(id)
}

/// Resumes every job a previous process left running.
pub(crate) async fn resume_all(state: &AppState) -> anyhow::Result<usize> {
    let jobs = state.db.unfinished_jobs().await?;
    let n = jobs.len();
    for job in jobs {
        let Some(action) = Action::parse(&job.kind) else {
            tracing::warn!(job = %job.id, kind = %job.kind, "unknown job kind; left as is");
            continue;
        };
        let open = state.db.open_items(job.id.clone()).await?;
        let tenants: Vec<TenantId> = open.iter().filter_map(|t| t.parse().ok()).collect();
        tracing::info!(job = %job.id, remaining = tenants.len(), "resuming job");
        spawn(state, job.id, action, tenants);
    }
    Ok(n)
}

fn spawn(state: &AppState, id: String, action: Action, tenants: Vec<TenantId>) {
    let st = state.clone();
    let mut tasks = match state.tasks.lock() {
        Ok(t) => t,
        Err(p) => p.into_inner(),
    };
    tasks.spawn(async move { run_job(st, id, action, tenants).await });
}

async fn run_job(state: AppState, id: String, action: Action, tenants: Vec<TenantId>) {
    let concurrency = state.job_concurrency;
    futures::stream::iter(tenants)
        .for_each_concurrent(concurrency, |t| {
            let state = state.clone();
            let id = id.clone();
            async move {
                if state.is_stopping() {
                    return;
                }
                let _guard = state.locks.acquire(t).await;
                if state.is_stopping() {
                    return;
                }
                let _ = state
                    .db
                    .set_item(id.clone(), t.to_string(), "running", None, None)
                    .await;
                let result = match state.connection() {
                    Some(c) => actions::run(&c, action, &id, t)
                        .await
                        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(&state, Some(t)))),
                    None => Err(ApiError::not_connected()),
                };
                let write = match result {
                    Ok(detail) => {
                        state
                            .db
                            .set_item(id.clone(), t.to_string(), "done", Some(detail), None)
                            .await
                    }
                    Err(e) => {
                        let body = serde_json::to_value(&e.body).ok();
                        state
                            .db
                            .set_item(
                                id.clone(),
                                t.to_string(),
                                "failed",
                                Some(e.body.message.clone()),
                                body,
                            )
                            .await
                    }
                };
                if let Err(e) = write {
                    tracing::error!(job = %id, tenant = %t, error = %e, "cannot record a job item");
                }
            }
        })
        .await;
    if state.is_stopping() {
        tracing::info!(job = %id, "job interrupted by shutdown; it resumes at next start");
        return;
    }
    if let Err(e) = state.db.finish_job(id.clone(), "completed").await {
        tracing::error!(job = %id, error = %e, "cannot finish a job");
    }
    tracing::info!(job = %id, "job completed");
}
