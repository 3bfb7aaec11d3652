//! The write actions on tenants (onboard, migrate, refresh email permissions), run by
//! `gdap-onboard`'s [`Orchestrator`](gdap_onboard::Orchestrator) workflows over the real
//! clients and the server's `SqliteStore` (tenant records + journal).
//!
//! The workflows check before each write, write only what is missing and read everything back;
//! a tenant is reported done (`verified`) only when every step ended `passed` / `changed`. This
//! module adds what the server needs around them: the run options from the connection, the
//! single-tenant routes' answers, and keeping the saved table in step with the records the
//! workflows wrote.

use axum::Json;
use axum::response::{IntoResponse, Response};
use gdap_core::TenantId;
use gdap_onboard::{
    BatchRun, ManagedTenant, OnboardOptions, RunControl, RunKind, TenantOutcome, TenantReport,
    TenantStore as _,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::AppState;
use crate::cloud::Connected;
use crate::error::ApiError;
use crate::jobs::explain_ctx;

/// The response header naming the journal run of a single-tenant action.
pub(crate) const RUN_ID_HEADER: &str = "x-gdap-run-id";

/// Serializes updates of the last synced table.
static ROWS_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A write action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Action {
    /// Install and grant the app through Partner Center.
    Onboard,
    /// Move a Legacy tenant to Partner Center management.
    Migrate,
    /// Refresh the email permissions of a tenant onboarded through Partner Center.
    RefreshEmail,
}

impl Action {
    pub(crate) fn as_str(self) -> &'static str {
        self.kind().as_str()
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "onboard" => Some(Action::Onboard),
            "migrate" => Some(Action::Migrate),
            "refreshEmail" => Some(Action::RefreshEmail),
            _ => None,
        }
    }

    /// The workflow.
    pub(crate) fn kind(self) -> RunKind {
        match self {
            Action::Onboard => RunKind::Onboard,
            Action::Migrate => RunKind::Migrate,
            Action::RefreshEmail => RunKind::RefreshEmail,
        }
    }
}

/// The options of a run over `c`, or 409 `noSecurityGroup`.
pub(crate) fn options(c: &Connected, concurrency: usize) -> Result<OnboardOptions, ApiError> {
    c.options(concurrency).ok_or_else(|| {
        ApiError::conflict(
            "noSecurityGroup",
            "No partner security group is configured: onboarding assigns it to each customer's GDAP relationship.",
        )
        .with_steps([
            "Start the server with --security-group <GUID> (or GDAP_SECURITY_GROUP): a security group of your partner tenant that your user is a member of (e.g. AdminAgents).",
        ])
    })
}

/// A short line for people: the outcome and how many steps wrote something.
pub(crate) fn summary(report: &TenantReport) -> String {
    use gdap_onboard::StepStatus;
    let changed = report
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Changed)
        .count();
    let passed = report
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Passed)
        .count();
    match report.outcome {
        TenantOutcome::Verified => {
            format!("verified: {changed} steps wrote, {passed} already in place")
        }
        TenantOutcome::Blocked => match (report.stopped_at(), report.error()) {
            (Some(step), Some(e)) => format!("blocked at {}: {}", step.as_str(), e.message),
            (Some(step), None) => format!("blocked at {}", step.as_str()),
            _ => "blocked".to_owned(),
        },
        TenantOutcome::Skipped => report.steps.first().map_or_else(
            || "skipped".to_owned(),
            |s| format!("skipped: {}", s.detail),
        ),
        TenantOutcome::Cancelled => "interrupted; resumes at the next start".to_owned(),
        _ => "unknown outcome".to_owned(),
    }
}

/// Brings the saved rows of `tenants` in line with their records (Status, Legacy, Email Perms,
/// Actions), so the table shows what the workflows recorded without a new sync.
pub(crate) async fn refresh_rows(state: &AppState, tenants: &[TenantId]) {
    if tenants.is_empty() {
        return;
    }
    let _rows_guard = ROWS_LOCK.lock().await;
    let result: Result<(), gdap_onboard::PortError> = async {
        let mut rows = state.store.load_rows().await?;
        let mut changed = false;
        for t in tenants {
            let Some(record) = state.store.get_record(t).await? else {
                continue;
            };
            if let Some(r) = rows.iter_mut().find(|r| r.tenant_id == *t) {
                r.status = record.status();
                r.legacy = record.is_legacy();
                r.email_perms = record.email_perms_column();
                r.actions = ManagedTenant::actions_for(
                    &r.gdap,
                    r.status,
                    r.legacy,
                    r.email_perms,
                    r.is_own_partner_tenant,
                );
                changed = true;
            }
        }
        if changed {
            state.store.save_rows(&rows).await?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "cannot update the saved table; the next sync will");
    }
}

/// A single-tenant action: the workflow for `tenant` as a batch of one (journaled under
/// `single-{uuid}`, in the `x-gdap-run-id` header), answered with its `TenantReport` — 200
/// when verified (or skipped), else `{"error": <catalogue entry of the failed step>, "report"}`
/// with the row's status (409 / 422 / 401, see [`ApiError::from_entry`]).
pub(crate) async fn run_single(
    state: &AppState,
    c: &Connected,
    action: Action,
    tenant: TenantId,
) -> Result<Response, ApiError> {
    let options = options(c, 1)?;
    let run = BatchRun::new(action.kind(), vec![tenant], options)
        .with_run_id(format!("single-{}", uuid::Uuid::new_v4()));
    let batch = c
        .orchestrator
        .run_batch(run, &RunControl::new())
        .await
        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(state, Some(tenant))))?;
    let Some(report) = batch.tenants.into_iter().find(|r| r.tenant_id == tenant) else {
        return Err(ApiError::internal(format!("no report for tenant {tenant}")));
    };
    tracing::info!(
        run = %batch.run_id,
        action = action.as_str(),
        %tenant,
        outcome = ?report.outcome,
        "single-tenant action"
    );
    match report.outcome {
        TenantOutcome::Verified | TenantOutcome::Skipped => {
            refresh_rows(state, &[tenant]).await;
            Ok(([(RUN_ID_HEADER, batch.run_id)], Json(report)).into_response())
        }
        _ => {
            let err = match report.error() {
                Some(entry) => ApiError::from_entry(entry),
                None => ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "interrupted",
                    "Interrupted",
                    "The action was interrupted before it could be verified; run it again.",
                ),
            };
            // The error format of every route, with the report (which steps passed) beside it.
            Ok((
                err.status,
                [(RUN_ID_HEADER, batch.run_id)],
                Json(json!({ "error": &*err.body, "report": report })),
            )
                .into_response())
        }
    }
}

/// A dry run (`?dryRun=true` or `{"dryRun": true}`): the workflow's reads only, answered with
/// `{"dryRun": true, "kind", "plans": [TenantPlan]}` — the writes it would do per tenant, or why
/// it would stop. Nothing is written, not even the journal.
pub(crate) async fn plan(
    state: &AppState,
    c: &Connected,
    action: Action,
    tenants: &[TenantId],
) -> Result<Response, ApiError> {
    let options = options(c, state.job_concurrency)?;
    let plans = c
        .orchestrator
        .plan(action.kind(), tenants, &options)
        .await
        .map_err(|e| ApiError::from_onboard(&e, &explain_ctx(state, None)))?;
    Ok(Json(json!({ "dryRun": true, "kind": action.kind(), "plans": plans })).into_response())
}
