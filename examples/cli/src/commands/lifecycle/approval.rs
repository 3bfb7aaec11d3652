//! `gdap wait-approval REL_ID`: register the Partner Center approval webhook (optional), wait
//! until the customer approves the relationship, then assign the template's groups.

use std::time::Duration;

use gdap_onboard::workflows::lifecycle::WebhookAction;
use gdap_onboard::workflows::{
    ApprovalReport, ApprovalWait, GroupAssignmentReport, WebhookOutcome,
};
use gdap_onboard::{OnboardError, Operation, Relationship, RelationshipStatus};
use serde::Serialize;

use super::groups::print_assignment_report;
use super::{SANDBOX_POLL, exit_for, fail_named};
use crate::cli::WaitApprovalArgs;
use crate::commands::batch::sandbox_stats;
use crate::commands::fail;
use crate::errors::{CliError, Exit};
use crate::output::Printer;
use crate::wiring::Env;

/// The JSON document.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WaitDoc<'a> {
    relationship_id: String,
    dry_run: bool,
    /// The `--assign` template's label.
    template: Option<&'a str>,
    /// The webhook registration, when `--webhook-url` was given.
    webhook: Option<&'a WebhookOutcome>,
    /// The relationship's status (at the end of the wait; when read, in a dry run).
    status: Option<RelationshipStatus>,
    /// The wait (absent in a dry run).
    approval: Option<&'a ApprovalReport>,
    /// The group assignments made (or planned, in a dry run, when already active).
    assignments: Option<&'a GroupAssignmentReport>,
    /// Dry run on a pending relationship: how long a real run would wait at most.
    would_wait_secs: Option<u64>,
}

pub(crate) async fn run(a: &WaitApprovalArgs, env: &Env, out: &Printer) -> Result<Exit, CliError> {
    let o = &env.orchestrator;
    let webhook = match &a.webhook_url {
        Some(url) => Some(
            o.register_approval_webhook(url.as_str(), a.force, a.dry_run)
                .await
                .map_err(|e| fail(env, e))?,
        ),
        None => None,
    };
    if a.dry_run {
        return dry_run(a, env, webhook.as_ref(), out).await;
    }
    if let Some(w) = &webhook {
        out.line(webhook_line(w));
    }
    let mut wait = ApprovalWait::default().with_deadline(a.timeout);
    if env.sandbox.is_some() {
        wait = wait.with_backoff(SANDBOX_POLL.0, SANDBOX_POLL.1);
    }
    let template = a.assign.as_ref().map(|t| &t.template);
    out.note(format!(
        "Waiting up to {} for the customer to approve {} …",
        human(a.timeout),
        a.relationship
    ));
    let waiting = o.wait_for_approval_and_assign(&a.relationship, &wait, template);
    let report = match sandbox_customer(env, a).await {
        // The sandbox's customer approves a relationship that was pending before this run.
        Some(after) => {
            let approve = async {
                tokio::time::sleep(after).await;
                if let Some(h) = &env.sandbox {
                    match h.approve_relationship(a.relationship.as_str()) {
                        Ok(()) => tracing::info!(relationship = %a.relationship, "sandbox customer approved"),
                        Err(e) => tracing::debug!(error = %e, "sandbox approval skipped"),
                    }
                }
            };
            futures::future::join(waiting, approve).await.0
        }
        None => waiting.await,
    }
    .map_err(|e| fail_named(env, e, std::slice::from_ref(&a.relationship)))?;
    let failed = report.assignments.as_ref().map_or(0, |r| r.counts.failed);
    out.json(&WaitDoc {
        relationship_id: a.relationship.to_string(),
        dry_run: false,
        template: a.assign.as_ref().map(|t| t.label.as_str()),
        webhook: webhook.as_ref(),
        status: Some(report.status.clone()),
        approval: Some(&report),
        assignments: report.assignments.as_ref(),
        would_wait_secs: None,
    });
    out.line(format!(
        "Approved: \"{}\" ({}) is {} (read {} times in {} s).",
        report.display_name,
        report.relationship_id,
        report.status,
        report.polls,
        report.waited_secs
    ));
    match &report.assignments {
        Some(r) => print_assignment_report(r, false, out),
        None => out.line(
            "No groups assigned (add --assign to give the template's groups their access assignments).",
        ),
    }
    sandbox_stats(env, out);
    Ok(exit_for(failed))
}

/// With `--sandbox-auto-approve-ms`: how long until the sandbox's customer approves, when the
/// relationship is pending already (the sandbox schedules approvals only for relationships
/// locked while it runs).
async fn sandbox_customer(env: &Env, a: &WaitApprovalArgs) -> Option<Duration> {
    let after = env.sandbox_auto_approve?;
    let rel = env
        .orchestrator
        .ports()
        .gdap
        .get_relationship(&a.relationship)
        .await
        .ok()?;
    (rel.status == RelationshipStatus::ApprovalPending).then_some(after)
}

async fn dry_run(
    a: &WaitApprovalArgs,
    env: &Env,
    webhook: Option<&WebhookOutcome>,
    out: &Printer,
) -> Result<Exit, CliError> {
    let o = &env.orchestrator;
    let rel: Relationship = o
        .ports()
        .gdap
        .get_relationship(&a.relationship)
        .await
        .map_err(|e| {
            fail_named(
                env,
                OnboardError::classify(Operation::GetRelationship, None, e),
                std::slice::from_ref(&a.relationship),
            )
        })?;
    let pending = rel.status.is_pending();
    if !rel.status.is_active() && !pending {
        return Err(fail(
            env,
            OnboardError::ApprovalEnded {
                relationship_id: rel.id.clone(),
                status: rel.status.to_string(),
            },
        ));
    }
    let assignments = match (&a.assign, rel.status.is_active()) {
        (Some(t), true) => Some(
            o.assign_groups(&rel.id, &t.template, true)
                .await
                .map_err(|e| fail(env, e))?,
        ),
        _ => None,
    };
    let failed = assignments.as_ref().map_or(0, |r| r.counts.failed);
    out.json(&WaitDoc {
        relationship_id: a.relationship.to_string(),
        dry_run: true,
        template: a.assign.as_ref().map(|t| t.label.as_str()),
        webhook,
        status: Some(rel.status.clone()),
        approval: None,
        assignments: assignments.as_ref(),
        would_wait_secs: pending.then_some(a.timeout.as_secs()),
    });
    out.line("Dry run: nothing is changed and nothing is waited for.");
    if let Some(w) = webhook {
        out.line(webhook_line(w));
    }
    if pending {
        out.line(format!(
            "\"{}\" ({}) is {}: a real run would wait up to {} for the customer's approval{}.",
            rel.display_name,
            rel.id,
            rel.status,
            human(a.timeout),
            match &a.assign {
                Some(t) => format!(
                    ", then assign the {} groups of the {} template",
                    t.template.groups.len(),
                    t.label
                ),
                None => String::new(),
            }
        ));
        out.line(format!(
            "Approval link for the customer's Global Administrator: {}",
            o.config().links.approval_link(&rel.id)
        ));
    } else {
        out.line(format!(
            "\"{}\" ({}) is {} already: a real run would not wait.",
            rel.display_name, rel.id, rel.status
        ));
    }
    if let Some(r) = &assignments {
        print_assignment_report(r, true, out);
    }
    Ok(exit_for(failed))
}

fn webhook_line(w: &WebhookOutcome) -> String {
    let reg = &w.registration;
    let events = reg.events.join(", ");
    match w.action {
        WebhookAction::Created => format!("Webhook: registered {} for {events}.", reg.url),
        WebhookAction::EventsAdded => {
            format!(
                "Webhook: {} already registered; events now {events}.",
                reg.url
            )
        }
        WebhookAction::Unchanged => {
            format!(
                "Webhook: {} already registered for {events} (unchanged).",
                reg.url
            )
        }
        WebhookAction::Replaced => format!(
            "Webhook: replaced {}'s registration with {} for {events}.",
            w.previous.as_ref().map_or("(unknown)", |p| p.url.as_str()),
            reg.url
        ),
        WebhookAction::Planned => match &w.previous {
            Some(p) if p.url != reg.url => format!(
                "Webhook: would replace the registration of {} with {} for {events}.",
                p.url, reg.url
            ),
            Some(_) => format!("Webhook: would add events to {}: {events}.", reg.url),
            None => format!("Webhook: would register {} for {events}.", reg.url),
        },
        _ => format!("Webhook: {} for {events}.", reg.url),
    }
}

/// `1h`, `30m`, `90s`, `1h30m`.
pub(super) fn human(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if sec > 0 || out.is_empty() {
        out.push_str(&format!("{sec}s"));
    }
    out
}
