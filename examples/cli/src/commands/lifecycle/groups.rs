//! `gdap groups`: the template's GDAP security groups in the partner tenant, the service account
//! in each, its AdminAgents membership and MFA, and the groups' access assignments on the
//! relationships named with `--relationship`.

use gdap_onboard::workflows::lifecycle::{AdminAgentsCheck, GroupAssignment, MfaCheck};
use gdap_onboard::workflows::{ChangeStatus, GroupAssignmentReport, GroupSetupReport};
use gdap_onboard::{CatalogueEntry, OnboardError, Operation, PortErrorKind, explain};
use serde::Serialize;

use super::{counts_line, dedup, exit_for, fail_named, print_failures, roles_label, status_label};
use crate::cli::GroupsArgs;
use crate::commands::batch::sandbox_stats;
use crate::commands::fail;
use crate::errors::{CliError, Exit, exit_of};
use crate::output::{Printer, Table};
use crate::wiring::Env;

/// The JSON document: the setup report, the template's label and one entry per relationship.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupsDoc<'a> {
    template: &'a str,
    #[serde(flatten)]
    setup: &'a GroupSetupReport,
    assignments: &'a [RelationshipAssignments],
    failed: usize,
}

/// The groups' assignments on one relationship, or why they could not be made.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RelationshipAssignments {
    relationship_id: String,
    report: Option<GroupAssignmentReport>,
    error: Option<CatalogueEntry>,
}

pub(crate) async fn run(a: &GroupsArgs, env: &Env, out: &Printer) -> Result<Exit, CliError> {
    let account = a
        .service_account
        .clone()
        .or_else(|| env.account.user_email.clone())
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            CliError::usage(
                "no service account: pass --service-account <UPN>",
                Some("The signed-in user is not known: name the dedicated GDAP service account, e.g. svc-gdap@yourmsp.onmicrosoft.com.".to_owned()),
            )
        })?;
    let o = &env.orchestrator;
    let template = &a.template.template;
    let relationships = dedup(&a.relationships);
    // A mistyped relationship id is refused before any group is created.
    for id in &relationships {
        if let Err(e) = o.ports().gdap.get_relationship(id).await {
            let e = OnboardError::classify(Operation::GetRelationship, None, e);
            if e.port_error()
                .is_some_and(|p| p.kind() == PortErrorKind::NotFound)
            {
                return Err(fail_named(env, e, std::slice::from_ref(id)));
            }
        }
    }
    let setup = o
        .ensure_gdap_groups(template, &account, a.dry_run)
        .await
        .map_err(|e| fail(env, e))?;
    let mut assignments = Vec::new();
    for id in relationships {
        match o.assign_groups(&id, template, a.dry_run).await {
            Ok(mut report) => {
                // In a dry run a group that would be created cannot be found yet.
                report.assume_planned_groups(&setup);
                assignments.push(RelationshipAssignments {
                    relationship_id: id.to_string(),
                    report: Some(report),
                    error: None,
                });
            }
            Err(e) if exit_of(&e) == Exit::AuthNeeded => return Err(fail(env, e)),
            Err(e) => assignments.push(RelationshipAssignments {
                relationship_id: id.to_string(),
                report: None,
                error: Some(explain(&e, &env.explain_context())),
            }),
        }
    }
    let failed = setup.counts.failed
        + assignments
            .iter()
            .map(|r| r.report.as_ref().map_or(1, |r| r.counts.failed))
            .sum::<usize>();
    out.json(&GroupsDoc {
        template: &a.template.label,
        setup: &setup,
        assignments: &assignments,
        failed,
    });
    print_setup(&setup, &a.template.label, out);
    for r in &assignments {
        print_assignments(r, a.dry_run, out);
    }
    sandbox_stats(env, out);
    Ok(exit_for(failed))
}

fn group_label(s: ChangeStatus) -> &'static str {
    match s {
        ChangeStatus::Changed => "created",
        ChangeStatus::Unchanged => "reused",
        ChangeStatus::Planned => "would create",
        other => status_label(other),
    }
}

fn membership_label(s: ChangeStatus) -> &'static str {
    match s {
        ChangeStatus::Changed => "added",
        ChangeStatus::Unchanged => "already a member",
        ChangeStatus::Planned => "would add",
        other => status_label(other),
    }
}

fn assignment_label(s: ChangeStatus) -> &'static str {
    match s {
        ChangeStatus::Changed => "created",
        ChangeStatus::Unchanged => "reused",
        ChangeStatus::Planned => "would create",
        other => status_label(other),
    }
}

fn print_setup(setup: &GroupSetupReport, template: &str, out: &Printer) {
    if setup.dry_run {
        out.line("Dry run: nothing is changed.");
    }
    let user = &setup.service_account;
    out.line(format!(
        "Service account: {}{}",
        user.user_principal_name,
        user.display_name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default()
    ));
    out.line(format!(
        "Template: {template} ({} groups)",
        setup.groups.len()
    ));
    out.line("");
    let mut t = Table::new(["GROUP", "GROUP ID", "GROUP STATUS", "MEMBERSHIP"]);
    for g in &setup.groups {
        t.row([
            g.display_name.clone(),
            g.group_id
                .map_or_else(|| "-".to_owned(), |id| id.to_string()),
            group_label(g.group).to_owned(),
            membership_label(g.membership).to_owned(),
        ]);
    }
    out.block(t.render());
    out.line("");
    match &setup.admin_agents {
        AdminAgentsCheck::Member => {
            out.line(format!(
                "AdminAgents: {} is a member.",
                user.user_principal_name
            ));
        }
        AdminAgentsCheck::NotMember { fix } => {
            out.line(format!(
                "AdminAgents: {} is NOT a member (Partner Center refuses its GDAP calls).",
                user.user_principal_name
            ));
            out.line(format!("  Fix: {fix}"));
        }
        AdminAgentsCheck::GroupMissing => {
            out.line("AdminAgents: the partner tenant has no AdminAgents group (is it a CSP partner tenant?).");
        }
        _ => out.line("AdminAgents: unknown."),
    }
    match &setup.mfa {
        MfaCheck::Enforced { methods } => {
            out.line(format!(
                "MFA: enforced (sign-in methods: {}).",
                methods.join(", ")
            ));
        }
        MfaCheck::Missing { methods, fix } => {
            out.line(format!(
                "MFA: MISSING (sign-in methods: {}).",
                if methods.is_empty() {
                    "none listed".to_owned()
                } else {
                    methods.join(", ")
                }
            ));
            out.line(format!("  Fix: {fix}"));
        }
        MfaCheck::Unknown { reason } => out.line(format!("MFA: unknown ({reason}).")),
        _ => out.line("MFA: unknown."),
    }
    out.line(format!(
        "Groups and memberships: {}.",
        counts_line(&setup.counts, setup.dry_run)
    ));
    print_failures(
        out,
        setup
            .groups
            .iter()
            .filter_map(|g| g.error.as_ref().map(|e| (g.display_name.clone(), e))),
    );
}

fn print_assignments(r: &RelationshipAssignments, dry_run: bool, out: &Printer) {
    match (&r.report, &r.error) {
        (Some(report), _) => print_assignment_report(report, dry_run, out),
        (None, Some(e)) => {
            out.line("");
            out.line(format!("Access assignments on {}:", r.relationship_id));
            out.block(crate::errors::Rendered::from_entry(e).to_text());
        }
        (None, None) => {}
    }
}

/// One relationship's group assignments: a table, the counts and the failures explained.
pub(super) fn print_assignment_report(
    report: &GroupAssignmentReport,
    dry_run: bool,
    out: &Printer,
) {
    out.line("");
    out.line(format!(
        "Access assignments on {} ({}):",
        report.display_name, report.relationship_id
    ));
    let mut t = Table::new(["GROUP", "ROLES", "STATUS", "DETAIL"]);
    for g in &report.groups {
        t.row([
            g.display_name.clone(),
            roles_label(&g.roles),
            assignment_label(g.status).to_owned(),
            detail(g),
        ]);
    }
    out.block(t.render());
    out.line(format!(
        "Assignments: {}.",
        counts_line(&report.counts, dry_run)
    ));
    print_failures(
        out,
        report
            .groups
            .iter()
            .filter_map(|g| g.error.as_ref().map(|e| (g.display_name.clone(), e))),
    );
}

/// The workflow's detail, plus the template roles the relationship lacks.
fn detail(g: &GroupAssignment) -> String {
    let mut d = if g.error.is_some() {
        "see below".to_owned()
    } else {
        g.detail.clone()
    };
    if !g.roles_not_in_relationship.is_empty() {
        d.push_str(&format!(
            "; not in the relationship: {}",
            roles_label(&g.roles_not_in_relationship)
        ));
    }
    d
}
