//! Sync over the fakes.

use std::time::Duration;

use gdap_core::roles;
use gdap_onboard::fakes::FakeGdap;
use gdap_onboard::ports::AccessPath;
use gdap_onboard::relationship::{Relationship, RelationshipStatus};
use gdap_onboard::tenant::{OnboardedVia, Protection, TenantAction};
use gdap_onboard::{
    CatalogueKey, Days, EmailPerms, OnboardError, Orchestrator, OrchestratorConfig, PortError,
    Readiness, TenantRecord, TenantStatus,
};

use crate::support::*;

const APP_PRA: &[gdap_core::roles::RoleTemplate] = &[
    roles::APPLICATION_ADMINISTRATOR,
    roles::PRIVILEGED_ROLE_ADMINISTRATOR,
];

#[tokio::test(start_paused = true)]
async fn several_relationships_per_tenant_are_merged() {
    let w = world();
    let t = tid(1);
    w.directories.add_tenant(t, "Contoso", 42);
    w.gdap.insert(active(
        1,
        t,
        "Contoso",
        "Contoso apps",
        &[roles::APPLICATION_ADMINISTRATOR],
    ));
    w.gdap.insert(
        active(
            2,
            t,
            "Contoso",
            "Contoso roles",
            &[roles::PRIVILEGED_ROLE_ADMINISTRATOR],
        )
        .with_auto_extend(Days(180)),
    );
    let report = orchestrator(&w).sync().await.unwrap();
    assert_eq!(report.tenants.len(), 1);
    let row = &report.tenants[0];
    assert_eq!(
        row.gdap,
        Readiness::Ready,
        "roles of both relationships count"
    );
    assert_eq!(row.relationships.len(), 2);
    assert_eq!(row.user_count, Some(42));
    assert_eq!(report.relationships_used, 2);
    assert_eq!(report.added, vec![t]);
}

#[tokio::test(start_paused = true)]
async fn reseller_mlt_and_unknown_status_are_kept_out_without_failing() {
    let w = world();
    w.gdap.set_ignore_status_filter(true); // a server that ignores $filter
    let (a, b, c) = (tid(1), tid(2), tid(3));
    for (t, n) in [(a, "Alpha"), (b, "Beta"), (c, "Gamma")] {
        w.directories.add_tenant(t, n, 5);
    }
    w.gdap.insert(active(
        1,
        a,
        "Alpha",
        "Alpha app",
        &[roles::APPLICATION_ADMINISTRATOR],
    ));
    // A reseller relationship with the missing role must not make Alpha ready.
    w.gdap.insert(
        active(
            2,
            a,
            "Alpha",
            "Alpha reseller",
            &[roles::PRIVILEGED_ROLE_ADMINISTRATOR],
        )
        .with_reseller(true),
    );
    // Beta has only an MLT relationship (with GA) and a relationship in an unknown status.
    w.gdap.insert(active(
        3,
        b,
        "Beta",
        "MLT_beta_transition",
        &[roles::GLOBAL_ADMINISTRATOR],
    ));
    let mut weird = active(4, b, "Beta", "Beta future", &[roles::GLOBAL_ADMINISTRATOR]);
    weird.status = RelationshipStatus::Unknown("unknownFutureValue".into());
    w.gdap.insert(weird);
    let mut expired = active(5, c, "Gamma", "Gamma old", &[roles::GLOBAL_ADMINISTRATOR]);
    expired.status = RelationshipStatus::Expired;
    w.gdap.insert(expired);
    // No customer at all.
    w.gdap.insert(Relationship::new(
        rid(6),
        "Open invite",
        RelationshipStatus::Active,
    ));

    let report = orchestrator(&w).sync().await.unwrap();
    assert_eq!(report.tenants.len(), 1, "{:#?}", report.tenants);
    let alpha = report.tenant(&a).unwrap();
    assert_eq!(
        alpha.gdap.missing()[0].label(),
        "Privileged Role Administrator"
    );
    assert_eq!(alpha.relationships.len(), 1);
    assert_eq!(report.skipped.reseller, 1);
    assert_eq!(report.skipped.microsoft_led_transition, 1);
    assert_eq!(report.skipped.not_active, 2);
    assert_eq!(report.skipped.unknown_status, 1);
    assert_eq!(report.skipped.no_customer, 1);
    assert_eq!(report.relationships_used, 1);
    assert!(report.warnings.iter().any(|w| w.contains("Open invite")));
}

#[tokio::test(start_paused = true)]
async fn asks_for_active_relationships_only() {
    let w = world();
    orchestrator(&w).sync().await.unwrap();
    assert_eq!(w.gdap.calls(), vec!["list_relationships active"]);
}

#[tokio::test(start_paused = true)]
async fn user_counts_run_with_bounded_concurrency() {
    let w = world();
    for i in 0..40u32 {
        let t = tid(i + 1);
        w.directories
            .add_tenant(t, &format!("T{i:02}"), u64::from(i));
        w.gdap.insert(active(
            u64::from(i),
            t,
            &format!("T{i:02}"),
            &format!("rel {i}"),
            APP_PRA,
        ));
    }
    w.directories.set_latency(Duration::from_secs(1));
    let o = Orchestrator::new(
        w.ports(),
        OrchestratorConfig::default().with_user_count_concurrency(4),
    );
    let started = tokio::time::Instant::now();
    let report = o.sync().await.unwrap();
    assert_eq!(report.tenants.len(), 40);
    assert_eq!(w.directories.max_in_flight(), 4);
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(10),
        "40 counts, 4 at a time, 1 s each"
    );
    assert!(report.tenants.iter().all(|t| t.user_count.is_some()));
}

#[tokio::test(start_paused = true)]
async fn default_concurrency_is_eight() {
    let w = world();
    for i in 0..20u32 {
        let t = tid(i + 1);
        w.directories.add_tenant(t, &format!("T{i:02}"), 1);
        w.gdap
            .insert(active(u64::from(i), t, "x", &format!("rel {i}"), APP_PRA));
    }
    w.directories.set_latency(Duration::from_millis(100));
    orchestrator(&w).sync().await.unwrap();
    assert_eq!(w.directories.max_in_flight(), 8);
}

#[tokio::test(start_paused = true)]
async fn a_failed_user_count_is_a_warning_not_a_failure() {
    let w = world();
    let (a, b) = (tid(1), tid(2));
    w.directories.add_tenant(a, "Alpha", 7);
    w.directories.add_tenant(b, "Beta", 9);
    w.directories.fail_user_count(
        b,
        PortError::http(429, Some("TooManyRequests"), "slow down"),
    );
    w.gdap.insert(active(1, a, "Alpha", "a", APP_PRA));
    w.gdap.insert(active(2, b, "Beta", "b", APP_PRA));
    let report = orchestrator(&w).sync().await.unwrap();
    assert_eq!(report.tenant(&a).unwrap().user_count, Some(7));
    assert_eq!(report.tenant(&b).unwrap().user_count, None);
    assert_eq!(report.warnings.len(), 1);
    assert!(
        report.warnings[0].contains("Beta"),
        "{}",
        report.warnings[0]
    );
}

#[tokio::test(start_paused = true)]
async fn store_records_give_status_legacy_and_email_perms() {
    let w = world();
    let ids: Vec<_> = (1..=5).map(tid).collect();
    for (i, t) in ids.iter().enumerate() {
        w.directories.add_tenant(*t, &format!("T{i}"), 1);
        w.gdap.insert(active(
            i as u64,
            *t,
            &format!("T{i}"),
            &format!("rel {i}"),
            APP_PRA,
        ));
    }
    w.store
        .put(TenantRecord::onboarded(ids[0], OnboardedVia::PartnerCenter));
    w.store.put(
        TenantRecord::onboarded(ids[1], OnboardedVia::Individually)
            .with_protection(Protection::Paused),
    );
    w.store.put(
        TenantRecord::onboarded(ids[2], OnboardedVia::PartnerCenter)
            .with_protection(Protection::Deleted),
    );
    w.store.put(
        TenantRecord::onboarded(ids[3], OnboardedVia::PartnerCenter)
            .with_email_perms(EmailPerms::NeedsRefresh),
    );
    let report = orchestrator(&w).sync().await.unwrap();
    let row = |i: usize| report.tenant(&ids[i]).unwrap();
    assert_eq!(row(0).status, TenantStatus::Monitoring);
    assert!(!row(0).legacy);
    assert_eq!(row(0).email_perms, EmailPerms::Ok);
    assert_eq!(row(1).status, TenantStatus::Paused);
    assert!(row(1).legacy);
    assert!(
        row(1)
            .actions
            .contains(&TenantAction::MigrateToPartnerCenter)
    );
    assert_eq!(row(2).status, TenantStatus::PreviouslyDeleted);
    assert_eq!(row(2).email_perms, EmailPerms::NotApplicable);
    assert!(row(2).actions.contains(&TenantAction::Onboard));
    assert_eq!(row(3).email_perms, EmailPerms::NeedsRefresh);
    assert!(
        row(3)
            .actions
            .contains(&TenantAction::RefreshEmailPermissions)
    );
    assert_eq!(row(4).status, TenantStatus::NotProtected);
    assert_eq!(row(4).email_perms, EmailPerms::NotApplicable);
}

#[tokio::test(start_paused = true)]
async fn own_partner_tenant_is_marked_and_reached_with_client_credentials() {
    let w = world();
    for i in 1..=19u32 {
        let t = tid(i);
        w.directories.add_tenant(t, &format!("Customer {i:02}"), 10);
        w.gdap.insert(active(
            u64::from(i),
            t,
            &format!("Customer {i:02}"),
            &format!("rel {i}"),
            APP_PRA,
        ));
    }
    let own = tid(100);
    w.directories.add_tenant(own, "Our MSP", 25);
    w.store.put(
        TenantRecord::onboarded(own, OnboardedVia::OwnTenantConsent)
            .with_own_partner_tenant(true)
            .with_display_name("Our MSP"),
    );
    let report = orchestrator(&w).sync().await.unwrap();
    assert_eq!(report.tenants.len(), 20);
    assert_eq!(
        report.billable_count(),
        19,
        "19 customers + own = 19 billable"
    );
    let row = report.tenant(&own).unwrap();
    assert!(row.is_own_partner_tenant);
    assert_eq!(row.gdap, Readiness::NotRequired);
    assert_eq!(row.user_count, Some(25));
    assert_eq!(row.display_name, "Our MSP");
    assert!(row.relationships.is_empty());
    assert_eq!(row.actions, vec![TenantAction::View]);
    let opened = w.directories.opened();
    assert!(opened.contains(&(own, AccessPath::ClientCredentials)));
    assert_eq!(
        opened
            .iter()
            .filter(|(_, p)| *p == AccessPath::Gdap)
            .count(),
        19
    );
}

#[tokio::test(start_paused = true)]
async fn reports_added_changed_and_gone() {
    let w = world();
    let (a, b, c) = (tid(1), tid(2), tid(3));
    for (t, n) in [(a, "Alpha"), (b, "Beta"), (c, "Gamma")] {
        w.directories.add_tenant(t, n, 5);
    }
    w.gdap.insert(active(1, a, "Alpha", "a", APP_PRA));
    w.gdap.insert(active(
        2,
        b,
        "Beta",
        "b",
        &[roles::APPLICATION_ADMINISTRATOR],
    ));
    let o = orchestrator(&w);
    let first = o.sync().await.unwrap();
    assert_eq!(first.added, vec![a, b]);
    assert!(first.changed.is_empty() && first.gone.is_empty());
    assert_eq!(
        w.store.rows(),
        first.tenants,
        "the store holds the new rows"
    );

    // Beta gets PRA through a second relationship, Alpha's relationship ends, Gamma appears.
    w.gdap.insert(active(
        3,
        b,
        "Beta",
        "b2",
        &[roles::PRIVILEGED_ROLE_ADMINISTRATOR],
    ));
    let mut ended = w.gdap.relationship(&rid(1)).unwrap();
    ended.status = RelationshipStatus::Terminated;
    w.gdap.insert(ended);
    w.gdap.insert(active(4, c, "Gamma", "c", APP_PRA));
    let second = o.sync().await.unwrap();
    assert_eq!(second.added, vec![c]);
    assert_eq!(second.changed, vec![b]);
    assert_eq!(second.gone, vec![a]);
    assert_eq!(second.tenant(&b).unwrap().gdap, Readiness::Ready);

    let third = o.sync().await.unwrap();
    assert!(third.added.is_empty() && third.changed.is_empty() && third.gone.is_empty());
}

#[tokio::test(start_paused = true)]
async fn listing_failure_is_classified() {
    let w = world();
    w.gdap.fail_next(
        "list_relationships",
        PortError::aadsts(&[700082], "refresh token expired"),
    );
    let err = orchestrator(&w).sync().await.unwrap_err();
    assert!(
        matches!(err, OnboardError::SessionExpired { .. }),
        "{err:?}"
    );
    assert_eq!(err.catalogue_key(), CatalogueKey::SessionExpired);
    assert!(w.store.rows().is_empty(), "nothing saved on failure");
}

#[tokio::test(start_paused = true)]
async fn a_failure_mid_stream_fails_the_sync() {
    let w = world();
    for i in 1..=4u32 {
        w.gdap
            .insert(active(u64::from(i), tid(i), "x", &format!("r{i}"), APP_PRA));
    }
    w.gdap.fail_next(
        "list_relationships_item",
        PortError::http(
            403,
            Some("Authorization_RequestDenied"),
            "Insufficient privileges",
        ),
    );
    let err = orchestrator(&w).sync().await.unwrap_err();
    assert_eq!(err.catalogue_key(), CatalogueKey::InsufficientPermissions);
}

#[tokio::test(start_paused = true)]
async fn tenant_rows_snapshot() {
    let w = world();
    let names = [
        "Contoso",
        "Fabrikam",
        "Northwind",
        "Tailspin",
        "Woodgrove",
        "Adatum",
    ];
    let ids: Vec<_> = (1..=6).map(tid).collect();
    for (t, n) in ids.iter().zip(names) {
        w.directories.add_tenant(*t, n, 100);
    }
    w.gdap.insert(active(
        1,
        ids[0],
        names[0],
        "Contoso GA",
        &[roles::GLOBAL_ADMINISTRATOR],
    ));
    w.gdap
        .insert(active(2, ids[1], names[1], "Fabrikam app", APP_PRA).with_auto_extend(Days(180)));
    w.gdap.insert(active(
        3,
        ids[2],
        names[2],
        "Northwind apps",
        &[roles::APPLICATION_ADMINISTRATOR],
    ));
    w.gdap.insert(active(
        4,
        ids[3],
        names[3],
        "Tailspin roles",
        &[
            roles::PRIVILEGED_ROLE_ADMINISTRATOR,
            roles::HELPDESK_ADMINISTRATOR,
        ],
    ));
    w.gdap.insert(active(
        5,
        ids[4],
        names[4],
        "Woodgrove cloud",
        &[roles::CLOUD_APPLICATION_ADMINISTRATOR],
    ));
    w.gdap.insert(active(
        6,
        ids[4],
        names[4],
        "Woodgrove pra",
        &[roles::PRIVILEGED_ROLE_ADMINISTRATOR],
    ));
    w.gdap
        .insert(active(7, ids[5], names[5], "Adatum app", APP_PRA));
    w.directories
        .fail_user_count(ids[5], PortError::http(503, None, "unavailable"));
    w.store
        .put(TenantRecord::onboarded(ids[0], OnboardedVia::Individually));
    w.store.put(
        TenantRecord::onboarded(ids[1], OnboardedVia::PartnerCenter)
            .with_email_perms(EmailPerms::NeedsRefresh),
    );
    w.store.put(
        TenantRecord::onboarded(ids[4], OnboardedVia::PartnerCenter)
            .with_protection(Protection::Paused),
    );
    w.store.put(
        TenantRecord::onboarded(ids[5], OnboardedVia::PartnerCenter)
            .with_protection(Protection::Deleted),
    );
    let own = tid(99);
    w.directories.add_tenant(own, "Our MSP", 12);
    w.store.put(
        TenantRecord::onboarded(own, OnboardedVia::OwnTenantConsent)
            .with_own_partner_tenant(true)
            .with_display_name("Our MSP"),
    );
    let report = orchestrator(&w).sync().await.unwrap();
    insta::assert_json_snapshot!("tenant_rows", report.tenants);
    insta::assert_json_snapshot!(
        "sync_report_summary",
        serde_json::json!({
            "added": report.added.len(),
            "changed": report.changed,
            "gone": report.gone,
            "skipped": report.skipped,
            "warnings": report.warnings,
            "billable": report.billable_count(),
        })
    );
}

#[test]
fn relationship_ids_of_the_fake_look_like_graphs() {
    let id = FakeGdap::new_relationship_id(7);
    assert_eq!(id.as_str().len(), 73);
}
