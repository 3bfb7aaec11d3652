//! Background jobs (batch onboarding and the like) and their per-tenant items.
//!
//! A job has a kind (`"onboard"`, `"refreshEmailPerms"`, … — the caller's names), a status, its
//! parameters as JSON (enough to resume it on another instance), and one item per tenant whose
//! status is JSON the caller chooses (typically the per-step report). The journal, keyed by the
//! job id as run id, records the steps themselves.

use std::fmt;

use gdap_core::TenantId;
use rusqlite::{Connection, params};
use time::OffsetDateTime;

use crate::error::{Context, Result, StoreError};
use crate::store::{SqliteStore, col, fmt_time, key_of, parse_id, parse_time};

const JOBS: &str = "jobs";
const ITEMS: &str = "job_items";

gdap_core::guid_id!(
    /// A job id (a GUID). Use its text as the journal's run id.
    JobId,
    "job id"
);

/// Where a job is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobStatus {
    /// Waiting to start.
    Queued,
    /// Running.
    Running,
    /// Finished (items may still have failed individually).
    Completed,
    /// Stopped by an error before finishing.
    Failed,
    /// Cancelled by a user.
    Cancelled,
    /// A status this build does not know; the stored text is kept.
    Unknown(String),
}

impl JobStatus {
    /// The stored text (`"queued"`, `"running"`, `"completed"`, `"failed"`, `"cancelled"`).
    pub fn as_str(&self) -> &str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Unknown(s) => s,
        }
    }

    /// Parses stored text; unknown text becomes [`JobStatus::Unknown`].
    pub fn parse(s: &str) -> Self {
        match s {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "completed" => JobStatus::Completed,
            "failed" => JobStatus::Failed,
            "cancelled" => JobStatus::Cancelled,
            other => JobStatus::Unknown(other.to_owned()),
        }
    }

    /// Completed, failed or cancelled.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A background job.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Job {
    /// The id.
    pub id: JobId,
    /// What it does (the caller's name, e.g. `"onboard"`).
    pub kind: String,
    /// Where it is.
    pub status: JobStatus,
    /// Its parameters (no secrets).
    pub params: serde_json::Value,
    /// Who started it (a user id as text), if known.
    pub created_by: Option<String>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When its status last changed.
    pub updated_at: OffsetDateTime,
}

impl Job {
    /// A queued job with a random id.
    pub fn new(kind: impl Into<String>, params: serde_json::Value, now: OffsetDateTime) -> Self {
        Self {
            id: JobId::new_random(),
            kind: kind.into(),
            status: JobStatus::Queued,
            params,
            created_by: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Sets who started it.
    pub fn with_created_by(mut self, who: impl Into<String>) -> Self {
        self.created_by = Some(who.into());
        self
    }
}

/// One tenant of a job.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JobItem {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Its status, as the caller chooses to record it (e.g. the per-step report).
    pub status: serde_json::Value,
    /// When it was last written.
    pub updated_at: OffsetDateTime,
}

impl JobItem {
    /// An item.
    pub fn new(tenant_id: TenantId, status: serde_json::Value, updated_at: OffsetDateTime) -> Self {
        Self {
            tenant_id,
            status,
            updated_at,
        }
    }
}

const JOB_COLUMNS: &str = "id, kind, status, params, created_by, created_at, updated_at";

fn read_job(row: &rusqlite::Row<'_>) -> Result<Job> {
    let key = key_of(row, 0);
    let id: String = col(row, 0, JOBS, &key)?;
    let status: String = col(row, 2, JOBS, &key)?;
    let params: String = col(row, 3, JOBS, &key)?;
    let created: String = col(row, 5, JOBS, &key)?;
    let updated: String = col(row, 6, JOBS, &key)?;
    Ok(Job {
        id: parse_id(JOBS, &key, &id)?,
        kind: col(row, 1, JOBS, &key)?,
        status: JobStatus::parse(&status),
        params: serde_json::from_str(&params)
            .map_err(|e| StoreError::corrupt(JOBS, &key, format!("bad params JSON: {e}")))?,
        created_by: col(row, 4, JOBS, &key)?,
        created_at: parse_time(JOBS, &key, &created)?,
        updated_at: parse_time(JOBS, &key, &updated)?,
    })
}

fn query_jobs(c: &Connection, tail: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<Job>> {
    let mut stmt = c
        .prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM jobs {tail}"))
        .ctx("read jobs")?;
    let mut rows = stmt.query(args).ctx("read jobs")?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().ctx("read jobs")? {
        out.push(read_job(row)?);
    }
    Ok(out)
}

impl SqliteStore {
    /// Stores a new job. Fails with a conflict when the id is taken.
    pub async fn create_job(&self, job: &Job) -> Result<()> {
        let j = job.clone();
        let params_json = j.params.to_string();
        let created = fmt_time(j.created_at)?;
        let updated = fmt_time(j.updated_at)?;
        self.call(move |c| {
            let r = c.execute(
                &format!("INSERT INTO jobs ({JOB_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                params![
                    j.id.to_string(),
                    j.kind,
                    j.status.as_str(),
                    params_json,
                    j.created_by,
                    created,
                    updated
                ],
            );
            match r {
                Ok(_) => Ok(()),
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Err(StoreError::Conflict {
                        what: "job",
                        key: j.id.to_string(),
                    })
                }
                Err(e) => Err(StoreError::sqlite("create a job", e)),
            }
        })
        .await
    }

    /// The job with `id`.
    pub async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        self.read(move |c| {
            Ok(query_jobs(c, "WHERE id = ?1", &[&id.to_string()])?
                .into_iter()
                .next())
        })
        .await
    }

    /// The newest `limit` jobs, newest first.
    pub async fn list_jobs(&self, limit: u32) -> Result<Vec<Job>> {
        self.read(move |c| {
            query_jobs(
                c,
                "ORDER BY created_at DESC, id LIMIT ?1",
                &[&i64::from(limit)],
            )
        })
        .await
    }

    /// The jobs with `status`, oldest first (e.g. the `running` jobs to resume after a restart).
    pub async fn jobs_with_status(&self, status: &JobStatus) -> Result<Vec<Job>> {
        let status = status.as_str().to_owned();
        self.read(move |c| query_jobs(c, "WHERE status = ?1 ORDER BY created_at, id", &[&status]))
            .await
    }

    /// Sets a job's status and `updated_at`. Returns `false` when there is no such job.
    pub async fn set_job_status(
        &self,
        id: JobId,
        status: &JobStatus,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let status = status.as_str().to_owned();
        let now = fmt_time(now)?;
        self.call(move |c| {
            c.execute(
                "UPDATE jobs SET status = ?1, updated_at = ?2 WHERE id = ?3",
                params![status, now, id.to_string()],
            )
            .map(|n| n > 0)
            .ctx("update a job")
        })
        .await
    }

    /// Deletes a job and its items. Returns whether it existed.
    pub async fn delete_job(&self, id: JobId) -> Result<bool> {
        self.call(move |c| {
            c.execute("DELETE FROM jobs WHERE id = ?1", [id.to_string()])
                .map(|n| n > 0)
                .ctx("delete a job")
        })
        .await
    }

    /// Creates or replaces the item of `item.tenant_id` in job `id`. Items keep the order in
    /// which they were first written. Fails when the job does not exist.
    pub async fn upsert_job_item(&self, id: JobId, item: &JobItem) -> Result<()> {
        let tenant = item.tenant_id.to_string();
        let status = item.status.to_string();
        let updated = fmt_time(item.updated_at)?;
        self.call(move |c| {
            c.execute(
                "INSERT INTO job_items (job_id, tenant_id, position, status, updated_at)
                 VALUES (?1, ?2,
                   (SELECT COALESCE(MAX(position), -1) + 1 FROM job_items WHERE job_id = ?1),
                   ?3, ?4)
                 ON CONFLICT (job_id, tenant_id) DO UPDATE SET
                   status = excluded.status, updated_at = excluded.updated_at",
                params![id.to_string(), tenant, status, updated],
            )
            .map(|_| ())
            .ctx("write a job item")
        })
        .await
    }

    /// The items of job `id`, in the order first written.
    pub async fn job_items(&self, id: JobId) -> Result<Vec<JobItem>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT tenant_id, status, updated_at FROM job_items
                     WHERE job_id = ?1 ORDER BY position",
                )
                .ctx("read job items")?;
            let mut rows = stmt.query([id.to_string()]).ctx("read job items")?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().ctx("read job items")? {
                let key = format!("{id}/{}", key_of(row, 0));
                let tenant: String = col(row, 0, ITEMS, &key)?;
                let status: String = col(row, 1, ITEMS, &key)?;
                let updated: String = col(row, 2, ITEMS, &key)?;
                out.push(JobItem {
                    tenant_id: parse_id(ITEMS, &key, &tenant)?,
                    status: serde_json::from_str(&status).map_err(|e| {
                        StoreError::corrupt(ITEMS, &key, format!("bad status JSON: {e}"))
                    })?,
                    updated_at: parse_time(ITEMS, &key, &updated)?,
                });
            }
            Ok(out)
        })
        .await
    }
}
