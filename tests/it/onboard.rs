//! Onboarding through the real clients against the sandbox: a batch of 50 with injected
//! 429/503 and one tenant without Privileged Role Administrator, zero duplicate writes, and a
//! dry run that writes nothing. Also the shared set-up of the write workflows' e2e tests.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use gdap_core::{SecurityGroupId, TenantId};
use gdap_onboard::manifest::{microsoft_graph, resources};
use gdap_onboard::ports::{Journal, TenantStore};
use gdap_onboard::tenant::{OnboardedVia, Protection};
use gdap_onboard::{
    AppManifest, CatalogueKey, Links, OnboardOptions, OnboardStep, Orchestrator,
    OrchestratorConfig, ResourceAccess, RunControl, TenantOutcome, TenantRecord,
};
use gdap_sandbox::world::TenantSnapshot;
use gdap_sandbox::{FaultKind, FaultRule, Faults, Sandbox, SandboxHandle, World, WorldSnapshot};

pub(crate) const SEED: u64 = 20_261_124;
pub(crate) const TENANTS: usize = 160;

/// The graph application permissions the e2e manifest asks for.
pub(crate) const GRAPH_APP_ROLES: &[&str] = &[
    "User.Read.All",
    "Directory.Read.All",
    "AuditLog.Read.All",
    "Mail.ReadWrite",
    "MailboxSettings.ReadWrite",
];

/// 429s and 503s (with `Retry-After: 0`, so the clients retry writes too) on Graph directory
/// writes and reads and on Partner Center consents.
pub(crate) fn faults() -> Faults {
    Faults::new()
        .seed(11)
        .rule(
            FaultRule::on(
                "POST",
                "/graph/v1.0/servicePrincipals/**",
                FaultKind::Status429 {
                    retry_after_secs: 0,
                },
            )
            .every_nth(30),
        )
        .rule(
            FaultRule::on(
                "GET",
                "/graph/v1.0/servicePrincipals/**",
                FaultKind::Status503 {
                    retry_after_secs: Some(0),
                },
            )
            .every_nth(45),
        )
        .rule(
            FaultRule::on(
                "POST",
                "/partnercenter/v1/customers/*/applicationconsents",
                FaultKind::Status429 {
                    retry_after_secs: 0,
                },
            )
            .every_nth(12),
        )
        .rule(
            FaultRule::on(
                "GET",
                "/graph/v1.0/tenantRelationships/**",
                FaultKind::Status503 {
                    retry_after_secs: Some(0),
                },
            )
            .every_nth(40),
        )
}

pub(crate) async fn sandbox(faults: Faults) -> SandboxHandle {
    Sandbox::builder()
        .world(World::seeded(SEED, TENANTS))
        .faults(faults)
        .propagation_delay(Duration::from_millis(200))
        .start()
        .await
        .expect("sandbox starts")
}

/// The app the e2e tests install: the product app of the sandbox, with CIPP's three Graph
/// delegated scopes and application permissions on Graph, Exchange Online and the Office 365
/// Management APIs.
pub(crate) fn manifest(handle: &SandboxHandle) -> AppManifest {
    let info = handle.world_info();
    AppManifest::builder(info.client_id.parse().unwrap(), info.app_display_name)
        .resource(
            ResourceAccess::new(microsoft_graph(), "Microsoft Graph")
                .with_delegated_scopes([
                    "Directory.ReadWrite.All",
                    "AppRoleAssignment.ReadWrite.All",
                    "DelegatedPermissionGrant.ReadWrite.All",
                ])
                .with_app_roles(GRAPH_APP_ROLES.iter().copied()),
        )
        .resource(
            ResourceAccess::new(
                resources::EXCHANGE_ONLINE.parse().unwrap(),
                "Office 365 Exchange Online",
            )
            .with_app_roles(["Exchange.ManageAsApp"]),
        )
        .resource(
            ResourceAccess::new(
                resources::OFFICE_365_MANAGEMENT.parse().unwrap(),
                "Office 365 Management APIs",
            )
            .with_app_roles(["ActivityFeed.Read"]),
        )
        .build()
}

/// Options: the admin's onboarding group, fast polling (the sandbox propagates in 200 ms).
pub(crate) fn options(handle: &SandboxHandle) -> OnboardOptions {
    let group: SecurityGroupId = handle.world_info().admin_group_ids[0].parse().unwrap();
    OnboardOptions::new(group)
        .with_concurrency(12)
        .with_poll(Duration::from_millis(100), Duration::from_millis(400))
        .with_assignment_deadline(Duration::from_secs(20))
        .with_consent_deadline(Duration::from_secs(20))
}

/// The product's records as the world implies them (legacy tenants onboarded individually,
/// previously deleted ones deleted, the partner tenant is the own tenant).
pub(crate) async fn seed_store(store: &dyn TenantStore, snap: &WorldSnapshot) {
    for t in &snap.tenants {
        let id: TenantId = t.id.parse().unwrap();
        let rec = if t.is_own {
            TenantRecord::onboarded(id, OnboardedVia::OwnTenantConsent)
                .with_own_partner_tenant(true)
        } else if t.legacy {
            TenantRecord::onboarded(id, OnboardedVia::Individually)
        } else if t.previously_deleted {
            TenantRecord::onboarded(id, OnboardedVia::PartnerCenter)
                .with_protection(Protection::Deleted)
        } else {
            continue;
        };
        store
            .upsert_record(&rec.with_display_name(t.display_name.clone()))
            .await
            .unwrap();
    }
}

/// An orchestrator over the real clients against `handle`, with `store` and `journal`.
pub(crate) fn orchestrator(
    handle: &SandboxHandle,
    manifest: AppManifest,
    store: Arc<dyn TenantStore>,
    journal: Arc<dyn Journal>,
) -> Orchestrator {
    let (ports, _) = crate::support::sandbox_ports(handle, store, journal);
    let links = Links::new(handle.base_url(), handle.authority_url());
    Orchestrator::new(
        ports,
        OrchestratorConfig::default()
            .with_manifest(manifest)
            .with_links(links),
    )
}

/// Whether the tenant's usable active relationships carry the roles the app needs (read from
/// the world, independently of the library's readiness code path).
pub(crate) fn is_ready(t: &TenantSnapshot) -> bool {
    let held: BTreeSet<gdap_core::RoleTemplateId> = t
        .relationships
        .iter()
        .filter(|r| r.status == "active" && !r.is_reseller && !r.is_mlt)
        .flat_map(|r| r.roles.iter().map(|x| x.parse().unwrap()))
        .collect();
    gdap_onboard::RoleRequirement::default_for_app_install().is_satisfied_by(&held)
}

/// Ready tenants (not legacy, not the own tenant), in world order.
pub(crate) fn ready_tenants(snap: &WorldSnapshot) -> Vec<&TenantSnapshot> {
    snap.tenants
        .iter()
        .filter(|t| !t.is_own && !t.legacy && is_ready(t))
        .collect()
}

pub(crate) fn tid(t: &TenantSnapshot) -> TenantId {
    t.id.parse().unwrap()
}

/// Every permission of `manifest` is granted to the product app in `tenant` (read from the
/// sandbox's own state, not through the library).
pub(crate) fn fully_granted(handle: &SandboxHandle, tenant: &str, app_roles: usize) -> bool {
    let snap = handle.snapshot();
    let t = snap.tenants.iter().find(|t| t.id == tenant).unwrap();
    let client_id = handle.world_info().client_id;
    let Some(sp) = t.service_principals.iter().find(|s| s.app_id == client_id) else {
        return false;
    };
    let roles: BTreeSet<&str> = t
        .app_role_assignments
        .iter()
        .filter(|a| a.principal_id == sp.id)
        .map(|a| a.app_role_id.as_str())
        .collect();
    let grant = t
        .oauth2_grants
        .iter()
        .any(|g| g.client_id == sp.id && g.consent_type == "AllPrincipals");
    roles.len() == app_roles && grant
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_onboard_50_with_faults_and_one_without_pra() {
    let handle = sandbox(faults()).await;
    let snap = handle.snapshot();
    let store = Arc::new(gdap_onboard::fakes::MemoryTenantStore::new());
    seed_store(store.as_ref(), &snap).await;
    let journal = Arc::new(gdap_onboard::fakes::MemoryJournal::new());
    let o = orchestrator(&handle, manifest(&handle), store.clone(), journal);
    let mut tenants: Vec<TenantId> = ready_tenants(&snap)
        .iter()
        .take(49)
        .map(|t| tid(t))
        .collect();
    assert_eq!(tenants.len(), 49);
    let no_pra = snap
        .tenants
        .iter()
        .find(|t| t.profile == "missing_app_admin_only" && !t.legacy)
        .expect("a tenant with Application Administrator but no PRA");
    tenants.insert(17, tid(no_pra));

    // A dry run first: plans, and not one write to Graph or Partner Center.
    handle.reset_stats();
    let plans = o.plan_onboard(&tenants, &options(&handle)).await.unwrap();
    let stats = handle.stats();
    let service_writes: Vec<_> = stats
        .writes
        .iter()
        .filter(|w| !w.path.starts_with("/login"))
        .collect();
    assert!(service_writes.is_empty(), "{service_writes:?}");
    assert_eq!(plans.len(), 50);
    assert!(
        plans
            .iter()
            .filter(|p| p.blocked.is_none())
            .all(|p| !p.writes.is_empty())
    );
    assert_eq!(
        plans[17].blocked.as_ref().unwrap().key,
        CatalogueKey::GdapPermissionsMissing
    );

    handle.reset_stats();
    let started = std::time::Instant::now();
    let report = o
        .onboard(tenants.clone(), options(&handle), &RunControl::new())
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(
        report.counts.verified,
        49,
        "{}",
        serde_json::to_string_pretty(
            &report
                .tenants
                .iter()
                .filter(|t| t.outcome != TenantOutcome::Verified)
                .collect::<Vec<_>>()
        )
        .unwrap()
    );
    assert_eq!(report.counts.blocked, 1);
    let blocked = report.tenant(&tid(no_pra)).unwrap();
    assert_eq!(blocked.outcome, TenantOutcome::Blocked);
    assert_eq!(blocked.stopped_at(), Some(OnboardStep::Preflight));
    let e = blocked.error().unwrap();
    assert_eq!(e.key, CatalogueKey::GdapPermissionsMissing);
    assert!(
        e.details
            .contains(&"Missing: Privileged Role Administrator".to_owned()),
        "{:?}",
        e.details
    );
    insta::assert_json_snapshot!("blocked_without_pra", blocked, {
        ".tenantId" => "[tenant]",
        ".displayName" => "[name]",
        ".steps[].error.message" => "[message]",
    });

    let stats = handle.stats();
    assert_eq!(stats.duplicate_writes, 0, "{:?}", stats.duplicates_per_kind);
    assert!(stats.faults_injected > 0);
    for t in tenants.iter().filter(|t| **t != tid(no_pra)) {
        assert!(fully_granted(&handle, &t.to_string(), 7), "tenant {t}");
        let rec = store.record(t).unwrap();
        assert_eq!(rec.onboarded_via, Some(OnboardedVia::PartnerCenter));
        assert_eq!(rec.protection, Protection::Monitoring);
    }
    // Nothing written in the tenant without PRA.
    assert!(
        !stats
            .writes
            .iter()
            .any(|w| w.path.contains(&no_pra.id) && !w.path.starts_with("/login"))
    );
    assert!(elapsed < Duration::from_secs(40), "{elapsed:?}");

    // Run again: everything is checked, nothing is written.
    handle.reset_stats();
    let again = o
        .onboard(tenants, options(&handle), &RunControl::new())
        .await
        .unwrap();
    assert_eq!(again.counts.verified, 49);
    let stats = handle.stats();
    assert_eq!(stats.duplicate_writes, 0);
    let service_writes = stats
        .writes
        .iter()
        .filter(|w| !w.path.starts_with("/login"))
        .count();
    assert_eq!(service_writes, 0);
    handle.shutdown().await;
}
