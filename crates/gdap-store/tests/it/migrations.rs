//! Schema migrations: upgrade from version 1, refuse a newer schema, WAL mode.

use gdap_core::TenantId;
use gdap_onboard::ports::StepOutcome;
use gdap_onboard::tenant::{EmailPerms, OnboardedVia};
use gdap_onboard::{Journal, TenantStore};
use gdap_store::migrations::{CURRENT_VERSION, MIGRATIONS};
use gdap_store::{SqliteStore, User, UserRole};

use crate::{t0, temp_db};

#[tokio::test]
async fn a_version_1_database_is_upgraded_and_keeps_its_data() {
    let (_dir, path) = temp_db();
    let tenant: TenantId = "11111111-2222-4333-8444-555555555555".parse().unwrap();
    {
        // A database as version 1 of this crate wrote it.
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch(MIGRATIONS[0].sql).unwrap();
        raw.pragma_update(None, "user_version", 1).unwrap();
        raw.execute(
            "INSERT INTO tenant_records VALUES (?1, 'Old Co', 'monitoring', 'individually', 'ok', 0)",
            [tenant.to_string()],
        )
        .unwrap();
        raw.execute(
            "INSERT INTO journal (run_id, tenant_id, step, outcome, detail, at)
             VALUES ('old-run', ?1, 'consent', 'changed', 'done', '2026-01-01T00:00:00Z')",
            [tenant.to_string()],
        )
        .unwrap();
    }
    const {
        assert!(
            CURRENT_VERSION > 1,
            "this test needs a later version to upgrade to"
        )
    };

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().await.unwrap(), CURRENT_VERSION);
    let rec = store.get_record(&tenant).await.unwrap().unwrap();
    assert_eq!(rec.display_name.as_deref(), Some("Old Co"));
    assert_eq!(rec.onboarded_via, Some(OnboardedVia::Individually));
    assert_eq!(rec.email_perms, EmailPerms::Ok);
    assert!(rec.is_legacy());
    let entries = store.entries("old-run").await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].outcome, StepOutcome::Changed);
    assert!(store.is_done("old-run", &tenant, "consent").await.unwrap());
    // The tables of later versions are there.
    store
        .create_user(&User::new("owner@example.com", UserRole::Owner, t0()))
        .await
        .unwrap();
    drop(store);
    // Opening again is a no-op.
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.list_users().await.unwrap().len(), 1);
}

#[test]
fn every_version_upgrades_to_current() {
    for from in 0..=CURRENT_VERSION {
        let (_dir, path) = temp_db();
        {
            let raw = rusqlite::Connection::open(&path).unwrap();
            for m in &MIGRATIONS[..from as usize] {
                raw.execute_batch(m.sql).unwrap();
            }
            raw.pragma_update(None, "user_version", from).unwrap();
        }
        let _store = SqliteStore::open(&path).unwrap();
        let raw = rusqlite::Connection::open(&path).unwrap();
        let v: i64 = raw
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, CURRENT_VERSION, "from {from}");
    }
}

#[test]
fn a_newer_schema_is_refused_with_a_typed_error() {
    let (_dir, path) = temp_db();
    drop(SqliteStore::open(&path).unwrap());
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.pragma_update(None, "user_version", CURRENT_VERSION + 1)
            .unwrap();
    }
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(err.is_schema_too_new(), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("version {}", CURRENT_VERSION + 1)),
        "{err}"
    );
    // Nothing was changed.
    let raw = rusqlite::Connection::open(&path).unwrap();
    let v: i64 = raw
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, CURRENT_VERSION + 1);
}

#[test]
fn the_file_is_in_wal_mode() {
    let (_dir, path) = temp_db();
    let _store = SqliteStore::open(&path).unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_not_a_panic() {
    let (_dir, path) = temp_db();
    std::fs::write(
        &path,
        b"this is not a SQLite database, just some text......",
    )
    .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(!err.is_schema_too_new());
    assert!(err.to_string().contains("SQLite error"), "{err}");
}
