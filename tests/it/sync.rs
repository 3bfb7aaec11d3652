//! Sync 200 tenants from the sandbox through the real clients, and compare every row with the
//! sandbox's world.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use gdap_auth::RefreshTokenCredential;
use gdap_core::roles;
use gdap_core::{RoleTemplateId, TenantId};
use gdap_onboard::fakes::{MemoryJournal, MemoryTenantStore};
use gdap_onboard::tenant::{AutoExtend, OnboardedVia, Protection};
use gdap_onboard::{
    Days, ManagedTenant, Orchestrator, OrchestratorConfig, Readiness, RoleRequirement,
    TenantRecord, TenantStatus,
};
use gdap_sandbox::world::{RelationshipSnapshot, TenantSnapshot};
use gdap_sandbox::{Sandbox, SandboxHandle, World, WorldInfo, WorldSnapshot};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const SEED: u64 = 20_260_301;
const TENANTS: usize = 200;

pub(crate) struct Env {
    pub(crate) credential: Arc<RefreshTokenCredential>,
    pub(crate) handle: SandboxHandle,
    pub(crate) info: WorldInfo,
    pub(crate) orchestrator: Orchestrator,
    pub(crate) store: Arc<MemoryTenantStore>,
}

/// The product's own records as the world implies them: legacy tenants were onboarded
/// individually, previously deleted ones were deleted, and the partner tenant is the own tenant.
fn seed_store(snap: &WorldSnapshot) -> MemoryTenantStore {
    let store = MemoryTenantStore::new();
    for t in &snap.tenants {
        let id: TenantId = t.id.parse().unwrap();
        if t.is_own {
            store.put(
                TenantRecord::onboarded(id, OnboardedVia::OwnTenantConsent)
                    .with_own_partner_tenant(true)
                    .with_display_name(t.display_name.clone()),
            );
        } else if t.legacy {
            store.put(TenantRecord::onboarded(id, OnboardedVia::Individually));
        } else if t.previously_deleted {
            store.put(
                TenantRecord::onboarded(id, OnboardedVia::PartnerCenter)
                    .with_protection(Protection::Deleted),
            );
        }
    }
    store
}

pub(crate) async fn env() -> Env {
    let handle = Sandbox::builder()
        .world(World::seeded(SEED, TENANTS))
        .start()
        .await
        .expect("sandbox starts");
    let info = handle.world_info();
    let store = Arc::new(seed_store(&handle.snapshot()));
    let (ports, credential) =
        crate::support::sandbox_ports(&handle, store.clone(), Arc::new(MemoryJournal::new()));
    let orchestrator = Orchestrator::new(ports, OrchestratorConfig::default());
    Env {
        credential,
        handle,
        info,
        orchestrator,
        store,
    }
}

fn role_ids(r: &RelationshipSnapshot) -> BTreeSet<RoleTemplateId> {
    r.roles.iter().map(|x| x.parse().unwrap()).collect()
}

fn usable(r: &RelationshipSnapshot) -> bool {
    r.status == "active" && !r.is_reseller && !r.is_mlt
}

/// Readiness the seed profile promises, written independently of `RoleRequirement`.
fn readiness_from_profile(profile: &str) -> Option<Vec<&'static str>> {
    match profile {
        p if p.starts_with("ready") => Some(vec![]),
        "missing_app_admin_only" => Some(vec!["Privileged Role Administrator"]),
        "missing_pra_only" => Some(vec![
            "Application Administrator or Cloud Application Administrator",
        ]),
        "missing_global_reader_only" => Some(vec![
            "Application Administrator or Cloud Application Administrator",
            "Privileged Role Administrator",
        ]),
        _ => None,
    }
}

/// Whether the signed-in admin can get a customer token for the product app in `t`: an active
/// access assignment of one of the admin's groups in an active relationship, and the product
/// app consented tenant-wide to Microsoft Graph.
fn admin_can_count_users(t: &TenantSnapshot, info: &WorldInfo) -> bool {
    let gdap = t.relationships.iter().any(|r| {
        r.status == "active"
            && r.access_assignments.iter().any(|a| {
                a.status == "active"
                    && info
                        .admin_group_ids
                        .iter()
                        .any(|g| g.eq_ignore_ascii_case(&a.group_id))
            })
    });
    let sp = |app: &str| {
        t.service_principals
            .iter()
            .find(|s| s.app_id.eq_ignore_ascii_case(app))
            .map(|s| s.id.clone())
    };
    let consented = match (
        sp(&info.client_id),
        sp("00000003-0000-0000-c000-000000000000"),
    ) {
        (Some(client), Some(graph)) => t.oauth2_grants.iter().any(|g| {
            g.client_id == client && g.resource_id == graph && g.consent_type == "AllPrincipals"
        }),
        _ => false,
    };
    gdap && consented
}

fn parse_time(s: &Option<String>) -> Option<OffsetDateTime> {
    s.as_deref()
        .map(|s| OffsetDateTime::parse(s, &Rfc3339).unwrap())
}

fn auto_extend_of(r: &RelationshipSnapshot) -> AutoExtend {
    let days: u32 = r
        .auto_extend_duration
        .trim_start_matches('P')
        .trim_end_matches('D')
        .parse()
        .unwrap_or(0);
    if days > 0 {
        AutoExtend::Enabled { days: Days(days) }
    } else if role_ids(r).contains(&roles::GLOBAL_ADMINISTRATOR.id()) {
        AutoExtend::NotAllowedWithGlobalAdmin
    } else {
        AutoExtend::Disabled
    }
}

fn check_row(row: &ManagedTenant, t: &TenantSnapshot, info: &WorldInfo) {
    let ctx = format!("{} ({}, profile {})", t.display_name, t.id, t.profile);
    assert_eq!(row.display_name, t.display_name, "{ctx}");
    assert_eq!(row.is_own_partner_tenant, t.is_own, "{ctx}");
    if t.is_own {
        assert_eq!(row.gdap, Readiness::NotRequired, "{ctx}");
        assert_eq!(
            row.user_count,
            Some(t.user_count),
            "{ctx}: client credentials"
        );
        assert!(row.relationships.is_empty(), "{ctx}");
        return;
    }

    // Relationships: exactly the usable active ones, with end dates and auto-extend.
    let mut expected: Vec<&RelationshipSnapshot> =
        t.relationships.iter().filter(|r| usable(r)).collect();
    expected.sort_by(|a, b| a.display_name.cmp(&b.display_name).then(a.id.cmp(&b.id)));
    let got: Vec<(&str, Option<OffsetDateTime>, AutoExtend)> = row
        .relationships
        .iter()
        .map(|r| (r.id.as_str(), r.end_date_time, r.auto_extend))
        .collect();
    let want: Vec<(&str, Option<OffsetDateTime>, AutoExtend)> = expected
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                parse_time(&r.end_date_time),
                auto_extend_of(r),
            )
        })
        .collect();
    assert_eq!(got, want, "{ctx}: relationships");
    for (g, w) in row.relationships.iter().zip(&expected) {
        let got_roles: BTreeSet<RoleTemplateId> = g.roles.iter().map(|r| r.id).collect();
        assert_eq!(got_roles, role_ids(w), "{ctx}: roles of {}", w.id);
    }

    // Readiness: from the union of roles, and from the seed profile where it promises one.
    let held: BTreeSet<RoleTemplateId> = expected.iter().flat_map(|r| role_ids(r)).collect();
    assert_eq!(
        row.gdap,
        RoleRequirement::default_for_app_install().evaluate(&held),
        "{ctx}"
    );
    // (The profile names what was seeded; a reseller relationship among them is kept out of
    // readiness, so the promise only holds without one.)
    let has_reseller = t.relationships.iter().any(|r| r.is_reseller);
    if let Some(missing) = readiness_from_profile(&t.profile).filter(|_| !has_reseller) {
        let labels: Vec<String> = row.gdap.missing().iter().map(|m| m.label()).collect();
        assert_eq!(labels, missing, "{ctx}: readiness");
        assert_eq!(row.gdap.is_ready(), missing.is_empty(), "{ctx}");
    }

    // Users: counted where the admin can get a token, else a warning and no number.
    let expected_count = admin_can_count_users(t, info).then_some(t.user_count);
    assert_eq!(row.user_count, expected_count, "{ctx}: user count");

    // The product's own records.
    let status = if t.legacy {
        TenantStatus::Monitoring
    } else if t.previously_deleted {
        TenantStatus::PreviouslyDeleted
    } else {
        TenantStatus::NotProtected
    };
    assert_eq!(row.status, status, "{ctx}");
    assert_eq!(row.legacy, t.legacy, "{ctx}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_200_tenants_matches_the_world() {
    let env = env().await;
    let snap = env.handle.snapshot();
    let report = env.orchestrator.sync().await.expect("sync succeeds");

    let by_id: BTreeMap<String, &TenantSnapshot> = snap
        .tenants
        .iter()
        .map(|t| (t.id.to_lowercase(), t))
        .collect();
    let expected_ids: BTreeSet<String> = snap
        .tenants
        .iter()
        .filter(|t| t.is_own || t.relationships.iter().any(usable))
        .map(|t| t.id.to_lowercase())
        .collect();
    let got_ids: BTreeSet<String> = report
        .tenants
        .iter()
        .map(|r| r.tenant_id.to_string())
        .collect();
    assert_eq!(got_ids, expected_ids, "the same tenants");
    assert!(
        report.tenants.len() > 100,
        "most of 200 tenants have GDAP: {}",
        report.tenants.len()
    );

    for row in &report.tenants {
        let t = by_id[&row.tenant_id.to_string()];
        check_row(row, t, &env.info);
    }

    // Skipped relationships, counted from the world.
    let all: Vec<&RelationshipSnapshot> = snap
        .tenants
        .iter()
        .flat_map(|t| t.relationships.iter())
        .chain(snap.relationships_without_customer.iter())
        .collect();
    let active = |r: &&&RelationshipSnapshot| r.status == "active";
    assert_eq!(
        report.skipped.reseller,
        all.iter().filter(active).filter(|r| r.is_reseller).count()
    );
    assert_eq!(
        report.skipped.microsoft_led_transition,
        all.iter()
            .filter(active)
            .filter(|r| r.is_mlt && !r.is_reseller)
            .count()
    );
    assert_eq!(
        report.relationships_used,
        all.iter()
            .filter(|r| usable(r) && r.customer_tenant_id.is_some())
            .count()
    );

    // The world exercises every case (the seed is fixed, so these hold every run).
    let customers = || report.tenants.iter().filter(|t| !t.is_own_partner_tenant);
    assert!(customers().any(|t| t.user_count.is_some()));
    assert!(customers().any(|t| t.user_count.is_none()));
    assert!(customers().any(|t| t.gdap == Readiness::Ready));
    assert!(customers().any(|t| !t.gdap.is_ready()));
    assert!(customers().any(|t| t.relationships.len() > 1));
    assert!(customers().any(|t| t.legacy));
    assert!(customers().any(|t| t.status == TenantStatus::PreviouslyDeleted));
    eprintln!(
        "rows {}, skipped {:?}, warnings {}",
        report.tenants.len(),
        report.skipped,
        report.warnings.len()
    );

    // The own partner tenant is not billed.
    assert_eq!(report.billable_count(), report.tenants.len() - 1);
    // Every tenant whose users could not be counted has a warning.
    let uncounted = report
        .tenants
        .iter()
        .filter(|t| t.user_count.is_none())
        .count();
    assert_eq!(report.warnings.len(), uncounted);
    assert_eq!(
        env.store.rows(),
        report.tenants,
        "the store holds the new rows"
    );

    // A second sync changes nothing.
    let again = env.orchestrator.sync().await.unwrap();
    assert!(again.added.is_empty() && again.changed.is_empty() && again.gone.is_empty());
    env.handle.shutdown().await;
}
