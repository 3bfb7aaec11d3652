//! The workflows, as methods of [`Orchestrator`] over the [`Ports`].
//!
//! - [`Orchestrator::sync`]: the managed-tenants table from active GDAP relationships and the
//!   product's records;
//! - [`Orchestrator::request_permissions`]: a relationship request from a template, locked for
//!   approval, with the customer's approval link;
//! - own partner tenant: [`Orchestrator::enable_own_tenant`], [`Orchestrator::disable_own_tenant`],
//!   [`Orchestrator::delete_tenant`], [`billable_count`];
//! - [`Orchestrator::expiry_report`] and [`Orchestrator::least_privilege_audit`].

pub mod audit;
pub mod expiry;
pub mod lifecycle;
pub mod onboard;
pub mod own_tenant;
pub mod request;
pub mod sync;

use std::fmt;

pub use audit::{AuditFinding, AuditReport, FindingKind, RoleAudit, audit_roles};
pub use expiry::{ExpiringRelationship, ExpiryBucket, ExpiryReport, PendingApproval};
pub use lifecycle::{
    AccessTrace, ApprovalReport, ApprovalWait, AutoExtendReport, BulkOptions, ChangeCounts,
    ChangeStatus, DriftReport, GlobalAdminRemovalReport, GroupAssignmentReport, GroupSetupReport,
    GroupTemplate, RelationshipChange, WebhookOutcome,
};
pub use onboard::{
    BatchCounts, BatchReport, BatchRun, Cancellation, OnboardOptions, OnboardStep, PlannedWrite,
    ProgressEvent, RunControl, RunKind, StepReport, StepStatus, TenantOutcome, TenantPlan,
    TenantReport,
};
pub use own_tenant::billable_count;
pub use request::{RequestOutcome, RequestedRelationship};
pub use sync::{SkipCounts, SyncReport};

use crate::links::Links;
use crate::manifest::AppManifest;
use crate::ports::Ports;
use crate::readiness::RoleRequirement;
use crate::templates::Days;

/// Settings of the workflows.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OrchestratorConfig {
    /// The app being installed; its [`AppManifest::required_roles`] is the readiness rule unless
    /// `requirement` is set.
    pub manifest: Option<AppManifest>,
    /// The readiness rule (default: [`RoleRequirement::default_for_app_install`] or the
    /// manifest's).
    pub requirement: Option<RoleRequirement>,
    /// How many tenants' users are counted at once during sync (default 8).
    pub user_count_concurrency: usize,
    /// Bases for approval and admin-consent links.
    pub links: Links,
    /// How close to its 90-day expiry a pending approval is reported (default 14 days).
    pub approval_margin: Days,
    /// How many times `lockForApproval` is tried when the service is not ready yet (default 5).
    pub lock_attempts: u32,
    /// The pause between those tries when the service does not say (default 2 s).
    pub lock_retry_delay: std::time::Duration,
}

impl Default for OrchestratorConfig {
    fn default() -> Self {
        Self {
            manifest: None,
            requirement: None,
            user_count_concurrency: 8,
            links: Links::default(),
            approval_margin: Days(14),
            lock_attempts: 5,
            lock_retry_delay: std::time::Duration::from_secs(2),
        }
    }
}

impl OrchestratorConfig {
    /// Sets the manifest.
    pub fn with_manifest(mut self, manifest: AppManifest) -> Self {
        self.manifest = Some(manifest);
        self
    }

    /// Sets the readiness rule.
    pub fn with_requirement(mut self, requirement: RoleRequirement) -> Self {
        self.requirement = Some(requirement);
        self
    }

    /// Sets the user-count concurrency (at least 1).
    pub fn with_user_count_concurrency(mut self, n: usize) -> Self {
        self.user_count_concurrency = n.max(1);
        self
    }

    /// Sets the link bases.
    pub fn with_links(mut self, links: Links) -> Self {
        self.links = links;
        self
    }

    /// Sets the approval margin.
    pub fn with_approval_margin(mut self, margin: Days) -> Self {
        self.approval_margin = margin;
        self
    }

    /// The readiness rule in force.
    pub fn effective_requirement(&self) -> RoleRequirement {
        self.requirement.clone().unwrap_or_else(|| {
            self.manifest
                .as_ref()
                .map_or_else(RoleRequirement::default_for_app_install, |m| {
                    m.required_roles()
                })
        })
    }
}

/// The workflows over a set of ports.
#[derive(Clone)]
pub struct Orchestrator {
    ports: Ports,
    config: OrchestratorConfig,
}

impl fmt::Debug for Orchestrator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Orchestrator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Orchestrator {
    /// Workflows over `ports` with `config`.
    pub fn new(ports: Ports, config: OrchestratorConfig) -> Self {
        Self { ports, config }
    }

    /// The ports.
    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    /// The configuration.
    pub fn config(&self) -> &OrchestratorConfig {
        &self.config
    }
}
