//! The state directory: the refresh token `gdap connect` stored (mode 0600), the connection's
//! non-secret facts, and the tenant store and journal.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use gdap_auth::{RefreshTokenSink, SinkError};
use gdap_onboard::ports::{Journal, TenantStore};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// File names inside the state directory.
pub(crate) const REFRESH_TOKEN_FILE: &str = "refresh-token";
const CONNECTION_FILE: &str = "connection.json";
const DB_FILE: &str = "gdap.db";

/// The state directory.
#[derive(Debug, Clone)]
pub(crate) struct StateDir {
    path: PathBuf,
}

/// Non-secret facts about the last `gdap connect`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Connection {
    /// The app's client id.
    pub(crate) client_id: Option<String>,
    /// The authority signed in against.
    pub(crate) authority: Option<String>,
    /// The signed-in user.
    pub(crate) user: Option<String>,
    /// The partner tenant.
    pub(crate) partner_tenant_id: Option<String>,
}

impl StateDir {
    /// `--state-dir`, else `$GDAP_STATE_DIR`, else `$XDG_STATE_HOME/gdap`, else
    /// `~/.local/state/gdap`, else `./.gdap`.
    pub(crate) fn resolve(flag: Option<&Path>) -> Self {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let path = flag
            .map(Path::to_path_buf)
            .or_else(|| env("GDAP_STATE_DIR"))
            .or_else(|| env("XDG_STATE_HOME").map(|p| p.join("gdap")))
            .or_else(|| env("HOME").map(|p| p.join(".local/state/gdap")))
            .unwrap_or_else(|| PathBuf::from(".gdap"));
        Self { path }
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn ensure(&self) -> std::io::Result<()> {
        fs::create_dir_all(&self.path)?;
        restrict(&self.path, 0o700)
    }

    /// The stored refresh token, if any.
    pub(crate) fn refresh_token(&self) -> std::io::Result<Option<SecretString>> {
        read_secret_file(&self.path.join(REFRESH_TOKEN_FILE))
    }

    /// Stores the refresh token (mode 0600, written to a temporary file then renamed).
    pub(crate) fn store_refresh_token(&self, token: &SecretString) -> std::io::Result<PathBuf> {
        self.ensure()?;
        let target = self.path.join(REFRESH_TOKEN_FILE);
        let tmp = self.path.join(format!(".{REFRESH_TOKEN_FILE}.tmp"));
        {
            let mut opts = fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp)?;
            restrict(&tmp, 0o600)?;
            f.write_all(token.expose_secret().as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &target)?;
        Ok(target)
    }

    /// The last connection's facts.
    pub(crate) fn connection(&self) -> Connection {
        fs::read_to_string(self.path.join(CONNECTION_FILE))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    }

    /// Records the connection's facts.
    pub(crate) fn store_connection(&self, c: &Connection) -> std::io::Result<()> {
        self.ensure()?;
        let text = serde_json::to_string_pretty(c).map_err(std::io::Error::other)?;
        fs::write(self.path.join(CONNECTION_FILE), text)
    }
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Reads a secret from a file (trimmed); `None` when the file does not exist.
pub(crate) fn read_secret_file(path: &Path) -> std::io::Result<Option<SecretString>> {
    match fs::read_to_string(path) {
        Ok(s) => {
            let t = s.trim();
            Ok((!t.is_empty()).then(|| SecretString::from(t.to_owned())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes every rotated refresh token back to the state directory.
pub(crate) struct StateDirSink {
    dir: StateDir,
}

impl StateDirSink {
    pub(crate) fn new(dir: StateDir) -> Self {
        Self { dir }
    }
}

#[async_trait]
impl RefreshTokenSink for StateDirSink {
    async fn store(&self, refresh_token: &SecretString) -> Result<(), SinkError> {
        self.dir.store_refresh_token(refresh_token)?;
        Ok(())
    }
}

/// The tenant store and the journal the workflows use.
#[derive(Clone)]
pub(crate) struct Stores {
    pub(crate) store: Arc<dyn TenantStore>,
    pub(crate) journal: Arc<dyn Journal>,
}

impl Stores {
    /// In memory: the sandbox's throw-away world.
    pub(crate) fn in_memory() -> (Self, Arc<gdap_onboard::fakes::MemoryTenantStore>) {
        let store = Arc::new(gdap_onboard::fakes::MemoryTenantStore::new());
        (
            Self {
                store: store.clone(),
                journal: Arc::new(gdap_onboard::fakes::MemoryJournal::new()),
            },
            store,
        )
    }

    /// SQLite in the state directory (`gdap.db`): tenant records, last sync and the journal.
    pub(crate) fn open(dir: &StateDir) -> anyhow::Result<Self> {
        dir.ensure()?;
        let db = Arc::new(gdap_store::SqliteStore::open(dir.path().join(DB_FILE))?);
        Ok(Self {
            store: db.clone(),
            journal: db,
        })
    }
}
