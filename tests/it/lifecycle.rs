//! Relationship lifecycle end to end: GDAP groups, approval polling, bulk auto-extend, Global
//! Administrator removal through the 202 operation, drift repair, the access trace and the
//! webhook registration — through the real clients and adapters against the sandbox.
//!
//! Like the other end-to-end tests these run on real time with the sandbox's delays shortened
//! to a few hundred milliseconds (the sandbox lives in the test's runtime; paused time would
//! also fire the clients' request timeouts while loopback I/O is in flight).

use std::sync::Arc;
use std::time::Duration;

use gdap_core::roles::{self, RoleTemplate};
use gdap_core::{RelationshipId, TenantId};
use gdap_onboard::catalogue::CatalogueKey;
use gdap_onboard::fakes::{MemoryJournal, MemoryTenantStore};
use gdap_onboard::workflows::RequestOutcome;
use gdap_onboard::workflows::lifecycle::{
    AdminAgentsCheck, ApprovalWait, BulkOptions, ChangeStatus, DriftKind, GroupTemplate, MfaCheck,
    WebhookAction,
};
use gdap_onboard::{OnboardError, Orchestrator, OrchestratorConfig, RelationshipTemplate};
use gdap_sandbox::{Sandbox, SandboxBuilder, SandboxHandle, World, WorldInfo};

const SEED: u64 = 20_261_201;

struct Env {
    handle: SandboxHandle,
    info: WorldInfo,
    orchestrator: Orchestrator,
}

async fn env_with(world: World, configure: impl FnOnce(SandboxBuilder) -> SandboxBuilder) -> Env {
    let handle = configure(Sandbox::builder().world(world))
        .start()
        .await
        .expect("sandbox starts");
    let info = handle.world_info();
    let (ports, _) = crate::support::sandbox_ports(
        &handle,
        Arc::new(MemoryTenantStore::new()),
        Arc::new(MemoryJournal::new()),
    );
    Env {
        handle,
        info,
        orchestrator: Orchestrator::new(ports, OrchestratorConfig::default()),
    }
}

fn ids(rs: &[RoleTemplate]) -> Vec<&'static str> {
    rs.iter().map(RoleTemplate::id_str).collect()
}

fn rel_id(s: &str) -> RelationshipId {
    RelationshipId::try_from(s).unwrap()
}

/// Fast polls for the sandbox's sub-second delays.
fn fast(options: BulkOptions) -> BulkOptions {
    options
        .with_poll(Duration::from_millis(25), Duration::from_millis(100))
        .with_operation_deadline(Duration::from_secs(30))
}

const APP_INSTALL: &[RoleTemplate] = &[
    roles::APPLICATION_ADMINISTRATOR,
    roles::PRIVILEGED_ROLE_ADMINISTRATOR,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_created_once_assigned_and_traced() {
    let mut world = World::seeded(SEED, 3);
    let (customer, rel) =
        world.add_customer_with_relationship("Lifecycle Dental", &ids(APP_INSTALL), "PT0S");
    let env = env_with(world, |b| b.propagation_delay(Duration::ZERO)).await;
    let o = &env.orchestrator;
    let admin = env.info.admin_upn.clone();
    let template = GroupTemplate::app_install();

    let first = o
        .ensure_gdap_groups(&template, &admin, false)
        .await
        .unwrap();
    assert!(
        first
            .groups
            .iter()
            .all(|g| g.group == ChangeStatus::Changed && g.membership == ChangeStatus::Changed),
        "{first:#?}"
    );
    assert_eq!(first.admin_agents, AdminAgentsCheck::Member);
    assert!(
        matches!(first.mfa, MfaCheck::Enforced { .. }),
        "{:?}",
        first.mfa
    );
    let second = o
        .ensure_gdap_groups(&template, &admin, false)
        .await
        .unwrap();
    assert!(
        second
            .groups
            .iter()
            .all(|g| g.group == ChangeStatus::Unchanged && g.membership == ChangeStatus::Unchanged)
    );
    for spec in &template.groups {
        let found = env
            .handle
            .with_world(|w| w.find_partner_groups(&spec.display_name));
        assert_eq!(found.len(), 1, "{} created once", spec.display_name);
        let members = env
            .handle
            .with_world(|w| w.partner_group_members(&found[0]));
        assert_eq!(members, vec![env.info.admin_user_id.clone()]);
    }

    let rel = rel_id(&rel);
    let assigned = o.assign_groups(&rel, &template, false).await.unwrap();
    let by_name = |n: &str| {
        assigned
            .groups
            .iter()
            .find(|g| g.display_name == n)
            .unwrap()
    };
    assert_eq!(by_name("GDAP - App Install").status, ChangeStatus::Changed);
    assert_eq!(
        by_name("GDAP - Global Reader").status,
        ChangeStatus::Skipped
    );
    let again = o.assign_groups(&rel, &template, false).await.unwrap();
    assert_eq!(again.counts.changed, 0);
    assert_eq!(again.counts.unchanged, 1);
    assert_eq!(env.handle.stats().duplicate_writes, 0);

    let customer: TenantId = customer.parse().unwrap();
    assert!(
        env.handle
            .with_world(|w| w.admin_has_gdap_access(&customer.to_string()))
    );
    let trace = o.trace_access(&admin, customer).await.unwrap();
    assert!(trace.has_access, "{trace:#?}");
    assert!(trace.missing_for_app_install.is_empty(), "{trace:#?}");
    assert!(
        trace
            .paths
            .iter()
            .any(|p| p.effective && p.group_name.as_deref() == Some("GDAP - App Install"))
    );
    // The helpdesk user is in none of the assigned groups: the trace says so and names them.
    let helpdesk = o
        .trace_access(&env.info.helpdesk_upn, customer)
        .await
        .unwrap();
    assert!(!helpdesk.has_access);
    assert!(
        helpdesk
            .reasons
            .iter()
            .any(|r| r.contains("none of the groups") && r.contains("GDAP - App Install")),
        "{:?}",
        helpdesk.reasons
    );
    let unknown = o.trace_access("nobody@msp.example", customer).await;
    assert!(matches!(unknown, Err(OnboardError::UserNotFound { .. })));
    env.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_is_detected_by_polling_and_the_groups_follow() {
    let world = World::seeded(SEED, 40);
    let target: TenantId = world
        .snapshot()
        .tenants
        .iter()
        .find(|t| t.profile == "no_relationship")
        .expect("a tenant without a relationship")
        .id
        .parse()
        .unwrap();
    let env = env_with(world, |b| {
        b.auto_approve_after(Duration::from_millis(400))
            .propagation_delay(Duration::ZERO)
    })
    .await;
    let o = &env.orchestrator;
    let template = GroupTemplate::app_install();
    o.ensure_gdap_groups(&template, &env.info.admin_upn, false)
        .await
        .unwrap();
    let requested = match o
        .request_permissions(target, &RelationshipTemplate::app_install(), None)
        .await
        .unwrap()
    {
        RequestOutcome::Requested(r) => r,
        other => panic!("not requested: {other:?}"),
    };
    // Too short a deadline: the catalogue's "not approved yet" with the approval link.
    let early = o
        .wait_for_approval(
            &requested.relationship_id,
            &ApprovalWait::default()
                .with_deadline(Duration::from_millis(50))
                .with_backoff(Duration::from_millis(20), Duration::from_millis(20)),
        )
        .await
        .unwrap_err();
    assert_eq!(early.catalogue_key(), CatalogueKey::ApprovalTimedOut);
    assert!(
        early
            .explain(&Default::default())
            .details
            .iter()
            .any(|d| d.contains(requested.relationship_id.as_str()))
    );

    let report = o
        .wait_for_approval_and_assign(
            &requested.relationship_id,
            &ApprovalWait::default()
                .with_deadline(Duration::from_secs(30))
                .with_backoff(Duration::from_millis(25), Duration::from_millis(100)),
            Some(&template),
        )
        .await
        .unwrap();
    assert!(report.status.is_active());
    assert!(report.polls > 1, "approval took several polls: {report:?}");
    let assignments = report.assignments.unwrap();
    assert_eq!(assignments.counts.changed, 1, "{assignments:#?}");
    let live = env
        .handle
        .with_world(|w| w.access_assignments_of(requested.relationship_id.as_str()));
    assert_eq!(live.len(), 1);
    assert!(
        env.handle
            .with_world(|w| w.admin_has_gdap_access(&target.to_string()))
    );
    env.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_extend_on_100_relationships_skips_the_5_with_global_admin() {
    let mut world = World::seeded(SEED, 0);
    let mut ga = Vec::new();
    let mut others = Vec::new();
    for n in 0..100 {
        let name = format!("Auto Extend {n:03}");
        if n % 20 == 7 {
            let roles = ids(&[roles::GLOBAL_ADMINISTRATOR, roles::GLOBAL_READER]);
            ga.push(
                world
                    .add_customer_with_relationship(&name, &roles, "PT0S")
                    .1,
            );
        } else {
            let ae = if n % 10 == 3 { "P180D" } else { "PT0S" };
            others.push(
                world
                    .add_customer_with_relationship(&name, &ids(APP_INSTALL), ae)
                    .1,
            );
        }
    }
    assert_eq!(ga.len(), 5);
    let env = env_with(world, |b| b).await;
    let o = &env.orchestrator;

    let plan = o
        .auto_extend_relationships(&fast(BulkOptions::default().dry_run(true)))
        .await
        .unwrap();
    assert_eq!(plan.relationships.len(), 100);
    assert_eq!(
        (
            plan.counts.planned,
            plan.counts.unchanged,
            plan.counts.skipped
        ),
        (85, 10, 5)
    );
    let patch = "PATCH /graph/v1.0/tenantRelationships/delegatedAdminRelationships/{id}";
    assert_eq!(
        env.handle.stats().route(patch),
        0,
        "a dry run sends no PATCH"
    );

    let run = o
        .auto_extend_relationships(&fast(BulkOptions::default()))
        .await
        .unwrap();
    assert_eq!(
        (
            run.counts.changed,
            run.counts.unchanged,
            run.counts.skipped,
            run.counts.failed
        ),
        (85, 10, 5, 0),
        "{:#?}",
        run.relationships
            .iter()
            .filter(|r| r.status == ChangeStatus::Failed)
            .collect::<Vec<_>>()
    );
    for r in run
        .relationships
        .iter()
        .filter(|r| r.status == ChangeStatus::Skipped)
    {
        assert!(ga.contains(&r.relationship_id.to_string()));
        assert!(r.detail.contains("Global Administrator"), "{}", r.detail);
    }
    env.handle.with_world(|w| {
        for id in &others {
            assert_eq!(w.relationship_auto_extend(id).as_deref(), Some("P180D"));
        }
        for id in &ga {
            assert_eq!(w.relationship_auto_extend(id).as_deref(), Some("PT0S"));
        }
    });
    assert_eq!(env.handle.stats().route(patch), 85);
    let again = o
        .auto_extend_relationships(&fast(BulkOptions::default()))
        .await
        .unwrap();
    assert_eq!((again.counts.changed, again.counts.unchanged), (0, 95));
    assert_eq!(
        env.handle.stats().route(patch),
        85,
        "a second run writes nothing"
    );
    env.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_admin_is_removed_through_the_202_operation() {
    let mut world = World::seeded(SEED, 0);
    let with_ga = ids(&[
        roles::GLOBAL_ADMINISTRATOR,
        roles::APPLICATION_ADMINISTRATOR,
        roles::PRIVILEGED_ROLE_ADMINISTRATOR,
    ]);
    let a = world
        .add_customer_with_relationship("GA One", &with_ga, "PT0S")
        .1;
    let b = world
        .add_customer_with_relationship("GA Two", &with_ga, "PT0S")
        .1;
    let only = world
        .add_customer_with_relationship("GA Only", &ids(&[roles::GLOBAL_ADMINISTRATOR]), "PT0S")
        .1;
    let lean = world
        .add_customer_with_relationship("Lean", &ids(APP_INSTALL), "PT0S")
        .1;
    let env = env_with(world, |b| b.propagation_delay(Duration::from_millis(300))).await;
    let o = &env.orchestrator;

    let plan = o
        .remove_global_admin(&fast(BulkOptions::default().dry_run(true)))
        .await
        .unwrap();
    assert_eq!(
        plan.relationships.len(),
        3,
        "only relationships with GA are listed"
    );
    assert_eq!((plan.counts.planned, plan.counts.skipped), (2, 1));
    assert!(
        plan.relationships
            .iter()
            .any(|r| r.relationship_id.as_str() == only && r.detail.contains("only role"))
    );
    let ga = roles::GLOBAL_ADMINISTRATOR.id_str();
    env.handle.with_world(|w| {
        assert!(w.relationship_roles(&a).unwrap().iter().any(|r| r == ga));
    });

    let run = o
        .remove_global_admin(&fast(BulkOptions::default()))
        .await
        .unwrap();
    assert_eq!(
        (run.counts.changed, run.counts.skipped, run.counts.failed),
        (2, 1, 0),
        "{run:#?}"
    );
    env.handle.with_world(|w| {
        for id in [&a, &b] {
            let roles = w.relationship_roles(id).unwrap();
            assert!(!roles.iter().any(|r| r == ga), "{roles:?}");
            assert_eq!(roles.len(), 2);
        }
        assert!(w.relationship_roles(&only).unwrap().iter().any(|r| r == ga));
        assert!(!w.relationship_roles(&lean).unwrap().iter().any(|r| r == ga));
    });
    let operations =
        "GET /graph/v1.0/tenantRelationships/delegatedAdminRelationships/{id}/operations/{oid}";
    assert!(
        env.handle.stats().route(operations) >= 2,
        "the operations were followed"
    );
    // Without Global Administrator they can now auto-extend.
    let extend = o
        .auto_extend_relationships(&fast(BulkOptions::default().only(vec![rel_id(&a)])))
        .await
        .unwrap();
    assert_eq!(extend.counts.changed, 1, "{extend:#?}");
    env.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_planned_then_repaired() {
    let mut world = World::seeded(SEED, 0);
    let missing = world
        .add_customer_with_relationship("Drift Missing", &ids(APP_INSTALL), "PT0S")
        .1;
    let stale = world
        .add_customer_with_relationship("Drift Stale", &ids(APP_INSTALL), "PT0S")
        .1;
    let extra_roles = ids(&[
        roles::APPLICATION_ADMINISTRATOR,
        roles::PRIVILEGED_ROLE_ADMINISTRATOR,
        roles::EXCHANGE_ADMINISTRATOR,
    ]);
    let extra = world
        .add_customer_with_relationship("Drift Extra", &extra_roles, "PT0S")
        .1;
    let in_line = world
        .add_customer_with_relationship("Drift In Line", &ids(APP_INSTALL), "PT0S")
        .1;
    let env = env_with(world, |b| b.propagation_delay(Duration::from_millis(200))).await;
    let o = &env.orchestrator;
    let template = GroupTemplate::app_install();
    o.ensure_gdap_groups(&template, &env.info.admin_upn, false)
        .await
        .unwrap();
    let app_group = env
        .handle
        .with_world(|w| w.find_partner_groups("GDAP - App Install"))
        .remove(0);
    env.handle.with_world_mut(|w| {
        // A group that was deleted after it was assigned: the assignment is stale.
        let old = w.add_partner_group("GDAP - Old Tier 2");
        w.insert_access_assignment(&stale, &old, &ids(APP_INSTALL), true)
            .unwrap();
        w.delete_partner_group(&old).unwrap();
        w.insert_access_assignment(&stale, &app_group, &ids(APP_INSTALL), true)
            .unwrap();
        // The template group holds Exchange Administrator too.
        w.insert_access_assignment(&extra, &app_group, &extra_roles, true)
            .unwrap();
        w.insert_access_assignment(&in_line, &app_group, &ids(APP_INSTALL), true)
            .unwrap();
    });

    let writes_before = env.handle.stats().writes.len();
    let plan = o
        .repair_drift(&template, &fast(BulkOptions::default().dry_run(true)))
        .await
        .unwrap();
    assert_eq!(plan.checked, 4);
    assert_eq!(plan.in_line, 1, "{plan:#?}");
    let kinds = |id: &str| -> Vec<DriftKind> {
        plan.relationships
            .iter()
            .find(|d| d.relationship_id.as_str() == id)
            .map(|d| d.findings.iter().map(|f| f.kind).collect())
            .unwrap_or_default()
    };
    assert_eq!(kinds(&missing), vec![DriftKind::MissingGroup]);
    assert_eq!(kinds(&stale), vec![DriftKind::StaleGroup]);
    assert_eq!(kinds(&extra), vec![DriftKind::ExtraRoles]);
    assert_eq!(plan.counts.planned, 3);
    assert_eq!(
        env.handle.stats().writes.len(),
        writes_before,
        "a plan writes nothing"
    );

    let run = o
        .repair_drift(&template, &fast(BulkOptions::default()))
        .await
        .unwrap();
    assert_eq!((run.counts.changed, run.counts.failed), (3, 0), "{run:#?}");
    let after = o
        .repair_drift(&template, &fast(BulkOptions::default().dry_run(true)))
        .await
        .unwrap();
    assert_eq!(after.in_line, after.checked, "{after:#?}");
    env.handle.with_world(|w| {
        let extra_now = w.access_assignments_of(&extra);
        let live: Vec<_> = extra_now.iter().filter(|a| a.status == "active").collect();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].roles.len(), 2, "Exchange Administrator removed");
        let stale_now = w.access_assignments_of(&stale);
        assert!(
            stale_now
                .iter()
                .filter(|a| a.status == "active" || a.status == "pending")
                .all(|a| a.group_id == app_group)
        );
        assert_eq!(w.access_assignments_of(&missing).len(), 1);
    });
    assert_eq!(env.handle.stats().duplicate_writes, 0);
    env.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tools_webhook_registration_is_kept_unless_forced() {
    let mut world = World::seeded(SEED, 2);
    world.set_webhook_registration(
        "https://other-tool.example/hooks/pc",
        &["test-created", "subscription-updated"],
    );
    let env = env_with(world, |b| b).await;
    let o = &env.orchestrator;
    let ours = "https://msp.example/gdap/webhook";

    let refused = o
        .register_approval_webhook(ours, false, false)
        .await
        .unwrap_err();
    assert_eq!(
        refused.catalogue_key(),
        CatalogueKey::WebhookRegisteredElsewhere
    );
    let plan = o.register_approval_webhook(ours, true, true).await.unwrap();
    assert_eq!(plan.action, WebhookAction::Planned);
    let kept = env.handle.with_world(|w| w.webhook_registration()).unwrap();
    assert_eq!(
        kept.0, "https://other-tool.example/hooks/pc",
        "not overwritten"
    );

    let replaced = o
        .register_approval_webhook(ours, true, false)
        .await
        .unwrap();
    assert_eq!(replaced.action, WebhookAction::Replaced);
    let now = env.handle.with_world(|w| w.webhook_registration()).unwrap();
    assert_eq!(now.0, ours);
    assert!(
        now.1
            .iter()
            .any(|e| e == "granular-admin-relationship-approved")
    );
    let again = o
        .register_approval_webhook(ours, false, false)
        .await
        .unwrap();
    assert_eq!(again.action, WebhookAction::Unchanged);

    env.handle.with_world_mut(|w| {
        w.clear_webhook_registration();
    });
    let created = o
        .register_approval_webhook(ours, false, false)
        .await
        .unwrap();
    assert_eq!(created.action, WebhookAction::Created);
    env.handle.shutdown().await;
}
