//! The server's users, sessions, partner connection and background jobs, kept by `gdap-store`'s
//! [`SqliteStore`] (its `users`, `sessions`, `partner_connection`, `jobs` and `job_items`
//! tables). This module only maps the server's types onto that API:
//!
//! - [`Role`] ↔ [`UserRole`] (owner, admin, full member, external guest, billing; a stored role
//!   this build does not know signs nobody in);
//! - a job item's `status` JSON is the server's item: `{status, detail, error, report}` (the
//!   `report` is the workflow's `TenantReport` once the tenant finished);
//! - a job's `params` JSON is `{"tenants": [...]}`, so a job whose items were not all written
//!   (the process stopped while creating it) is completed at the next start.

use gdap_core::TenantId;
use gdap_store::{
    AccountId, Job, JobId, JobItem, JobStatus, PartnerConnection, Session, SqliteStore, User,
    UserRole,
};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::Role;

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

/// The server's view of the store's users, sessions, connection and jobs.
#[derive(Debug, Clone)]
pub(crate) struct ServerDb {
    store: SqliteStore,
}

fn text(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The store's role of a server role.
pub(crate) fn to_store_role(role: Role) -> UserRole {
    match role {
        Role::Owner => UserRole::Owner,
        Role::Admin => UserRole::Admin,
        Role::FullMember => UserRole::FullMember,
        Role::ExternalGuest => UserRole::ExternalGuest,
        Role::Billing => UserRole::Billing,
    }
}

/// The server role of a stored role; `None` for one this build does not know.
pub(crate) fn from_store_role(role: &UserRole) -> Option<Role> {
    match role {
        UserRole::Owner => Some(Role::Owner),
        UserRole::Admin => Some(Role::Admin),
        UserRole::FullMember => Some(Role::FullMember),
        UserRole::ExternalGuest => Some(Role::ExternalGuest),
        UserRole::Billing => Some(Role::Billing),
        _ => None,
    }
}

fn user_row(u: User) -> Option<UserRow> {
    Some(UserRow {
        role: from_store_role(&u.role)?,
        id: u.id.to_string(),
        email: u.email,
    })
}

fn job_row(j: Job) -> JobRow {
    JobRow {
        id: j.id.to_string(),
        kind: j.kind,
        status: j.status.as_str().to_owned(),
        created_by: j.created_by.unwrap_or_default(),
        created_at: text(j.created_at),
        updated_at: text(j.updated_at),
    }
}

fn item_row(i: JobItem) -> JobItemRow {
    let s = &i.status;
    let opt = |k: &str| s.get(k).filter(|v| !v.is_null()).cloned();
    JobItemRow {
        tenant_id: i.tenant_id.to_string(),
        status: s
            .get("status")
            .and_then(|v| v.as_str())
            .unwrap_or("pending")
            .to_owned(),
        detail: opt("detail").and_then(|v| v.as_str().map(str::to_owned)),
        error: opt("error"),
        report: opt("report"),
        updated_at: text(i.updated_at),
    }
}

fn pending_item(tenant: TenantId, now: OffsetDateTime) -> JobItem {
    JobItem::new(tenant, json!({ "status": "pending" }), now)
}

impl ServerDb {
    /// Over the server's store.
    pub(crate) fn new(store: SqliteStore) -> Self {
        Self { store }
    }

    /// Adds a member, or gives an existing one (same email, ignoring case) `role` and a new token.
    pub(crate) async fn add_user(
        &self,
        email: &str,
        role: Role,
        token_hash: &str,
    ) -> anyhow::Result<String> {
        let role = to_store_role(role);
        if let Some(u) = self.store.find_user_by_email(email).await? {
            self.store.set_user_role(u.id, &role).await?;
            self.store
                .set_api_token_hash(u.id, Some(token_hash.to_owned()))
                .await?;
            return Ok(u.id.to_string());
        }
        let user =
            User::new(email, role, OffsetDateTime::now_utc()).with_api_token_hash(token_hash);
        self.store.create_user(&user).await?;
        Ok(user.id.to_string())
    }

    pub(crate) async fn user_by_token_hash(&self, hash: String) -> anyhow::Result<Option<UserRow>> {
        Ok(self
            .store
            .find_user_by_api_token_hash(&hash)
            .await?
            .and_then(user_row))
    }

    pub(crate) async fn user_by_session_hash(
        &self,
        hash: String,
    ) -> anyhow::Result<Option<UserRow>> {
        let Some(session) = self.store.get_session(&hash).await? else {
            return Ok(None);
        };
        if session.is_expired(OffsetDateTime::now_utc()) {
            return Ok(None);
        }
        Ok(self
            .store
            .get_user(session.user_id)
            .await?
            .and_then(user_row))
    }

    pub(crate) async fn create_session(
        &self,
        hash: String,
        user_id: String,
        expires_at: OffsetDateTime,
    ) -> anyhow::Result<()> {
        let now = OffsetDateTime::now_utc();
        self.store.delete_expired_sessions(now).await?;
        let user: AccountId = user_id.parse()?;
        self.store
            .create_session(&Session::new(hash, user, now, expires_at))
            .await?;
        Ok(())
    }

    pub(crate) async fn delete_session(&self, hash: String) -> anyhow::Result<()> {
        self.store.delete_session(&hash).await?;
        Ok(())
    }

    pub(crate) async fn load_connection(&self) -> anyhow::Result<Option<ConnectionRow>> {
        Ok(self.store.load_connection().await?.map(|c| ConnectionRow {
            encrypted_refresh_token: c.encrypted_refresh_token,
            user_email: c.user_email,
            partner_tenant_id: c.partner_tenant_id.map(|t| t.to_string()),
            connected_at: text(c.connected_at),
        }))
    }

    /// Replaces the connection (connect / re-authenticate).
    pub(crate) async fn save_connection(
        &self,
        sealed: Vec<u8>,
        user_email: Option<String>,
        partner_tenant_id: Option<TenantId>,
    ) -> anyhow::Result<()> {
        let mut c = PartnerConnection::new(sealed, OffsetDateTime::now_utc());
        if let Some(e) = user_email {
            c = c.with_user_email(e);
        }
        if let Some(t) = partner_tenant_id {
            c = c.with_partner_tenant_id(t);
        }
        self.store.save_connection(&c).await?;
        Ok(())
    }

    /// Stores a rotated refresh token (keeps who and when connected).
    pub(crate) async fn rotate_connection_token(&self, sealed: Vec<u8>) -> anyhow::Result<()> {
        self.store
            .update_refresh_token(sealed, OffsetDateTime::now_utc())
            .await?;
        Ok(())
    }

    pub(crate) async fn delete_connection(&self) -> anyhow::Result<bool> {
        Ok(self.store.delete_connection().await?)
    }

    /// Creates a job (queued), one pending item per tenant in order, then marks it running.
    pub(crate) async fn create_job(
        &self,
        id: JobId,
        kind: String,
        created_by: String,
        tenants: &[TenantId],
    ) -> anyhow::Result<()> {
        let now = OffsetDateTime::now_utc();
        let mut job =
            Job::new(kind, json!({ "tenants": tenants }), now).with_created_by(created_by);
        job.id = id;
        self.store.create_job(&job).await?;
        for t in tenants {
            self.store
                .upsert_job_item(id, &pending_item(*t, now))
                .await?;
        }
        self.store
            .set_job_status(id, &JobStatus::Running, now)
            .await?;
        Ok(())
    }

    /// Writes a job item (replacing its status, detail, error and report).
    pub(crate) async fn set_item(
        &self,
        job: JobId,
        tenant: TenantId,
        status: &'static str,
        detail: Option<String>,
        error: Option<serde_json::Value>,
        report: Option<serde_json::Value>,
    ) -> anyhow::Result<()> {
        let value = json!({ "status": status, "detail": detail, "error": error, "report": report });
        self.store
            .upsert_job_item(job, &JobItem::new(tenant, value, OffsetDateTime::now_utc()))
            .await?;
        Ok(())
    }

    pub(crate) async fn finish_job(&self, job: JobId, status: JobStatus) -> anyhow::Result<()> {
        self.store
            .set_job_status(job, &status, OffsetDateTime::now_utc())
            .await?;
        Ok(())
    }

    /// The job and its items; `None` for an unknown (or malformed) id.
    pub(crate) async fn job(&self, id: &str) -> anyhow::Result<Option<(JobRow, Vec<JobItemRow>)>> {
        let Ok(id) = id.parse::<JobId>() else {
            return Ok(None);
        };
        let Some(job) = self.store.get_job(id).await? else {
            return Ok(None);
        };
        let items = self.store.job_items(id).await?;
        Ok(Some((
            job_row(job),
            items.into_iter().map(item_row).collect(),
        )))
    }

    /// Jobs left `running` by a previous process, plus any left `queued` (the process stopped
    /// while creating it): those get their missing items and are marked running first.
    pub(crate) async fn unfinished_jobs(&self) -> anyhow::Result<Vec<(JobId, String)>> {
        for job in self.store.jobs_with_status(&JobStatus::Queued).await? {
            let tenants: Vec<TenantId> = job
                .params
                .get("tenants")
                .cloned()
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            let have: Vec<TenantId> = self
                .store
                .job_items(job.id)
                .await?
                .into_iter()
                .map(|i| i.tenant_id)
                .collect();
            let now = OffsetDateTime::now_utc();
            for t in tenants.iter().filter(|t| !have.contains(t)) {
                self.store
                    .upsert_job_item(job.id, &pending_item(*t, now))
                    .await?;
            }
            self.store
                .set_job_status(job.id, &JobStatus::Running, now)
                .await?;
        }
        Ok(self
            .store
            .jobs_with_status(&JobStatus::Running)
            .await?
            .into_iter()
            .map(|j| (j.id, j.kind))
            .collect())
    }

    /// Every item of `job` as (tenant, status), in the order first written.
    pub(crate) async fn item_states(&self, job: JobId) -> anyhow::Result<Vec<(TenantId, String)>> {
        Ok(self
            .store
            .job_items(job)
            .await?
            .into_iter()
            .map(|i| {
                let tenant = i.tenant_id;
                (tenant, item_row(i).status)
            })
            .collect())
    }
}
