//! The tenant store: the same results as `MemoryTenantStore` for the same calls.

use gdap_core::roles;
use gdap_core::{RelationshipId, TenantId};
use gdap_onboard::fakes::MemoryTenantStore;
use gdap_onboard::readiness::MissingRole;
use gdap_onboard::relationship::RelationshipStatus;
use gdap_onboard::templates::Days;
use gdap_onboard::tenant::{
    AutoExtend, EmailPerms, ManagedTenant, OnboardedVia, Protection, RelationshipSummary,
    TenantAction, TenantRecord, TenantStatus,
};
use gdap_onboard::{PortErrorKind, Readiness, RoleRef, TenantStore};
use gdap_store::SqliteStore;
use time::macros::datetime;

use crate::temp_store;

fn tid(n: u8) -> TenantId {
    format!("{n:08x}-0000-4000-8000-000000000000")
        .parse()
        .unwrap()
}

/// Records covering every protection, every onboarded-via (and none), every email state, the
/// own-tenant flag and a missing name.
fn records() -> Vec<TenantRecord> {
    vec![
        TenantRecord::new(tid(9)),
        TenantRecord::onboarded(tid(3), OnboardedVia::PartnerCenter).with_display_name("Contoso"),
        TenantRecord::onboarded(tid(1), OnboardedVia::Individually)
            .with_display_name("Legacy Ltd")
            .with_email_perms(EmailPerms::NeedsRefresh),
        TenantRecord::onboarded(tid(7), OnboardedVia::OwnTenantConsent)
            .with_display_name("The MSP")
            .with_own_partner_tenant(true),
        TenantRecord::onboarded(tid(5), OnboardedVia::PartnerCenter)
            .with_protection(Protection::Paused)
            .with_email_perms(EmailPerms::NotApplicable),
        TenantRecord::onboarded(tid(2), OnboardedVia::Individually)
            .with_protection(Protection::Deleted)
            .with_email_perms(EmailPerms::Unknown)
            .with_display_name("Ünïcødé — 'quoted' \"name\""),
    ]
}

fn rel(n: u8) -> RelationshipId {
    format!("{n:08x}-1111-2222-3333-444444444444-{n:08x}-5555-6666-7777-888888888888")
        .parse()
        .unwrap()
}

/// Rows covering every readiness form, relationship status (incl. an unknown one), auto-extend
/// state, user counts, statuses, email states and actions.
fn rows() -> Vec<ManagedTenant> {
    let summary =
        |n: u8, status: RelationshipStatus, auto: AutoExtend, end: bool| RelationshipSummary {
            id: rel(n),
            display_name: format!("rel-{n}"),
            status,
            roles: RoleRef::list(&[
                roles::APPLICATION_ADMINISTRATOR.id(),
                roles::PRIVILEGED_ROLE_ADMINISTRATOR.id(),
            ]),
            end_date_time: end.then_some(datetime!(2027-01-31 23:59:59.5 +02:00)),
            auto_extend: auto,
        };
    let mut unknown_role = RoleRef::new(roles::GLOBAL_ADMINISTRATOR.id());
    unknown_role.name = "renamed by a later build".to_owned();
    let mut with_odd_role = summary(
        4,
        RelationshipStatus::Unknown("someFutureStatus".to_owned()),
        AutoExtend::NotAllowedWithGlobalAdmin,
        false,
    );
    with_odd_role.roles.push(unknown_role);
    vec![
        ManagedTenant {
            tenant_id: tid(3),
            display_name: "Contoso".into(),
            legacy: false,
            gdap: Readiness::Ready,
            user_count: Some(42),
            status: TenantStatus::Monitoring,
            email_perms: EmailPerms::NeedsRefresh,
            relationships: vec![
                summary(
                    1,
                    RelationshipStatus::Active,
                    AutoExtend::Enabled {
                        days: Days::AUTO_EXTEND,
                    },
                    true,
                ),
                summary(2, RelationshipStatus::Expiring, AutoExtend::Disabled, true),
            ],
            is_own_partner_tenant: false,
            actions: vec![
                TenantAction::View,
                TenantAction::RefreshEmailPermissions,
                TenantAction::ReRequestPermissions,
            ],
        },
        ManagedTenant {
            tenant_id: tid(1),
            display_name: "Legacy Ltd".into(),
            legacy: true,
            gdap: Readiness::Missing {
                missing: vec![
                    MissingRole::any_of(vec![
                        roles::APPLICATION_ADMINISTRATOR.id(),
                        roles::CLOUD_APPLICATION_ADMINISTRATOR.id(),
                    ]),
                    MissingRole::any_of(vec![roles::PRIVILEGED_ROLE_ADMINISTRATOR.id()]),
                ],
            },
            user_count: None,
            status: TenantStatus::Paused,
            email_perms: EmailPerms::Ok,
            relationships: vec![with_odd_role],
            is_own_partner_tenant: false,
            actions: vec![
                TenantAction::View,
                TenantAction::MigrateToPartnerCenter,
                TenantAction::RequestPermissions,
                TenantAction::Onboard,
            ],
        },
        ManagedTenant {
            tenant_id: tid(7),
            display_name: "The MSP".into(),
            legacy: false,
            gdap: Readiness::NotRequired,
            user_count: Some(0),
            status: TenantStatus::PreviouslyDeleted,
            email_perms: EmailPerms::NotApplicable,
            relationships: vec![],
            is_own_partner_tenant: true,
            actions: vec![TenantAction::View],
        },
        ManagedTenant {
            tenant_id: tid(3),
            display_name: "duplicate tenant id keeps its place".into(),
            legacy: false,
            gdap: Readiness::Missing { missing: vec![] },
            user_count: Some(u64::from(u32::MAX) + 7),
            status: TenantStatus::NotProtected,
            email_perms: EmailPerms::Unknown,
            relationships: vec![],
            is_own_partner_tenant: false,
            actions: vec![],
        },
    ]
}

/// Everything a tenant store answers for one script of calls.
#[derive(Debug, PartialEq)]
struct Observed {
    empty_list: Vec<TenantRecord>,
    empty_rows: Vec<ManagedTenant>,
    list: Vec<TenantRecord>,
    gets: Vec<Option<TenantRecord>>,
    after_replace: Option<TenantRecord>,
    removed: (bool, bool),
    list_after_remove: Vec<TenantRecord>,
    rows: Vec<ManagedTenant>,
    rows_after_replace: Vec<ManagedTenant>,
}

async fn script(store: &dyn TenantStore) -> Observed {
    let empty_list = store.list_records().await.unwrap();
    let empty_rows = store.load_rows().await.unwrap();
    for r in records() {
        store.upsert_record(&r).await.unwrap();
    }
    let list = store.list_records().await.unwrap();
    let mut gets = Vec::new();
    for r in records() {
        gets.push(store.get_record(&r.tenant_id).await.unwrap());
    }
    gets.push(store.get_record(&tid(200)).await.unwrap());
    // Replace every field of one record.
    let replacement = TenantRecord::new(tid(7)).with_own_partner_tenant(false);
    store.upsert_record(&replacement).await.unwrap();
    let after_replace = store.get_record(&tid(7)).await.unwrap();
    let removed = (
        store.remove_record(&tid(5)).await.unwrap(),
        store.remove_record(&tid(5)).await.unwrap(),
    );
    let list_after_remove = store.list_records().await.unwrap();
    store.save_rows(&rows()).await.unwrap();
    let rows_loaded = store.load_rows().await.unwrap();
    store.save_rows(&rows()[2..3]).await.unwrap();
    let rows_after_replace = store.load_rows().await.unwrap();
    Observed {
        empty_list,
        empty_rows,
        list,
        gets,
        after_replace,
        removed,
        list_after_remove,
        rows: rows_loaded,
        rows_after_replace,
    }
}

#[tokio::test]
async fn behaves_like_the_memory_store() {
    let memory = script(&MemoryTenantStore::new()).await;
    let (_dir, _path, sqlite) = temp_store();
    let observed = script(&sqlite).await;
    assert_eq!(observed, memory);
    // And the answers are the right ones, not merely the same ones.
    assert!(observed.empty_list.is_empty() && observed.empty_rows.is_empty());
    let mut sorted = records();
    sorted.sort_by_key(|r| r.tenant_id);
    assert_eq!(observed.list, sorted);
    assert_eq!(
        observed.gets[..6],
        records().into_iter().map(Some).collect::<Vec<_>>()[..]
    );
    assert_eq!(observed.gets[6], None);
    assert_eq!(
        observed.after_replace,
        Some(TenantRecord::new(tid(7)).with_own_partner_tenant(false))
    );
    assert_eq!(observed.removed, (true, false));
    assert_eq!(observed.rows, rows());
    assert_eq!(observed.rows_after_replace, rows()[2..3].to_vec());
}

#[tokio::test]
async fn records_and_rows_survive_reopen_with_derived_columns() {
    let (_dir, path, store) = temp_store();
    for r in records() {
        store.upsert_record(&r).await.unwrap();
    }
    store.save_rows(&rows()).await.unwrap();
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    let legacy = store.get_record(&tid(1)).await.unwrap().unwrap();
    assert!(legacy.is_legacy());
    assert_eq!(legacy.email_perms_column(), EmailPerms::NeedsRefresh);
    let own = store.get_record(&tid(7)).await.unwrap().unwrap();
    assert!(own.is_own_partner_tenant);
    assert_eq!(own.onboarded_via, Some(OnboardedVia::OwnTenantConsent));
    let deleted = store.get_record(&tid(2)).await.unwrap().unwrap();
    assert_eq!(deleted.status(), TenantStatus::PreviouslyDeleted);
    let loaded = store.load_rows().await.unwrap();
    assert_eq!(loaded, rows());
    // The missing-role alternatives come back whole, not as the printed label.
    assert_eq!(loaded[1].gdap.missing()[0].alternatives().len(), 2);
    assert_eq!(
        loaded[1].relationships[0].status,
        RelationshipStatus::Unknown("someFutureStatus".into())
    );
    // Same JSON as the domain prints.
    assert_eq!(
        serde_json::to_value(&loaded).unwrap(),
        serde_json::to_value(rows()).unwrap()
    );
}

#[tokio::test]
async fn in_memory_store_works_too() {
    let store = SqliteStore::open_in_memory().unwrap();
    assert_eq!(
        script(&store).await,
        script(&MemoryTenantStore::new()).await
    );
    assert_eq!(store.path(), None);
}

#[tokio::test]
async fn corrupt_record_is_a_typed_error_naming_table_and_key() {
    let (_dir, path, store) = temp_store();
    for r in records() {
        store.upsert_record(&r).await.unwrap();
    }
    drop(store);
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute(
        "UPDATE tenant_records SET protection = 'bogus' WHERE tenant_id = ?1",
        [tid(3).to_string()],
    )
    .unwrap();
    raw.execute(
        "UPDATE tenant_records SET is_own_partner_tenant = 'yes' WHERE tenant_id = ?1",
        [tid(1).to_string()],
    )
    .unwrap();
    drop(raw);
    let store = SqliteStore::open(&path).unwrap();
    let e = store.get_record(&tid(3)).await.unwrap_err();
    assert_eq!(e.kind(), PortErrorKind::Other);
    assert!(e.message().contains("tenant_records"), "{e}");
    assert!(e.message().contains(&tid(3).to_string()), "{e}");
    assert!(e.message().contains("unknown protection \"bogus\""), "{e}");
    // A column of the wrong type is a typed error too, and a list fails rather than skipping.
    let e = store.get_record(&tid(1)).await.unwrap_err();
    assert!(
        e.message().contains("tenant_records") && e.message().contains(&tid(1).to_string()),
        "{e}"
    );
    assert!(store.list_records().await.is_err());
    // Healthy rows still read.
    assert!(store.get_record(&tid(9)).await.unwrap().is_some());
}

#[tokio::test]
async fn corrupt_row_json_is_a_typed_error() {
    let (_dir, path, store) = temp_store();
    store.save_rows(&rows()).await.unwrap();
    drop(store);
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute(
        "UPDATE tenant_rows SET data = '{\"nope\"' WHERE position = 1",
        [],
    )
    .unwrap();
    drop(raw);
    let store = SqliteStore::open(&path).unwrap();
    let e = store.load_rows().await.unwrap_err();
    assert_eq!(e.kind(), PortErrorKind::Other);
    assert!(e.message().contains("tenant_rows"), "{e}");
    assert!(e.message().contains(&tid(1).to_string()), "{e}");
}
