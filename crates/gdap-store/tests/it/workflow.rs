//! The orchestration core's sync workflow over the fakes, with the store and the journal on
//! SQLite: the same report and the same saved rows as with the in-memory store.

use std::sync::Arc;

use gdap_core::TenantId;
use gdap_core::roles::{self, RoleTemplate};
use gdap_onboard::fakes::{FakeGdap, FakeWorld};
use gdap_onboard::relationship::{Relationship, RelationshipStatus};
use gdap_onboard::tenant::{OnboardedVia, TenantRecord};
use gdap_onboard::{Days, Orchestrator, OrchestratorConfig, Ports, TenantStore};
use gdap_store::SqliteStore;
use time::OffsetDateTime;
use time::macros::datetime;

fn now() -> OffsetDateTime {
    datetime!(2026-03-01 09:00 UTC)
}

fn tid(n: u32) -> TenantId {
    format!("{n:08x}-aaaa-4aaa-8aaa-{n:012x}").parse().unwrap()
}

fn active(n: u64, tenant: TenantId, name: &str, roles: &[RoleTemplate]) -> Relationship {
    Relationship::new(
        FakeGdap::new_relationship_id(1_000_000 + n),
        name,
        RelationshipStatus::Active,
    )
    .with_customer(tenant, Some(name))
    .with_roles(roles.iter().map(RoleTemplate::id))
    .with_duration(Days(730))
    .with_times(
        Some(now() - time::Duration::days(430)),
        Some(now() - time::Duration::days(430)),
        Some(now() - time::Duration::days(430)),
        Some(now() + time::Duration::days(300)),
    )
}

/// A small world: a ready tenant, a tenant missing a role, a legacy tenant with auto-extend.
fn world() -> FakeWorld {
    let w = FakeWorld::new(now(), "ops@msp.example");
    w.directories.add_tenant(tid(1), "Contoso", 42);
    w.gdap.insert(active(
        1,
        tid(1),
        "Contoso",
        &[
            roles::APPLICATION_ADMINISTRATOR,
            roles::PRIVILEGED_ROLE_ADMINISTRATOR,
        ],
    ));
    w.directories.add_tenant(tid(2), "Fabrikam", 7);
    w.gdap.insert(active(
        2,
        tid(2),
        "Fabrikam",
        &[roles::APPLICATION_ADMINISTRATOR],
    ));
    w.directories.add_tenant(tid(3), "Legacy Ltd", 3);
    w.gdap.insert(
        active(
            3,
            tid(3),
            "Legacy Ltd",
            &[
                roles::CLOUD_APPLICATION_ADMINISTRATOR,
                roles::PRIVILEGED_ROLE_ADMINISTRATOR,
            ],
        )
        .with_auto_extend(Days(180)),
    );
    w
}

async fn run(ports: Ports) -> (serde_json::Value, serde_json::Value) {
    ports
        .store
        .upsert_record(&TenantRecord::onboarded(tid(3), OnboardedVia::Individually))
        .await
        .unwrap();
    let orch = Orchestrator::new(ports.clone(), OrchestratorConfig::default());
    let first = orch.sync().await.unwrap();
    // A second sync reads the first one's rows back from the store.
    let second = orch.sync().await.unwrap();
    let rows = ports.store.load_rows().await.unwrap();
    assert_eq!(rows, second.tenants);
    (
        serde_json::to_value((&first.tenants, &first.added)).unwrap(),
        serde_json::to_value((&second.tenants, &second.added, &rows)).unwrap(),
    )
}

#[tokio::test]
async fn sync_over_sqlite_matches_sync_over_memory() {
    let memory = run(world().ports()).await;

    let (_dir, path, store) = crate::temp_store();
    let store = Arc::new(store);
    let mut ports = world().ports();
    ports.store = store.clone();
    ports.journal = store.clone();
    let sqlite = run(ports).await;
    assert_eq!(sqlite, memory);

    let rows = store.load_rows().await.unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter().any(|r| r.legacy),
        "the legacy badge comes from the stored record"
    );
    drop(store);
    // And the rows are in the file.
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.load_rows().await.unwrap(), rows);
}
