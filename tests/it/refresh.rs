//! Refreshing email permissions against the sandbox: five tenants onboarded through Partner
//! Center get the app's new delegated scope and application permission; a legacy tenant gets
//! the catalogue's refusal.

use std::sync::Arc;

use gdap_core::TenantId;
use gdap_onboard::fakes::{MemoryJournal, MemoryTenantStore};
use gdap_onboard::manifest::{microsoft_graph, resources};
use gdap_onboard::ports::TenantStore;
use gdap_onboard::tenant::EmailPerms;
use gdap_onboard::{
    AppManifest, CatalogueKey, OnboardStep, ResourceAccess, RunControl, StepStatus,
};

use crate::onboard::{
    faults, fully_granted, is_ready, manifest, options, orchestrator, ready_tenants, sandbox,
    seed_store, tid,
};

/// The manifest after the app gained email features: Graph delegated `Mail.Read` and the
/// Exchange application permission `full_access_as_app`.
fn email_manifest(base: AppManifest) -> AppManifest {
    let mut b = AppManifest::builder(base.application_id, base.display_name.clone());
    for r in base.resources {
        b = b.resource(r);
    }
    b.resource(
        ResourceAccess::new(microsoft_graph(), "Microsoft Graph")
            .with_delegated_scopes(["Mail.Read"]),
    )
    .resource(
        ResourceAccess::new(
            resources::EXCHANGE_ONLINE.parse().unwrap(),
            "Office 365 Exchange Online",
        )
        .with_app_roles(["full_access_as_app"]),
    )
    .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_email_permissions_on_five() {
    let handle = sandbox(faults()).await;
    let snap = handle.snapshot();
    let store = Arc::new(MemoryTenantStore::new());
    seed_store(store.as_ref(), &snap).await;
    let journal = Arc::new(MemoryJournal::new());
    let tenants: Vec<TenantId> = ready_tenants(&snap)
        .iter()
        .filter(|t| !t.previously_deleted)
        .take(5)
        .map(|t| tid(t))
        .collect();
    let v1 = orchestrator(&handle, manifest(&handle), store.clone(), journal.clone());
    let onboarded = v1
        .onboard(tenants.clone(), options(&handle), &RunControl::new())
        .await
        .unwrap();
    assert_eq!(onboarded.counts.verified, 5);
    for t in &tenants {
        let rec = store.get_record(t).await.unwrap().unwrap();
        store
            .upsert_record(&rec.with_email_perms(EmailPerms::NeedsRefresh))
            .await
            .unwrap();
    }
    let legacy = snap
        .tenants
        .iter()
        .find(|t| t.legacy && is_ready(t))
        .map(tid)
        .unwrap();

    handle.reset_stats();
    let v2 = orchestrator(
        &handle,
        email_manifest(manifest(&handle)),
        store.clone(),
        journal,
    );
    let mut targets = tenants.clone();
    targets.push(legacy);
    let report = v2
        .refresh_email(targets, options(&handle), &RunControl::new())
        .await
        .unwrap();
    assert_eq!(report.counts.verified, 5, "{:#?}", report.tenants);
    assert_eq!(report.counts.blocked, 1);
    assert_eq!(handle.stats().duplicate_writes, 0);
    for t in &tenants {
        let r = report.tenant(t).unwrap();
        let status = |s| r.steps.iter().find(|x| x.step == s).unwrap().status;
        assert_eq!(
            status(OnboardStep::ConsentPartnerCenter),
            StepStatus::Passed
        );
        assert_eq!(status(OnboardStep::GrantDelegated), StepStatus::Changed);
        assert_eq!(status(OnboardStep::GrantAppRoles), StepStatus::Changed);
        assert_eq!(status(OnboardStep::Verify), StepStatus::Passed);
        assert!(fully_granted(&handle, &t.to_string(), 8));
        let rec = store.get_record(t).await.unwrap().unwrap();
        assert_eq!(rec.email_perms, EmailPerms::Ok);
    }
    // The Graph grant now carries Mail.Read.
    let after = handle.snapshot();
    let client = handle.world_info().client_id;
    for t in &tenants {
        let ts = after
            .tenants
            .iter()
            .find(|x| x.id == t.to_string())
            .unwrap();
        let sp = ts
            .service_principals
            .iter()
            .find(|s| s.app_id == client)
            .unwrap();
        assert!(
            ts.oauth2_grants
                .iter()
                .any(|g| g.client_id == sp.id && g.scope.split(' ').any(|s| s == "Mail.Read"))
        );
    }
    let e = report.tenant(&legacy).unwrap().error().unwrap();
    assert_eq!(e.key, CatalogueKey::RefreshRequiresPartnerCenter);
    handle.shutdown().await;
}
