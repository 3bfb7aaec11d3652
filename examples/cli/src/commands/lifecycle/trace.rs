//! `gdap trace --user UPN --tenant TENANT_ID`: user → groups → relationships → roles, the
//! effective roles, and why access is missing.

use gdap_onboard::relationship::AssignmentStatus;

use super::roles_label;
use crate::cli::TraceArgs;
use crate::commands::fail;
use crate::errors::{CliError, Exit};
use crate::output::Printer;
use crate::wiring::Env;

pub(crate) async fn run(a: &TraceArgs, env: &Env, out: &Printer) -> Result<Exit, CliError> {
    if a.user.trim().is_empty() {
        return Err(CliError::usage(
            "--user must name a partner user (UPN or object id)",
            None,
        ));
    }
    let t = env
        .orchestrator
        .trace_access(&a.user, a.tenant)
        .await
        .map_err(|e| fail(env, e))?;
    out.json(&t);
    let upn = &t.user.user_principal_name;
    out.line(format!(
        "Access of {upn} to {} ({}):",
        t.tenant_name.as_deref().unwrap_or("(unknown tenant)"),
        t.tenant_id
    ));
    out.line("");
    if t.user_groups.is_empty() {
        out.line(format!("{upn} is in no security group."));
    } else {
        let n = t.user_groups.len();
        out.line(format!(
            "{upn} is in {n} group{}:",
            if n == 1 { "" } else { "s" }
        ));
        for g in &t.user_groups {
            out.line(format!("  {} ({})", g.display_name, g.id));
        }
    }
    out.line("");
    if t.relationships.is_empty() {
        out.line("No GDAP relationship with this tenant.");
    } else {
        out.line(format!(
            "Relationships with the tenant ({}):",
            t.relationships.len()
        ));
        for r in &t.relationships {
            out.line(format!(
                "  {} ({}) {}: {}",
                r.display_name,
                r.relationship_id,
                r.status,
                roles_label(&r.roles)
            ));
            if r.status.is_active() && r.assignments.is_empty() {
                out.line("    no access assignment");
            }
            for asg in &r.assignments {
                out.line(format!(
                    "    {} {} [{}] {}: {}",
                    if asg.user_is_member { "*" } else { "-" },
                    asg.group_name
                        .clone()
                        .unwrap_or_else(|| format!("{} (no longer exists)", asg.group_id)),
                    if asg.user_is_member {
                        "member"
                    } else {
                        "not a member"
                    },
                    assignment_status(&asg.status),
                    roles_label(&asg.roles)
                ));
            }
        }
    }
    out.line("");
    if t.paths.is_empty() {
        out.line("Chains: none (no group of the user is assigned on an active relationship).");
    } else {
        out.line("Chains:");
        for p in &t.paths {
            out.line(format!(
                "  {upn} -> {} -> {} -> {}{}",
                p.group_name.as_deref().unwrap_or("(group)"),
                p.relationship_name,
                roles_label(&p.roles),
                if p.effective {
                    ""
                } else {
                    " (not in force yet)"
                }
            ));
        }
    }
    out.line("");
    out.line(format!(
        "Effective roles: {}",
        roles_label(&t.effective_roles)
    ));
    out.line(format!(
        "has access: {}",
        if t.has_access { "yes" } else { "no" }
    ));
    if t.missing_for_app_install.is_empty() {
        out.line("Roles for the app install: complete.");
    } else {
        out.line(format!(
            "Missing for the app install: {}",
            t.missing_for_app_install.join("; ")
        ));
    }
    if !t.reasons.is_empty() {
        out.line("");
        out.line("Why:");
        for r in &t.reasons {
            out.line(format!("  - {r}"));
        }
    }
    Ok(Exit::Ok)
}

fn assignment_status(s: &AssignmentStatus) -> String {
    s.to_string()
}
