//! Relationship lifecycle: what MSPs do around the relationship itself, before and after
//! onboarding (seeds 001, 002 and 004).
//!
//! - [`groups`]: GDAP security groups from a [`GroupTemplate`] (create or reuse by name), the
//!   service account in each, its AdminAgents membership and MFA, and one access assignment per
//!   group on a relationship;
//! - [`approval`]: wait for the customer's approval with a deadline and backoff, then assign the
//!   groups; register the Partner Center webhook without taking over another tool's;
//! - [`auto_extend`]: `P180D` auto-extend on every active relationship that allows it;
//! - [`remove_ga`]: remove Global Administrator from active relationships (a long-running
//!   operation, followed to completion);
//! - [`drift`]: compare access assignments with the template and repair them;
//! - [`trace`]: user → groups → relationships → roles, and why access is missing.
//!
//! Every write workflow takes `dry_run`: the same reads, no writes, and a plan of what would
//! change. Writes send the `If-Match` ETag the read returned; a stale one (412) is re-read and
//! tried once more. Each change is verified by reading it back.

pub mod approval;
pub mod auto_extend;
pub mod drift;
pub mod groups;
pub mod remove_ga;
pub mod trace;

use std::time::Duration;

use futures::TryStreamExt;
use gdap_core::RelationshipId;
use serde::Serialize;

use crate::catalogue::{CatalogueEntry, ExplainContext};
use crate::error::{OnboardError, Operation, Result};
use crate::port_error::PortErrorKind;
use crate::relationship::RelationshipStatus;
use crate::relationship::{CustomerRef, OperationRef, OperationStatus, Relationship};

use super::Orchestrator;

pub use approval::{
    ApprovalReport, ApprovalWait, RelationshipEventOutcome, WebhookAction, WebhookOutcome,
};
pub use auto_extend::AutoExtendReport;
pub use drift::{DriftFinding, DriftKind, DriftReport, RelationshipDrift};
pub use groups::{
    AdminAgentsCheck, GroupAssignment, GroupAssignmentReport, GroupSetup, GroupSetupReport,
    GroupSpec, GroupTemplate, MfaCheck,
};
pub use remove_ga::GlobalAdminRemovalReport;
pub use trace::{AccessTrace, TracedAssignment, TracedPath, TracedRelationship};

/// How one planned or made change ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ChangeStatus {
    /// Dry run: would change.
    Planned,
    /// Changed now (and verified by read-back).
    Changed,
    /// Already as wanted; nothing sent.
    Unchanged,
    /// Not applicable (the reason says why).
    Skipped,
    /// Failed (the error says why and what to do).
    Failed,
}

/// Counts of [`ChangeStatus`] over a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeCounts {
    /// Planned (dry run).
    pub planned: usize,
    /// Changed.
    pub changed: usize,
    /// Unchanged.
    pub unchanged: usize,
    /// Skipped.
    pub skipped: usize,
    /// Failed.
    pub failed: usize,
}

impl ChangeCounts {
    /// Counts `statuses`.
    pub fn of(statuses: impl IntoIterator<Item = ChangeStatus>) -> Self {
        let mut c = ChangeCounts::default();
        for s in statuses {
            match s {
                ChangeStatus::Planned => c.planned += 1,
                ChangeStatus::Changed => c.changed += 1,
                ChangeStatus::Unchanged => c.unchanged += 1,
                ChangeStatus::Skipped => c.skipped += 1,
                ChangeStatus::Failed => c.failed += 1,
            }
        }
        c
    }
}

/// One relationship's result in a bulk change (auto-extend, Global Administrator removal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelationshipChange {
    /// The relationship.
    pub relationship_id: RelationshipId,
    /// Its display name.
    pub display_name: String,
    /// The customer, when known.
    pub customer: Option<CustomerRef>,
    /// How it ended.
    pub status: ChangeStatus,
    /// What was (or would be) done, or why not.
    pub detail: String,
    /// The failure, rendered from the catalogue.
    pub error: Option<CatalogueEntry>,
}

impl RelationshipChange {
    pub(crate) fn new(rel: &Relationship, status: ChangeStatus, detail: impl Into<String>) -> Self {
        Self {
            relationship_id: rel.id.clone(),
            display_name: rel.display_name.clone(),
            customer: rel.customer.clone(),
            status,
            detail: detail.into(),
            error: None,
        }
    }
}

/// Options of the bulk relationship changes (auto-extend, Global Administrator removal, drift
/// repair).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkOptions {
    /// Plan only: read, write nothing.
    pub dry_run: bool,
    /// How many relationships are worked on at once (default 8).
    pub concurrency: usize,
    /// Only these relationships (default: every active one).
    pub only: Option<Vec<RelationshipId>>,
    /// How long a long-running operation is followed (default 10 minutes).
    pub operation_deadline: Duration,
    /// The first pause between polls of an operation when the service does not say (default
    /// 5 s); doubled up to `poll_max`.
    pub poll_initial: Duration,
    /// The longest pause between polls (default 60 s).
    pub poll_max: Duration,
}

impl Default for BulkOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            concurrency: 8,
            only: None,
            operation_deadline: Duration::from_secs(600),
            poll_initial: Duration::from_secs(5),
            poll_max: Duration::from_secs(60),
        }
    }
}

impl BulkOptions {
    /// Plans only.
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.dry_run = yes;
        self
    }

    /// Sets the concurrency (at least 1).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Limits the change to these relationships.
    pub fn only(mut self, ids: Vec<RelationshipId>) -> Self {
        self.only = Some(ids);
        self
    }

    /// Sets the operation deadline.
    pub fn with_operation_deadline(mut self, deadline: Duration) -> Self {
        self.operation_deadline = deadline;
        self
    }

    /// Sets the poll pauses.
    pub fn with_poll(mut self, initial: Duration, max: Duration) -> Self {
        self.poll_initial = initial.max(Duration::from_millis(1));
        self.poll_max = max.max(self.poll_initial);
        self
    }
}

impl Orchestrator {
    /// An explain context with the signed-in user.
    pub(crate) fn lifecycle_ctx(&self, rel: Option<&Relationship>) -> ExplainContext {
        let mut ctx = ExplainContext::new();
        if let Some(e) = self.ports.tokens.account().user_email {
            ctx = ctx.with_user_email(e);
        }
        if let Some(c) = rel.and_then(|r| r.customer.as_ref()) {
            ctx = ctx.with_tenant_id(c.tenant_id);
            if let Some(n) = &c.display_name {
                ctx = ctx.with_tenant_name(n.clone());
            }
        }
        ctx
    }

    /// The active relationships a bulk change works on: every active, non-reseller one, or the
    /// `only` ones (whatever their status, so that the report can say why they are skipped).
    pub(crate) async fn bulk_targets(&self, options: &BulkOptions) -> Result<Vec<Relationship>> {
        match &options.only {
            Some(ids) => {
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let rel =
                        self.ports.gdap.get_relationship(id).await.map_err(|e| {
                            OnboardError::classify(Operation::GetRelationship, None, e)
                        })?;
                    out.push(rel);
                }
                Ok(out)
            }
            None => {
                let mut rels: Vec<Relationship> = self
                    .ports
                    .gdap
                    .list_relationships(Some(RelationshipStatus::Active))
                    .try_collect()
                    .await
                    .map_err(|e| OnboardError::classify(Operation::ListRelationships, None, e))?;
                // A server that ignores the filter must not widen the change.
                rels.retain(|r| r.status.is_active());
                rels.sort_by(|a, b| a.display_name.cmp(&b.display_name).then(a.id.cmp(&b.id)));
                Ok(rels)
            }
        }
    }

    /// Follows `operation` until it ends or `options.operation_deadline` passes, pausing
    /// `retry_after` (or `options.poll_initial`, doubling up to `options.poll_max`) between
    /// reads. Transient read failures are retried within the deadline.
    pub(crate) async fn follow_operation(
        &self,
        operation: &OperationRef,
        retry_after: Option<Duration>,
        options: &BulkOptions,
    ) -> Result<()> {
        let (deadline, initial, max) = (
            options.operation_deadline,
            options.poll_initial,
            options.poll_max,
        );
        let started = self.ports.clock.now();
        let mut pause = retry_after.unwrap_or(initial).max(Duration::from_millis(1));
        let mut last = OperationStatus::NotStarted;
        loop {
            let waited = elapsed(started, self.ports.clock.now());
            if waited >= deadline {
                return Err(OnboardError::OperationIncomplete {
                    relationship_id: operation.relationship_id.clone(),
                    status: last.to_string(),
                    waited_secs: waited.as_secs(),
                });
            }
            // The last pause is cut short so that the final read happens at the deadline.
            self.ports.clock.sleep(pause.min(deadline - waited)).await;
            pause = (pause * 2).min(max.max(initial));
            match self.ports.gdap.get_operation(operation).await {
                Ok(OperationStatus::Succeeded) => return Ok(()),
                Ok(s) if s.is_done() => {
                    return Err(OnboardError::OperationIncomplete {
                        relationship_id: operation.relationship_id.clone(),
                        status: s.to_string(),
                        waited_secs: elapsed(started, self.ports.clock.now()).as_secs(),
                    });
                }
                Ok(s) => last = s,
                Err(e) if e.is_retryable() || e.kind() == PortErrorKind::NotFound => {
                    // Not visible yet, or a blip: keep polling within the deadline.
                    if let Some(ra) = e.retry_after() {
                        pause = ra.max(pause);
                    }
                }
                Err(e) => return Err(OnboardError::classify(Operation::PollOperation, None, e)),
            }
        }
    }
}

pub(crate) fn elapsed(from: time::OffsetDateTime, to: time::OffsetDateTime) -> Duration {
    let d = to - from;
    Duration::try_from(d).unwrap_or_default()
}
