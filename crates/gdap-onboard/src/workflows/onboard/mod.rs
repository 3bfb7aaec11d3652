//! The write workflows: onboard, migrate legacy, refresh email permissions — one tenant or a
//! batch, verified by read-back, journaled and resumable, with a dry run.
//!
//! Every tenant goes through the [`OnboardStep`]s of its [`RunKind`]. Each step checks before
//! it writes, writes only what is missing and reads back after, so running it twice (or after
//! a kill) creates no duplicate. The journal gets a `Started` entry before each step and its
//! outcome after; the run header ([`BatchRun`], stored as a [`RunRecord`]) says what the run
//! was, so [`Orchestrator::resume`] needs only the run id. A tenant's final report is journaled
//! under the step name `"tenant"`; on resume, tenants that finished (verified, blocked or
//! skipped) keep their report and the others start again from the first step, re-checking
//! cheaply what earlier steps did.

mod model;
mod steps;

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use gdap_core::TenantId;

pub use model::{
    BatchCounts, BatchReport, BatchRun, Cancellation, OnboardOptions, OnboardStep, PlannedWrite,
    ProgressEvent, RunControl, RunKind, StepReport, StepStatus, TenantOutcome, TenantPlan,
    TenantReport,
};

use crate::error::{OnboardError, Operation, Result};
use crate::manifest::AppManifest;
use crate::port_error::{PortError, PortErrorKind};
use crate::ports::{JournalEntry, RunRecord, StepOutcome};

use super::Orchestrator;
use steps::{Mode, RelationshipIndex, TENANT_STEP, TenantRun};

fn store_error(e: PortError) -> OnboardError {
    OnboardError::Service {
        operation: Operation::Store,
        tenant: None,
        source: e,
    }
}

impl Orchestrator {
    fn manifest(&self) -> Result<AppManifest> {
        self.config
            .manifest
            .clone()
            .ok_or_else(|| OnboardError::Service {
                operation: Operation::Consent,
                tenant: None,
                source: PortError::new(
                    PortErrorKind::Invalid,
                    "no app manifest configured (OrchestratorConfig::with_manifest)",
                ),
            })
    }

    /// Onboards one tenant (a batch of one, journaled under a fresh run id).
    pub async fn onboard_tenant(
        &self,
        tenant: TenantId,
        options: OnboardOptions,
    ) -> Result<TenantReport> {
        let report = self
            .run_batch(
                BatchRun::new(RunKind::Onboard, vec![tenant], options),
                &RunControl::new(),
            )
            .await?;
        single(report, tenant)
    }

    /// Onboards `tenants` through Partner Center.
    pub async fn onboard(
        &self,
        tenants: Vec<TenantId>,
        options: OnboardOptions,
        control: &RunControl,
    ) -> Result<BatchReport> {
        self.run_batch(BatchRun::new(RunKind::Onboard, tenants, options), control)
            .await
    }

    /// Migrates legacy (individually onboarded) `tenants` to Partner Center management.
    pub async fn migrate(
        &self,
        tenants: Vec<TenantId>,
        options: OnboardOptions,
        control: &RunControl,
    ) -> Result<BatchReport> {
        self.run_batch(BatchRun::new(RunKind::Migrate, tenants, options), control)
            .await
    }

    /// Refreshes the email permissions of `tenants` (onboarded through Partner Center only).
    pub async fn refresh_email(
        &self,
        tenants: Vec<TenantId>,
        options: OnboardOptions,
        control: &RunControl,
    ) -> Result<BatchReport> {
        self.run_batch(
            BatchRun::new(RunKind::RefreshEmail, tenants, options),
            control,
        )
        .await
    }

    /// Runs `run`: stores its header, then processes its tenants with bounded concurrency.
    /// One tenant's failure never stops the others; the `Err` case is only for the journal
    /// (the run could not be recorded) or a missing manifest.
    pub async fn run_batch(&self, run: BatchRun, control: &RunControl) -> Result<BatchReport> {
        self.manifest()?;
        let spec = serde_json::to_value(&run)
            .map_err(|e| store_error(PortError::new(PortErrorKind::Other, e.to_string())))?;
        self.ports
            .journal
            .put_run(&RunRecord::new(
                run.run_id.clone(),
                run.kind.as_str(),
                spec,
                self.ports.clock.now(),
            ))
            .await
            .map_err(store_error)?;
        self.execute(run, BTreeMap::new(), BTreeMap::new(), control)
            .await
    }

    /// Resumes run `run_id` from its journal: tenants that finished keep their report, the
    /// others continue (every step re-checks before writing, so nothing is duplicated).
    pub async fn resume(&self, run_id: &str, control: &RunControl) -> Result<BatchReport> {
        let record = self
            .ports
            .journal
            .get_run(run_id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| {
                store_error(PortError::not_found(format!(
                    "no run {run_id} in the journal"
                )))
            })?;
        let run: BatchRun = serde_json::from_value(record.spec).map_err(|e| {
            store_error(PortError::new(
                PortErrorKind::Invalid,
                format!("run {run_id}: unreadable header: {e}"),
            ))
        })?;
        let entries = self
            .ports
            .journal
            .entries(run_id)
            .await
            .map_err(store_error)?;
        let (finished, done) = digest(&entries);
        self.execute(run, finished, done, control).await
    }

    /// Resumes the most recent run, if there is one.
    pub async fn resume_latest(&self, control: &RunControl) -> Result<Option<BatchReport>> {
        let runs = self.ports.journal.list_runs().await.map_err(store_error)?;
        match runs.last() {
            Some(r) => Ok(Some(self.resume(&r.run_id, control).await?)),
            None => Ok(None),
        }
    }

    /// The writes a run of `kind` would do for each tenant, found with reads only (no write,
    /// no journal entry).
    pub async fn plan(
        &self,
        kind: RunKind,
        tenants: &[TenantId],
        options: &OnboardOptions,
    ) -> Result<Vec<TenantPlan>> {
        let manifest = self.manifest()?;
        let control = RunControl::new();
        let concurrency = options.concurrency.max(1);
        let relationships = RelationshipIndex::default();
        let plans = futures::stream::iter(tenants.iter().copied())
            .map(|t| {
                let manifest = &manifest;
                let control = &control;
                let relationships = &relationships;
                async move {
                    let (report, writes, blocked) = TenantRun::new(
                        self,
                        "dry-run",
                        kind,
                        t,
                        options,
                        manifest,
                        control,
                        Mode::Plan,
                        relationships,
                    )
                    .run()
                    .await;
                    TenantPlan {
                        tenant_id: t,
                        display_name: report.display_name,
                        writes,
                        blocked,
                        steps: report.steps,
                    }
                }
            })
            .buffered(concurrency)
            .collect()
            .await;
        Ok(plans)
    }

    /// [`Orchestrator::plan`] for onboarding.
    pub async fn plan_onboard(
        &self,
        tenants: &[TenantId],
        options: &OnboardOptions,
    ) -> Result<Vec<TenantPlan>> {
        self.plan(RunKind::Onboard, tenants, options).await
    }

    async fn execute(
        &self,
        run: BatchRun,
        mut finished: BTreeMap<TenantId, TenantReport>,
        done: BTreeMap<TenantId, BTreeSet<OnboardStep>>,
        control: &RunControl,
    ) -> Result<BatchReport> {
        let manifest = self.manifest()?;
        let already = run
            .tenants
            .iter()
            .filter(|t| finished.contains_key(t))
            .count();
        control.emit(ProgressEvent::RunStarted {
            run_id: run.run_id.clone(),
            kind: run.kind,
            total: run.tenants.len(),
            already_done: already,
        });
        let todo: Vec<TenantId> = {
            let mut seen = BTreeSet::new();
            run.tenants
                .iter()
                .copied()
                .filter(|t| !finished.contains_key(t) && seen.insert(*t))
                .collect()
        };
        let concurrency = run.options.concurrency.max(1);
        let relationships = RelationshipIndex::default();
        let results: Vec<TenantReport> = futures::stream::iter(todo)
            .map(|t| {
                let manifest = &manifest;
                let run = &run;
                let relationships = &relationships;
                let resumed = done.get(&t).cloned().unwrap_or_default();
                async move {
                    let (report, _, _) = TenantRun::new(
                        self,
                        &run.run_id,
                        run.kind,
                        t,
                        &run.options,
                        manifest,
                        control,
                        Mode::Execute,
                        relationships,
                    )
                    .with_resumed(resumed)
                    .run()
                    .await;
                    self.finish_tenant(&run.run_id, &report, control).await;
                    report
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        for r in results {
            finished.insert(r.tenant_id, r);
        }
        let mut seen = BTreeSet::new();
        let tenants: Vec<TenantReport> = run
            .tenants
            .iter()
            .filter(|t| seen.insert(**t))
            .filter_map(|t| finished.get(t).cloned())
            .collect();
        let counts = BatchCounts::of(&tenants);
        control.emit(ProgressEvent::RunFinished {
            run_id: run.run_id.clone(),
            counts,
        });
        Ok(BatchReport {
            run_id: run.run_id,
            kind: run.kind,
            tenants,
            counts,
        })
    }

    async fn finish_tenant(&self, run_id: &str, report: &TenantReport, control: &RunControl) {
        let outcome = match report.outcome {
            TenantOutcome::Verified => StepOutcome::Passed,
            TenantOutcome::Blocked => StepOutcome::Failed,
            TenantOutcome::Skipped => StepOutcome::Skipped,
            TenantOutcome::Cancelled => StepOutcome::Cancelled,
        };
        let detail = serde_json::to_string(report).unwrap_or_default();
        let entry = JournalEntry::new(
            run_id,
            report.tenant_id,
            TENANT_STEP,
            outcome,
            detail,
            self.ports.clock.now(),
        );
        if let Err(e) = self.ports.journal.append(&entry).await {
            // The tenant's state is verified in the world either way; a resume re-checks it.
            tracing::warn!(tenant = %report.tenant_id, "journal: {e}");
        }
        control.emit(ProgressEvent::TenantFinished {
            run_id: run_id.to_owned(),
            tenant_id: report.tenant_id,
            outcome: report.outcome,
        });
    }
}

type Digest = (
    BTreeMap<TenantId, TenantReport>,
    BTreeMap<TenantId, BTreeSet<OnboardStep>>,
);

/// From a run's journal: the final report of each tenant that finished (verified, blocked,
/// skipped — a cancelled tenant continues), and the steps done for the others.
fn digest(entries: &[JournalEntry]) -> Digest {
    let mut finished = BTreeMap::new();
    let mut done: BTreeMap<TenantId, BTreeSet<OnboardStep>> = BTreeMap::new();
    for e in entries {
        if e.step == TENANT_STEP {
            match e.outcome {
                StepOutcome::Passed | StepOutcome::Failed | StepOutcome::Skipped => {
                    if let Ok(r) = serde_json::from_str::<TenantReport>(&e.detail) {
                        finished.insert(e.tenant_id, r);
                    }
                }
                _ => {
                    finished.remove(&e.tenant_id);
                }
            }
        } else if matches!(e.outcome, StepOutcome::Passed | StepOutcome::Changed)
            && let Some(step) = OnboardStep::parse(&e.step)
        {
            done.entry(e.tenant_id).or_default().insert(step);
        }
    }
    (finished, done)
}

fn single(report: BatchReport, tenant: TenantId) -> Result<TenantReport> {
    report
        .tenants
        .into_iter()
        .find(|t| t.tenant_id == tenant)
        .ok_or_else(|| {
            store_error(PortError::new(
                PortErrorKind::Other,
                format!("no report for tenant {tenant}"),
            ))
        })
}
