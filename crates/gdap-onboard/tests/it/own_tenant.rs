//! The MSP's own partner tenant (seed 003).

use gdap_core::roles;
use gdap_onboard::tenant::OnboardedVia;
use gdap_onboard::workflows::billable_count;
use gdap_onboard::{CatalogueKey, ExplainContext, OnboardError, TenantRecord, TenantStatus};

use crate::support::*;

#[tokio::test(start_paused = true)]
async fn enable_creates_or_converts_and_is_idempotent() {
    let w = world();
    let o = orchestrator(&w);
    let t = tid(1);
    w.store
        .put(TenantRecord::new(t).with_display_name("Old name"));
    let rec = o.enable_own_tenant(t, Some("Our MSP")).await.unwrap();
    assert!(rec.is_own_partner_tenant);
    assert_eq!(rec.display_name.as_deref(), Some("Our MSP"));
    assert_eq!(rec.onboarded_via, Some(OnboardedVia::OwnTenantConsent));
    assert_eq!(w.store.record(&t).unwrap(), rec);
    // Again: same record, no error.
    assert_eq!(o.enable_own_tenant(t, None).await.unwrap(), rec);
    assert_eq!(o.own_tenant().await.unwrap(), Some(rec));
}

#[tokio::test(start_paused = true)]
async fn a_second_partner_tenant_is_refused() {
    let w = world();
    let o = orchestrator(&w);
    o.enable_own_tenant(tid(1), None).await.unwrap();
    let err = o.enable_own_tenant(tid(2), None).await.unwrap_err();
    assert!(
        matches!(err, OnboardError::SecondPartnerTenant { .. }),
        "{err:?}"
    );
    assert_eq!(err.http_status(), 409);
    assert_eq!(err.catalogue_key(), CatalogueKey::SecondPartnerTenant);
    assert!(w.store.record(&tid(2)).is_none());
}

#[tokio::test(start_paused = true)]
async fn hard_delete_of_the_own_tenant_is_refused_with_the_seed_message() {
    let w = world();
    let o = orchestrator(&w);
    let own = tid(1);
    o.enable_own_tenant(own, None).await.unwrap();
    let err = o.delete_tenant(own).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot hard-delete the MSP's own partner tenant. Disable via /my-tenant first."
    );
    assert_eq!(err.http_status(), 403);
    let entry = err.explain(&ExplainContext::new());
    assert_eq!(
        entry.message,
        "Cannot hard-delete the MSP's own partner tenant. Disable via /my-tenant first."
    );
    assert!(w.store.record(&own).is_some(), "still there");

    // Disable is the way out; afterwards the tenant is an ordinary (absent) one.
    assert_eq!(o.disable_own_tenant().await.unwrap(), Some(own));
    assert!(w.store.record(&own).is_none());
    assert_eq!(o.disable_own_tenant().await.unwrap(), None);
    assert!(!o.delete_tenant(own).await.unwrap());
}

#[tokio::test(start_paused = true)]
async fn deleting_a_customer_shows_previously_deleted_when_it_reappears() {
    let w = world();
    let o = orchestrator(&w);
    let t = tid(1);
    w.store
        .put(TenantRecord::onboarded(t, OnboardedVia::PartnerCenter));
    assert!(o.delete_tenant(t).await.unwrap());
    w.directories.add_tenant(t, "Contoso", 3);
    w.gdap
        .insert(active(1, t, "Contoso", "c", &[roles::GLOBAL_ADMINISTRATOR]));
    let report = o.sync().await.unwrap();
    assert_eq!(
        report.tenant(&t).unwrap().status,
        TenantStatus::PreviouslyDeleted
    );
}

#[tokio::test(start_paused = true)]
async fn own_tenant_is_not_billed() {
    let w = world();
    let o = orchestrator(&w);
    for i in 1..=19u32 {
        w.directories.add_tenant(tid(i), "c", 1);
        w.gdap.insert(active(
            u64::from(i),
            tid(i),
            "c",
            &format!("r{i}"),
            &[roles::GLOBAL_ADMINISTRATOR],
        ));
    }
    o.enable_own_tenant(tid(50), Some("Us")).await.unwrap();
    let report = o.sync().await.unwrap();
    assert_eq!(report.tenants.len(), 20);
    assert_eq!(billable_count(&report.tenants), 19);
}
