//! Schema migrations: an ordered list of SQL scripts, tracked with `PRAGMA user_version`.
//!
//! Script *n* (1-based) takes the schema from version *n − 1* to *n*. Opening a database applies
//! every script above its `user_version`, each in its own transaction together with the version
//! bump, so a crash mid-upgrade leaves the previous version intact. A database whose version is
//! above [`CURRENT_VERSION`] was written by a newer build and is refused with
//! [`StoreError::SchemaTooNew`]. Scripts are append-only: never edit a released one; add a new one.

use rusqlite::Connection;

use crate::error::{Context, Result, StoreError};

/// One migration script.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The schema version this script produces.
    pub version: i64,
    /// What it adds, for people.
    pub description: &'static str,
    /// The SQL (several statements).
    pub sql: &'static str,
}

/// Every migration, in order. `MIGRATIONS[i].version == i + 1`.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "tenant records, last-sync rows, journal entries and run headers",
        sql: r#"
CREATE TABLE tenant_records (
    tenant_id             TEXT PRIMARY KEY NOT NULL,
    display_name          TEXT,
    protection            TEXT NOT NULL,
    onboarded_via         TEXT,
    email_perms           TEXT NOT NULL,
    is_own_partner_tenant INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE tenant_rows (
    position  INTEGER PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    data      TEXT NOT NULL
);

CREATE TABLE journal (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id    TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    step      TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    detail    TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX journal_by_run ON journal (run_id, seq);
CREATE INDEX journal_by_step ON journal (run_id, tenant_id, step);

CREATE TABLE journal_runs (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    spec       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"#,
    },
    Migration {
        version: 2,
        description: "partner connection, users, sessions, background jobs",
        sql: r#"
CREATE TABLE partner_connection (
    id                      INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    encrypted_refresh_token BLOB NOT NULL,
    user_email              TEXT,
    partner_tenant_id       TEXT,
    connected_at            TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY NOT NULL,
    email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role           TEXT NOT NULL,
    password_hash  TEXT,
    api_token_hash TEXT UNIQUE,
    created_at     TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE jobs (
    id         TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    params     TEXT NOT NULL,
    created_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX jobs_by_created ON jobs (created_at);

CREATE TABLE job_items (
    job_id     TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL,
    position   INTEGER NOT NULL,
    status     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (job_id, tenant_id)
) WITHOUT ROWID;
"#,
    },
];

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// The schema version of an open database (`PRAGMA user_version`).
pub(crate) fn schema_version(conn: &Connection) -> Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .ctx("read the schema version")
}

/// Brings `conn` to [`CURRENT_VERSION`]; refuses a newer schema. Returns the version found.
pub(crate) fn migrate(conn: &mut Connection) -> Result<i64> {
    let found = schema_version(conn)?;
    if found > CURRENT_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: CURRENT_VERSION,
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > found) {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .ctx("begin a migration")?;
        // Re-check inside the write transaction: another process may have migrated meanwhile.
        let now = schema_version(&tx)?;
        if now >= m.version {
            continue;
        }
        tx.execute_batch(m.sql).ctx("apply a schema migration")?;
        tx.pragma_update(None, "user_version", m.version)
            .ctx("record the schema version")?;
        tx.commit().ctx("commit a schema migration")?;
        tracing::info!(
            version = m.version,
            description = m.description,
            "gdap-store: schema migrated"
        );
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_dense_and_ordered() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
        }
    }

    #[test]
    fn migrate_is_idempotent() {
        let mut c = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut c).unwrap(), 0);
        assert_eq!(migrate(&mut c).unwrap(), CURRENT_VERSION);
        assert_eq!(schema_version(&c).unwrap(), CURRENT_VERSION);
    }
}
