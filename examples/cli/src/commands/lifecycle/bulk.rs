//! The bulk relationship changes: `gdap auto-extend`, `gdap remove-ga` and `gdap repair`.

use gdap_onboard::workflows::lifecycle::{DriftFinding, DriftKind};
use gdap_onboard::workflows::{
    AutoExtendReport, DriftReport, GlobalAdminRemovalReport, RelationshipChange,
};
use serde::Serialize;

use super::{
    bulk_options, counts_line, customer_label, exit_for, fail_named, print_failures, roles_label,
    status_label,
};
use crate::cli::{AutoExtendArgs, RemoveGaArgs, RepairArgs};
use crate::commands::batch::sandbox_stats;
use crate::errors::{CliError, Exit, Rendered};
use crate::output::{Printer, Table, clip};
use crate::wiring::Env;

pub(crate) async fn auto_extend(
    a: &AutoExtendArgs,
    env: &Env,
    out: &Printer,
) -> Result<Exit, CliError> {
    let opts =
        bulk_options(env, &a.relationships, a.dry_run).with_concurrency(a.concurrency as usize);
    let report: AutoExtendReport = env
        .orchestrator
        .auto_extend_relationships(&opts)
        .await
        .map_err(|e| fail_named(env, e, &a.relationships))?;
    out.json(&report);
    if report.dry_run {
        out.line("Dry run: nothing is changed.");
    }
    print_changes(&report.relationships, out);
    out.line(format!(
        "auto-extend (180 days): {} relationships, {}.",
        report.relationships.len(),
        counts_line(&report.counts, report.dry_run)
    ));
    print_change_failures(&report.relationships, out);
    sandbox_stats(env, out);
    Ok(exit_for(report.counts.failed))
}

/// `remove-ga` without `--yes` (and without `--dry-run`): the plan and what to add.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfirmDoc<'a> {
    error: &'a Rendered,
    exit_code: u8,
    plan: &'a GlobalAdminRemovalReport,
}

pub(crate) async fn remove_ga(
    a: &RemoveGaArgs,
    env: &Env,
    out: &Printer,
) -> Result<Exit, CliError> {
    let opts = bulk_options(env, &a.relationships, a.dry_run).with_operation_deadline(a.timeout);
    let o = &env.orchestrator;
    if !a.dry_run && !a.yes {
        let plan = o
            .remove_global_admin(&opts.clone().dry_run(true))
            .await
            .map_err(|e| fail_named(env, e, &a.relationships))?;
        if plan.counts.planned > 0 {
            let r = Rendered {
                title: format!(
                    "remove-ga would change {} GDAP relationships: add --yes to apply the plan",
                    plan.counts.planned
                ),
                code: None,
                details: Vec::new(),
                steps: vec![
                    "Review the plan (`gdap remove-ga --dry-run` shows it again, changing nothing).".to_owned(),
                    "Run the same command with --yes to remove Global Administrator from these relationships.".to_owned(),
                ],
                admin_consent_url: None,
            };
            if out.is_json() {
                out.json(&ConfirmDoc {
                    error: &r,
                    exit_code: Exit::Usage.code(),
                    plan: &plan,
                });
            } else {
                out.line("Plan (nothing is changed yet):");
                print_changes(&plan.relationships, out);
                out.line(format!(
                    "remove-ga: {} relationships, {}.",
                    plan.relationships.len(),
                    counts_line(&plan.counts, true)
                ));
                print_change_failures(&plan.relationships, out);
                out.error(&r, Exit::Usage.code());
            }
            return Ok(Exit::Usage);
        }
        // Nothing would change: the plan is the whole answer.
        return finish_remove_ga(&plan, env, out);
    }
    let report = o
        .remove_global_admin(&opts)
        .await
        .map_err(|e| fail_named(env, e, &a.relationships))?;
    finish_remove_ga(&report, env, out)
}

fn finish_remove_ga(
    report: &GlobalAdminRemovalReport,
    env: &Env,
    out: &Printer,
) -> Result<Exit, CliError> {
    out.json(report);
    if report.dry_run {
        out.line("Dry run: nothing is changed.");
    }
    if report.relationships.is_empty() {
        out.line("No active relationship includes Global Administrator: nothing to remove.");
        return Ok(Exit::Ok);
    }
    print_changes(&report.relationships, out);
    out.line(format!(
        "remove-ga: {} relationships, {}.",
        report.relationships.len(),
        counts_line(&report.counts, report.dry_run)
    ));
    if report.dry_run && report.counts.planned > 0 {
        out.line("Run `gdap remove-ga --yes` (with the same --relationship flags) to apply it.");
    }
    print_change_failures(&report.relationships, out);
    sandbox_stats(env, out);
    Ok(exit_for(report.counts.failed))
}

/// RELATIONSHIP, CUSTOMER, STATUS, DETAIL.
fn print_changes(changes: &[RelationshipChange], out: &Printer) {
    if changes.is_empty() {
        out.line("No relationship to change.");
        return;
    }
    let mut t = Table::new(["RELATIONSHIP", "CUSTOMER", "STATUS", "DETAIL"]);
    for c in changes {
        t.row([
            clip(&c.display_name, 40),
            clip(&customer_label(c.customer.as_ref()), 34),
            status_label(c.status).to_owned(),
            c.detail.clone(),
        ]);
    }
    out.block(t.render());
}

fn print_change_failures(changes: &[RelationshipChange], out: &Printer) {
    print_failures(
        out,
        changes.iter().filter_map(|c| {
            c.error
                .as_ref()
                .map(|e| (format!("{} ({})", c.display_name, c.relationship_id), e))
        }),
    );
}

/// The JSON document of `repair`: the drift report and the template's label.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RepairDoc<'a> {
    template: &'a str,
    #[serde(flatten)]
    report: &'a DriftReport,
}

pub(crate) async fn repair(a: &RepairArgs, env: &Env, out: &Printer) -> Result<Exit, CliError> {
    let opts = bulk_options(env, &a.relationships, a.dry_run);
    let report = env
        .orchestrator
        .repair_drift(&a.template.template, &opts)
        .await
        .map_err(|e| fail_named(env, e, &a.relationships))?;
    out.json(&RepairDoc {
        template: &a.template.label,
        report: &report,
    });
    if report.dry_run {
        out.line("Dry run: nothing is changed.");
    }
    out.line(format!(
        "Template: {} ({} groups).",
        a.template.label,
        a.template.template.groups.len()
    ));
    if !report.missing_groups.is_empty() {
        out.line(format!(
            "Missing from the partner tenant (create them with `gdap groups --template {}`): {}.",
            a.template.label,
            report.missing_groups.join(", ")
        ));
    }
    let read_failures = report
        .relationships
        .iter()
        .filter(|d| d.error.is_some())
        .count();
    for d in &report.relationships {
        out.line("");
        out.line(format!(
            "{} — {} ({}):",
            d.display_name,
            customer_label(d.customer.as_ref()),
            d.relationship_id
        ));
        if let Some(e) = &d.error {
            out.block(Rendered::from_entry(e).to_text());
            continue;
        }
        let mut t = Table::new(["DRIFT", "GROUP", "ROLES", "FIX", "STATUS"]);
        for f in &d.findings {
            t.row([
                kind_label(f.kind).to_owned(),
                group_label(f),
                roles_label(&f.roles),
                f.fix.clone(),
                status_label(f.status).to_owned(),
            ]);
        }
        out.block(t.render());
        print_failures(
            out,
            d.findings
                .iter()
                .filter_map(|f| f.error.as_ref().map(|e| (group_label(f), e))),
        );
    }
    if !report.relationships.is_empty() {
        out.line("");
    }
    out.line(format!(
        "{} relationships checked: {} in line with the template, {} with drift{}; fixes: {}.",
        report.checked,
        report.in_line,
        report.relationships.len() - read_failures,
        if read_failures > 0 {
            format!(", {read_failures} could not be read")
        } else {
            String::new()
        },
        counts_line(&report.counts, report.dry_run)
    ));
    if report.dry_run && report.counts.planned > 0 {
        out.line("Run the same command without --dry-run to apply the fixes.");
    }
    sandbox_stats(env, out);
    Ok(exit_for(report.counts.failed + read_failures))
}

fn kind_label(k: DriftKind) -> &'static str {
    match k {
        DriftKind::MissingGroup => "missing group",
        DriftKind::StaleGroup => "stale group",
        DriftKind::ExtraRoles => "extra roles",
        DriftKind::MissingRoles => "missing roles",
        _ => "drift",
    }
}

fn group_label(f: &DriftFinding) -> String {
    match &f.group_name {
        Some(n) => n.clone(),
        None => format!("{} (deleted)", f.group_id),
    }
}
