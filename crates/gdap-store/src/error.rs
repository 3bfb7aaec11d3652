//! [`StoreError`]: the one error type of this crate, and its mapping to
//! [`gdap_onboard::PortError`].

use std::fmt;

use gdap_onboard::{PortError, PortErrorKind};

/// A `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What went wrong in the store.
///
/// Branch on the predicates ([`StoreError::is_not_found`], [`StoreError::is_conflict`],
/// [`StoreError::is_corrupt`], [`StoreError::is_busy`], [`StoreError::is_schema_too_new`]), not on
/// the variants or the text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed (I/O, a constraint, a locked database, …).
    #[error("{0}")]
    Sqlite(SqliteError),
    /// A stored row could not be decoded (a corrupt or hand-edited database).
    #[error("{0}")]
    Corrupt(CorruptRow),
    /// The database was written by a newer version of this crate; opening it would risk losing
    /// data, so it is refused.
    #[error(
        "the database schema is version {found}, newer than the newest this build knows \
         ({supported}); upgrade gdap before opening it"
    )]
    SchemaTooNew {
        /// The version found in the file (`PRAGMA user_version`).
        found: i64,
        /// The newest version this build supports.
        supported: i64,
    },
    /// A write would break a uniqueness rule (for example a second user with the same email).
    #[error("{what} already exists: {key}")]
    Conflict {
        /// What kind of object (`"user"`, `"session"`, `"job"`).
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// An input was refused before it reached the database (for example a time that cannot be
    /// written as RFC 3339).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The blocking task that ran the SQLite call panicked or was cancelled.
    #[error("the store's worker task failed: {0}")]
    Task(String),
}

impl StoreError {
    /// No such object: a write that names an object that must exist and does not (a session of
    /// an unknown user, an item of an unknown job). Lookups return `Ok(None)` instead.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::Sqlite(e) if e.code == SqliteCode::NotFound)
    }

    /// A uniqueness rule was broken.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
            || matches!(self, StoreError::Sqlite(e) if e.code == SqliteCode::Constraint)
    }

    /// A stored row could not be decoded.
    pub fn is_corrupt(&self) -> bool {
        matches!(self, StoreError::Corrupt(_))
    }

    /// The database is locked by another process for longer than the busy timeout; retrying
    /// later may work.
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Sqlite(e) if e.code == SqliteCode::Busy)
    }

    /// The database was written by a newer schema.
    pub fn is_schema_too_new(&self) -> bool {
        matches!(self, StoreError::SchemaTooNew { .. })
    }

    /// The corrupt row, when this is [`StoreError::Corrupt`].
    pub fn as_corrupt(&self) -> Option<&CorruptRow> {
        match self {
            StoreError::Corrupt(c) => Some(c),
            _ => None,
        }
    }

    pub(crate) fn corrupt(
        table: &'static str,
        key: impl fmt::Display,
        reason: impl fmt::Display,
    ) -> Self {
        StoreError::Corrupt(CorruptRow {
            table,
            key: key.to_string(),
            reason: reason.to_string(),
        })
    }

    pub(crate) fn sqlite(context: &'static str, e: rusqlite::Error) -> Self {
        let code = match &e {
            rusqlite::Error::QueryReturnedNoRows => SqliteCode::NotFound,
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                // A child row naming a parent that does not exist (a session of an unknown
                // user, an item of an unknown job).
                rusqlite::ErrorCode::ConstraintViolation
                    if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
                {
                    SqliteCode::NotFound
                }
                rusqlite::ErrorCode::ConstraintViolation => SqliteCode::Constraint,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                    SqliteCode::Busy
                }
                _ => SqliteCode::Other,
            },
            _ => SqliteCode::Other,
        };
        StoreError::Sqlite(SqliteError {
            context,
            code,
            message: e.to_string(),
            source: Box::new(e),
        })
    }
}

/// Adds a context (what the store was doing) to a `rusqlite` result.
pub(crate) trait Context<T> {
    fn ctx(self, context: &'static str) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, rusqlite::Error> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|e| StoreError::sqlite(context, e))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SqliteCode {
    NotFound,
    Constraint,
    Busy,
    Other,
}

/// A SQLite failure: what the store was doing, and SQLite's message. The `rusqlite` error is
/// reachable only through [`std::error::Error::source`].
#[derive(Debug)]
pub struct SqliteError {
    context: &'static str,
    code: SqliteCode,
    message: String,
    source: Box<rusqlite::Error>,
}

impl SqliteError {
    /// What the store was doing, e.g. `"append journal entry"`.
    pub fn context(&self) -> &str {
        self.context
    }

    /// SQLite's message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SqliteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SQLite error while trying to {}: {}",
            self.context, self.message
        )
    }
}

impl std::error::Error for SqliteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// A row that failed to decode: the table, the row's key and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptRow {
    table: &'static str,
    key: String,
    reason: String,
}

impl CorruptRow {
    /// The table, e.g. `"tenant_records"`.
    pub fn table(&self) -> &str {
        self.table
    }

    /// The row's key (a tenant id, a journal sequence number, a job id, …).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Why it could not be decoded.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for CorruptRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "corrupt row in table {} (key {}): {}",
            self.table, self.key, self.reason
        )
    }
}

impl From<StoreError> for PortError {
    fn from(e: StoreError) -> Self {
        let kind = match &e {
            StoreError::InvalidInput(_) => PortErrorKind::Invalid,
            StoreError::Conflict { .. } => PortErrorKind::AlreadyExists,
            _ if e.is_busy() => PortErrorKind::Transient,
            _ if e.is_not_found() => PortErrorKind::NotFound,
            _ => PortErrorKind::Other,
        };
        PortError::new(kind, format!("store: {e}"))
    }
}
