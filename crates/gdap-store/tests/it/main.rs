#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report.
//! Integration tests of gdap-store: the same behaviour the in-memory fakes of gdap-onboard show,
//! on SQLite files; crash safety; migrations; concurrency; corrupt rows; the front-end tables.

mod extras;
mod journal;
mod migrations;
mod tenants;
mod workflow;

use std::path::PathBuf;

use gdap_store::SqliteStore;
use tempfile::TempDir;
use time::OffsetDateTime;
use time::macros::datetime;

/// A fresh database file in a temporary directory (kept alive by the returned guard).
pub(crate) fn temp_db() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gdap.db");
    (dir, path)
}

/// A store on a fresh file.
pub(crate) fn temp_store() -> (TempDir, PathBuf, SqliteStore) {
    let (dir, path) = temp_db();
    let store = SqliteStore::open(&path).unwrap();
    (dir, path, store)
}

/// A fixed instant.
pub(crate) fn t0() -> OffsetDateTime {
    datetime!(2026-03-01 12:00:00.123456789 UTC)
}
