//! [`SqliteStore`]: opening the database, pragmas, and running SQLite work off the async runtime.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{Context, Result, StoreError};
use crate::migrations;

/// How hard a journal append works to survive a power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Durability {
    /// `PRAGMA synchronous=FULL` around each journal append: the WAL is synced to disk before the
    /// append returns, so an entry survives a power loss or an OS crash. The default.
    #[default]
    Full,
    /// `synchronous=NORMAL` (the rest of the store's setting): an appended entry survives the
    /// process being killed, but the last few may be lost on a power loss.
    Normal,
}

/// Options for [`SqliteStore::open_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreOptions {
    /// Durability of journal appends (default [`Durability::Full`]).
    pub journal_durability: Durability,
    /// How long a statement waits for another process's lock before failing with a busy error
    /// (default 5 s).
    pub busy_timeout: Duration,
    /// Read-only connections for reads, beside the one writer (default 2; WAL lets them read
    /// while the writer writes). 0 sends reads to the writer. An in-memory store has none.
    pub read_connections: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            journal_durability: Durability::Full,
            busy_timeout: Duration::from_secs(5),
            read_connections: 2,
        }
    }
}

impl StoreOptions {
    /// Sets the durability of journal appends.
    pub fn with_journal_durability(mut self, durability: Durability) -> Self {
        self.journal_durability = durability;
        self
    }

    /// Sets the number of read-only connections.
    pub fn with_read_connections(mut self, n: usize) -> Self {
        self.read_connections = n;
        self
    }

    /// Sets the busy timeout.
    pub fn with_busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }
}

/// The SQLite store: the tenant store and the journal of `gdap-onboard` (it implements
/// [`gdap_onboard::TenantStore`] and [`gdap_onboard::Journal`]), plus the partner connection,
/// users, sessions and background jobs of the front-ends.
///
/// One writer connection behind a mutex serves every write and a few read-only connections serve
/// reads, all on [`tokio::task::spawn_blocking`]: one writer, as SQLite wants, and the async
/// runtime never blocks on disk. Cloning is cheap and shares the connections. Methods must be
/// called inside a Tokio runtime.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    path: Option<PathBuf>,
    options: StoreOptions,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` with default options, sets WAL mode,
    /// and migrates it to the current schema.
    ///
    /// Blocks the calling thread while it opens and migrates: call it at start-up (or inside
    /// `spawn_blocking`). Fails with [`StoreError::SchemaTooNew`] when the file was written by a
    /// newer build.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, StoreOptions::default())
    }

    /// [`SqliteStore::open`] with options.
    pub fn open_with(path: impl AsRef<Path>, options: StoreOptions) -> Result<Self> {
        let path = path.as_ref();
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ctx("open the database")?;
        let mut store = Self::setup(conn, Some(path.to_path_buf()), options)?;
        let mut readers = Vec::new();
        for _ in 0..store.inner.options.read_connections {
            let r = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .ctx("open a read connection")?;
            r.busy_timeout(store.inner.options.busy_timeout)
                .ctx("set the busy timeout")?;
            readers.push(Mutex::new(r));
        }
        if let Some(inner) = Arc::get_mut(&mut store.inner) {
            inner.readers = readers;
        }
        Ok(store)
    }

    /// A private in-memory database (for tests and `--dry-run`); gone when the last clone drops.
    pub fn open_in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory().ctx("open an in-memory database")?;
        Self::setup(conn, None, StoreOptions::default())
    }

    fn setup(mut conn: Connection, path: Option<PathBuf>, options: StoreOptions) -> Result<Self> {
        conn.busy_timeout(options.busy_timeout)
            .ctx("set the busy timeout")?;
        // `journal_mode` answers with the mode in force ("memory" for an in-memory database).
        let _mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .ctx("enable WAL mode")?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .ctx("set synchronous=NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .ctx("enable foreign keys")?;
        let found = migrations::migrate(&mut conn)?;
        tracing::debug!(
            path = ?path,
            found,
            current = migrations::CURRENT_VERSION,
            "gdap-store: opened"
        );
        Ok(Self {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                readers: Vec::new(),
                next_reader: AtomicUsize::new(0),
                path,
                options,
            }),
        })
    }

    /// The database file (`None` for an in-memory store).
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.inner.options
    }

    /// The schema version of the open database (equal to [`migrations::CURRENT_VERSION`] once
    /// opened).
    pub async fn schema_version(&self) -> Result<i64> {
        self.call(|c| migrations::schema_version(c)).await
    }

    /// Runs `f` on the connection on the blocking pool.
    pub(crate) async fn call<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut conn = lock(&inner.conn);
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

impl SqliteStore {
    /// Runs the read-only `f` on a read connection (the writer when there is none) on the
    /// blocking pool. A read sees every write that completed before it started (WAL snapshot).
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.inner.readers.is_empty() {
            return self.call(f).await;
        }
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let readers = &inner.readers;
            // A free reader if there is one; otherwise wait for the next in turn.
            let mut conn = readers
                .iter()
                .find_map(|r| r.try_lock().ok())
                .unwrap_or_else(|| {
                    let i = inner.next_reader.fetch_add(1, Ordering::Relaxed) % readers.len();
                    lock(&readers[i])
                });
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// Locks the connection. A panic while it was held cannot leave SQLite mid-transaction (an
/// unfinished `Transaction` rolls back on drop), so a poisoned lock is taken over.
fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How times are stored: RFC 3339 in UTC with nine fraction digits, so that text order is time
/// order (`ORDER BY`, `<=` in SQL) for years 0000–9999.
const STORED_TIME: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z"
);

/// The stored text of `t` (see [`STORED_TIME`]). The offset is normalised to UTC; the instant
/// (which is what `OffsetDateTime` equality compares) is kept exactly.
pub(crate) fn fmt_time(t: OffsetDateTime) -> Result<String> {
    let utc = t
        .checked_to_offset(time::UtcOffset::UTC)
        .filter(|u| (0..=9999).contains(&u.year()))
        .ok_or_else(|| StoreError::InvalidInput(format!("time {t} is outside years 0000-9999")))?;
    utc.format(STORED_TIME)
        .map_err(|e| StoreError::InvalidInput(format!("time {t} cannot be stored: {e}")))
}

/// Parses RFC 3339 text read from `table` at `key`.
pub(crate) fn parse_time(table: &'static str, key: &str, s: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| StoreError::corrupt(table, key, format!("bad time {s:?}: {e}")))
}

/// The serde name of a unit enum value (`"passed"`, `"monitoring"`, …): the stored code.
pub(crate) fn code_of<T: Serialize + fmt::Debug>(v: &T) -> Result<String> {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(StoreError::InvalidInput(format!(
            "{v:?} has no stored code"
        ))),
    }
}

/// The value among `all` whose code is `code`.
pub(crate) fn from_code<T: Serialize + fmt::Debug + Clone>(
    all: &[T],
    code: &str,
    table: &'static str,
    key: &str,
    what: &str,
) -> Result<T> {
    all.iter()
        .find(|v| code_of(*v).is_ok_and(|c| c == code))
        .cloned()
        .ok_or_else(|| StoreError::corrupt(table, key, format!("unknown {what} {code:?}")))
}

/// Reads column `idx` of `row` as `T`; a type mismatch is a corrupt row of `table` at `key`.
pub(crate) fn col<T: rusqlite::types::FromSql>(
    row: &rusqlite::Row<'_>,
    idx: usize,
    table: &'static str,
    key: &str,
) -> Result<T> {
    row.get(idx)
        .map_err(|e| StoreError::corrupt(table, key, format!("column {idx}: {e}")))
}

/// The key of a row for error messages: column `idx` as text, whatever its type.
pub(crate) fn key_of(row: &rusqlite::Row<'_>, idx: usize) -> String {
    use rusqlite::types::ValueRef;
    match row.get_ref(idx) {
        Ok(ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
        Ok(ValueRef::Integer(i)) => i.to_string(),
        Ok(ValueRef::Real(r)) => r.to_string(),
        Ok(ValueRef::Null) => "NULL".to_owned(),
        Ok(ValueRef::Blob(b)) => format!("<{} byte blob>", b.len()),
        Err(_) => "?".to_owned(),
    }
}

/// Parses an id read from `table` at `key`.
pub(crate) fn parse_id<T: std::str::FromStr>(table: &'static str, key: &str, s: &str) -> Result<T>
where
    T::Err: fmt::Display,
{
    s.parse()
        .map_err(|e| StoreError::corrupt(table, key, format!("bad id {s:?}: {e}")))
}
