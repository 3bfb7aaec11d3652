//! The relationship-lifecycle commands: `groups`, `wait-approval`, `auto-extend`, `remove-ga`,
//! `repair` and `trace` (gdap-onboard's `workflows::lifecycle`).
//!
//! Each prints a readable report (table mode) or one JSON document (the workflow's report, with
//! the template's label where there is one); a report with any failed item exits 3.

pub(crate) mod approval;
pub(crate) mod bulk;
pub(crate) mod groups;
pub(crate) mod trace;

use std::collections::BTreeSet;
use std::time::Duration;

use gdap_core::RelationshipId;
use gdap_onboard::relationship::CustomerRef;
use gdap_onboard::workflows::{BulkOptions, ChangeCounts, ChangeStatus};
use gdap_onboard::{CatalogueEntry, OnboardError, Operation, PortErrorKind, RoleRef};

use crate::commands::fail;
use crate::errors::{CliError, Exit, Rendered};
use crate::output::Printer;
use crate::wiring::Env;

/// Poll pauses in sandbox mode: it finishes operations and approvals in a fraction of a second.
pub(super) const SANDBOX_POLL: (Duration, Duration) =
    (Duration::from_millis(100), Duration::from_secs(1));

/// The options of a bulk change: only `relationships` (when given, deduplicated), the dry run,
/// and short polls against the sandbox.
pub(super) fn bulk_options(
    env: &Env,
    relationships: &[RelationshipId],
    dry_run: bool,
) -> BulkOptions {
    let mut o = BulkOptions::default().dry_run(dry_run);
    if !relationships.is_empty() {
        o = o.only(dedup(relationships));
    }
    if env.sandbox.is_some() {
        o = o.with_poll(SANDBOX_POLL.0, SANDBOX_POLL.1);
    }
    o
}

/// The ids in order, each once.
pub(super) fn dedup(ids: &[RelationshipId]) -> Vec<RelationshipId> {
    let mut seen = BTreeSet::new();
    ids.iter().filter(|id| seen.insert(*id)).cloned().collect()
}

/// A workflow failure; a relationship named on the command line that does not exist (404) is
/// a usage error naming it, not a service failure to retry.
pub(super) fn fail_named(env: &Env, e: OnboardError, ids: &[RelationshipId]) -> CliError {
    let not_found = matches!(
        &e,
        OnboardError::Service { operation: Operation::GetRelationship, source, .. }
            if source.kind() == PortErrorKind::NotFound
    );
    if !not_found || ids.is_empty() {
        return fail(env, e);
    }
    let message = match ids {
        [one] => format!("no GDAP relationship {one}"),
        _ => format!(
            "one of the --relationship ids names no GDAP relationship: {}",
            e.port_error().map(ToString::to_string).unwrap_or_default()
        ),
    };
    CliError::usage(
        message,
        Some("Check the id (two GUIDs joined by '-'): `gdap tenants -o json` lists the relationships' ids.".to_owned()),
    )
}

/// A change's status as a word for tables.
pub(super) fn status_label(s: ChangeStatus) -> &'static str {
    match s {
        ChangeStatus::Planned => "planned",
        ChangeStatus::Changed => "changed",
        ChangeStatus::Unchanged => "unchanged",
        ChangeStatus::Skipped => "skipped",
        ChangeStatus::Failed => "FAILED",
        _ => "?",
    }
}

/// "3 changed, 2 unchanged, 1 skipped, 0 failed" (planned instead of changed in a dry run).
pub(super) fn counts_line(c: &ChangeCounts, dry_run: bool) -> String {
    let first = if dry_run {
        format!("{} planned", c.planned)
    } else {
        format!("{} changed", c.changed)
    };
    format!(
        "{first}, {} unchanged, {} skipped, {} failed",
        c.unchanged, c.skipped, c.failed
    )
}

/// The customer's name, else its tenant id, else "(no customer)".
pub(super) fn customer_label(c: Option<&CustomerRef>) -> String {
    match c {
        Some(c) => c
            .display_name
            .clone()
            .unwrap_or_else(|| c.tenant_id.to_string()),
        None => "(no customer)".to_owned(),
    }
}

/// "Application Administrator, Privileged Role Administrator" or "-".
pub(super) fn roles_label(roles: &[RoleRef]) -> String {
    if roles.is_empty() {
        return "-".to_owned();
    }
    roles
        .iter()
        .map(|r| r.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each failure, explained through the catalogue, after a blank line and its label.
pub(super) fn print_failures<'a>(
    out: &Printer,
    failures: impl IntoIterator<Item = (String, &'a CatalogueEntry)>,
) {
    for (label, e) in failures {
        out.line("");
        out.line(format!("{label}:"));
        out.block(Rendered::from_entry(e).to_text());
    }
}

/// 3 when anything failed, else 0.
pub(super) fn exit_for(failed: usize) -> Exit {
    if failed > 0 {
        Exit::TenantsFailed
    } else {
        Exit::Ok
    }
}
