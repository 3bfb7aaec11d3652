//! Approval detection: after a request is locked for approval, poll the relationship with a
//! deadline and backoff until it is active, then assign the GDAP groups. Optionally register for
//! Partner Center's GDAP webhook events — a partner has one registration, so an existing one of
//! another tool is never replaced unless asked.

use std::time::Duration;

use gdap_core::RelationshipId;
use serde::Serialize;

use crate::error::{OnboardError, Operation, Result};
use crate::partner_directory::{APPROVAL_EVENTS, WebhookRegistration};
use crate::relationship::{Relationship, RelationshipStatus};

use super::groups::{GroupAssignmentReport, GroupTemplate};
use super::{Orchestrator, elapsed};

/// How long and how often to poll for approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApprovalWait {
    /// Give up after this long (default 1 hour).
    pub deadline: Duration,
    /// The first pause between reads (default 10 s), doubled after each read…
    pub initial: Duration,
    /// …up to this (default 5 minutes).
    pub max: Duration,
}

impl Default for ApprovalWait {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(3600),
            initial: Duration::from_secs(10),
            max: Duration::from_secs(300),
        }
    }
}

impl ApprovalWait {
    /// Waits at most `deadline`.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets the pauses between reads.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial = initial.max(Duration::from_millis(1));
        self.max = max.max(self.initial);
        self
    }
}

/// What [`Orchestrator::wait_for_approval_and_assign`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalReport {
    /// The relationship.
    pub relationship_id: RelationshipId,
    /// Its display name.
    pub display_name: String,
    /// Its status when the wait ended (`active`).
    pub status: RelationshipStatus,
    /// How many times it was read.
    pub polls: u32,
    /// How long the wait took (seconds).
    pub waited_secs: u64,
    /// The group assignments made after approval, when a template was given.
    pub assignments: Option<GroupAssignmentReport>,
}

/// What [`Orchestrator::register_approval_webhook`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum WebhookAction {
    /// None existed: created.
    Created,
    /// Ours already, missing some events: events added.
    EventsAdded,
    /// Ours already, with the events: nothing sent.
    Unchanged,
    /// Another tool's registration replaced (asked for with `force`).
    Replaced,
    /// Dry run: would create, add events or replace.
    Planned,
}

/// The webhook registration after [`Orchestrator::register_approval_webhook`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookOutcome {
    /// What was done.
    pub action: WebhookAction,
    /// The registration as it now stands (or would, in a dry run).
    pub registration: WebhookRegistration,
    /// The registration before, if there was one.
    pub previous: Option<WebhookRegistration>,
}

/// What [`Orchestrator::on_relationship_event`] did with a webhook event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
#[non_exhaustive]
pub enum RelationshipEventOutcome {
    /// The relationship is active: the groups were assigned (when a template was given).
    Active {
        /// The relationship.
        relationship_id: RelationshipId,
        /// The assignments, when a template was given.
        assignments: Option<GroupAssignmentReport>,
    },
    /// Graph does not show it active yet (events can arrive before the change is visible);
    /// nothing was done.
    NotActiveYet {
        /// The relationship.
        relationship_id: RelationshipId,
        /// Its status as Graph reports it.
        status: RelationshipStatus,
    },
    /// It ended (terminated, expired, declined): nothing was done.
    Ended {
        /// The relationship.
        relationship_id: RelationshipId,
        /// Its status.
        status: RelationshipStatus,
    },
}

impl Orchestrator {
    /// Acts on a Partner Center webhook event about relationship `id` (approved, activated).
    ///
    /// The event is only a hint — its signature is not what this trusts: the relationship is
    /// read from Graph, and only when Graph shows it active are `template`'s groups assigned
    /// (idempotently, so a repeated or forged event does no harm beyond a read).
    ///
    /// # Errors
    /// A failure reading the relationship (not found included), or of
    /// [`Orchestrator::assign_groups`] as a whole.
    pub async fn on_relationship_event(
        &self,
        id: &RelationshipId,
        template: Option<&GroupTemplate>,
    ) -> Result<RelationshipEventOutcome> {
        if let Some(t) = template {
            t.validate()?;
        }
        let rel = self
            .ports
            .gdap
            .get_relationship(id)
            .await
            .map_err(|e| OnboardError::classify(Operation::GetRelationship, None, e))?;
        if rel.status.is_active() {
            let assignments = match template {
                Some(t) => Some(self.assign_groups(&rel.id, t, false).await?),
                None => None,
            };
            return Ok(RelationshipEventOutcome::Active {
                relationship_id: rel.id,
                assignments,
            });
        }
        if rel.status.is_pending() {
            return Ok(RelationshipEventOutcome::NotActiveYet {
                relationship_id: rel.id,
                status: rel.status,
            });
        }
        Ok(RelationshipEventOutcome::Ended {
            relationship_id: rel.id,
            status: rel.status,
        })
    }

    /// Polls relationship `id` until it is active, pausing `wait.initial` doubling up to
    /// `wait.max`, for at most `wait.deadline`. Transient read failures are retried within the
    /// deadline.
    ///
    /// # Errors
    /// [`OnboardError::ApprovalTimedOut`] (with the approval link) when the deadline passes;
    /// [`OnboardError::ApprovalEnded`] when it is terminated or expired instead; a failure
    /// reading it.
    pub async fn wait_for_approval(
        &self,
        id: &RelationshipId,
        wait: &ApprovalWait,
    ) -> Result<(Relationship, u32)> {
        let started = self.ports.clock.now();
        let mut pause = wait.initial.max(Duration::from_millis(1));
        let mut polls = 0u32;
        let mut last_status = String::from("unknown");
        loop {
            polls += 1;
            match self.ports.gdap.get_relationship(id).await {
                Ok(rel) if rel.status.is_active() => return Ok((rel, polls)),
                Ok(rel) if rel.status.is_pending() => last_status = rel.status.to_string(),
                Ok(rel) => {
                    return Err(OnboardError::ApprovalEnded {
                        relationship_id: rel.id.clone(),
                        status: rel.status.to_string(),
                    });
                }
                Err(e) if e.is_retryable() => {
                    if let Some(ra) = e.retry_after() {
                        pause = pause.max(ra);
                    }
                }
                Err(e) => return Err(OnboardError::classify(Operation::GetRelationship, None, e)),
            }
            let waited = elapsed(started, self.ports.clock.now());
            if waited >= wait.deadline {
                return Err(OnboardError::ApprovalTimedOut {
                    relationship_id: id.clone(),
                    status: last_status,
                    waited_secs: waited.as_secs(),
                    approval_link: self.config.links.approval_link(id).to_string(),
                });
            }
            tracing::debug!(relationship_id = %id, status = %last_status, pause_ms = pause.as_millis() as u64, "waiting for approval");
            // The last pause is cut short so that the final read happens at the deadline.
            self.ports
                .clock
                .sleep(pause.min(wait.deadline - waited))
                .await;
            pause = (pause * 2).min(wait.max);
        }
    }

    /// Waits for approval of relationship `id` ([`Orchestrator::wait_for_approval`]), then,
    /// when `template` is given, assigns its groups ([`Orchestrator::assign_groups`]).
    ///
    /// # Errors
    /// As [`Orchestrator::wait_for_approval`] and [`Orchestrator::assign_groups`].
    pub async fn wait_for_approval_and_assign(
        &self,
        id: &RelationshipId,
        wait: &ApprovalWait,
        template: Option<&GroupTemplate>,
    ) -> Result<ApprovalReport> {
        if let Some(t) = template {
            t.validate()?;
        }
        let started = self.ports.clock.now();
        let (rel, polls) = self.wait_for_approval(id, wait).await?;
        let waited_secs = elapsed(started, self.ports.clock.now()).as_secs();
        let assignments = match template {
            Some(t) => Some(self.assign_groups(&rel.id, t, false).await?),
            None => None,
        };
        Ok(ApprovalReport {
            relationship_id: rel.id.clone(),
            display_name: rel.display_name.clone(),
            status: rel.status.clone(),
            polls,
            waited_secs,
            assignments,
        })
    }

    /// Registers `url` for Partner Center's GDAP approval events. The partner's single
    /// registration is read first: none → created; ours (same URL) → missing events added;
    /// another URL → refused with [`OnboardError::WebhookRegisteredElsewhere`] unless `force`,
    /// which replaces it.
    ///
    /// # Errors
    /// [`OnboardError::WebhookRegisteredElsewhere`]; a Partner Center failure.
    pub async fn register_approval_webhook(
        &self,
        url: &str,
        force: bool,
        dry_run: bool,
    ) -> Result<WebhookOutcome> {
        let pc = &self.ports.partner_center;
        let wh = |e| OnboardError::classify(Operation::Webhook, None, e);
        let existing = pc.get_webhook_registration().await.map_err(wh)?;
        let (action, wanted) = match &existing {
            None => (
                WebhookAction::Created,
                WebhookRegistration::new(url, APPROVAL_EVENTS.iter().copied()),
            ),
            Some(r) if same_url(&r.url, url) => {
                let mut events = r.events.clone();
                for e in APPROVAL_EVENTS {
                    if !r.has_event(e) {
                        events.push((*e).to_owned());
                    }
                }
                if events.len() == r.events.len() {
                    return Ok(WebhookOutcome {
                        action: WebhookAction::Unchanged,
                        registration: r.clone(),
                        previous: existing.clone(),
                    });
                }
                (
                    WebhookAction::EventsAdded,
                    WebhookRegistration::new(r.url.clone(), events),
                )
            }
            Some(r) if !force => {
                return Err(OnboardError::WebhookRegisteredElsewhere {
                    existing_url: r.url.clone(),
                    existing_events: r.events.clone(),
                });
            }
            Some(_) => (
                WebhookAction::Replaced,
                WebhookRegistration::new(url, APPROVAL_EVENTS.iter().copied()),
            ),
        };
        if dry_run {
            return Ok(WebhookOutcome {
                action: WebhookAction::Planned,
                registration: wanted,
                previous: existing,
            });
        }
        let registration = match action {
            WebhookAction::Created => pc.create_webhook_registration(&wanted).await,
            _ => pc.update_webhook_registration(&wanted).await,
        }
        .map_err(wh)?;
        Ok(WebhookOutcome {
            action,
            registration,
            previous: existing,
        })
    }
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}
