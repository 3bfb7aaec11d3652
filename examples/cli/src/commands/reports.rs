//! `gdap expiring` and `gdap audit`.

use gdap_onboard::RelationshipTemplate;
use gdap_onboard::tenant::AutoExtend;
use gdap_onboard::workflows::{ExpiringRelationship, ExpiryBucket, FindingKind, PendingApproval};
use serde::Serialize;

use super::fail;
use crate::cli::{AuditArgs, ExpiringArgs};
use crate::errors::{CliError, Exit};
use crate::output::{Printer, Table, clip};
use crate::wiring::Env;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExpiringDoc<'a> {
    within_days: i64,
    expiring: Vec<&'a ExpiringRelationship>,
    pending_approvals: Vec<&'a PendingApproval>,
}

fn bucket_label(b: ExpiryBucket) -> &'static str {
    match b {
        ExpiryBucket::Overdue => "overdue",
        ExpiryBucket::Within1Day => "≤1 day",
        ExpiryBucket::Within7Days => "≤7 days",
        ExpiryBucket::Within30Days => "≤30 days",
        _ => "?",
    }
}

pub(crate) async fn expiring(a: &ExpiringArgs, env: &Env, out: &Printer) -> Result<Exit, CliError> {
    let report = env
        .orchestrator
        .expiry_report()
        .await
        .map_err(|e| fail(env, e))?;
    let expiring: Vec<&ExpiringRelationship> = report
        .expiring
        .iter()
        .filter(|e| e.days_left <= a.within)
        .collect();
    let pending: Vec<&PendingApproval> = report.approvals_about_to_expire().collect();
    out.json(&ExpiringDoc {
        within_days: a.within,
        expiring: expiring.clone(),
        pending_approvals: pending.clone(),
    });
    if expiring.is_empty() {
        out.line(format!(
            "No active relationship ends within {} days.",
            a.within
        ));
    } else {
        let mut t = Table::new([
            "TENANT",
            "RELATIONSHIP",
            "ENDS",
            "LEFT",
            "WINDOW",
            "AUTO-EXTEND",
        ]);
        for e in &expiring {
            let end = e.end_date_time;
            t.row([
                clip(e.tenant_name.as_deref().unwrap_or("(unknown)"), 30),
                clip(&e.display_name, 40),
                format!(
                    "{:04}-{:02}-{:02}",
                    end.year(),
                    u8::from(end.month()),
                    end.day()
                ),
                format!("{}d", e.days_left),
                bucket_label(e.bucket).to_owned(),
                match e.auto_extend {
                    AutoExtend::Enabled { days } => format!("yes ({}d)", days.get()),
                    AutoExtend::NotAllowedWithGlobalAdmin => "no (has Global Admin)".to_owned(),
                    _ => "no".to_owned(),
                },
            ]);
        }
        out.block(t.render());
        let lapsing = expiring.iter().filter(|e| !e.will_auto_extend).count();
        out.line(format!(
            "{} relationships end within {} days; {lapsing} will not auto-extend (request a new relationship before they end).",
            expiring.len(),
            a.within
        ));
    }
    if !pending.is_empty() {
        out.line("");
        out.line("Approval requests about to lapse (90 days after they were sent):");
        for p in &pending {
            out.line(format!(
                "  {} — \"{}\": {} days left; approval link: {}",
                p.tenant_name.as_deref().unwrap_or("(unknown)"),
                p.display_name,
                p.days_left
                    .map_or_else(|| "?".to_owned(), |d| d.to_string()),
                p.approval_link
            ));
        }
    }
    Ok(Exit::Ok)
}

pub(crate) async fn audit(a: &AuditArgs, env: &Env, out: &Printer) -> Result<Exit, CliError> {
    let mut templates = Vec::new();
    for name in &a.templates {
        let Some(t) = RelationshipTemplate::by_short_name(name) else {
            return Err(CliError::usage(
                format!("unknown template `{name}`"),
                Some(format!(
                    "Use one of: {}.",
                    RelationshipTemplate::builtin()
                        .iter()
                        .map(|t| t.short_name.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            ));
        };
        templates.push(t);
    }
    let report = env
        .orchestrator
        .least_privilege_audit(&templates)
        .await
        .map_err(|e| fail(env, e))?;
    out.json(&report);
    if report.findings.is_empty() {
        out.line(format!(
            "{} active relationships checked: none carries more than it needs.",
            report.relationships_checked
        ));
        return Ok(Exit::Ok);
    }
    let names = |rs: &[gdap_onboard::RoleRef]| {
        rs.iter()
            .map(|r| r.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut t = Table::new([
        "TENANT",
        "RELATIONSHIP",
        "FINDING",
        "EXCESS",
        "REQUEST INSTEAD",
    ]);
    for f in &report.findings {
        let kind = f
            .kinds
            .iter()
            .map(|k| match k {
                FindingKind::GlobalAdminNotNeeded => "Global Admin not needed",
                FindingKind::RolesBeyondNeed => "roles beyond need",
                _ => "finding",
            })
            .collect::<Vec<_>>()
            .join("; ");
        t.row([
            clip(f.tenant_name.as_deref().unwrap_or("(unknown)"), 30),
            clip(&f.relationship_name, 36),
            kind,
            names(&f.excess_roles),
            names(&f.suggested_roles),
        ]);
    }
    out.block(t.render());
    out.line(format!(
        "{} of {} active relationships carry more than they need. Use `gdap request-permissions <tenant> --template AppInstall` for the smaller set.",
        report.findings.len(),
        report.relationships_checked
    ));
    Ok(Exit::Ok)
}
