//! The product's own users (of the multi-user server) and their sessions.
//!
//! The store keeps hashes it is given: hashing passwords, API tokens and session tokens is the
//! server's job. Emails are unique ignoring ASCII case. Deleting a user deletes their sessions.

use std::fmt;

use rusqlite::{Connection, params};
use time::OffsetDateTime;

use crate::error::{Context, Result, StoreError};
use crate::store::{SqliteStore, col, fmt_time, key_of, parse_id, parse_time};

const USERS: &str = "users";
const SESSIONS: &str = "sessions";

gdap_core::guid_id!(
    /// The id of a product user (not an Entra user: see `gdap_core::UserId` for those).
    AccountId,
    "account id"
);

/// A product user's role (seed 000: owner, admin, full member, external guest, billing).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UserRole {
    /// The account owner.
    Owner,
    /// An administrator.
    Admin,
    /// A full member.
    FullMember,
    /// An external guest.
    ExternalGuest,
    /// Billing only.
    Billing,
    /// A role this build does not know; the stored text is kept.
    Unknown(String),
}

impl UserRole {
    /// The stored text (`"owner"`, `"admin"`, `"fullMember"`, `"externalGuest"`, `"billing"`).
    pub fn as_str(&self) -> &str {
        match self {
            UserRole::Owner => "owner",
            UserRole::Admin => "admin",
            UserRole::FullMember => "fullMember",
            UserRole::ExternalGuest => "externalGuest",
            UserRole::Billing => "billing",
            UserRole::Unknown(s) => s,
        }
    }

    /// Parses stored text; unknown text becomes [`UserRole::Unknown`].
    pub fn parse(s: &str) -> Self {
        match s {
            "owner" => UserRole::Owner,
            "admin" => UserRole::Admin,
            "fullMember" => UserRole::FullMember,
            "externalGuest" => UserRole::ExternalGuest,
            "billing" => UserRole::Billing,
            other => UserRole::Unknown(other.to_owned()),
        }
    }
}

impl fmt::Display for UserRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A product user.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct User {
    /// The id.
    pub id: AccountId,
    /// The email (unique, ignoring ASCII case).
    pub email: String,
    /// The role.
    pub role: UserRole,
    /// The password hash (PHC string or similar), if the user has a password. Never printed.
    pub password_hash: Option<String>,
    /// The API token hash, if the user has a token (unique). Never printed.
    pub api_token_hash: Option<String>,
    /// When the user was created.
    pub created_at: OffsetDateTime,
}

impl User {
    /// A new user with a random id and no password or token.
    pub fn new(email: impl Into<String>, role: UserRole, created_at: OffsetDateTime) -> Self {
        Self {
            id: AccountId::new_random(),
            email: email.into(),
            role,
            password_hash: None,
            api_token_hash: None,
            created_at,
        }
    }

    /// Sets the password hash.
    pub fn with_password_hash(mut self, hash: impl Into<String>) -> Self {
        self.password_hash = Some(hash.into());
        self
    }

    /// Sets the API token hash.
    pub fn with_api_token_hash(mut self, hash: impl Into<String>) -> Self {
        self.api_token_hash = Some(hash.into());
        self
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("has_password", &self.password_hash.is_some())
            .field("has_api_token", &self.api_token_hash.is_some())
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// A login session, keyed by the hash of its token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Session {
    /// The hash of the session token (the key). Never printed.
    pub token_hash: String,
    /// Whose session.
    pub user_id: AccountId,
    /// When it started.
    pub created_at: OffsetDateTime,
    /// When it ends.
    pub expires_at: OffsetDateTime,
}

impl Session {
    /// A session.
    pub fn new(
        token_hash: impl Into<String>,
        user_id: AccountId,
        created_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Self {
        Self {
            token_hash: token_hash.into(),
            user_id,
            created_at,
            expires_at,
        }
    }

    /// Whether it has ended at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("user_id", &self.user_id)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

const USER_COLUMNS: &str = "id, email, role, password_hash, api_token_hash, created_at";

fn read_user(row: &rusqlite::Row<'_>) -> Result<User> {
    let key = key_of(row, 0);
    let id: String = col(row, 0, USERS, &key)?;
    let role: String = col(row, 2, USERS, &key)?;
    let created: String = col(row, 5, USERS, &key)?;
    Ok(User {
        id: parse_id(USERS, &key, &id)?,
        email: col(row, 1, USERS, &key)?,
        role: UserRole::parse(&role),
        password_hash: col(row, 3, USERS, &key)?,
        api_token_hash: col(row, 4, USERS, &key)?,
        created_at: parse_time(USERS, &key, &created)?,
    })
}

fn query_users(c: &Connection, filter: &str, arg: Option<String>) -> Result<Vec<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users {filter}");
    let mut stmt = c.prepare_cached(&sql).ctx("read users")?;
    let mut rows = match arg {
        Some(a) => stmt.query([a]),
        None => stmt.query([]),
    }
    .ctx("read users")?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().ctx("read users")? {
        out.push(read_user(row)?);
    }
    Ok(out)
}

fn read_session(row: &rusqlite::Row<'_>) -> Result<Session> {
    // The key is a token hash: name the row by its user, not by the hash.
    let key = format!("session of user {}", key_of(row, 1));
    let user: String = col(row, 1, SESSIONS, &key)?;
    let created: String = col(row, 2, SESSIONS, &key)?;
    let expires: String = col(row, 3, SESSIONS, &key)?;
    Ok(Session {
        token_hash: col(row, 0, SESSIONS, &key)?,
        user_id: parse_id(SESSIONS, &key, &user)?,
        created_at: parse_time(SESSIONS, &key, &created)?,
        expires_at: parse_time(SESSIONS, &key, &expires)?,
    })
}

impl SqliteStore {
    /// Creates a user. Fails with a conflict ([`StoreError::is_conflict`]) when the email (ignoring
    /// case), the id or the API token hash is taken.
    pub async fn create_user(&self, user: &User) -> Result<()> {
        let u = user.clone();
        let created = fmt_time(u.created_at)?;
        self.call(move |c| {
            let r = c.execute(
                &format!("INSERT INTO users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![
                    u.id.to_string(),
                    u.email,
                    u.role.as_str(),
                    u.password_hash,
                    u.api_token_hash,
                    created
                ],
            );
            match r {
                Ok(_) => Ok(()),
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Err(StoreError::Conflict {
                        what: "user",
                        key: u.email,
                    })
                }
                Err(e) => Err(StoreError::sqlite("create a user", e)),
            }
        })
        .await
    }

    /// The user with `id`.
    pub async fn get_user(&self, id: AccountId) -> Result<Option<User>> {
        self.read(move |c| {
            Ok(query_users(c, "WHERE id = ?1", Some(id.to_string()))?
                .into_iter()
                .next())
        })
        .await
    }

    /// The user with `email` (ignoring ASCII case).
    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<User>> {
        let email = email.to_owned();
        self.read(move |c| {
            Ok(query_users(c, "WHERE email = ?1", Some(email))?
                .into_iter()
                .next())
        })
        .await
    }

    /// The user whose API token hash is `hash`.
    pub async fn find_user_by_api_token_hash(&self, hash: &str) -> Result<Option<User>> {
        let hash = hash.to_owned();
        self.read(move |c| {
            Ok(query_users(c, "WHERE api_token_hash = ?1", Some(hash))?
                .into_iter()
                .next())
        })
        .await
    }

    /// Every user, by email.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        self.read(|c| query_users(c, "ORDER BY email", None)).await
    }

    /// Sets a user's role. Returns `false` when there is no such user.
    pub async fn set_user_role(&self, id: AccountId, role: &UserRole) -> Result<bool> {
        let role = role.as_str().to_owned();
        self.update_user(id, "role", Some(role)).await
    }

    /// Sets (or clears) a user's password hash. Returns `false` when there is no such user.
    pub async fn set_password_hash(&self, id: AccountId, hash: Option<String>) -> Result<bool> {
        self.update_user(id, "password_hash", hash).await
    }

    /// Sets (or clears) a user's API token hash. Returns `false` when there is no such user;
    /// fails with a conflict when another user has the same hash.
    pub async fn set_api_token_hash(&self, id: AccountId, hash: Option<String>) -> Result<bool> {
        self.update_user(id, "api_token_hash", hash).await
    }

    async fn update_user(
        &self,
        id: AccountId,
        column: &'static str,
        value: Option<String>,
    ) -> Result<bool> {
        self.call(move |c| {
            c.execute(
                &format!("UPDATE users SET {column} = ?1 WHERE id = ?2"),
                params![value, id.to_string()],
            )
            .map(|n| n > 0)
            .ctx("update a user")
        })
        .await
    }

    /// Deletes a user and their sessions. Returns whether the user existed.
    pub async fn delete_user(&self, id: AccountId) -> Result<bool> {
        self.call(move |c| {
            c.execute("DELETE FROM users WHERE id = ?1", [id.to_string()])
                .map(|n| n > 0)
                .ctx("delete a user")
        })
        .await
    }

    /// Stores a session. Fails when the user does not exist or the token hash is taken.
    pub async fn create_session(&self, session: &Session) -> Result<()> {
        let s = session.clone();
        let created = fmt_time(s.created_at)?;
        let expires = fmt_time(s.expires_at)?;
        self.call(move |c| {
            c.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![s.token_hash, s.user_id.to_string(), created, expires],
            )
            .map(|_| ())
            .ctx("create a session")
        })
        .await
    }

    /// The session with `token_hash`, expired or not (check [`Session::is_expired`]).
    pub async fn get_session(&self, token_hash: &str) -> Result<Option<Session>> {
        let hash = token_hash.to_owned();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT token_hash, user_id, created_at, expires_at FROM sessions
                     WHERE token_hash = ?1",
                )
                .ctx("read a session")?;
            let mut rows = stmt.query([hash]).ctx("read a session")?;
            match rows.next().ctx("read a session")? {
                Some(row) => read_session(row).map(Some),
                None => Ok(None),
            }
        })
        .await
    }

    /// Deletes a session (logout). Returns whether it existed.
    pub async fn delete_session(&self, token_hash: &str) -> Result<bool> {
        let hash = token_hash.to_owned();
        self.call(move |c| {
            c.execute("DELETE FROM sessions WHERE token_hash = ?1", [hash])
                .map(|n| n > 0)
                .ctx("delete a session")
        })
        .await
    }

    /// Deletes every session of a user; returns how many.
    pub async fn delete_user_sessions(&self, id: AccountId) -> Result<u64> {
        self.call(move |c| {
            c.execute("DELETE FROM sessions WHERE user_id = ?1", [id.to_string()])
                .map(|n| n as u64)
                .ctx("delete a user's sessions")
        })
        .await
    }

    /// Deletes the sessions that have ended at `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: OffsetDateTime) -> Result<u64> {
        let now = fmt_time(now)?;
        self.call(move |c| {
            // Stored times sort as text (UTC, fixed width): see `fmt_time`.
            c.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])
                .map(|n| n as u64)
                .ctx("delete expired sessions")
        })
        .await
    }
}
