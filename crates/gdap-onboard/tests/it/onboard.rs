//! Onboarding, migration, email-permission refresh and batches over the fakes, on paused time:
//! each step's success and each failure path, journal and resume, cancellation, dry run.

use std::time::Duration;

use gdap_core::roles::{
    self, APPLICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR,
};
use gdap_core::{AppId, SecurityGroupId, TenantId};
use gdap_onboard::fakes::FakeWorld;
use gdap_onboard::manifest::microsoft_graph;
use gdap_onboard::ports::{Journal, StepOutcome};
use gdap_onboard::relationship::{AccessAssignment, AssignmentStatus};
use gdap_onboard::tenant::{EmailPerms, OnboardedVia};
use gdap_onboard::{
    AppManifest, CatalogueKey, OnboardOptions, OnboardStep, Orchestrator, OrchestratorConfig,
    PlannedWrite, PortError, PortErrorKind, ProgressEvent, RunControl, StepStatus, TenantOutcome,
    TenantRecord,
};
use tokio::sync::mpsc;

use crate::support::{active, rid, tid, world};

fn app_id() -> AppId {
    "a0a0a0a0-0000-4000-8000-00000000a0a0".parse().unwrap()
}

fn group() -> SecurityGroupId {
    "9a9a9a9a-0000-4000-8000-000000009a9a".parse().unwrap()
}

fn manifest() -> AppManifest {
    AppManifest::sample_security_app(app_id())
}

fn options() -> OnboardOptions {
    OnboardOptions::new(group())
        .with_poll(Duration::from_secs(1), Duration::from_secs(8))
        .with_assignment_deadline(Duration::from_secs(120))
}

fn orchestrator(w: &FakeWorld) -> Orchestrator {
    Orchestrator::new(
        w.ports(),
        OrchestratorConfig::default().with_manifest(manifest()),
    )
}

/// A tenant `n` with one active relationship carrying `roles`, and the first-party resources.
fn tenant(w: &FakeWorld, n: u32, roles: &[gdap_core::roles::RoleTemplate]) -> TenantId {
    let t = tid(n);
    let name = format!("Contoso {n:03}");
    w.gdap
        .insert(active(u64::from(n), t, &name, &format!("rel {n}"), roles));
    w.directories.add_tenant(t, &name, 10);
    w.directories.install_resources(t, &manifest());
    t
}

fn ready(w: &FakeWorld, n: u32) -> TenantId {
    tenant(
        w,
        n,
        &[APPLICATION_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR],
    )
}

fn statuses(r: &gdap_onboard::TenantReport) -> Vec<(OnboardStep, StepStatus)> {
    r.steps.iter().map(|s| (s.step, s.status)).collect()
}

#[tokio::test(start_paused = true)]
async fn onboard_one_tenant_verified_then_idempotent() {
    let w = world();
    let t = ready(&w, 1);
    let o = orchestrator(&w);
    let r = o.onboard_tenant(t, options()).await.unwrap();
    assert_eq!(r.outcome, TenantOutcome::Verified, "{r:#?}");
    insta::assert_json_snapshot!("onboard_verified", r);
    // 7 application permissions + 4 delegated scopes read back.
    assert_eq!(w.directories.app_role_grants(t).len(), 7);
    let rec = w.store.record(&t).unwrap();
    assert_eq!(rec.onboarded_via, Some(OnboardedVia::PartnerCenter));
    assert_eq!(rec.email_perms, EmailPerms::Ok);
    assert_eq!(rec.display_name.as_deref(), Some("Contoso 001"));

    // A second run checks everything and writes nothing.
    let writes = w.directories.writes().len();
    let pc_calls = w.partner_center.calls().len();
    let again = o.onboard_tenant(t, options()).await.unwrap();
    assert_eq!(again.outcome, TenantOutcome::Verified);
    assert!(
        again
            .steps
            .iter()
            .all(|s| matches!(s.status, StepStatus::Passed)),
        "{again:#?}"
    );
    assert_eq!(w.directories.writes().len(), writes);
    assert_eq!(w.partner_center.calls().len(), pc_calls);
    assert_eq!(w.gdap.assignment_writes(), 1);
}

#[tokio::test(start_paused = true)]
async fn journal_records_started_and_outcome_for_each_step() {
    let w = world();
    let t = ready(&w, 1);
    let o = orchestrator(&w);
    let report = o
        .onboard(vec![t], options(), &RunControl::new())
        .await
        .unwrap();
    let entries = w.journal.entries(&report.run_id).await.unwrap();
    let steps = gdap_onboard::RunKind::Onboard.steps();
    // Started + outcome per step, then the tenant's final report.
    assert_eq!(entries.len(), steps.len() * 2 + 1);
    for (i, step) in steps.iter().enumerate() {
        assert_eq!(entries[2 * i].step, step.as_str());
        assert_eq!(entries[2 * i].outcome, StepOutcome::Started);
        assert_eq!(entries[2 * i + 1].step, step.as_str());
        assert!(entries[2 * i + 1].outcome.is_ok());
    }
    assert_eq!(entries.last().unwrap().step, "tenant");
    let run = w.journal.get_run(&report.run_id).await.unwrap().unwrap();
    assert_eq!(run.kind, "onboard");
    assert_eq!(w.journal.list_runs().await.unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn existing_assignment_is_reused_and_one_lacking_roles_fails() {
    let w = world();
    let t = ready(&w, 1);
    w.gdap.insert_assignment(
        &rid(1),
        AccessAssignment::new(
            "existing-1".try_into().unwrap(),
            group(),
            [
                APPLICATION_ADMINISTRATOR.id(),
                PRIVILEGED_ROLE_ADMINISTRATOR.id(),
            ],
            AssignmentStatus::Active,
        ),
    );
    let o = orchestrator(&w);
    let r = o.onboard_tenant(t, options()).await.unwrap();
    assert_eq!(r.outcome, TenantOutcome::Verified);
    assert_eq!(r.steps[1].status, StepStatus::Passed);
    assert_eq!(w.gdap.assignment_writes(), 0);

    let w = world();
    let t = ready(&w, 2);
    w.gdap.insert_assignment(
        &rid(2),
        AccessAssignment::new(
            "existing-2".try_into().unwrap(),
            group(),
            [APPLICATION_ADMINISTRATOR.id()],
            AssignmentStatus::Active,
        ),
    );
    let r = orchestrator(&w).onboard_tenant(t, options()).await.unwrap();
    assert_eq!(r.outcome, TenantOutcome::Blocked);
    assert_eq!(r.stopped_at(), Some(OnboardStep::AssignGroup));
    let e = r.error().unwrap();
    assert_eq!(e.key, CatalogueKey::AssignmentFailed);
    assert!(
        e.details
            .iter()
            .any(|d| d.contains("Privileged Role Administrator"))
    );
}

#[tokio::test(start_paused = true)]
async fn assignment_failure_stops_and_nothing_else_is_done() {
    let w = world();
    let t = ready(&w, 1);
    w.gdap.fail_next(
        "create_access_assignment",
        PortError::http(400, Some("badRequest"), "group is not a security group"),
    );
    let r = orchestrator(&w).onboard_tenant(t, options()).await.unwrap();
    assert_eq!(r.outcome, TenantOutcome::Blocked);
    assert_eq!(
        statuses(&r),
        vec![
            (OnboardStep::Preflight, StepStatus::Passed),
            (OnboardStep::AssignGroup, StepStatus::Failed),
        ]
    );
    let e = r.error().unwrap();
    assert_eq!(e.key, CatalogueKey::AssignmentFailed);
    assert!(e.message.contains("ops@msp.example"), "{}", e.message);
    assert!(e.message.contains("Contoso 001"), "{}", e.message);
    assert!(w.partner_center.calls().is_empty());
    assert!(w.directories.writes().is_empty());
    assert!(w.store.record(&t).is_none());
    insta::assert_json_snapshot!("onboard_assignment_failed", r);
}

#[tokio::test(start_paused = true)]
async fn assignment_retryable_failure_is_retried() {
    let w = world();
    let t = ready(&w, 1);
    w.gdap.fail_next(
        "create_access_assignment",
        PortError::http(503, None, "busy").with_kind(PortErrorKind::Transient),
    );
    let r = orchestrator(&w).onboard_tenant(t, options()).await.unwrap();
    assert_eq!(r.outcome, TenantOutcome::Verified, "{r:#?}");
}

#[tokio::test(start_paused = true)]
async fn propagation_within_the_deadline_is_waited_for() {
    let w = world();
    let t = ready(&w, 1);
    w.gdap.set_assignment_propagation(Duration::from_secs(30));
    let start = tokio::time::Instant::now();
    let r = orchestrator(&w).onboard_tenant(t, options()).await.unwrap();
    assert_eq!(r.outcome, TenantOutcome::Verified, "{r:#?}");
    assert_eq!(r.steps[1].status, StepStatus::Changed);
    assert_eq!(r.steps[2].status, StepStatus::Passed);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(30) && waited < Duration::from_secs(45));
}

#[tokio::test(start_paused = true)]
async fn propagation_slower_than_the_deadline_blocks_before_consent() {
    let w = world();
    let t = ready(&w, 1);
    w.gdap.set_assignment_propagation(Duration::from_secs(600));
    let r = orchestrator(&w)
        .onboard_tenant(
            t,
            options().with_assignment_deadline(Duration::from_secs(60)),
        )
        .await
        .unwrap();
    assert_eq!(r.outcome, TenantOutcome::Blocked);
    assert_eq!(r.stopped_at(), Some(OnboardStep::WaitAssignmentActive));
    let e = r.error().unwrap();
    assert_eq!(e.key, CatalogueKey::AssignmentFailed);
    assert!(
        e.details
            .iter()
            .any(|d| d.contains("did not become active within 60 s"))
    );
    assert!(w.partner_center.calls().is_empty());
    assert!(w.directories.writes().is_empty());
}

#[tokio::test(start_paused = true)]
async fn consent_failure_blocks_with_the_catalogue_row() {
    let w = world();
    let t = ready(&w, 1);
    w.partner_center.fail_next(
        "create_consent",
        PortError::http(403, Some("Forbidden"), "Unsupported token")
            .with_kind(PortErrorKind::Forbidden),
    );
    let r = orchestrator(&w).onboard_tenant(t, options()).await.unwrap();
    assert_eq!(r.outcome, TenantOutcome::Blocked);
    assert_eq!(r.stopped_at(), Some(OnboardStep::ConsentPartnerCenter));
    assert_eq!(
        r.error().unwrap().key,
        CatalogueKey::InsufficientPermissions
    );
    assert!(w.directories.writes().is_empty());
    assert!(w.directories.service_principal(t, app_id()).is_none());
}

#[tokio::test(start_paused = true)]
async fn consent_that_already_exists_is_read_back() {
    let w = world();
    let t = ready(&w, 1);
    let o = orchestrator(&w);
    // Partner Center holds the consent and Graph shows it: no POST at all.
    let consent = gdap_onboard::directory::AppConsent {
        application_id: app_id(),
        display_name: "Sample Security App".into(),
        grants: vec![gdap_onboard::directory::ConsentGrant {
            resource_app_id: microsoft_graph(),
            scopes: manifest().resources[0].delegated_scopes.clone(),
        }],
    };
    w.directories
        .consent_app(t, app_id(), "Sample Security App", &consent.grants);
    let r = o.onboard_tenant(t, options()).await.unwrap();
    assert_eq!(r.outcome, TenantOutcome::Verified, "{r:#?}");
    assert_eq!(r.steps[3].status, StepStatus::Passed);
    assert!(
        !w.partner_center
            .calls()
            .iter()
            .any(|c| c.starts_with("create_consent"))
    );

    // The app is installed but its grants lack scopes of the manifest.
    let w = world();
    let t = ready(&w, 2);
    w.directories
        .consent_app(t, app_id(), "Sample Security App", &[]);
    w.directories.revoke_delegated(t, app_id());
    // SP present without grants → mismatch → default: Failed, listing the scopes.
    let r = orchestrator(&w).onboard_tenant(t, options()).await.unwrap();
    assert_eq!(r.outcome, TenantOutcome::Blocked);
    assert_eq!(r.stopped_at(), Some(OnboardStep::ConsentPartnerCenter));
    let e = r.error().unwrap();
    assert_eq!(e.key, CatalogueKey::OnboardGrantFailed);
    assert!(
        e.details
            .iter()
            .any(|d| d.contains("Microsoft Graph: Mail.Read"))
    );
    assert!(e.admin_consent_url.is_some());

    // Opted in: delete and recreate, reported Changed.
    let r = orchestrator(&w)
        .onboard_tenant(t, options().with_recreate_mismatched_consent(true))
        .await
        .unwrap();
    assert_eq!(r.outcome, TenantOutcome::Verified, "{r:#?}");
    assert_eq!(r.steps[3].status, StepStatus::Changed);
    assert!(r.steps[3].detail.contains("deleted and recreated"));
}

#[tokio::test(start_paused = true)]
async fn one_app_role_failing_blocks_listing_it_with_the_admin_consent_url() {
    let w = world();
    let t = ready(&w, 1);
    w.directories.fail_app_role(
        t,
        "Mail.ReadWrite",
        PortError::http(
            403,
            Some("Authorization_RequestDenied"),
            "Insufficient privileges to complete the operation.",
        )
        .with_kind(PortErrorKind::Forbidden),
    );
    let r = orchestrator(&w).onboard_tenant(t, options()).await.unwrap();
    assert_eq!(r.outcome, TenantOutcome::Blocked);
    assert_eq!(r.stopped_at(), Some(OnboardStep::GrantAppRoles));
    let e = r.error().unwrap();
    assert_eq!(e.key, CatalogueKey::OnboardGrantFailed);
    assert_eq!(e.details.len(), 1, "{:?}", e.details);
    assert!(e.details[0].starts_with("Microsoft Graph: Mail.ReadWrite (403"));
    assert_eq!(
        e.admin_consent_url.as_deref(),
        Some(
            format!(
                "https://login.microsoftonline.com/{t}/adminconsent?client_id={}",
                app_id()
            )
            .as_str()
        )
    );
    // The others were granted; nothing reported as done that was not verified.
    assert_eq!(w.directories.app_role_grants(t).len(), 6);
    assert!(w.store.record(&t).is_none());
    insta::assert_json_snapshot!("onboard_app_role_failed", r, {
        ".steps[].error.adminConsentUrl" => "[url]",
    });
}

#[tokio::test(start_paused = true)]
async fn read_back_catches_a_grant_that_did_not_stick() {
    let w = world();
    let t = ready(&w, 1);
    w.directories.lose_app_role(t, "AuditLog.Read.All");
    let r = orchestrator(&w).onboard_tenant(t, options()).await.unwrap();
    assert_eq!(r.outcome, TenantOutcome::Blocked);
    assert_eq!(r.stopped_at(), Some(OnboardStep::Verify));
    assert_eq!(
        r.steps.last().unwrap().detail,
        "only 10 of 11 permissions verified"
    );
    let e = r.error().unwrap();
    assert!(
        e.details
            .iter()
            .any(|d| d.contains("AuditLog.Read.All (not found when read back)"))
    );
    assert!(w.store.record(&t).is_none());
}

#[tokio::test(start_paused = true)]
async fn missing_pra_blocks_in_preflight_naming_the_role() {
    let w = world();
    let t = tenant(&w, 1, &[APPLICATION_ADMINISTRATOR]);
    let r = orchestrator(&w).onboard_tenant(t, options()).await.unwrap();
    assert_eq!(r.outcome, TenantOutcome::Blocked);
    assert_eq!(r.stopped_at(), Some(OnboardStep::Preflight));
    let e = r.error().unwrap();
    assert_eq!(e.key, CatalogueKey::GdapPermissionsMissing);
    assert!(
        e.details
            .iter()
            .any(|d| d == "Missing: Privileged Role Administrator"),
        "{:?}",
        e.details
    );
    assert_eq!(w.gdap.assignment_writes(), 0);
    insta::assert_json_snapshot!("onboard_missing_pra", r);
}

#[tokio::test(start_paused = true)]
async fn global_admin_relationship_is_enough() {
    let w = world();
    let t = tenant(&w, 1, &[GLOBAL_ADMINISTRATOR, roles::USER_ADMINISTRATOR]);
    let r = orchestrator(&w).onboard_tenant(t, options()).await.unwrap();
    assert_eq!(r.outcome, TenantOutcome::Verified);
    let a = w.gdap.assignments(&rid(1));
    assert_eq!(a.len(), 1);
    assert_eq!(
        a[0].roles.iter().copied().collect::<Vec<_>>(),
        vec![GLOBAL_ADMINISTRATOR.id()]
    );
}

#[tokio::test(start_paused = true)]
async fn migrate_legacy_tenant_and_its_refusals() {
    let w = world();
    let legacy = ready(&w, 1);
    w.store.put(
        TenantRecord::onboarded(legacy, OnboardedVia::Individually).with_display_name("Old name"),
    );
    let fresh = ready(&w, 2);
    let managed = ready(&w, 3);
    w.store.put(TenantRecord::onboarded(
        managed,
        OnboardedVia::PartnerCenter,
    ));
    let o = orchestrator(&w);
    let report = o
        .migrate(vec![legacy, fresh, managed], options(), &RunControl::new())
        .await
        .unwrap();
    let r = report.tenant(&legacy).unwrap();
    assert_eq!(r.outcome, TenantOutcome::Verified, "{r:#?}");
    assert_eq!(r.steps.last().unwrap().step, OnboardStep::SwitchApp);
    assert_eq!(r.steps.last().unwrap().status, StepStatus::Changed);
    let rec = w.store.record(&legacy).unwrap();
    assert_eq!(rec.onboarded_via, Some(OnboardedVia::PartnerCenter));
    assert!(!rec.is_legacy());
    insta::assert_json_snapshot!("migrate_verified", r);

    let r = report.tenant(&fresh).unwrap();
    assert_eq!(r.error().unwrap().key, CatalogueKey::NoLegacyTenant);
    assert_eq!(
        r.error().unwrap().title,
        "No existing legacy tenant found to migrate"
    );
    let r = report.tenant(&managed).unwrap();
    assert_eq!(
        r.error().unwrap().key,
        CatalogueKey::AlreadyManagedByPartnerCenter
    );
    assert_eq!(report.counts.verified, 1);
    assert_eq!(report.counts.blocked, 2);
}

#[tokio::test(start_paused = true)]
async fn migrate_verification_names_x_of_y() {
    let w = world();
    let t = ready(&w, 1);
    w.store
        .put(TenantRecord::onboarded(t, OnboardedVia::Individually));
    w.directories.lose_app_role(t, "Exchange.ManageAsApp");
    let report = orchestrator(&w)
        .migrate(vec![t], options(), &RunControl::new())
        .await
        .unwrap();
    let r = &report.tenants[0];
    assert_eq!(r.stopped_at(), Some(OnboardStep::Verify));
    let e = r.error().unwrap();
    assert_eq!(e.key, CatalogueKey::MigrationVerificationFailed);
    assert_eq!(
        e.title,
        "Migration failed: only 10 of 11 permissions verified"
    );
    assert!(
        e.details
            .iter()
            .any(|d| d == "Missing: Office 365 Exchange Online: Exchange.ManageAsApp")
    );
    // Not switched: still legacy.
    assert!(w.store.record(&t).unwrap().is_legacy());
}

#[tokio::test(start_paused = true)]
async fn refresh_email_fixes_grants_and_refuses_legacy() {
    let w = world();
    let t = ready(&w, 1);
    let o = orchestrator(&w);
    assert_eq!(
        o.onboard_tenant(t, options()).await.unwrap().outcome,
        TenantOutcome::Verified
    );
    w.store.put(
        w.store
            .record(&t)
            .unwrap()
            .with_email_perms(EmailPerms::NeedsRefresh),
    );
    // Permissions revoked: the delegated grants and two application permissions.
    w.directories.revoke_delegated(t, app_id());
    let legacy = ready(&w, 2);
    w.store
        .put(TenantRecord::onboarded(legacy, OnboardedVia::Individually));
    let report = o
        .refresh_email(vec![t, legacy], options(), &RunControl::new())
        .await
        .unwrap();
    let r = report.tenant(&t).unwrap();
    assert_eq!(r.outcome, TenantOutcome::Verified, "{r:#?}");
    let by_step = |s| r.steps.iter().find(|x| x.step == s).unwrap().status;
    assert_eq!(by_step(OnboardStep::GrantDelegated), StepStatus::Changed);
    assert_eq!(by_step(OnboardStep::Verify), StepStatus::Passed);
    assert_eq!(w.store.record(&t).unwrap().email_perms, EmailPerms::Ok);
    insta::assert_json_snapshot!("refresh_verified", r);

    let r = report.tenant(&legacy).unwrap();
    let e = r.error().unwrap();
    assert_eq!(e.key, CatalogueKey::RefreshRequiresPartnerCenter);
    assert!(e.steps.iter().any(|s| s.contains("Single Tenant flow")));
}

#[tokio::test(start_paused = true)]
async fn batch_isolates_failures_bounds_concurrency_and_reports_progress() {
    let w = world();
    let mut tenants: Vec<TenantId> = (1..=12).map(|n| ready(&w, n)).collect();
    let bad = tenant(&w, 13, &[APPLICATION_ADMINISTRATOR]);
    tenants.insert(5, bad);
    w.directories.fail_app_role(
        tenants[2],
        "ActivityFeed.Read",
        PortError::http(403, Some("Authorization_RequestDenied"), "no")
            .with_kind(PortErrorKind::Forbidden),
    );
    // Each tenant waits for its assignment, so tenants overlap.
    w.gdap.set_assignment_propagation(Duration::from_secs(10));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let control = RunControl::new().with_progress(tx);
    let report = orchestrator(&w)
        .onboard(tenants.clone(), options().with_concurrency(3), &control)
        .await
        .unwrap();
    assert_eq!(report.counts.verified, 11);
    assert_eq!(report.counts.blocked, 2);
    let order: Vec<TenantId> = report.tenants.iter().map(|t| t.tenant_id).collect();
    assert_eq!(order, tenants);
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    assert!(matches!(
        events.first(),
        Some(ProgressEvent::RunStarted { total: 13, .. })
    ));
    assert!(matches!(
        events.last(),
        Some(ProgressEvent::RunFinished { .. })
    ));
    let finished = events
        .iter()
        .filter(|e| matches!(e, ProgressEvent::TenantFinished { .. }))
        .count();
    assert_eq!(finished, 13);
    // Concurrency: never more than 3 tenants between their first step and their end.
    let mut live = std::collections::BTreeSet::new();
    let mut max = 0;
    for e in &events {
        match e {
            ProgressEvent::StepStarted {
                tenant_id,
                step: OnboardStep::Preflight,
                ..
            } => {
                live.insert(*tenant_id);
                max = max.max(live.len());
            }
            ProgressEvent::TenantFinished { tenant_id, .. } => {
                live.remove(tenant_id);
            }
            _ => {}
        }
    }
    assert_eq!(max, 3, "max in flight");
}

#[tokio::test(start_paused = true)]
async fn cancel_leaves_every_tenant_known_and_resume_finishes_without_duplicates() {
    let w = world();
    let tenants: Vec<TenantId> = (1..=8).map(|n| ready(&w, n)).collect();
    w.gdap.set_assignment_propagation(Duration::from_secs(20));
    let o = orchestrator(&w);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let control = RunControl::new().with_progress(tx);
    let cancel = control.cancel.clone();
    let run = {
        let o = o.clone();
        let tenants = tenants.clone();
        let control = control.clone();
        tokio::spawn(async move {
            o.onboard(tenants, options().with_concurrency(2), &control)
                .await
        })
    };
    // Cancel once the first tenant finished.
    while let Some(e) = rx.recv().await {
        if matches!(e, ProgressEvent::TenantFinished { .. }) {
            cancel.cancel();
            break;
        }
    }
    let report = run.await.unwrap().unwrap();
    assert_eq!(report.tenants.len(), 8);
    assert!(report.counts.verified >= 1);
    assert!(report.counts.cancelled >= 5, "{:?}", report.counts);
    for t in &report.tenants {
        assert!(matches!(
            t.outcome,
            TenantOutcome::Verified | TenantOutcome::Cancelled
        ));
        if t.outcome == TenantOutcome::Cancelled {
            assert_eq!(t.steps.last().unwrap().status, StepStatus::Cancelled);
        }
    }
    let resumed = o.resume(&report.run_id, &RunControl::new()).await.unwrap();
    assert_eq!(resumed.counts.verified, 8, "{:?}", resumed.counts);
    assert_eq!(resumed.run_id, report.run_id);
    assert_eq!(w.gdap.assignment_writes(), 8);
    for t in &tenants {
        assert_eq!(w.directories.app_role_grants(*t).len(), 7);
    }
    // Each grant was written exactly once.
    let grants = w
        .directories
        .writes()
        .iter()
        .filter(|x| x.starts_with("grant_app_role"))
        .count();
    assert_eq!(grants, 8 * 7);
}

#[tokio::test(start_paused = true)]
async fn killed_run_resumes_from_the_journal() {
    let w = world();
    let tenants: Vec<TenantId> = (1..=6).map(|n| ready(&w, n)).collect();
    w.gdap.set_assignment_propagation(Duration::from_secs(5));
    let o = orchestrator(&w);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let control = RunControl::new().with_progress(tx);
    let handle = {
        let o = o.clone();
        let tenants = tenants.clone();
        tokio::spawn(async move {
            o.onboard(tenants, options().with_concurrency(3), &control)
                .await
        })
    };
    let mut run_id = None;
    let mut seen = 0;
    while let Some(e) = rx.recv().await {
        if let ProgressEvent::RunStarted { run_id: id, .. } = &e {
            run_id = Some(id.clone());
        }
        seen += 1;
        if seen == 25 {
            handle.abort();
            break;
        }
    }
    assert!(handle.await.unwrap_err().is_cancelled());
    let latest = o.resume_latest(&RunControl::new()).await.unwrap().unwrap();
    assert_eq!(Some(latest.run_id.clone()), run_id);
    assert_eq!(latest.counts.verified, 6, "{:?}", latest.counts);
    assert_eq!(w.gdap.assignment_writes(), 6);
    let grants = w
        .directories
        .writes()
        .iter()
        .filter(|x| x.starts_with("grant_app_role"))
        .count();
    assert_eq!(grants, 6 * 7);
    let consents = w
        .partner_center
        .calls()
        .iter()
        .filter(|c| c.starts_with("create_consent"))
        .count();
    assert_eq!(consents, 6);
}

#[tokio::test(start_paused = true)]
async fn dry_run_plans_and_writes_nothing() {
    let w = world();
    let fresh = ready(&w, 1);
    let done = ready(&w, 2);
    let blocked = tenant(&w, 3, &[APPLICATION_ADMINISTRATOR]);
    let o = orchestrator(&w);
    o.onboard_tenant(done, options()).await.unwrap();
    let writes = w.directories.writes().len();
    let pc = w.partner_center.calls().len();
    let assigned = w.gdap.assignment_writes();
    let runs = w.journal.list_runs().await.unwrap().len();

    let plans = o
        .plan_onboard(&[fresh, done, blocked], &options())
        .await
        .unwrap();
    assert_eq!(w.directories.writes().len(), writes);
    assert_eq!(w.partner_center.calls().len(), pc);
    assert_eq!(w.gdap.assignment_writes(), assigned);
    assert_eq!(w.journal.list_runs().await.unwrap().len(), runs);
    assert!(w.store.record(&fresh).is_none());

    let fresh_plan = &plans[0];
    assert!(matches!(
        fresh_plan.writes[0],
        PlannedWrite::CreateAccessAssignment { .. }
    ));
    assert!(matches!(
        fresh_plan.writes[1],
        PlannedWrite::CreateConsent { .. }
    ));
    let grants = fresh_plan
        .writes
        .iter()
        .filter(|w| matches!(w, PlannedWrite::GrantAppRole { .. }))
        .count();
    assert_eq!(grants, 7);
    assert!(plans[1].writes.is_empty(), "{:?}", plans[1].writes);
    assert!(plans[2].writes.is_empty());
    assert_eq!(
        plans[2].blocked.as_ref().unwrap().key,
        CatalogueKey::GdapPermissionsMissing
    );
    insta::assert_json_snapshot!("plan_fresh_tenant", fresh_plan);
}

#[tokio::test(start_paused = true)]
async fn own_partner_tenant_is_skipped() {
    let w = world();
    let t = ready(&w, 1);
    w.store.put(
        TenantRecord::onboarded(t, OnboardedVia::OwnTenantConsent).with_own_partner_tenant(true),
    );
    let report = orchestrator(&w)
        .onboard(vec![t], options(), &RunControl::new())
        .await
        .unwrap();
    assert_eq!(report.counts.skipped, 1);
    assert_eq!(w.gdap.assignment_writes(), 0);
}

fn relationship_listings(w: &FakeWorld) -> Vec<String> {
    w.gdap
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("list_relationships"))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn batch_lists_the_partners_relationships_once_for_all_its_tenants() {
    let w = world();
    let tenants: Vec<TenantId> = (1..=5).map(|n| ready(&w, n)).collect();
    // Tenants overlap (propagation waits), so several preflights may need the index at once.
    w.gdap.set_assignment_propagation(Duration::from_secs(10));
    let report = orchestrator(&w)
        .onboard(
            tenants.clone(),
            options().with_concurrency(3),
            &RunControl::new(),
        )
        .await
        .unwrap();
    assert_eq!(report.counts.verified, 5);
    // Each tenant found its own relationship in the shared listing.
    let names: Vec<Option<String>> = report
        .tenants
        .iter()
        .map(|t| t.display_name.clone())
        .collect();
    let expected: Vec<Option<String>> = (1..=5).map(|n| Some(format!("Contoso {n:03}"))).collect();
    assert_eq!(names, expected);
    assert_eq!(relationship_listings(&w), vec!["list_relationships active"]);
    // A dry run over the batch shares one listing too.
    let plans = orchestrator(&w)
        .plan_onboard(&tenants, &options())
        .await
        .unwrap();
    assert_eq!(plans.len(), 5);
    assert_eq!(relationship_listings(&w).len(), 2);
}

#[tokio::test(start_paused = true)]
async fn failed_shared_listing_blocks_only_that_tenant_and_the_next_one_lists_again() {
    let w = world();
    let tenants: Vec<TenantId> = (1..=5).map(|n| ready(&w, n)).collect();
    w.gdap.fail_next(
        "list_relationships",
        PortError::http(403, Some("Authorization_RequestDenied"), "no")
            .with_kind(PortErrorKind::Forbidden),
    );
    let report = orchestrator(&w)
        .onboard(
            tenants.clone(),
            options().with_concurrency(1),
            &RunControl::new(),
        )
        .await
        .unwrap();
    assert_eq!(report.counts.blocked, 1);
    assert_eq!(report.counts.verified, 4);
    let first = &report.tenants[0];
    assert_eq!(first.tenant_id, tenants[0]);
    assert_eq!(first.outcome, TenantOutcome::Blocked);
    assert_eq!(
        statuses(first),
        vec![(OnboardStep::Preflight, StepStatus::Failed)]
    );
    // The failure was not kept: tenant 2 listed again, and tenants 3-5 reused that listing.
    assert_eq!(relationship_listings(&w).len(), 2);
}

#[tokio::test(start_paused = true)]
async fn retryable_failure_of_the_shared_listing_is_retried_by_the_step() {
    let w = world();
    let tenants: Vec<TenantId> = (1..=5).map(|n| ready(&w, n)).collect();
    w.gdap
        .fail_next("list_relationships", PortError::http(503, None, "busy"));
    let report = orchestrator(&w)
        .onboard(tenants, options().with_concurrency(3), &RunControl::new())
        .await
        .unwrap();
    assert_eq!(report.counts.verified, 5);
    assert_eq!(relationship_listings(&w).len(), 2);
}
