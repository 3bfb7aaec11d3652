//! The partner connection: the signed-in partner user's refresh token (encrypted by the caller)
//! and who connected, when. One per database.
//!
//! The store keeps only the bytes it is given: encrypting and decrypting the refresh token is the
//! front-end's job (the server encrypts at rest with its key; the CLI may use the OS keychain).

use std::fmt;

use gdap_core::TenantId;
use rusqlite::{Connection, params};
use time::OffsetDateTime;

use crate::error::{Context, Result};
use crate::store::{SqliteStore, col, fmt_time, parse_id, parse_time};

const TABLE: &str = "partner_connection";

/// The stored partner connection.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartnerConnection {
    /// The refresh token, already encrypted by the caller. Never printed.
    pub encrypted_refresh_token: Vec<u8>,
    /// The connected partner user's email (UPN).
    pub user_email: Option<String>,
    /// The partner tenant.
    pub partner_tenant_id: Option<TenantId>,
    /// When the user connected.
    pub connected_at: OffsetDateTime,
    /// When the token was last replaced (equal to `connected_at` until a rotation).
    pub updated_at: OffsetDateTime,
}

impl PartnerConnection {
    /// A connection made at `connected_at` holding `encrypted_refresh_token`.
    pub fn new(encrypted_refresh_token: Vec<u8>, connected_at: OffsetDateTime) -> Self {
        Self {
            encrypted_refresh_token,
            user_email: None,
            partner_tenant_id: None,
            connected_at,
            updated_at: connected_at,
        }
    }

    /// Sets the user's email.
    pub fn with_user_email(mut self, email: impl Into<String>) -> Self {
        self.user_email = Some(email.into());
        self
    }

    /// Sets the partner tenant.
    pub fn with_partner_tenant_id(mut self, tenant: TenantId) -> Self {
        self.partner_tenant_id = Some(tenant);
        self
    }
}

impl fmt::Debug for PartnerConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartnerConnection")
            .field(
                "encrypted_refresh_token",
                &format_args!("[{} bytes]", self.encrypted_refresh_token.len()),
            )
            .field("user_email", &self.user_email)
            .field("partner_tenant_id", &self.partner_tenant_id)
            .field("connected_at", &self.connected_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

fn load(c: &Connection) -> Result<Option<PartnerConnection>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT encrypted_refresh_token, user_email, partner_tenant_id, connected_at, updated_at
             FROM partner_connection WHERE id = 1",
        )
        .ctx("read the partner connection")?;
    let mut rows = stmt.query([]).ctx("read the partner connection")?;
    let Some(row) = rows.next().ctx("read the partner connection")? else {
        return Ok(None);
    };
    let key = "1";
    let tenant: Option<String> = col(row, 2, TABLE, key)?;
    let connected_at: String = col(row, 3, TABLE, key)?;
    let updated_at: String = col(row, 4, TABLE, key)?;
    Ok(Some(PartnerConnection {
        encrypted_refresh_token: col(row, 0, TABLE, key)?,
        user_email: col(row, 1, TABLE, key)?,
        partner_tenant_id: tenant
            .map(|t| parse_id::<TenantId>(TABLE, key, &t))
            .transpose()?,
        connected_at: parse_time(TABLE, key, &connected_at)?,
        updated_at: parse_time(TABLE, key, &updated_at)?,
    }))
}

impl SqliteStore {
    /// Saves the partner connection, replacing any previous one.
    pub async fn save_connection(&self, connection: &PartnerConnection) -> Result<()> {
        let blob = connection.encrypted_refresh_token.clone();
        let email = connection.user_email.clone();
        let tenant = connection.partner_tenant_id.map(|t| t.to_string());
        let connected_at = fmt_time(connection.connected_at)?;
        let updated_at = fmt_time(connection.updated_at)?;
        self.call(move |c| {
            c.execute(
                "INSERT INTO partner_connection
                   (id, encrypted_refresh_token, user_email, partner_tenant_id, connected_at, updated_at)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET
                   encrypted_refresh_token = excluded.encrypted_refresh_token,
                   user_email = excluded.user_email,
                   partner_tenant_id = excluded.partner_tenant_id,
                   connected_at = excluded.connected_at,
                   updated_at = excluded.updated_at",
                params![blob, email, tenant, connected_at, updated_at],
            )
            .map(|_| ())
            .ctx("save the partner connection")
        })
        .await
    }

    /// The partner connection, if one was saved.
    pub async fn load_connection(&self) -> Result<Option<PartnerConnection>> {
        self.read(|c| load(c)).await
    }

    /// Replaces the refresh token of the saved connection (a rotation), setting `updated_at`.
    /// Returns `false` when there is no connection.
    pub async fn update_refresh_token(
        &self,
        encrypted_refresh_token: Vec<u8>,
        updated_at: OffsetDateTime,
    ) -> Result<bool> {
        let at = fmt_time(updated_at)?;
        self.call(move |c| {
            c.execute(
                "UPDATE partner_connection SET encrypted_refresh_token = ?1, updated_at = ?2
                 WHERE id = 1",
                params![encrypted_refresh_token, at],
            )
            .map(|n| n > 0)
            .ctx("update the refresh token")
        })
        .await
    }

    /// Forgets the partner connection (disconnect). Returns whether there was one.
    pub async fn delete_connection(&self) -> Result<bool> {
        self.call(|c| {
            c.execute("DELETE FROM partner_connection WHERE id = 1", [])
                .map(|n| n > 0)
                .ctx("delete the partner connection")
        })
        .await
    }
}
