//! The server's own tables (users, sessions, the partner connection, background jobs), in the
//! same SQLite file as `gdap-store`'s tenant records and journal, on a separate connection.
//!
//! `gdap-store` keeps `PRAGMA user_version` for its own schema, so these tables carry their own
//! version in `server_meta` and are created idempotently.

// `let rows = ...; rows` keeps the statement alive until the rows are collected.
#![allow(clippy::let_and_return)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::Role;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS server_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS server_users (
    id             TEXT PRIMARY KEY NOT NULL,
    email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role           TEXT NOT NULL,
    api_token_hash TEXT NOT NULL UNIQUE,
    created_at     TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS server_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES server_users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS server_connection (
    id                      INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    encrypted_refresh_token BLOB NOT NULL,
    user_email              TEXT,
    partner_tenant_id       TEXT,
    connected_at            TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS server_jobs (
    id         TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS server_job_items (
    job_id     TEXT NOT NULL REFERENCES server_jobs (id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL,
    position   INTEGER NOT NULL,
    status     TEXT NOT NULL,
    detail     TEXT,
    error      TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (job_id, tenant_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO server_meta (key, value) VALUES ('schema_version', '1');
"#;

/// A user row.
#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) role: Role,
}

/// The stored connection (ciphertext only).
#[derive(Clone)]
pub(crate) struct ConnectionRow {
    pub(crate) encrypted_refresh_token: Vec<u8>,
    pub(crate) user_email: Option<String>,
    pub(crate) partner_tenant_id: Option<String>,
    pub(crate) connected_at: String,
}

/// A job row.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobRow {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) status: String,
    pub(crate) created_by: String,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

/// A job item row.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobItemRow {
    pub(crate) tenant_id: String,
    pub(crate) status: String,
    pub(crate) detail: Option<String>,
    pub(crate) error: Option<serde_json::Value>,
    /// The workflow's report for the tenant (`TenantReport` JSON) once it finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) report: Option<serde_json::Value>,
    pub(crate) updated_at: String,
}

/// The server's tables; one connection behind a mutex, used on the blocking pool.
#[derive(Clone)]
pub(crate) struct ServerDb {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for ServerDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerDb").finish_non_exhaustive()
    }
}

pub(crate) fn now_text() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

impl ServerDb {
    /// Opens the file and creates the tables (blocking; call at start-up).
    pub(crate) fn open(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        // Version 2: each job item keeps the workflow's `TenantReport` (JSON).
        let has_report: bool = conn.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('server_job_items') WHERE name = 'report'",
            [],
            |r| r.get(0),
        )?;
        if !has_report {
            conn.execute_batch(
                "ALTER TABLE server_job_items ADD COLUMN report TEXT;
                 UPDATE server_meta SET value = '2' WHERE key = 'schema_version';",
            )?;
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn call<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| anyhow::anyhow!("database mutex poisoned"))?;
            f(&mut guard).map_err(anyhow::Error::from)
        })
        .await?
    }

    /// Blocking variant for the CLI (`user add`).
    pub(crate) fn add_user_blocking(
        &self,
        email: &str,
        role: Role,
        token_hash: &str,
    ) -> anyhow::Result<String> {
        let id = uuid::Uuid::new_v4().to_string();
        let conn = self
            .conn
            .lock()
            .map_err(|_| anyhow::anyhow!("database mutex poisoned"))?;
        conn.execute(
            "INSERT INTO server_users (id, email, role, api_token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (email) DO UPDATE SET role = excluded.role, api_token_hash = excluded.api_token_hash",
            params![id, email, role.as_str(), token_hash, now_text()],
        )?;
        let id: String = conn.query_row(
            "SELECT id FROM server_users WHERE email = ?1",
            params![email],
            |r| r.get(0),
        )?;
        Ok(id)
    }

    pub(crate) async fn user_by_token_hash(&self, hash: String) -> anyhow::Result<Option<UserRow>> {
        self.call(move |c| {
            c.query_row(
                "SELECT id, email, role FROM server_users WHERE api_token_hash = ?1",
                params![hash],
                user_from_row,
            )
            .optional()
        })
        .await
        .map(Option::flatten)
    }

    pub(crate) async fn user_by_session_hash(
        &self,
        hash: String,
    ) -> anyhow::Result<Option<UserRow>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        self.call(move |c| {
            c.query_row(
                "SELECT u.id, u.email, u.role FROM server_sessions s JOIN server_users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                params![hash, now],
                user_from_row,
            )
            .optional()
        })
        .await
        .map(Option::flatten)
    }

    pub(crate) async fn create_session(
        &self,
        hash: String,
        user_id: String,
        expires_at: i64,
    ) -> anyhow::Result<()> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        self.call(move |c| {
            c.execute(
                "DELETE FROM server_sessions WHERE expires_at <= ?1",
                params![now],
            )?;
            c.execute(
                "INSERT INTO server_sessions (token_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
                params![hash, user_id, expires_at],
            )
            .map(|_| ())
        })
        .await
    }

    pub(crate) async fn delete_session(&self, hash: String) -> anyhow::Result<()> {
        self.call(move |c| {
            c.execute(
                "DELETE FROM server_sessions WHERE token_hash = ?1",
                params![hash],
            )
            .map(|_| ())
        })
        .await
    }

    pub(crate) async fn load_connection(&self) -> anyhow::Result<Option<ConnectionRow>> {
        self.call(|c| {
            c.query_row(
                "SELECT encrypted_refresh_token, user_email, partner_tenant_id, connected_at FROM server_connection WHERE id = 1",
                [],
                |r| {
                    Ok(ConnectionRow {
                        encrypted_refresh_token: r.get(0)?,
                        user_email: r.get(1)?,
                        partner_tenant_id: r.get(2)?,
                        connected_at: r.get(3)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    /// Replaces the connection (connect / re-authenticate).
    pub(crate) async fn save_connection(
        &self,
        sealed: Vec<u8>,
        user_email: Option<String>,
        partner_tenant_id: Option<String>,
    ) -> anyhow::Result<()> {
        let now = now_text();
        self.call(move |c| {
            c.execute(
                "INSERT INTO server_connection (id, encrypted_refresh_token, user_email, partner_tenant_id, connected_at, updated_at)
                 VALUES (1, ?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (id) DO UPDATE SET encrypted_refresh_token = excluded.encrypted_refresh_token,
                   user_email = excluded.user_email, partner_tenant_id = excluded.partner_tenant_id,
                   connected_at = excluded.connected_at, updated_at = excluded.updated_at",
                params![sealed, user_email, partner_tenant_id, now],
            )
            .map(|_| ())
        })
        .await
    }

    /// Stores a rotated refresh token (keeps who and when connected).
    pub(crate) async fn rotate_connection_token(&self, sealed: Vec<u8>) -> anyhow::Result<()> {
        let now = now_text();
        self.call(move |c| {
            c.execute(
                "UPDATE server_connection SET encrypted_refresh_token = ?1, updated_at = ?2 WHERE id = 1",
                params![sealed, now],
            )
            .map(|_| ())
        })
        .await
    }

    pub(crate) async fn delete_connection(&self) -> anyhow::Result<bool> {
        self.call(|c| {
            c.execute("DELETE FROM server_connection WHERE id = 1", [])
                .map(|n| n > 0)
        })
        .await
    }

    pub(crate) async fn create_job(
        &self,
        id: String,
        kind: String,
        created_by: String,
        tenants: Vec<String>,
    ) -> anyhow::Result<()> {
        let now = now_text();
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO server_jobs (id, kind, status, created_by, created_at, updated_at) VALUES (?1, ?2, 'running', ?3, ?4, ?4)",
                params![id, kind, created_by, now],
            )?;
            for (i, t) in tenants.iter().enumerate() {
                tx.execute(
                    "INSERT OR IGNORE INTO server_job_items (job_id, tenant_id, position, status, updated_at) VALUES (?1, ?2, ?3, 'pending', ?4)",
                    params![id, t, i as i64, now],
                )?;
            }
            tx.commit()
        })
        .await
    }

    pub(crate) async fn set_item(
        &self,
        job: String,
        tenant: String,
        status: &'static str,
        detail: Option<String>,
        error: Option<serde_json::Value>,
        report: Option<serde_json::Value>,
    ) -> anyhow::Result<()> {
        let now = now_text();
        let error = error.map(|e| e.to_string());
        let report = report.map(|e| e.to_string());
        self.call(move |c| {
            c.execute(
                "UPDATE server_job_items SET status = ?3, detail = ?4, error = ?5, report = ?6, updated_at = ?7 WHERE job_id = ?1 AND tenant_id = ?2",
                params![job, tenant, status, detail, error, report, now],
            )?;
            c.execute(
                "UPDATE server_jobs SET updated_at = ?2 WHERE id = ?1",
                params![job, now],
            )
            .map(|_| ())
        })
        .await
    }

    pub(crate) async fn finish_job(&self, job: String, status: &'static str) -> anyhow::Result<()> {
        let now = now_text();
        self.call(move |c| {
            c.execute(
                "UPDATE server_jobs SET status = ?2, updated_at = ?3 WHERE id = ?1",
                params![job, status, now],
            )
            .map(|_| ())
        })
        .await
    }

    pub(crate) async fn job(
        &self,
        id: String,
    ) -> anyhow::Result<Option<(JobRow, Vec<JobItemRow>)>> {
        self.call(move |c| {
            let Some(job) = c
                .query_row(
                    "SELECT id, kind, status, created_by, created_at, updated_at FROM server_jobs WHERE id = ?1",
                    params![id],
                    job_from_row,
                )
                .optional()?
            else {
                return Ok(None);
            };
            let mut stmt = c.prepare(
                "SELECT tenant_id, status, detail, error, updated_at, report FROM server_job_items WHERE job_id = ?1 ORDER BY position",
            )?;
            let items = stmt
                .query_map(params![id], |r| {
                    let error: Option<String> = r.get(3)?;
                    let report: Option<String> = r.get(5)?;
                    Ok(JobItemRow {
                        report: report.and_then(|e| serde_json::from_str(&e).ok()),
                        tenant_id: r.get(0)?,
                        status: r.get(1)?,
                        detail: r.get(2)?,
                        error: error.and_then(|e| serde_json::from_str(&e).ok()),
                        updated_at: r.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Some((job, items)))
        })
        .await
    }

    /// Jobs left `running` by a previous process.
    pub(crate) async fn unfinished_jobs(&self) -> anyhow::Result<Vec<JobRow>> {
        self.call(|c| {
            let mut stmt = c.prepare(
                "SELECT id, kind, status, created_by, created_at, updated_at FROM server_jobs WHERE status = 'running' ORDER BY created_at",
            )?;
            let rows = stmt
                .query_map([], job_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>();
            rows
        })
        .await
    }

    /// Every item of `job` as (tenant, status), in the order given.
    pub(crate) async fn item_states(&self, job: String) -> anyhow::Result<Vec<(String, String)>> {
        self.call(move |c| {
            let mut stmt = c.prepare(
                "SELECT tenant_id, status FROM server_job_items WHERE job_id = ?1 ORDER BY position",
            )?;
            let rows = stmt
                .query_map(params![job], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<(String, String)>>>();
            rows
        })
        .await
    }
}

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<UserRow>> {
    let role: String = r.get(2)?;
    Ok(role.parse::<Role>().ok().map(|role| UserRow {
        id: r.get(0).unwrap_or_default(),
        email: r.get(1).unwrap_or_default(),
        role,
    }))
}

fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRow> {
    Ok(JobRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        status: r.get(2)?,
        created_by: r.get(3)?,
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
    })
}
