//! The write-side batches: `onboard`, `refresh-perms`, `migrate`, `resume`, and `demo`.
//!
//! Each batch is journaled (SQLite in the state directory), so a killed run continues with
//! `gdap resume` from the last good step of each tenant without writing anything twice.

use std::collections::BTreeMap;
use std::time::Duration;

use gdap_core::TenantId;
use gdap_onboard::ManagedTenant;
use gdap_onboard::tenant::EmailPerms;
use gdap_onboard::workflows::onboard::{
    BatchCounts, BatchReport, OnboardOptions, PlannedWrite, ProgressEvent, RunControl, RunKind,
    StepStatus, TenantOutcome, TenantPlan,
};
use serde::Serialize;
use tokio::sync::mpsc;

use super::{fail, tenants};
use crate::cli::{DemoArgs, MigrateArgs, OnboardArgs, RefreshPermsArgs, ResumeArgs};
use crate::errors::{CliError, Exit, Rendered};
use crate::output::{Printer, Table, clip};
use crate::wiring::Env;

/// The options of a batch: the partner security group and the concurrency.
fn options(env: &Env, concurrency: u32) -> Result<OnboardOptions, CliError> {
    let group = env.security_group.ok_or_else(|| {
        CliError::usage(
            "no partner security group: pass --security-group <GUID> (or set GDAP_SECURITY_GROUP)",
            Some("Use the GDAP security group (e.g. AdminAgents or your onboarding admins group) your user is in.".to_owned()),
        )
    })?;
    let mut o = OnboardOptions::new(group).with_concurrency(concurrency as usize);
    if env.sandbox.is_some() {
        // The sandbox propagates in a fraction of a second: poll accordingly.
        o = o.with_poll(Duration::from_millis(100), Duration::from_secs(1));
    }
    Ok(o)
}

/// The rows of a fresh sync, by tenant.
async fn rows(env: &Env, out: &Printer) -> Result<Vec<ManagedTenant>, CliError> {
    Ok(tenants::synced(env, out).await?.tenants)
}

/// Checks that every explicitly named tenant is in the table.
fn known(rows: &[ManagedTenant], wanted: &[TenantId]) -> Result<Vec<TenantId>, CliError> {
    let by_id: BTreeMap<TenantId, &ManagedTenant> = rows.iter().map(|r| (r.tenant_id, r)).collect();
    let unknown: Vec<String> = wanted
        .iter()
        .filter(|t| !by_id.contains_key(t))
        .map(ToString::to_string)
        .collect();
    if !unknown.is_empty() {
        return Err(CliError::usage(
            format!(
                "not among your managed tenants (no active GDAP relationship): {}",
                unknown.join(", ")
            ),
            Some("Check the ids with `gdap tenants`; request a relationship with `gdap request-permissions <tenant>`.".to_owned()),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    Ok(wanted.iter().copied().filter(|t| seen.insert(*t)).collect())
}

fn names(rows: &[ManagedTenant]) -> BTreeMap<TenantId, String> {
    rows.iter()
        .map(|r| (r.tenant_id, r.display_name.clone()))
        .collect()
}

/// Tenants `onboard --all-ready` takes: GDAP Ready, not onboarded, not the own tenant.
pub(crate) fn ready_to_onboard(rows: &[ManagedTenant]) -> Vec<TenantId> {
    rows.iter()
        .filter(|r| {
            !r.is_own_partner_tenant
                && matches!(r.gdap, gdap_onboard::Readiness::Ready)
                && !r.status.is_onboarded()
                && r.status != gdap_onboard::TenantStatus::PreviouslyDeleted
        })
        .map(|r| r.tenant_id)
        .collect()
}

pub(crate) async fn onboard(a: &OnboardArgs, env: &Env, out: &Printer) -> Result<Exit, CliError> {
    let rows = rows(env, out).await?;
    let tenants = if a.all_ready {
        ready_to_onboard(&rows)
    } else {
        known(&rows, &a.tenants)?
    };
    let opts = options(env, a.concurrency)?;
    if a.dry_run {
        return dry_run(RunKind::Onboard, &tenants, &opts, &rows, env, out).await;
    }
    run(RunKind::Onboard, tenants, opts, &rows, env, out).await
}

pub(crate) async fn refresh_perms(
    a: &RefreshPermsArgs,
    env: &Env,
    out: &Printer,
) -> Result<Exit, CliError> {
    let rows = rows(env, out).await?;
    let tenants = if a.tenants.is_empty() {
        rows.iter()
            .filter(|r| r.email_perms == EmailPerms::NeedsRefresh && !r.legacy)
            .map(|r| r.tenant_id)
            .collect()
    } else {
        known(&rows, &a.tenants)?
    };
    let opts = options(env, a.concurrency)?;
    run(RunKind::RefreshEmail, tenants, opts, &rows, env, out).await
}

pub(crate) async fn migrate(a: &MigrateArgs, env: &Env, out: &Printer) -> Result<Exit, CliError> {
    let rows = rows(env, out).await?;
    let tenants = if a.all_legacy {
        rows.iter()
            .filter(|r| r.legacy)
            .map(|r| r.tenant_id)
            .collect()
    } else {
        known(&rows, &a.tenants)?
    };
    let opts = options(env, a.concurrency)?;
    run(RunKind::Migrate, tenants, opts, &rows, env, out).await
}

pub(crate) async fn resume(a: &ResumeArgs, env: &Env, out: &Printer) -> Result<Exit, CliError> {
    let _ = a.concurrency;
    let (control, progress) = control(out, "resume", 0, BTreeMap::new());
    let result = match &a.run {
        Some(id) => env.orchestrator.resume(id, &control).await.map(Some),
        None => env.orchestrator.resume_latest(&control).await,
    };
    drop(control);
    let _ = progress.await;
    let Some(report) = result.map_err(|e| fail(env, e))? else {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Nothing {
            resumed: Option<String>,
        }
        out.json(&Nothing { resumed: None });
        out.line("Nothing to resume: the journal holds no batch.");
        if env.sandbox.is_some() {
            out.note("note: --sandbox keeps its journal in memory for one run; resume a batch run against a lasting server with --state-dir.");
        }
        return Ok(Exit::Ok);
    };
    Ok(finish(&report, &BTreeMap::new(), out))
}

pub(crate) async fn demo(a: &DemoArgs, env: &Env, out: &Printer) -> Result<Exit, CliError> {
    if env.sandbox.is_none() {
        return Err(CliError::usage(
            "`gdap demo` onboards every Ready tenant: it runs only with --sandbox",
            Some("Run `gdap --sandbox demo`, or `gdap onboard --all-ready --dry-run` against your tenants.".to_owned()),
        ));
    }
    out.line("== 1. Sync the GDAP relationships ==");
    let before = tenants::synced(env, out).await?;
    out.line(tenants::sync_summary(&before));
    out.line("");
    out.line("== 2. The managed-tenants table ==");
    out.block(tenants::table(&before.tenants));
    out.line(tenants::footer(&before.tenants));
    out.line("");
    let ready = ready_to_onboard(&before.tenants);
    out.line(format!(
        "== 3. Onboard the {} tenants showing GDAP Ready (install the app, grant, verify) ==",
        ready.len()
    ));
    let opts = options(env, a.concurrency)?;
    let (control, progress) = control(out, "onboard", ready.len() as u64, names(&before.tenants));
    let report = env.orchestrator.onboard(ready, opts, &control).await;
    drop(control);
    let _ = progress.await;
    let report = report.map_err(|e| fail(env, e))?;
    let names = names(&before.tenants);
    let exit = results(&report, &names, out);
    out.line("");
    out.line("== 4. The table again ==");
    let after = tenants::synced(env, out).await?;
    out.block(tenants::table(&after.tenants));
    out.line(tenants::footer(&after.tenants));

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct DemoDoc<'a> {
        before: &'a [ManagedTenant],
        onboard: &'a BatchReport,
        after: &'a [ManagedTenant],
    }
    out.json(&DemoDoc {
        before: &before.tenants,
        onboard: &report,
        after: &after.tenants,
    });
    sandbox_stats(env, out);
    Ok(exit)
}

/// With --sandbox: what the fake cloud saw (writes, duplicate writes, faults injected).
pub(crate) fn sandbox_stats(env: &Env, out: &Printer) {
    if let Some(h) = &env.sandbox {
        let stats = h.stats();
        out.line(format!(
            "Sandbox: {} writes, {} duplicate writes, {} faults injected ({} requests).",
            stats.writes.len(),
            stats.duplicate_writes,
            stats.faults_injected,
            stats.total_requests,
        ));
    }
}

/// A run control whose progress events drive the bar (or lines); the task returns the
/// display names it learnt.
fn control(
    out: &Printer,
    what: &str,
    total: u64,
    names: BTreeMap<TenantId, String>,
) -> (RunControl, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<ProgressEvent>();
    let mut bar = out.progress(what, total);
    let task = tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            match ev {
                ProgressEvent::RunStarted {
                    run_id,
                    total,
                    already_done,
                    ..
                } => {
                    bar.set_total(total as u64, already_done as u64);
                    bar.message(&format!("run {run_id}"));
                }
                ProgressEvent::TenantFinished {
                    tenant_id, outcome, ..
                } => {
                    let label = names
                        .get(&tenant_id)
                        .cloned()
                        .unwrap_or_else(|| tenant_id.to_string());
                    bar.item(&label, outcome_label(outcome));
                }
                _ => {}
            }
        }
        bar.finish();
    });
    (RunControl::new().with_progress(tx), task)
}

async fn run(
    kind: RunKind,
    tenants: Vec<TenantId>,
    opts: OnboardOptions,
    rows: &[ManagedTenant],
    env: &Env,
    out: &Printer,
) -> Result<Exit, CliError> {
    let names = names(rows);
    if tenants.is_empty() {
        let report = BatchReport {
            run_id: String::new(),
            kind,
            tenants: Vec::new(),
            counts: BatchCounts::default(),
        };
        out.json(&report);
        out.line(format!("Nothing to {}: no tenant qualifies.", verb(kind)));
        return Ok(Exit::Ok);
    }
    let cancel = gdap_onboard::workflows::onboard::Cancellation::new();
    let (control, progress) = control(out, verb(kind), tenants.len() as u64, names.clone());
    let control = control.with_cancellation(cancel.clone());
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel();
        }
    });
    let report = match kind {
        RunKind::Migrate => env.orchestrator.migrate(tenants, opts, &control).await,
        RunKind::RefreshEmail => {
            env.orchestrator
                .refresh_email(tenants, opts, &control)
                .await
        }
        _ => env.orchestrator.onboard(tenants, opts, &control).await,
    };
    ctrl_c.abort();
    drop(control);
    let _ = progress.await;
    let report = report.map_err(|e| fail(env, e))?;
    let exit = finish(&report, &names, out);
    sandbox_stats(env, out);
    Ok(exit)
}

fn verb(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Migrate => "migrate",
        RunKind::RefreshEmail => "refresh",
        _ => "onboard",
    }
}

fn outcome_label(o: TenantOutcome) -> &'static str {
    match o {
        TenantOutcome::Verified => "done (verified)",
        TenantOutcome::Blocked => "FAILED",
        TenantOutcome::Skipped => "skipped",
        TenantOutcome::Cancelled => "interrupted",
        _ => "?",
    }
}

/// Prints the JSON report (json mode) or the results (table mode); returns the exit code.
fn finish(report: &BatchReport, names: &BTreeMap<TenantId, String>, out: &Printer) -> Exit {
    out.json(report);
    results(report, names, out)
}

/// Per-tenant results, the failures explained, and the exit code.
fn results(report: &BatchReport, names: &BTreeMap<TenantId, String>, out: &Printer) -> Exit {
    let name = |t: &gdap_onboard::workflows::onboard::TenantReport| {
        t.display_name
            .clone()
            .or_else(|| names.get(&t.tenant_id).cloned())
            .unwrap_or_else(|| t.tenant_id.to_string())
    };
    let mut t = Table::new(["TENANT", "TENANT ID", "RESULT", "CHANGED", "STOPPED AT"]);
    for r in &report.tenants {
        let changed = r
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Changed)
            .count();
        t.row([
            clip(&name(r), 34),
            r.tenant_id.to_string(),
            outcome_label(r.outcome).to_owned(),
            format!("{changed} steps"),
            r.stopped_at()
                .map_or_else(|| "-".to_owned(), |s| s.as_str().to_owned()),
        ]);
    }
    if !t.is_empty() {
        out.block(t.render());
    }
    let c = &report.counts;
    out.line(format!(
        "{}: {} verified, {} failed, {} skipped, {} interrupted (run {}).",
        verb(report.kind),
        c.verified,
        c.blocked,
        c.skipped,
        c.cancelled,
        report.run_id
    ));
    for r in report
        .tenants
        .iter()
        .filter(|r| r.outcome == TenantOutcome::Blocked)
    {
        if let Some(e) = r.error() {
            out.line("");
            out.line(format!("{} ({}):", name(r), r.tenant_id));
            out.block(Rendered::from_entry(e).to_text());
        }
    }
    if c.cancelled > 0 {
        out.line("Interrupted: run `gdap resume` to continue from the last good step.");
    }
    if c.blocked > 0 || c.cancelled > 0 {
        Exit::TenantsFailed
    } else {
        Exit::Ok
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanDoc<'a> {
    dry_run: bool,
    kind: RunKind,
    plans: &'a [TenantPlan],
}

async fn dry_run(
    kind: RunKind,
    tenants: &[TenantId],
    opts: &OnboardOptions,
    rows: &[ManagedTenant],
    env: &Env,
    out: &Printer,
) -> Result<Exit, CliError> {
    let plans = env
        .orchestrator
        .plan(kind, tenants, opts)
        .await
        .map_err(|e| fail(env, e))?;
    out.json(&PlanDoc {
        dry_run: true,
        kind,
        plans: &plans,
    });
    let names = names(rows);
    out.line(format!(
        "Dry run: nothing is changed. {} tenants would be {}ed:",
        plans.len(),
        verb(kind)
    ));
    for p in &plans {
        let n = p
            .display_name
            .clone()
            .or_else(|| names.get(&p.tenant_id).cloned())
            .unwrap_or_default();
        out.line("");
        out.line(format!("{n} ({})", p.tenant_id));
        if let Some(b) = &p.blocked {
            out.line(format!("  blocked: {}", b.message));
            continue;
        }
        if p.writes.is_empty() {
            out.line("  nothing to write: already in place");
        }
        for w in &p.writes {
            out.line(format!("  - {}", describe(w)));
        }
    }
    let blocked = plans.iter().filter(|p| p.blocked.is_some()).count();
    let writes: usize = plans.iter().map(|p| p.writes.len()).sum();
    out.line("");
    out.line(format!(
        "{} writes planned; {blocked} tenants would be blocked.",
        writes
    ));
    Ok(Exit::Ok)
}

fn describe(w: &PlannedWrite) -> String {
    match w {
        PlannedWrite::CreateAccessAssignment { group, roles, .. } => format!(
            "assign security group {group} to the GDAP relationship ({})",
            roles
                .iter()
                .map(gdap_core::roles::role_name)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        PlannedWrite::CreateConsent { resources, .. } => format!(
            "Partner Center consent for the app ({})",
            resources.join(", ")
        ),
        PlannedWrite::DeleteConsent { .. } => {
            "remove the mismatched Partner Center consent".to_owned()
        }
        PlannedWrite::CreateServicePrincipal { app_id } => {
            format!("install the app (service principal for {app_id})")
        }
        PlannedWrite::GrantDelegated { resource, scopes } => {
            format!("grant delegated {resource}: {}", scopes.join(" "))
        }
        PlannedWrite::GrantAppRole {
            resource,
            permission,
        } => format!("grant application permission {resource}: {permission}"),
        PlannedWrite::UpdateRecord { change } => format!("record: {change}"),
        _ => "write".to_owned(),
    }
}
