//! Migrating legacy tenants against the sandbox: the five steps, the old app left in place,
//! the record switched, and the catalogue's refusals.

use std::sync::Arc;

use gdap_core::TenantId;
use gdap_onboard::fakes::{MemoryJournal, MemoryTenantStore};
use gdap_onboard::tenant::OnboardedVia;
use gdap_onboard::{CatalogueKey, OnboardStep, RunControl, StepStatus, TenantOutcome};

use crate::onboard::{
    faults, fully_granted, is_ready, manifest, options, orchestrator, ready_tenants, sandbox,
    seed_store, tid,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_five_legacy_tenants() {
    let handle = sandbox(faults()).await;
    let snap = handle.snapshot();
    let info = handle.world_info();
    let store = Arc::new(MemoryTenantStore::new());
    seed_store(store.as_ref(), &snap).await;
    let o = orchestrator(
        &handle,
        manifest(&handle),
        store.clone(),
        Arc::new(MemoryJournal::new()),
    );
    let legacy: Vec<TenantId> = snap
        .tenants
        .iter()
        .filter(|t| t.legacy && is_ready(t))
        .take(5)
        .map(tid)
        .collect();
    assert_eq!(legacy.len(), 5);
    let not_legacy = tid(ready_tenants(&snap)[0]);
    let mut tenants = legacy.clone();
    tenants.push(not_legacy);

    handle.reset_stats();
    let report = o
        .migrate(tenants.clone(), options(&handle), &RunControl::new())
        .await
        .unwrap();
    assert_eq!(report.counts.verified, 5, "{:#?}", report.tenants);
    assert_eq!(report.counts.blocked, 1);
    assert_eq!(handle.stats().duplicate_writes, 0);
    let after = handle.snapshot();
    for t in &legacy {
        let r = report.tenant(t).unwrap();
        let last = r.steps.last().unwrap();
        assert_eq!(
            (last.step, last.status),
            (OnboardStep::SwitchApp, StepStatus::Changed)
        );
        assert!(fully_granted(&handle, &t.to_string(), 7));
        let rec = store.record(t).unwrap();
        assert_eq!(rec.onboarded_via, Some(OnboardedVia::PartnerCenter));
        assert!(!rec.is_legacy());
        // The individually installed app stays in the tenant.
        let ts = after
            .tenants
            .iter()
            .find(|x| x.id == t.to_string())
            .unwrap();
        assert!(
            ts.service_principals
                .iter()
                .any(|sp| sp.app_id == info.legacy_app_id)
        );
    }
    let e = report.tenant(&not_legacy).unwrap().error().unwrap();
    assert_eq!(e.key, CatalogueKey::NoLegacyTenant);
    assert_eq!(e.title, "No existing legacy tenant found to migrate");

    // Migrating again: already managed by Partner Center.
    let again = o
        .migrate(legacy[..1].to_vec(), options(&handle), &RunControl::new())
        .await
        .unwrap();
    let r = &again.tenants[0];
    assert_eq!(r.outcome, TenantOutcome::Blocked);
    let e = r.error().unwrap();
    assert_eq!(e.key, CatalogueKey::AlreadyManagedByPartnerCenter);
    assert_eq!(e.title, "This tenant is already managed by Partner Center");
    assert_eq!(handle.stats().duplicate_writes, 0);
    handle.shutdown().await;
}
