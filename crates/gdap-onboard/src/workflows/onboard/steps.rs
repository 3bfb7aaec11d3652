//! One tenant through the steps of a run: check before write, write only what is missing, read
//! back after; journaled before and after each step.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use gdap_core::{AppId, RoleTemplateId, ServicePrincipalId, TenantId};
use tokio::sync::OnceCell;

use crate::catalogue::{CatalogueEntry, ExplainContext};
use crate::directory::{AppConsent, ConsentGrant, ServicePrincipal};
use crate::error::{GrantFailure, OnboardError, Operation};
use crate::manifest::AppManifest;
use crate::port_error::{PortError, PortErrorKind};
use crate::ports::{AccessPath, CustomerDirectory, JournalEntry, PartnerGdap, StepOutcome};
use crate::relationship::{AssignmentStatus, Relationship, RelationshipStatus};
use crate::tenant::{EmailPerms, OnboardedVia, Protection, TenantRecord};

use super::model::{
    OnboardOptions, OnboardStep, PlannedWrite, ProgressEvent, RunControl, RunKind, StepReport,
    StepStatus, TenantOutcome, TenantReport,
};
use crate::workflows::Orchestrator;

/// The journal step name of a tenant's final report (its detail is the report's JSON).
pub(crate) const TENANT_STEP: &str = "tenant";

/// Execute writes, or only plan them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Execute,
    Plan,
}

/// Why a step did not end well.
#[derive(Debug)]
pub(crate) enum StepError {
    /// Failed with a catalogue error; `retryable` when trying the step again may help.
    Failed {
        error: OnboardError,
        retryable: bool,
        detail: String,
    },
    /// The run was cancelled during the step.
    Cancelled,
    /// The tenant is not a target of this run (reported `Skipped`).
    SkipTenant(String),
}

impl StepError {
    fn failed(error: OnboardError, detail: impl Into<String>) -> Self {
        let retryable = error.port_error().is_some_and(PortError::is_retryable);
        StepError::Failed {
            error,
            retryable,
            detail: detail.into(),
        }
    }
}

type StepResult = Result<(StepStatus, String), StepError>;

/// The partner's active relationships by customer tenant, listed once per run (on the first
/// tenant that needs them) and shared by all the run's tenants, so a batch of N tenants reads
/// the relationship pages once rather than N times. A failed listing is not kept: the tenant
/// that saw it reports (and retries) it as before, and the next tenant that needs the index
/// lists again.
#[derive(Debug, Default)]
pub(crate) struct RelationshipIndex {
    by_customer: OnceCell<BTreeMap<TenantId, Vec<Relationship>>>,
}

impl RelationshipIndex {
    /// The active relationships with `customer` (empty if none), listing them on first use.
    async fn customer(
        &self,
        gdap: &dyn PartnerGdap,
        customer: TenantId,
    ) -> Result<Vec<Relationship>, PortError> {
        let index = self
            .by_customer
            .get_or_try_init(|| async {
                let mut by_customer: BTreeMap<TenantId, Vec<Relationship>> = BTreeMap::new();
                let mut items = gdap.list_relationships(Some(RelationshipStatus::Active));
                while let Some(r) = items.try_next().await? {
                    if let Some(t) = r.customer_tenant() {
                        by_customer.entry(t).or_default().push(r);
                    }
                }
                Ok::<_, PortError>(by_customer)
            })
            .await?;
        Ok(index.get(&customer).cloned().unwrap_or_default())
    }
}

/// One resource of the manifest, resolved in the customer tenant.
#[derive(Debug, Clone)]
struct Resolved {
    sp: Option<ServicePrincipal>,
}

/// The state of one tenant's run.
pub(crate) struct TenantRun<'a> {
    orch: &'a Orchestrator,
    run_id: &'a str,
    kind: RunKind,
    tenant: TenantId,
    options: &'a OnboardOptions,
    manifest: &'a AppManifest,
    control: &'a RunControl,
    mode: Mode,
    /// The run's shared relationship listing.
    relationships: &'a RelationshipIndex,
    /// Steps the journal already shows done (a resume): re-checked, annotated.
    resumed: BTreeSet<OnboardStep>,
    display_name: Option<String>,
    /// Relationships to assign on, with the roles to assign.
    targets: Vec<(Relationship, Vec<RoleTemplateId>)>,
    directory: Option<Arc<dyn CustomerDirectory>>,
    app_sp: Option<ServicePrincipal>,
    resources: BTreeMap<AppId, Resolved>,
    /// A planned write makes later checks moot (dry run).
    consent_planned: bool,
    assignment_planned: bool,
    pub(crate) plan: Vec<PlannedWrite>,
}

impl<'a> TenantRun<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        orch: &'a Orchestrator,
        run_id: &'a str,
        kind: RunKind,
        tenant: TenantId,
        options: &'a OnboardOptions,
        manifest: &'a AppManifest,
        control: &'a RunControl,
        mode: Mode,
        relationships: &'a RelationshipIndex,
    ) -> Self {
        Self {
            orch,
            run_id,
            kind,
            tenant,
            options,
            manifest,
            control,
            mode,
            relationships,
            resumed: BTreeSet::new(),
            display_name: None,
            targets: Vec::new(),
            directory: None,
            app_sp: None,
            resources: BTreeMap::new(),
            consent_planned: false,
            assignment_planned: false,
            plan: Vec::new(),
        }
    }

    pub(crate) fn with_resumed(mut self, done: BTreeSet<OnboardStep>) -> Self {
        self.resumed = done;
        self
    }

    fn explain_ctx(&self) -> ExplainContext {
        let mut ctx = ExplainContext::new()
            .with_tenant_id(self.tenant)
            .with_admin_consent(
                self.manifest.application_id,
                self.orch.config.links.authority.clone(),
            );
        if let Some(e) = self.orch.ports.tokens.account().user_email {
            ctx = ctx.with_user_email(e);
        }
        if let Some(n) = &self.display_name {
            ctx = ctx.with_tenant_name(n.clone());
        }
        ctx
    }

    /// Explains an error for this tenant.
    pub(crate) fn explain(&self, e: &OnboardError) -> CatalogueEntry {
        e.explain(&self.explain_ctx())
    }

    async fn journal(
        &self,
        step: &str,
        outcome: StepOutcome,
        detail: &str,
    ) -> Result<(), StepError> {
        if self.mode == Mode::Plan {
            return Ok(());
        }
        let entry = JournalEntry::new(
            self.run_id,
            self.tenant,
            step,
            outcome,
            detail,
            self.orch.ports.clock.now(),
        );
        self.orch.ports.journal.append(&entry).await.map_err(|e| {
            StepError::failed(
                OnboardError::Service {
                    operation: Operation::Store,
                    tenant: Some(self.tenant),
                    source: e,
                },
                "the journal could not be written",
            )
        })
    }

    /// Runs every step; the report says how far the tenant got.
    pub(crate) async fn run(mut self) -> (TenantReport, Vec<PlannedWrite>, Option<CatalogueEntry>) {
        let mut steps = Vec::new();
        let mut outcome = TenantOutcome::Verified;
        let mut blocked = None;
        for &step in self.kind.steps() {
            if self.control.cancel.is_cancelled() && self.mode == Mode::Execute {
                let detail = "cancelled before this step";
                // Best effort: the tenant is in a known state either way (nothing started).
                let _ = self
                    .journal(step.as_str(), StepOutcome::Cancelled, detail)
                    .await;
                steps.push(report(step, StepStatus::Cancelled, detail, None));
                outcome = TenantOutcome::Cancelled;
                break;
            }
            self.emit(ProgressEvent::StepStarted {
                run_id: self.run_id.to_owned(),
                tenant_id: self.tenant,
                step,
            });
            let started = self.journal(step.as_str(), StepOutcome::Started, "").await;
            let result = match started {
                Ok(()) => self.run_with_retries(step).await,
                Err(e) => Err(e),
            };
            let (status, detail, error) = match result {
                Ok((status, mut detail)) => {
                    if self.resumed.contains(&step) {
                        detail = format!("{detail} (re-checked on resume)");
                    }
                    (status, detail, None)
                }
                Err(StepError::Cancelled) => (
                    StepStatus::Cancelled,
                    "cancelled during this step".to_owned(),
                    None,
                ),
                Err(StepError::SkipTenant(why)) => (StepStatus::Skipped, why, None),
                Err(StepError::Failed { error, detail, .. }) => {
                    let entry = self.explain(&error);
                    let detail = if detail.is_empty() {
                        entry.message.clone()
                    } else {
                        detail
                    };
                    (StepStatus::Failed, detail, Some(entry))
                }
            };
            let _ = self.journal(step.as_str(), status.outcome(), &detail).await;
            self.emit(ProgressEvent::StepFinished {
                run_id: self.run_id.to_owned(),
                tenant_id: self.tenant,
                step,
                status,
            });
            let stop = match status {
                StepStatus::Failed => {
                    outcome = TenantOutcome::Blocked;
                    blocked = error.clone();
                    true
                }
                StepStatus::Cancelled => {
                    outcome = TenantOutcome::Cancelled;
                    true
                }
                StepStatus::Skipped if step == OnboardStep::Preflight => {
                    outcome = TenantOutcome::Skipped;
                    true
                }
                _ => false,
            };
            steps.push(report(step, status, &detail, error));
            if stop {
                break;
            }
        }
        let report = TenantReport {
            tenant_id: self.tenant,
            display_name: self.display_name.clone(),
            outcome,
            steps,
        };
        (report, std::mem::take(&mut self.plan), blocked)
    }

    fn emit(&self, e: ProgressEvent) {
        if self.mode == Mode::Execute {
            self.control.emit(e);
        }
    }

    async fn run_with_retries(&mut self, step: OnboardStep) -> StepResult {
        let attempts = self.options.step_attempts.max(1);
        let mut pause = self.options.poll_initial;
        let mut attempt = 1;
        loop {
            match self.run_step(step).await {
                Err(StepError::Failed {
                    retryable: true,
                    error,
                    ..
                }) if attempt < attempts && self.mode == Mode::Execute => {
                    let wait = error
                        .port_error()
                        .and_then(PortError::retry_after)
                        .unwrap_or(pause);
                    tracing::debug!(tenant = %self.tenant, %step, attempt, "retrying step: {error}");
                    self.sleep(wait).await?;
                    pause = (pause * 2).min(self.options.poll_max);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Sleeps on the clock port, unless cancelled first.
    async fn sleep(&self, d: Duration) -> Result<(), StepError> {
        tokio::select! {
            () = self.orch.ports.clock.sleep(d) => Ok(()),
            () = self.control.cancel.cancelled() => Err(StepError::Cancelled),
        }
    }

    async fn run_step(&mut self, step: OnboardStep) -> StepResult {
        match step {
            OnboardStep::Preflight => self.preflight().await,
            OnboardStep::AssignGroup => self.assign_group().await,
            OnboardStep::WaitAssignmentActive => self.wait_assignment().await,
            OnboardStep::ConsentPartnerCenter => self.consent().await,
            OnboardStep::CustomerToken => self.customer_token().await,
            OnboardStep::EnsureServicePrincipal => self.ensure_service_principals().await,
            OnboardStep::GrantDelegated => self.grant_delegated().await,
            OnboardStep::GrantAppRoles => self.grant_app_roles().await,
            OnboardStep::Verify => self.verify().await,
            OnboardStep::SwitchApp | OnboardStep::RecordOnboarded => self.record(step).await,
        }
    }

    fn service(&self, operation: Operation, e: PortError) -> StepError {
        StepError::failed(OnboardError::classify(operation, Some(self.tenant), e), "")
    }

    fn directory(&mut self) -> Arc<dyn CustomerDirectory> {
        if let Some(d) = &self.directory {
            return d.clone();
        }
        let d = self
            .orch
            .ports
            .directories
            .for_tenant(self.tenant, AccessPath::Gdap);
        self.directory = Some(d.clone());
        d
    }

    // ----- Preflight -------------------------------------------------------------------------

    async fn preflight(&mut self) -> StepResult {
        let store = &self.orch.ports.store;
        let record = store
            .get_record(&self.tenant)
            .await
            .map_err(|e| self.service(Operation::Store, e))?;
        if let Some(r) = &record {
            self.display_name = r.display_name.clone();
            if r.is_own_partner_tenant {
                return Err(StepError::SkipTenant(
                    "the MSP's own partner tenant is onboarded through its own consent, not GDAP"
                        .to_owned(),
                ));
            }
        }
        let onboarded_via = record
            .as_ref()
            .filter(|r| r.status().is_onboarded())
            .and_then(|r| r.onboarded_via);
        match self.kind {
            RunKind::Onboard => {}
            RunKind::Migrate => match onboarded_via {
                Some(OnboardedVia::Individually) => {}
                Some(OnboardedVia::PartnerCenter) => {
                    return Err(StepError::failed(
                        OnboardError::AlreadyManagedByPartnerCenter {
                            tenant: self.tenant,
                        },
                        "",
                    ));
                }
                _ => {
                    return Err(StepError::failed(
                        OnboardError::NoLegacyTenant {
                            tenant: self.tenant,
                        },
                        "",
                    ));
                }
            },
            RunKind::RefreshEmail => {
                if onboarded_via != Some(OnboardedVia::PartnerCenter) {
                    return Err(StepError::failed(
                        OnboardError::RefreshRequiresPartnerCenter {
                            tenant: self.tenant,
                        },
                        "",
                    ));
                }
            }
        }
        let rels: Vec<Relationship> = self
            .relationships
            .customer(self.orch.ports.gdap.as_ref(), self.tenant)
            .await
            .map_err(|e| self.service(Operation::ListRelationships, e))?;
        let usable: Vec<Relationship> = rels
            .into_iter()
            .filter(|r| {
                r.status.is_active()
                    && !r.is_reseller
                    && !r.is_microsoft_led_transition()
                    && r.customer_tenant() == Some(self.tenant)
            })
            .collect();
        if let Some(name) = usable
            .iter()
            .find_map(|r| r.customer.as_ref().and_then(|c| c.display_name.clone()))
        {
            self.display_name = Some(name);
        }
        let held: BTreeSet<RoleTemplateId> = usable
            .iter()
            .flat_map(|r| r.roles.iter().copied())
            .collect();
        let requirement = self.orch.config.effective_requirement();
        let readiness = requirement.evaluate(&held);
        if !readiness.is_ready() {
            let missing = readiness.missing().to_vec();
            let error = match self.kind {
                RunKind::Migrate => OnboardError::MigrationMissingGdapPermissions {
                    tenant: self.tenant,
                    missing,
                },
                _ => OnboardError::MissingGdapPermissions {
                    tenant: self.tenant,
                    missing,
                },
            };
            return Err(StepError::failed(error, readiness.label()));
        }
        let needed = requirement.mentioned_roles();
        self.targets = usable
            .into_iter()
            .filter_map(|r| {
                let roles: Vec<RoleTemplateId> = r.roles.intersection(&needed).copied().collect();
                (!roles.is_empty()).then_some((r, roles))
            })
            .collect();
        Ok((
            StepStatus::Passed,
            format!(
                "GDAP permissions Ready through {} active relationship(s)",
                self.targets.len()
            ),
        ))
    }

    // ----- Access assignment -----------------------------------------------------------------

    async fn assign_group(&mut self) -> StepResult {
        let group = self.options.security_group;
        let gdap = self.orch.ports.gdap.clone();
        let mut created = 0;
        let mut reused = 0;
        for (rel, roles) in self.targets.clone() {
            let existing = gdap
                .list_access_assignments(&rel.id)
                .await
                .map_err(|e| self.assignment_error(&rel, e))?;
            let live = existing.iter().find(|a| {
                a.group == group
                    && !matches!(
                        a.status,
                        AssignmentStatus::Deleted | AssignmentStatus::Deleting
                    )
            });
            if let Some(a) = live {
                let lacking: Vec<String> = roles
                    .iter()
                    .filter(|r| !a.roles.contains(r))
                    .map(|r| crate::readiness::RoleRef::new(*r).name.clone())
                    .collect();
                if !lacking.is_empty() {
                    return Err(StepError::failed(
                        OnboardError::AssignmentFailed {
                            tenant: Some(self.tenant),
                            relationship_id: Some(rel.id.clone()),
                            source: Some(PortError::new(
                                PortErrorKind::Conflict,
                                format!(
                                    "the existing access assignment {} for group {group} lacks: {}",
                                    a.id,
                                    lacking.join(", ")
                                ),
                            )),
                        },
                        "",
                    ));
                }
                reused += 1;
                continue;
            }
            if self.mode == Mode::Plan {
                self.plan.push(PlannedWrite::CreateAccessAssignment {
                    relationship_id: rel.id.clone(),
                    group,
                    roles: roles.clone(),
                });
                self.assignment_planned = true;
                continue;
            }
            match gdap.create_access_assignment(&rel.id, &group, &roles).await {
                Ok(_) => created += 1,
                // Created concurrently (or by a killed run whose answer was lost): read back.
                Err(e) if e.is_already_exists() => reused += 1,
                Err(e) => return Err(self.assignment_error(&rel, e)),
            }
        }
        if self.mode == Mode::Plan && self.assignment_planned {
            return Ok((
                StepStatus::Skipped,
                "would assign the security group".into(),
            ));
        }
        let detail =
            format!("security group {group}: {created} assignment(s) created, {reused} reused");
        Ok((
            if created > 0 {
                StepStatus::Changed
            } else {
                StepStatus::Passed
            },
            detail,
        ))
    }

    fn assignment_error(&self, rel: &Relationship, e: PortError) -> StepError {
        let retryable = e.is_retryable();
        let error = match OnboardError::classify(Operation::AssignUser, Some(self.tenant), e) {
            OnboardError::AssignmentFailed { tenant, source, .. } => {
                OnboardError::AssignmentFailed {
                    tenant,
                    relationship_id: Some(rel.id.clone()),
                    source,
                }
            }
            other => other,
        };
        StepError::Failed {
            error,
            retryable,
            detail: String::new(),
        }
    }

    async fn wait_assignment(&mut self) -> StepResult {
        if self.mode == Mode::Plan {
            return Ok((
                StepStatus::Skipped,
                "dry run: the assignment is not waited for".into(),
            ));
        }
        let group = self.options.security_group;
        let gdap = self.orch.ports.gdap.clone();
        let clock = self.orch.ports.clock.clone();
        let start = clock.now();
        let deadline = start + self.options.assignment_deadline;
        let mut pause = self.options.poll_initial;
        loop {
            let mut pending = Vec::new();
            for (rel, _) in &self.targets {
                let list = match gdap.list_access_assignments(&rel.id).await {
                    Ok(l) => l,
                    Err(e) if e.is_retryable() => {
                        pending.push(format!("{} (read failed: {e})", rel.id));
                        continue;
                    }
                    Err(e) => return Err(self.assignment_error(rel, e)),
                };
                match list.iter().find(|a| {
                    a.group == group
                        && !matches!(
                            a.status,
                            AssignmentStatus::Deleted | AssignmentStatus::Deleting
                        )
                }) {
                    Some(a) if a.status == AssignmentStatus::Active => {}
                    Some(a) if a.status == AssignmentStatus::Error => {
                        return Err(StepError::failed(
                            OnboardError::AssignmentFailed {
                                tenant: Some(self.tenant),
                                relationship_id: Some(rel.id.clone()),
                                source: Some(PortError::new(
                                    PortErrorKind::Other,
                                    format!("the access assignment {} is in error", a.id),
                                )),
                            },
                            "",
                        ));
                    }
                    Some(a) => pending.push(format!("{} ({:?})", rel.id, a.status)),
                    None => pending.push(format!("{} (no assignment)", rel.id)),
                }
            }
            if pending.is_empty() {
                let waited = clock.now() - start;
                return Ok((
                    StepStatus::Passed,
                    format!(
                        "assignment active on {} relationship(s) after {} s",
                        self.targets.len(),
                        waited.whole_seconds()
                    ),
                ));
            }
            let now = clock.now();
            if now >= deadline {
                let secs = self.options.assignment_deadline.as_secs();
                return Err(StepError::failed(
                    OnboardError::AssignmentFailed {
                        tenant: Some(self.tenant),
                        relationship_id: self.targets.first().map(|(r, _)| r.id.clone()),
                        source: Some(PortError::new(
                            PortErrorKind::Other,
                            format!(
                                "the access assignment did not become active within {secs} s: {}",
                                pending.join(", ")
                            ),
                        )),
                    },
                    "",
                ));
            }
            let left = deadline - now;
            let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
            self.sleep(pause.min(left).max(Duration::from_millis(1)))
                .await?;
            pause = (pause * 2).min(self.options.poll_max);
        }
    }

    // ----- Consent ---------------------------------------------------------------------------

    fn consent_body(&self) -> AppConsent {
        AppConsent {
            application_id: self.manifest.application_id,
            display_name: self.manifest.display_name.clone(),
            grants: self
                .manifest
                .resources
                .iter()
                .filter(|r| !r.delegated_scopes.is_empty())
                .map(|r| ConsentGrant {
                    resource_app_id: r.resource_app_id,
                    scopes: r.delegated_scopes.clone(),
                })
                .collect(),
        }
    }

    /// Reads the consent's effect in the customer tenant: `None` when the app is not consented
    /// (no SP or no token yet), else the delegated scopes missing per resource.
    async fn consent_state(&mut self) -> Result<Option<Vec<GrantFailure>>, StepError> {
        let dir = self.directory();
        let app = self.manifest.application_id;
        let sp = match dir.find_service_principal(&app).await {
            Ok(Some(sp)) => sp,
            Ok(None) => return Ok(None),
            // No token for the customer yet: the app is not consented there (65001), or the
            // assignment has not reached the token service (50177).
            Err(e) if e.has_aadsts(65001) || e.has_aadsts(50177) => return Ok(None),
            Err(e) => return Err(self.service(Operation::Consent, e)),
        };
        let grants = dir
            .list_delegated_grants(&sp.id)
            .await
            .map_err(|e| self.service(Operation::GrantDelegated, e))?;
        self.app_sp = Some(sp);
        let mut missing = Vec::new();
        for r in self.manifest.resources.clone() {
            if r.delegated_scopes.is_empty() {
                continue;
            }
            let rsp = self.resource_sp(&r.resource_app_id).await?;
            let have: BTreeSet<&str> = rsp
                .as_ref()
                .map(|rsp| {
                    grants
                        .iter()
                        .filter(|g| g.resource_id == rsp.id)
                        .flat_map(|g| g.scopes.iter().map(String::as_str))
                        .collect()
                })
                .unwrap_or_default();
            for s in &r.delegated_scopes {
                if !have.contains(s.as_str()) {
                    missing.push(GrantFailure::new(
                        r.resource_name.clone(),
                        s.clone(),
                        "the existing consent does not grant this delegated scope",
                    ));
                }
            }
        }
        Ok(Some(missing))
    }

    async fn resource_sp(&mut self, app: &AppId) -> Result<Option<ServicePrincipal>, StepError> {
        if let Some(r) = self.resources.get(app).filter(|r| r.sp.is_some()) {
            return Ok(r.sp.clone());
        }
        let dir = self.directory();
        let sp = dir
            .find_service_principal(app)
            .await
            .map_err(|e| self.service(Operation::ServicePrincipal, e))?;
        self.resources.insert(*app, Resolved { sp: sp.clone() });
        Ok(sp)
    }

    fn grant_error(&self, failures: Vec<GrantFailure>) -> OnboardError {
        match self.kind {
            RunKind::Onboard => OnboardError::OnboardGrantFailed {
                tenant: self.tenant,
                failures,
            },
            RunKind::Migrate => OnboardError::MigrationGrantFailed {
                tenant: self.tenant,
                failures,
            },
            RunKind::RefreshEmail => {
                let all_failed = failures.len() >= self.manifest.app_role_permissions().len();
                OnboardError::AppPermissionGrantFailed {
                    tenant: self.tenant,
                    failures,
                    all_failed,
                }
            }
        }
    }

    async fn consent(&mut self) -> StepResult {
        let body = self.consent_body();
        let state = self.consent_state().await?;
        let pc = self.orch.ports.partner_center.clone();
        let names: Vec<String> = self
            .manifest
            .resources
            .iter()
            .filter(|r| !r.delegated_scopes.is_empty())
            .map(|r| r.resource_name.clone())
            .collect();
        match state {
            Some(missing) if missing.is_empty() => Ok((
                StepStatus::Passed,
                "consent already in place (read back: every delegated scope granted)".into(),
            )),
            Some(missing) => self.mismatched_consent(missing, &body).await,
            None => {
                // Partner Center may already hold the consent (a run killed after the POST,
                // before the grants reached Graph): do not post it again.
                if let Ok(list) = pc.list_consents(&self.tenant).await
                    && list
                        .iter()
                        .any(|c| c.application_id == self.manifest.application_id)
                {
                    return Ok((
                        StepStatus::Passed,
                        "consent already recorded by Partner Center; waiting for it to reach the tenant"
                            .into(),
                    ));
                }
                if self.mode == Mode::Plan {
                    self.plan.push(PlannedWrite::CreateConsent {
                        application_id: self.manifest.application_id,
                        resources: names,
                    });
                    self.consent_planned = true;
                    return Ok((
                        StepStatus::Skipped,
                        "would consent through Partner Center".into(),
                    ));
                }
                match pc.create_consent(&self.tenant, &body).await {
                    Ok(()) => Ok((
                        StepStatus::Changed,
                        format!("consented through Partner Center ({})", names.join(", ")),
                    )),
                    Err(e) if e.is_already_exists() => {
                        // Read back rather than delete blindly.
                        match self.consent_state().await? {
                            Some(m) if !m.is_empty() => self.mismatched_consent(m, &body).await,
                            Some(_) => Ok((
                                StepStatus::Passed,
                                "Partner Center says the consent already exists; read back matches"
                                    .into(),
                            )),
                            None => Ok((
                                StepStatus::Passed,
                                "Partner Center says the consent already exists; it is read back once a customer token is available"
                                    .into(),
                            )),
                        }
                    }
                    Err(e) => Err(self.service(Operation::Consent, e)),
                }
            }
        }
    }

    async fn mismatched_consent(
        &mut self,
        missing: Vec<GrantFailure>,
        body: &AppConsent,
    ) -> StepResult {
        let list = missing
            .iter()
            .map(|f| format!("{}: {}", f.resource_name, f.permission))
            .collect::<Vec<_>>()
            .join(", ");
        if self.kind == RunKind::RefreshEmail {
            return Ok((
                StepStatus::Passed,
                format!("consent present; delegated scopes missing ({list}) are granted next"),
            ));
        }
        if !self.options.recreate_mismatched_consent {
            return Err(StepError::failed(
                self.grant_error(missing),
                format!(
                    "the existing consent lacks {list}; re-run with recreate_mismatched_consent to delete and recreate it"
                ),
            ));
        }
        if self.mode == Mode::Plan {
            self.plan.push(PlannedWrite::DeleteConsent {
                application_id: body.application_id,
            });
            self.plan.push(PlannedWrite::CreateConsent {
                application_id: body.application_id,
                resources: body
                    .grants
                    .iter()
                    .filter_map(|g| self.manifest.resource(&g.resource_app_id))
                    .map(|r| r.resource_name.clone())
                    .collect(),
            });
            return Ok((
                StepStatus::Skipped,
                "would delete and recreate the consent".into(),
            ));
        }
        let pc = self.orch.ports.partner_center.clone();
        match pc.delete_consent(&self.tenant, &body.application_id).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(self.service(Operation::Consent, e)),
        }
        pc.create_consent(&self.tenant, body)
            .await
            .map_err(|e| self.service(Operation::Consent, e))?;
        Ok((
            StepStatus::Changed,
            format!("consent deleted and recreated through Partner Center (it lacked {list})"),
        ))
    }

    async fn customer_token(&mut self) -> StepResult {
        if self.mode == Mode::Plan && (self.consent_planned || self.assignment_planned) {
            return Ok((
                StepStatus::Skipped,
                "dry run: a customer token is available after the planned writes".into(),
            ));
        }
        let tokens = self.orch.ports.tokens.clone();
        let clock = self.orch.ports.clock.clone();
        let start = clock.now();
        let deadline = start + self.options.consent_deadline;
        let mut pause = self.options.poll_initial;
        loop {
            match tokens.probe_customer(&self.tenant).await {
                Ok(()) => {
                    return Ok((
                        StepStatus::Passed,
                        format!(
                            "customer-scoped token obtained after {} s",
                            (clock.now() - start).whole_seconds()
                        ),
                    ));
                }
                // Propagation: consent (65001) or assignment (50177) not there yet.
                Err(e)
                    if (e.has_aadsts(65001) || e.has_aadsts(50177) || e.is_retryable())
                        && self.mode == Mode::Execute =>
                {
                    let now = clock.now();
                    if now >= deadline {
                        return Err(StepError::failed(
                            OnboardError::classify(Operation::Token, Some(self.tenant), e),
                            format!(
                                "no customer-scoped token within {} s",
                                self.options.consent_deadline.as_secs()
                            ),
                        ));
                    }
                    let left = Duration::try_from(deadline - now).unwrap_or(Duration::ZERO);
                    let wait = e.retry_after().unwrap_or(pause);
                    self.sleep(wait.min(left).max(Duration::from_millis(1)))
                        .await?;
                    pause = (pause * 2).min(self.options.poll_max);
                }
                Err(e) => return Err(self.service(Operation::Token, e)),
            }
        }
    }

    // ----- Service principals and grants -----------------------------------------------------

    async fn ensure_service_principals(&mut self) -> StepResult {
        if self.mode == Mode::Plan && self.consent_planned {
            return Ok((
                StepStatus::Skipped,
                "the consent creates the app's service principal".into(),
            ));
        }
        let dir = self.directory();
        let mut created = Vec::new();
        let mut wanted: Vec<(AppId, String)> = vec![(
            self.manifest.application_id,
            self.manifest.display_name.clone(),
        )];
        wanted.extend(
            self.manifest
                .resources
                .iter()
                .map(|r| (r.resource_app_id, r.resource_name.clone())),
        );
        for (app, name) in wanted {
            let found = dir
                .find_service_principal(&app)
                .await
                .map_err(|e| self.service(Operation::ServicePrincipal, e))?;
            let sp = match found {
                Some(sp) => Some(sp),
                None if self.mode == Mode::Plan => {
                    self.plan
                        .push(PlannedWrite::CreateServicePrincipal { app_id: app });
                    None
                }
                None => {
                    let sp = match dir.create_service_principal(&app).await {
                        Ok(sp) => sp,
                        Err(e) if e.is_already_exists() => dir
                            .find_service_principal(&app)
                            .await
                            .map_err(|e| self.service(Operation::ServicePrincipal, e))?
                            .ok_or_else(|| {
                                self.service(
                                    Operation::ServicePrincipal,
                                    PortError::not_found(format!(
                                        "service principal of {app} not found after a conflict"
                                    )),
                                )
                            })?,
                        Err(e) => return Err(self.service(Operation::ServicePrincipal, e)),
                    };
                    created.push(name.clone());
                    Some(sp)
                }
            };
            if app == self.manifest.application_id {
                self.app_sp = sp;
            } else {
                self.resources.insert(app, Resolved { sp });
            }
        }
        if created.is_empty() {
            Ok((
                StepStatus::Passed,
                "the app's and every resource's service principal exist".into(),
            ))
        } else {
            Ok((
                StepStatus::Changed,
                format!("created service principal(s): {}", created.join(", ")),
            ))
        }
    }

    fn app_sp_id(&self) -> Option<ServicePrincipalId> {
        self.app_sp.as_ref().map(|s| s.id)
    }

    async fn grant_delegated(&mut self) -> StepResult {
        let Some(client) = self.app_sp_id() else {
            for r in &self.manifest.resources {
                if !r.delegated_scopes.is_empty() && !self.consent_planned {
                    self.plan.push(PlannedWrite::GrantDelegated {
                        resource: r.resource_name.clone(),
                        scopes: r.delegated_scopes.clone(),
                    });
                }
            }
            return Ok((
                StepStatus::Skipped,
                "dry run: the app is not installed yet".into(),
            ));
        };
        let dir = self.directory();
        let grants = dir
            .list_delegated_grants(&client)
            .await
            .map_err(|e| self.service(Operation::GrantDelegated, e))?;
        let mut changed = Vec::new();
        for r in self.manifest.resources.clone() {
            if r.delegated_scopes.is_empty() {
                continue;
            }
            let Some(rsp) = self
                .resources
                .get(&r.resource_app_id)
                .and_then(|x| x.sp.clone())
            else {
                continue;
            };
            let existing = grants.iter().find(|g| g.resource_id == rsp.id);
            let have: BTreeSet<&String> = existing
                .map(|g| g.scopes.iter().collect())
                .unwrap_or_default();
            let lacking: Vec<String> = r
                .delegated_scopes
                .iter()
                .filter(|s| !have.contains(s))
                .cloned()
                .collect();
            if lacking.is_empty() {
                continue;
            }
            if self.mode == Mode::Plan {
                self.plan.push(PlannedWrite::GrantDelegated {
                    resource: r.resource_name.clone(),
                    scopes: lacking,
                });
                continue;
            }
            match existing {
                Some(g) => {
                    let mut all: Vec<String> = g.scopes.clone();
                    all.extend(lacking.iter().cloned());
                    dir.update_delegated_grant(&g.id, &all)
                        .await
                        .map_err(|e| self.service(Operation::GrantDelegated, e))?;
                }
                None => {
                    dir.create_delegated_grant(&client, &rsp.id, &r.delegated_scopes)
                        .await
                        .map_err(|e| self.service(Operation::GrantDelegated, e))?;
                }
            }
            changed.push(format!("{}: {}", r.resource_name, lacking.join(" ")));
        }
        if changed.is_empty() {
            Ok((
                StepStatus::Passed,
                "every delegated scope already granted".into(),
            ))
        } else {
            Ok((
                StepStatus::Changed,
                format!("delegated scopes granted: {}", changed.join("; ")),
            ))
        }
    }

    async fn grant_app_roles(&mut self) -> StepResult {
        let Some(principal) = self.app_sp_id() else {
            // Dry run before the consent: every application permission would be granted.
            for (resource, permission) in self.manifest.app_role_permissions() {
                self.plan.push(PlannedWrite::GrantAppRole {
                    resource,
                    permission,
                });
            }
            return Ok((
                StepStatus::Skipped,
                "dry run: the app is not installed yet".into(),
            ));
        };
        let dir = self.directory();
        let existing = dir
            .list_app_role_grants(&principal)
            .await
            .map_err(|e| self.service(Operation::GrantAppRole, e))?;
        let mut failures = Vec::new();
        let mut all_retryable = true;
        let mut granted = 0;
        let mut present = 0;
        for r in self.manifest.resources.clone() {
            if r.app_roles.is_empty() {
                continue;
            }
            let rsp = match self
                .resources
                .get(&r.resource_app_id)
                .and_then(|x| x.sp.clone())
            {
                Some(sp) => sp,
                None => match self.resource_sp(&r.resource_app_id).await? {
                    Some(sp) => sp,
                    None => {
                        for p in &r.app_roles {
                            if self.mode == Mode::Plan {
                                self.plan.push(PlannedWrite::GrantAppRole {
                                    resource: r.resource_name.clone(),
                                    permission: p.clone(),
                                });
                            } else {
                                all_retryable = false;
                                failures.push(GrantFailure::new(
                                    r.resource_name.clone(),
                                    p.clone(),
                                    "the resource's service principal is missing",
                                ));
                            }
                        }
                        continue;
                    }
                },
            };
            for p in &r.app_roles {
                let Some(role) = rsp.app_role_id(p) else {
                    all_retryable = false;
                    failures.push(GrantFailure::new(
                        r.resource_name.clone(),
                        p.clone(),
                        "the resource defines no such application permission",
                    ));
                    continue;
                };
                if existing
                    .iter()
                    .any(|g| g.resource_id == rsp.id && g.app_role_id == role)
                {
                    present += 1;
                    continue;
                }
                if self.mode == Mode::Plan {
                    self.plan.push(PlannedWrite::GrantAppRole {
                        resource: r.resource_name.clone(),
                        permission: p.clone(),
                    });
                    continue;
                }
                match dir.grant_app_role(&principal, &rsp.id, &role).await {
                    Ok(_) => granted += 1,
                    Err(e) if e.is_already_exists() => present += 1,
                    Err(e) => {
                        all_retryable &= e.is_retryable();
                        failures.push(GrantFailure::new(
                            r.resource_name.clone(),
                            p.clone(),
                            failure_reason(&e),
                        ));
                    }
                }
            }
        }
        if !failures.is_empty() {
            let detail = format!(
                "{} of {} application permission(s) failed: {}",
                failures.len(),
                self.manifest.app_role_permissions().len(),
                failures
                    .iter()
                    .map(|f| format!("{}: {}", f.resource_name, f.permission))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return Err(StepError::Failed {
                error: self.grant_error(failures),
                retryable: all_retryable,
                detail,
            });
        }
        if self.mode == Mode::Plan {
            return Ok((StepStatus::Skipped, "dry run".into()));
        }
        Ok((
            if granted > 0 {
                StepStatus::Changed
            } else {
                StepStatus::Passed
            },
            format!("{granted} application permission(s) granted, {present} already present"),
        ))
    }

    async fn verify(&mut self) -> StepResult {
        if self.mode == Mode::Plan {
            return Ok((StepStatus::Skipped, "dry run: nothing to read back".into()));
        }
        let Some(principal) = self.app_sp_id() else {
            return Err(self.service(
                Operation::ServicePrincipal,
                PortError::not_found("the app's service principal is missing"),
            ));
        };
        let dir = self.directory();
        let app_grants = dir
            .list_app_role_grants(&principal)
            .await
            .map_err(|e| self.service(Operation::GrantAppRole, e))?;
        let delegated = dir
            .list_delegated_grants(&principal)
            .await
            .map_err(|e| self.service(Operation::GrantDelegated, e))?;
        let mut expected = 0;
        let mut missing: Vec<(String, String)> = Vec::new();
        for r in self.manifest.resources.clone() {
            let rsp = self.resource_sp(&r.resource_app_id).await?;
            for p in &r.app_roles {
                expected += 1;
                let ok = rsp.as_ref().is_some_and(|rsp| {
                    rsp.app_role_id(p).is_some_and(|role| {
                        app_grants
                            .iter()
                            .any(|g| g.resource_id == rsp.id && g.app_role_id == role)
                    })
                });
                if !ok {
                    missing.push((r.resource_name.clone(), p.clone()));
                }
            }
            for s in &r.delegated_scopes {
                expected += 1;
                let ok = rsp.as_ref().is_some_and(|rsp| {
                    delegated
                        .iter()
                        .any(|g| g.resource_id == rsp.id && g.scopes.iter().any(|x| x == s))
                });
                if !ok {
                    missing.push((r.resource_name.clone(), format!("{s} (delegated)")));
                }
            }
        }
        let verified = expected - missing.len();
        if missing.is_empty() {
            return Ok((
                StepStatus::Passed,
                format!("{verified} of {expected} permissions verified"),
            ));
        }
        let detail = format!("only {verified} of {expected} permissions verified");
        let error = match self.kind {
            RunKind::Migrate => OnboardError::MigrationVerificationFailed {
                tenant: self.tenant,
                verified,
                expected,
                missing: missing.iter().map(|(r, p)| format!("{r}: {p}")).collect(),
            },
            _ => self.grant_error(
                missing
                    .into_iter()
                    .map(|(r, p)| GrantFailure::new(r, p, "not found when read back"))
                    .collect(),
            ),
        };
        Err(StepError::failed(error, detail))
    }

    // ----- The product's record --------------------------------------------------------------

    async fn record(&mut self, step: OnboardStep) -> StepResult {
        let store = self.orch.ports.store.clone();
        let existing = store
            .get_record(&self.tenant)
            .await
            .map_err(|e| self.service(Operation::Store, e))?;
        let mut next = existing
            .clone()
            .unwrap_or_else(|| TenantRecord::new(self.tenant));
        if let Some(n) = &self.display_name {
            next.display_name = Some(n.clone());
        }
        if !matches!(next.protection, Protection::Monitoring | Protection::Paused) {
            next.protection = Protection::Monitoring;
        }
        next.onboarded_via = Some(OnboardedVia::PartnerCenter);
        next.email_perms = EmailPerms::Ok;
        let change = match step {
            OnboardStep::SwitchApp => {
                "switched from the individually installed app to the Partner Center app (the old app stays installed)"
            }
            _ => match self.kind {
                RunKind::RefreshEmail => "email permissions verified",
                _ => "onboarded through Partner Center (Monitoring, email permissions OK)",
            },
        };
        if existing.as_ref() == Some(&next) {
            return Ok((StepStatus::Passed, format!("record already says: {change}")));
        }
        if self.mode == Mode::Plan {
            self.plan.push(PlannedWrite::UpdateRecord {
                change: change.to_owned(),
            });
            return Ok((StepStatus::Skipped, format!("would record: {change}")));
        }
        store
            .upsert_record(&next)
            .await
            .map_err(|e| self.service(Operation::Store, e))?;
        Ok((StepStatus::Changed, change.to_owned()))
    }
}

fn report(
    step: OnboardStep,
    status: StepStatus,
    detail: &str,
    error: Option<CatalogueEntry>,
) -> StepReport {
    StepReport {
        step,
        status,
        detail: detail.to_owned(),
        error,
    }
}

/// A short reason for a grant failure, from codes (no secrets).
fn failure_reason(e: &PortError) -> String {
    let mut s = String::new();
    if let Some(st) = e.status() {
        s.push_str(&st.to_string());
    }
    if let Some(code) = e.service_code() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(code);
    }
    if s.is_empty() {
        s.push_str(e.kind().as_str());
    }
    let msg = e.message();
    if msg.is_empty() {
        s
    } else {
        format!("{s}: {msg}")
    }
}
