//! The data of the write workflows: steps, options, reports, plans, progress events and the
//! cancellation handle.

use std::fmt;
use std::time::Duration;

use gdap_core::{AppId, RelationshipId, RoleTemplateId, SecurityGroupId, TenantId};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use crate::catalogue::CatalogueEntry;
use crate::ports::StepOutcome;

/// Serialises a [`Duration`] as whole milliseconds.
mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// What a run does to each tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum RunKind {
    /// Onboard through Partner Center (seed: "Onboarding a Tenant").
    Onboard,
    /// Migrate a legacy (individually onboarded) tenant to Partner Center management.
    Migrate,
    /// Refresh the email permissions of a tenant onboarded through Partner Center.
    RefreshEmail,
}

impl RunKind {
    /// The stable name stored in [`crate::ports::RunRecord::kind`].
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Onboard => "onboard",
            RunKind::Migrate => "migrate",
            RunKind::RefreshEmail => "refreshEmail",
        }
    }

    /// The steps of this kind, in order.
    pub fn steps(self) -> &'static [OnboardStep] {
        use OnboardStep::*;
        match self {
            RunKind::Onboard => &[
                Preflight,
                AssignGroup,
                WaitAssignmentActive,
                ConsentPartnerCenter,
                CustomerToken,
                EnsureServicePrincipal,
                GrantAppRoles,
                Verify,
                RecordOnboarded,
            ],
            RunKind::Migrate => &[
                Preflight,
                AssignGroup,
                WaitAssignmentActive,
                ConsentPartnerCenter,
                CustomerToken,
                EnsureServicePrincipal,
                GrantAppRoles,
                Verify,
                SwitchApp,
            ],
            RunKind::RefreshEmail => &[
                Preflight,
                AssignGroup,
                WaitAssignmentActive,
                ConsentPartnerCenter,
                CustomerToken,
                EnsureServicePrincipal,
                GrantDelegated,
                GrantAppRoles,
                Verify,
                RecordOnboarded,
            ],
        }
    }
}

impl fmt::Display for RunKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of a write workflow. Every step checks before it writes, writes only what is
/// missing, and reads back after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum OnboardStep {
    /// Reads only: the tenant record allows the run (migrate: legacy; refresh: onboarded
    /// through Partner Center) and the active relationships carry the roles the app needs.
    Preflight,
    /// The partner user's security group is assigned to the relationship(s) with the needed
    /// roles; an existing assignment for the group is reused.
    AssignGroup,
    /// Polls until the assignment is active, with a deadline.
    WaitAssignmentActive,
    /// CPV consent through Partner Center (already-exists is settled by reading back).
    ConsentPartnerCenter,
    /// A customer-scoped token can be had (waits for consent to propagate, with a deadline).
    CustomerToken,
    /// The app's (and each resource's) service principal exists in the customer tenant.
    EnsureServicePrincipal,
    /// Tenant-wide delegated grants (oauth2PermissionGrants) carry every manifest scope
    /// (refresh only).
    GrantDelegated,
    /// An app role assignment exists for every application permission of the manifest.
    GrantAppRoles,
    /// Reads back every grant and compares with the manifest.
    Verify,
    /// Migration: the tenant record switches from the individually installed app to the
    /// Partner Center app (the old app stays in the tenant).
    SwitchApp,
    /// The tenant record says onboarded through Partner Center, email permissions OK.
    RecordOnboarded,
}

impl OnboardStep {
    /// The stable name used in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            OnboardStep::Preflight => "preflight",
            OnboardStep::AssignGroup => "assignGroup",
            OnboardStep::WaitAssignmentActive => "waitAssignmentActive",
            OnboardStep::ConsentPartnerCenter => "consentPartnerCenter",
            OnboardStep::CustomerToken => "customerToken",
            OnboardStep::EnsureServicePrincipal => "ensureServicePrincipal",
            OnboardStep::GrantDelegated => "grantDelegated",
            OnboardStep::GrantAppRoles => "grantAppRoles",
            OnboardStep::Verify => "verify",
            OnboardStep::SwitchApp => "switchApp",
            OnboardStep::RecordOnboarded => "recordOnboarded",
        }
    }

    /// The step named `s` (its [`OnboardStep::as_str`]).
    pub fn parse(s: &str) -> Option<Self> {
        ALL_STEPS.iter().copied().find(|x| x.as_str() == s)
    }
}

const ALL_STEPS: &[OnboardStep] = &[
    OnboardStep::Preflight,
    OnboardStep::AssignGroup,
    OnboardStep::WaitAssignmentActive,
    OnboardStep::ConsentPartnerCenter,
    OnboardStep::CustomerToken,
    OnboardStep::EnsureServicePrincipal,
    OnboardStep::GrantDelegated,
    OnboardStep::GrantAppRoles,
    OnboardStep::Verify,
    OnboardStep::SwitchApp,
    OnboardStep::RecordOnboarded,
];

impl fmt::Display for OnboardStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a step ended, in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum StepStatus {
    /// Checked: already as wanted, nothing written.
    Passed,
    /// Written now (and read back).
    Changed,
    /// Not applicable (or not run in a dry run).
    Skipped,
    /// Failed: the tenant is blocked; the report carries the catalogue entry.
    Failed,
    /// The run was cancelled at this step.
    Cancelled,
}

impl StepStatus {
    /// The journal outcome of this status.
    pub fn outcome(self) -> StepOutcome {
        match self {
            StepStatus::Passed => StepOutcome::Passed,
            StepStatus::Changed => StepOutcome::Changed,
            StepStatus::Skipped => StepOutcome::Skipped,
            StepStatus::Failed => StepOutcome::Failed,
            StepStatus::Cancelled => StepOutcome::Cancelled,
        }
    }
}

/// One step in a [`TenantReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    /// The step.
    pub step: OnboardStep,
    /// How it ended.
    pub status: StepStatus,
    /// What was found or done, for people.
    pub detail: String,
    /// The catalogue entry when the step failed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<CatalogueEntry>,
}

/// How a tenant ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum TenantOutcome {
    /// Every step ended well and every permission was read back.
    Verified,
    /// A step failed; the report says which and why (nothing unverified is reported done).
    Blocked,
    /// Not applicable (e.g. the MSP's own partner tenant).
    Skipped,
    /// The run was cancelled before the tenant finished; a resume continues it.
    Cancelled,
}

/// The result of one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantReport {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Its name, when known.
    pub display_name: Option<String>,
    /// How it ended.
    pub outcome: TenantOutcome,
    /// Each step that ran (or was cancelled / failed), in order.
    pub steps: Vec<StepReport>,
}

impl TenantReport {
    /// The failed step's catalogue entry, when blocked.
    pub fn error(&self) -> Option<&CatalogueEntry> {
        self.steps.iter().find_map(|s| s.error.as_ref())
    }

    /// The step that failed or was cancelled, if any.
    pub fn stopped_at(&self) -> Option<OnboardStep> {
        self.steps
            .iter()
            .find(|s| matches!(s.status, StepStatus::Failed | StepStatus::Cancelled))
            .map(|s| s.step)
    }
}

/// Counts of a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchCounts {
    /// Verified tenants.
    pub verified: usize,
    /// Blocked tenants.
    pub blocked: usize,
    /// Skipped tenants.
    pub skipped: usize,
    /// Cancelled tenants.
    pub cancelled: usize,
}

impl BatchCounts {
    /// Counts of `tenants`.
    pub fn of(tenants: &[TenantReport]) -> Self {
        let mut c = BatchCounts::default();
        for t in tenants {
            match t.outcome {
                TenantOutcome::Verified => c.verified += 1,
                TenantOutcome::Blocked => c.blocked += 1,
                TenantOutcome::Skipped => c.skipped += 1,
                TenantOutcome::Cancelled => c.cancelled += 1,
            }
        }
        c
    }
}

/// The result of a batch (one tenant or many), tenants in the order they were given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchReport {
    /// The run id (give it to `resume`).
    pub run_id: String,
    /// What the run did.
    pub kind: RunKind,
    /// One report per tenant.
    pub tenants: Vec<TenantReport>,
    /// Counts by outcome.
    pub counts: BatchCounts,
}

impl BatchReport {
    /// The report of `tenant`.
    pub fn tenant(&self, tenant: &TenantId) -> Option<&TenantReport> {
        self.tenants.iter().find(|t| &t.tenant_id == tenant)
    }
}

/// Options of a write run (stored with the run, so a resume uses the same).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OnboardOptions {
    /// The partner user's GDAP security group to assign to the relationship.
    pub security_group: SecurityGroupId,
    /// Tenants processed at once (default 8, at least 1).
    pub concurrency: usize,
    /// How long to wait for the access assignment to become active (default 2 min).
    #[serde(with = "duration_ms")]
    pub assignment_deadline: Duration,
    /// How long to wait for the consent to reach the customer tenant, i.e. for a customer token
    /// (default 2 min).
    #[serde(with = "duration_ms")]
    pub consent_deadline: Duration,
    /// First pause between polls (default 1 s; doubled up to `poll_max`).
    #[serde(with = "duration_ms")]
    pub poll_initial: Duration,
    /// Longest pause between polls (default 15 s).
    #[serde(with = "duration_ms")]
    pub poll_max: Duration,
    /// Attempts of a step that failed with a retryable error (default 3).
    pub step_attempts: u32,
    /// When an existing consent lacks scopes of the manifest: delete and recreate it through
    /// Partner Center (reported `Changed`) instead of failing (default false).
    pub recreate_mismatched_consent: bool,
}

impl OnboardOptions {
    /// Defaults, assigning `security_group`.
    pub fn new(security_group: SecurityGroupId) -> Self {
        Self {
            security_group,
            concurrency: 8,
            assignment_deadline: Duration::from_secs(120),
            consent_deadline: Duration::from_secs(120),
            poll_initial: Duration::from_secs(1),
            poll_max: Duration::from_secs(15),
            step_attempts: 3,
            recreate_mismatched_consent: false,
        }
    }

    /// Sets the concurrency (at least 1).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Sets the assignment deadline.
    pub fn with_assignment_deadline(mut self, d: Duration) -> Self {
        self.assignment_deadline = d;
        self
    }

    /// Sets the consent deadline.
    pub fn with_consent_deadline(mut self, d: Duration) -> Self {
        self.consent_deadline = d;
        self
    }

    /// Sets the polling pauses.
    pub fn with_poll(mut self, initial: Duration, max: Duration) -> Self {
        self.poll_initial = initial;
        self.poll_max = max.max(initial);
        self
    }

    /// Sets the attempts of a retryable step (at least 1).
    pub fn with_step_attempts(mut self, n: u32) -> Self {
        self.step_attempts = n.max(1);
        self
    }

    /// Opts in to delete-and-recreate of a mismatched consent.
    pub fn with_recreate_mismatched_consent(mut self, yes: bool) -> Self {
        self.recreate_mismatched_consent = yes;
        self
    }
}

/// A run: what `resume(run_id)` needs, stored as the run header in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BatchRun {
    /// The run id.
    pub run_id: String,
    /// What it does.
    pub kind: RunKind,
    /// The tenants, in order.
    pub tenants: Vec<TenantId>,
    /// The options.
    pub options: OnboardOptions,
}

impl BatchRun {
    /// A run with a fresh id (`run-{uuid}`).
    pub fn new(kind: RunKind, tenants: Vec<TenantId>, options: OnboardOptions) -> Self {
        Self {
            run_id: format!("run-{}", uuid::Uuid::new_v4()),
            kind,
            tenants,
            options,
        }
    }

    /// Sets the run id.
    pub fn with_run_id(mut self, run_id: impl Into<String>) -> Self {
        self.run_id = run_id.into();
        self
    }
}

/// A write a step would do (dry run), or did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "write", rename_all = "camelCase")]
#[non_exhaustive]
pub enum PlannedWrite {
    /// Assign the security group to a relationship with these roles.
    #[serde(rename_all = "camelCase")]
    CreateAccessAssignment {
        /// The relationship.
        relationship_id: RelationshipId,
        /// The group.
        group: SecurityGroupId,
        /// The roles.
        roles: Vec<RoleTemplateId>,
    },
    /// Partner Center CPV consent for the app with these resources.
    #[serde(rename_all = "camelCase")]
    CreateConsent {
        /// The app.
        application_id: AppId,
        /// The resources' names.
        resources: Vec<String>,
    },
    /// Delete the app's Partner Center consent (before recreating it).
    #[serde(rename_all = "camelCase")]
    DeleteConsent {
        /// The app.
        application_id: AppId,
    },
    /// Create a service principal.
    #[serde(rename_all = "camelCase")]
    CreateServicePrincipal {
        /// Its application id.
        app_id: AppId,
    },
    /// Create or widen a tenant-wide delegated grant.
    #[serde(rename_all = "camelCase")]
    GrantDelegated {
        /// The resource's name.
        resource: String,
        /// The scopes to add.
        scopes: Vec<String>,
    },
    /// Create an app role assignment.
    #[serde(rename_all = "camelCase")]
    GrantAppRole {
        /// The resource's name.
        resource: String,
        /// The permission.
        permission: String,
    },
    /// Write the tenant record.
    #[serde(rename_all = "camelCase")]
    UpdateRecord {
        /// What changes, for people.
        change: String,
    },
}

/// The writes a run would do for one tenant, found with reads only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantPlan {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Its name, when known.
    pub display_name: Option<String>,
    /// The writes, in order.
    pub writes: Vec<PlannedWrite>,
    /// Why the run would stop for this tenant (a check failed), if it would.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<CatalogueEntry>,
    /// Each step's check, as in a report (`Skipped` where it depends on a planned write).
    pub steps: Vec<StepReport>,
}

/// Progress of a run, for front-ends (a CLI progress bar, a server's job status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
#[non_exhaustive]
pub enum ProgressEvent {
    /// The run started (or resumed) with this many tenants to process.
    #[serde(rename_all = "camelCase")]
    RunStarted {
        /// The run.
        run_id: String,
        /// What it does.
        kind: RunKind,
        /// Tenants in the run.
        total: usize,
        /// Tenants already finished in an earlier attempt (resume).
        already_done: usize,
    },
    /// A step started for a tenant.
    #[serde(rename_all = "camelCase")]
    StepStarted {
        /// The run.
        run_id: String,
        /// The tenant.
        tenant_id: TenantId,
        /// The step.
        step: OnboardStep,
    },
    /// A step ended for a tenant.
    #[serde(rename_all = "camelCase")]
    StepFinished {
        /// The run.
        run_id: String,
        /// The tenant.
        tenant_id: TenantId,
        /// The step.
        step: OnboardStep,
        /// How.
        status: StepStatus,
    },
    /// A tenant finished.
    #[serde(rename_all = "camelCase")]
    TenantFinished {
        /// The run.
        run_id: String,
        /// The tenant.
        tenant_id: TenantId,
        /// How.
        outcome: TenantOutcome,
    },
    /// The run finished (every tenant is in a known state).
    #[serde(rename_all = "camelCase")]
    RunFinished {
        /// The run.
        run_id: String,
        /// Counts by outcome.
        counts: BatchCounts,
    },
}

/// A cancellation signal shared by a run and whoever may stop it. Cloning shares it.
#[derive(Debug, Clone)]
pub struct Cancellation {
    tx: std::sync::Arc<watch::Sender<bool>>,
}

impl Default for Cancellation {
    fn default() -> Self {
        Self::new()
    }
}

impl Cancellation {
    /// Not cancelled.
    pub fn new() -> Self {
        Self {
            tx: std::sync::Arc::new(watch::channel(false).0),
        }
    }

    /// Cancels: each tenant finishes its in-flight step (polls stop at once), records
    /// `Cancelled`, and tenants not started are recorded `Cancelled` without any call.
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }

    /// Whether cancelled.
    pub fn is_cancelled(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves when cancelled.
    pub async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        // `wait_for` only fails when the sender is dropped, and we hold it.
        let _ = rx.wait_for(|c| *c).await;
    }
}

/// How a caller controls a run: cancellation and progress events.
#[derive(Debug, Clone, Default)]
pub struct RunControl {
    /// The cancellation signal.
    pub cancel: Cancellation,
    /// Where progress events go (dropped receivers are fine).
    pub progress: Option<mpsc::UnboundedSender<ProgressEvent>>,
}

impl RunControl {
    /// No cancellation requested, no progress events.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `cancel` as the cancellation signal.
    pub fn with_cancellation(mut self, cancel: Cancellation) -> Self {
        self.cancel = cancel;
        self
    }

    /// Sends progress events to `tx`.
    pub fn with_progress(mut self, tx: mpsc::UnboundedSender<ProgressEvent>) -> Self {
        self.progress = Some(tx);
        self
    }

    pub(crate) fn emit(&self, event: ProgressEvent) {
        if let Some(tx) = &self.progress {
            let _ = tx.send(event);
        }
    }
}
