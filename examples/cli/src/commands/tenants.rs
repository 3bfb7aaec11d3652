//! `gdap sync` and `gdap tenants`: the managed-tenants table.

use gdap_core::RoleTemplateId;
use gdap_core::roles;
use gdap_onboard::tenant::AutoExtend;
use gdap_onboard::workflows::SyncReport;
use gdap_onboard::{EmailPerms, ManagedTenant, Readiness};
use serde::Serialize;
use time::OffsetDateTime;

use super::fail;
use crate::errors::{CliError, Exit};
use crate::output::{Printer, Table, clip};
use crate::wiring::Env;

/// The JSON document of `sync` and `tenants`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TenantsDoc<'a> {
    #[serde(flatten)]
    report: &'a SyncReport,
    billable_count: usize,
}

/// Syncs and returns the report (warnings go to stderr).
pub(crate) async fn synced(env: &Env, out: &Printer) -> Result<SyncReport, CliError> {
    let report = env.orchestrator.sync().await.map_err(|e| fail(env, e))?;
    let mut uncounted = 0usize;
    for w in &report.warnings {
        if w.starts_with("could not count users") {
            uncounted += 1;
            tracing::info!("{w}");
        } else {
            out.warn(w);
        }
    }
    if uncounted > 0 {
        out.note(format!(
            "note: users not counted in {uncounted} tenants (a customer token needs the app installed there, which onboarding does, and your user in the tenant's GDAP security group); -v shows why for each."
        ));
    }
    Ok(report)
}

pub(crate) async fn sync(env: &Env, out: &Printer) -> Result<Exit, CliError> {
    let report = synced(env, out).await?;
    out.json(&TenantsDoc {
        report: &report,
        billable_count: report.billable_count(),
    });
    out.line(sync_summary(&report));
    Ok(Exit::Ok)
}

pub(crate) async fn tenants(env: &Env, out: &Printer) -> Result<Exit, CliError> {
    let report = synced(env, out).await?;
    out.json(&TenantsDoc {
        report: &report,
        billable_count: report.billable_count(),
    });
    out.block(table(&report.tenants));
    out.line(footer(&report.tenants));
    Ok(Exit::Ok)
}

/// "Synced N tenants from M active relationships (a added, c changed, g gone)."
pub(crate) fn sync_summary(r: &SyncReport) -> String {
    let s = &r.skipped;
    let mut skipped = Vec::new();
    for (n, what) in [
        (s.reseller, "reseller"),
        (s.microsoft_led_transition, "Microsoft-led transition"),
        (s.not_active, "not active"),
        (s.no_customer, "without customer"),
    ] {
        if n > 0 {
            skipped.push(format!("{n} {what}"));
        }
    }
    let mut line = format!(
        "Synced {} tenants from {} active relationships ({} added, {} changed, {} gone).",
        r.tenants.len(),
        r.relationships_used,
        r.added.len(),
        r.changed.len(),
        r.gone.len()
    );
    if !skipped.is_empty() {
        line.push_str(&format!(" Skipped relationships: {}.", skipped.join(", ")));
    }
    line
}

/// The managed-tenants table.
pub(crate) fn table(rows: &[ManagedTenant]) -> String {
    let now = OffsetDateTime::now_utc();
    let mut t = Table::new([
        "TENANT",
        "TENANT ID",
        "GDAP",
        "USERS",
        "STATUS",
        "EMAIL PERMS",
        "EXPIRES",
    ]);
    for r in rows {
        let mut name = clip(&r.display_name, 34);
        if r.legacy {
            name.push_str(" [Legacy]");
        }
        if r.is_own_partner_tenant {
            name.push_str(" [Partner]");
        }
        t.row([
            name,
            r.tenant_id.to_string(),
            gdap_label(&r.gdap),
            r.user_count
                .map_or_else(|| "?".to_owned(), |n| n.to_string()),
            r.status.label().to_owned(),
            email_label(r.email_perms).to_owned(),
            expiry_label(r, now),
        ]);
    }
    if t.is_empty() {
        return "No managed tenants: no active GDAP relationship was found.\n".to_owned();
    }
    t.render()
}

/// "24 tenants (23 billable): 15 Ready, 8 Missing; 2 Legacy; 3 Monitoring."
pub(crate) fn footer(rows: &[ManagedTenant]) -> String {
    let ready = rows
        .iter()
        .filter(|r| matches!(r.gdap, Readiness::Ready))
        .count();
    let missing = rows
        .iter()
        .filter(|r| matches!(r.gdap, Readiness::Missing { .. }))
        .count();
    let legacy = rows.iter().filter(|r| r.legacy).count();
    let monitoring = rows.iter().filter(|r| r.status.is_onboarded()).count();
    let refresh = rows
        .iter()
        .filter(|r| r.email_perms == EmailPerms::NeedsRefresh)
        .count();
    format!(
        "{} tenants ({} billable): {ready} GDAP Ready, {missing} Missing; {monitoring} onboarded, {legacy} Legacy, {refresh} need an email-permission refresh.",
        rows.len(),
        gdap_onboard::workflows::billable_count(rows),
    )
}

fn short_role(id: &RoleTemplateId) -> String {
    let name = roles::role_name(id);
    match name.as_str() {
        "Global Administrator" => "GA".to_owned(),
        "Application Administrator" => "AppAdmin".to_owned(),
        "Cloud Application Administrator" => "CloudAppAdmin".to_owned(),
        "Privileged Role Administrator" => "PRA".to_owned(),
        _ => name,
    }
}

/// "Ready", "Missing: PRA", "Missing: AppAdmin|CloudAppAdmin, PRA", "n/a".
pub(crate) fn gdap_label(g: &Readiness) -> String {
    match g {
        Readiness::Ready => "Ready".to_owned(),
        Readiness::NotRequired => "n/a (own)".to_owned(),
        Readiness::Missing { missing } => format!(
            "Missing: {}",
            missing
                .iter()
                .map(|m| m
                    .alternatives()
                    .iter()
                    .map(short_role)
                    .collect::<Vec<_>>()
                    .join("|"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => g.label(),
    }
}

fn email_label(e: EmailPerms) -> &'static str {
    match e {
        EmailPerms::Ok => "OK",
        EmailPerms::NeedsRefresh => "Refresh needed",
        EmailPerms::NotApplicable => "-",
        _ => "Unknown",
    }
}

/// The earliest relationship end: "2026-05-03 (12d)", "+auto" when it auto-extends.
fn expiry_label(r: &ManagedTenant, now: OffsetDateTime) -> String {
    let Some((end, rel)) = r
        .relationships
        .iter()
        .filter_map(|rel| rel.end_date_time.map(|e| (e, rel)))
        .min_by_key(|(e, _)| *e)
    else {
        return "-".to_owned();
    };
    let days = (end - now).whole_days();
    let auto = if matches!(rel.auto_extend, AutoExtend::Enabled { .. }) {
        " auto"
    } else {
        ""
    };
    format!(
        "{:04}-{:02}-{:02} ({days}d{auto})",
        end.year(),
        u8::from(end.month()),
        end.day()
    )
}
