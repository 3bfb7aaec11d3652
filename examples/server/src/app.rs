//! Configuration, shared state, the router, start-up (migrations, key, connection, job resume)
//! and graceful shutdown.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use gdap_auth::PendingAuthorization;
use gdap_core::TenantId;
use gdap_onboard::TenantRecord;
use gdap_onboard::tenant::{OnboardedVia, Protection};
use gdap_sandbox::{Sandbox, SandboxHandle, World};
use gdap_store::SqliteStore;
use secrecy::SecretString;
use tokio::task::JoinSet;
use url::Url;

use crate::cloud::{self, Connected, DbSink, Endpoints};
use crate::crypto::{KeySource, Sealer};
use crate::db::ServerDb;
use crate::jobs::TenantLocks;
use crate::webhooks::Inbox;
use crate::{api, auth, lifecycle, oauth, page, webhooks};

/// The largest request body accepted (64 KiB).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Where the cloud is.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // built once at start
pub enum CloudMode {
    /// Start the in-process sandbox and connect to it at once.
    Sandbox {
        /// Customer tenants in the seeded world.
        tenants: usize,
        /// The world's seed.
        seed: u64,
    },
    /// Real (or externally run) endpoints; connect through `/connect`.
    Endpoints(Endpoints),
}

/// The server's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The SQLite file (created and migrated at start).
    pub database: PathBuf,
    /// Where to listen (`127.0.0.1:8080`; port 0 picks one).
    pub listen: SocketAddr,
    /// The externally visible base URL (default `http://{listen address}`); the OAuth redirect
    /// URI is `{public_url}/connect/callback`.
    pub public_url: Option<Url>,
    /// The encryption key of the refresh token.
    pub key: KeySource,
    /// The cloud.
    pub cloud: CloudMode,
    /// How old the last sync may be before `GET /api/tenants` syncs again (default 5 min).
    pub stale_after: Duration,
    /// Tenants processed at once by one batch job (default 4).
    pub job_concurrency: usize,
}

impl Config {
    /// A configuration with defaults: key file next to the database, sandbox off.
    pub fn new(database: PathBuf, listen: SocketAddr, cloud: CloudMode) -> Self {
        let key = KeySource::File(database.with_extension("key"));
        Self {
            database,
            listen,
            public_url: None,
            key,
            cloud,
            stale_after: Duration::from_secs(300),
            job_concurrency: 4,
        }
    }
}

/// A sign-in in progress (`/connect` → `/connect/callback`).
pub(crate) struct Pending {
    pub(crate) user_id: String,
    pub(crate) authorization: PendingAuthorization,
    pub(crate) created: Instant,
}

/// Shared state.
pub(crate) struct Inner {
    pub(crate) db: ServerDb,
    pub(crate) store: SqliteStore,
    pub(crate) sealer: Sealer,
    pub(crate) endpoints: Endpoints,
    pub(crate) public_url: Url,
    pub(crate) secure_cookies: bool,
    pub(crate) conn: RwLock<Option<Connected>>,
    pub(crate) pending: Mutex<HashMap<String, Pending>>,
    pub(crate) locks: TenantLocks,
    pub(crate) tasks: Mutex<JoinSet<()>>,
    pub(crate) stopping: AtomicBool,
    /// Cancels the running batch runs (graceful shutdown): each tenant finishes its in-flight
    /// step, is journaled `Cancelled`, and continues at the next start.
    pub(crate) cancel: gdap_onboard::Cancellation,
    pub(crate) last_sync: Mutex<Option<Instant>>,
    pub(crate) sync_lock: tokio::sync::Mutex<()>,
    pub(crate) stale_after: Duration,
    pub(crate) job_concurrency: usize,
    pub(crate) sandbox: Option<SandboxHandle>,
    /// Partner Center webhook events: the path key and the last outcomes.
    pub(crate) webhooks: Inbox,
}

/// The state handlers see.
pub(crate) type AppState = Arc<Inner>;

impl Inner {
    /// The live connection, if any.
    pub(crate) fn connection(&self) -> Option<Connected> {
        match self.conn.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub(crate) fn set_connection(&self, c: Option<Connected>) {
        let mut g = match self.conn.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *g = c;
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    pub(crate) fn mark_synced(&self, at: Option<Instant>) {
        if let Ok(mut g) = self.last_sync.lock() {
            *g = at;
        }
    }

    pub(crate) fn is_stale(&self) -> bool {
        self.last_sync
            .lock()
            .ok()
            .and_then(|g| *g)
            .is_none_or(|t| t.elapsed() >= self.stale_after)
    }

    /// Stores a new refresh token (encrypted) and wires the workflows over it.
    pub(crate) async fn install_connection(
        self: &Arc<Self>,
        refresh_token: SecretString,
        account: gdap_onboard::ports::PartnerAccount,
    ) -> anyhow::Result<Connected> {
        let sealed = self.sealer.seal(&refresh_token)?;
        self.db
            .save_connection(
                sealed,
                account.user_email.clone(),
                account.partner_tenant_id,
            )
            .await?;
        let sink = Arc::new(DbSink {
            db: self.db.clone(),
            sealer: self.sealer.clone(),
        });
        let connected = cloud::wire(&self.endpoints, refresh_token, account, sink, &self.store)?;
        self.set_connection(Some(connected.clone()));
        self.mark_synced(None);
        Ok(connected)
    }
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/login", get(page::login_form).post(page::login))
        .route("/logout", post(page::logout))
        .route("/", get(page::tenants_page))
        .route("/connect", get(oauth::connect))
        .route("/connect/callback", get(oauth::callback))
        .route("/disconnect", post(oauth::disconnect))
        .route("/api/me", get(api::me))
        .route("/api/connection", get(api::connection))
        .route("/api/tenants", get(api::tenants))
        .route("/api/sync", post(api::sync))
        .route("/api/tenants/{id}", delete(api::delete_tenant))
        .route("/api/tenants/{id}/onboard", post(api::onboard_one))
        .route("/api/tenants/{id}/migrate", post(api::migrate_one))
        .route(
            "/api/tenants/{id}/refresh-email-perms",
            post(api::refresh_one),
        )
        .route(
            "/api/tenants/{id}/request-permissions",
            post(api::request_permissions),
        )
        .route("/api/onboard", post(api::onboard_batch))
        .route("/api/migrate", post(api::migrate_batch))
        .route("/api/jobs/{id}", get(api::job))
        .route("/api/my-tenant", get(api::my_tenant))
        .route("/api/my-tenant/enable", post(api::my_tenant_enable))
        .route("/api/my-tenant/disable", post(api::my_tenant_disable))
        .route("/api/expiring", get(api::expiring))
        .route("/api/audit", get(api::audit))
        .route("/api/lifecycle/groups", post(lifecycle::groups))
        .route("/api/lifecycle/auto-extend", post(lifecycle::auto_extend))
        .route("/api/lifecycle/remove-ga", post(lifecycle::remove_ga))
        .route("/api/lifecycle/repair", post(lifecycle::repair))
        .route("/api/lifecycle/webhook", post(lifecycle::webhook))
        .route("/api/lifecycle/trace", get(lifecycle::trace))
        .route("/api/lifecycle/webhook/callback", get(webhooks::callback))
        .route("/api/lifecycle/webhook/events", get(webhooks::events))
        // Partner Center calls it without a session: public in ROUTES, guarded by the path key.
        .route("/webhooks/partner-center/{key}", post(webhooks::receive))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// A running server.
pub struct RunningServer {
    addr: SocketAddr,
    state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    serve: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The in-process sandbox (with [`CloudMode::Sandbox`]).
    pub fn sandbox(&self) -> Option<&SandboxHandle> {
        self.state.sandbox.as_ref()
    }

    /// Waits until every Partner Center webhook event received so far has been processed (its
    /// outcome or error is in `GET /api/lifecycle/webhook/events`); false when `timeout` passed
    /// first. For tests and tools: the receiving route answers 202 before the work is done.
    pub async fn webhook_events_settled(&self, timeout: Duration) -> bool {
        self.state.webhooks.settled(timeout).await
    }

    /// Graceful stop: no new jobs items start, in-flight items get `grace` to finish, then the
    /// rest is aborted (unfinished jobs resume at next start).
    pub async fn shutdown(mut self, grace: Duration) {
        self.state.stopping.store(true, Ordering::SeqCst);
        self.state.cancel.cancel();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let mut tasks = {
            let mut g = match self.state.tasks.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            std::mem::take(&mut *g)
        };
        let _ =
            tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        tasks.abort_all();
        let _ = tokio::time::timeout(grace, &mut self.serve).await;
        self.serve.abort();
    }

    /// Stops at once, as a crash would: background work is aborted mid-step.
    pub async fn kill(self) {
        self.state.stopping.store(true, Ordering::SeqCst);
        {
            let mut g = match self.state.tasks.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            g.abort_all();
        }
        self.serve.abort();
        let _ = self.serve.await;
    }

    /// Serves until Ctrl-C / SIGTERM, then shuts down gracefully.
    pub async fn run_until_signal(self) {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.shutdown(Duration::from_secs(10)).await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Adds a member with `role` (or gives an existing one, same email ignoring case, the role and
/// a new token) and returns the new API token (used by `user add`).
pub async fn add_user(
    database: &std::path::Path,
    email: &str,
    role: auth::Role,
) -> anyhow::Result<String> {
    let path = database.to_path_buf();
    // Opening the store runs gdap-store's migrations (blocking).
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path)).await??;
    let token = auth::new_api_token();
    ServerDb::new(store)
        .add_user(email, role, &auth::hash_secret(&token))
        .await?;
    Ok(token)
}

/// Starts the server: migrations, key, sandbox, stored connection, job resume, listener.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    let path = config.database.clone();
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path)).await??;
    let db = ServerDb::new(store.clone());
    let sealer = Sealer::load(&config.key)?;
    let (endpoints, sandbox) = match &config.cloud {
        CloudMode::Endpoints(e) => (e.clone(), None),
        CloudMode::Sandbox { tenants, seed } => {
            let handle = Sandbox::builder()
                .world(World::seeded(*seed, *tenants))
                .propagation_delay(Duration::from_millis(50))
                .start()
                .await
                .map_err(|e| anyhow::anyhow!("cannot start the sandbox: {e}"))?;
            tracing::info!(base = %handle.base_url(), tenants, seed, "sandbox started");
            (Endpoints::of_sandbox(&handle)?, Some(handle))
        }
    };
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let public_url = match &config.public_url {
        Some(u) => u.clone(),
        None => Url::parse(&format!("http://{addr}"))?,
    };
    let webhooks = Inbox::new(sealer.webhook_key().clone());
    let state: AppState = Arc::new(Inner {
        db,
        store,
        sealer,
        endpoints,
        secure_cookies: public_url.scheme() == "https",
        public_url,
        conn: RwLock::new(None),
        pending: Mutex::new(HashMap::new()),
        locks: TenantLocks::default(),
        tasks: Mutex::new(JoinSet::new()),
        stopping: AtomicBool::new(false),
        cancel: gdap_onboard::Cancellation::new(),
        last_sync: Mutex::new(None),
        sync_lock: tokio::sync::Mutex::new(()),
        stale_after: config.stale_after,
        job_concurrency: config.job_concurrency.max(1),
        sandbox,
        webhooks,
    });

    restore_connection(&state).await?;
    if state.connection().is_none()
        && let Some(handle) = &state.sandbox
    {
        let info = handle.world_info();
        let rt = handle.issue_refresh_token(
            &info.admin_upn,
            &[
                gdap_auth::scopes::GRAPH_DEFAULT,
                gdap_auth::scopes::OFFLINE_ACCESS,
            ],
        );
        let account =
            cloud::probe_account(&state.endpoints, SecretString::from(rt.clone())).await?;
        state
            .install_connection(SecretString::from(rt), account)
            .await?;
        tracing::info!(user = %info.admin_upn, "connected to the sandbox");
    }
    if let Some(handle) = &state.sandbox {
        seed_sandbox_records(&state, handle).await?;
    }
    let resumed = crate::jobs::resume_all(&state).await?;
    if resumed > 0 {
        tracing::info!(resumed, "resumed unfinished jobs");
    }

    let app = router(state.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let serve = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    tracing::info!(%addr, url = %state.public_url, "gdap-server listening");
    Ok(RunningServer {
        addr,
        state,
        shutdown: Some(tx),
        serve,
    })
}

async fn restore_connection(state: &AppState) -> anyhow::Result<()> {
    let Some(row) = state.db.load_connection().await? else {
        return Ok(());
    };
    let rt = match state.sealer.open(&row.encrypted_refresh_token) {
        Ok(rt) => rt,
        Err(e) => {
            tracing::warn!(error = %e, "stored connection unusable; reconnect Partner Center");
            return Ok(());
        }
    };
    let account = gdap_onboard::ports::PartnerAccount {
        user_email: row.user_email,
        partner_tenant_id: row.partner_tenant_id.and_then(|t| t.parse().ok()),
    };
    let sink = Arc::new(DbSink {
        db: state.db.clone(),
        sealer: state.sealer.clone(),
    });
    let connected = cloud::wire(&state.endpoints, rt, account, sink, &state.store)?;
    state.set_connection(Some(connected));
    tracing::info!(since = %row.connected_at, "restored the Partner Center connection");
    Ok(())
}

/// The product's records as the sandbox world implies them (first start only): legacy tenants
/// were onboarded individually, previously deleted ones were deleted, the partner tenant is the
/// MSP's own.
async fn seed_sandbox_records(state: &AppState, handle: &SandboxHandle) -> anyhow::Result<()> {
    use gdap_onboard::TenantStore as _;
    if !state
        .store
        .list_records()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .is_empty()
    {
        return Ok(());
    }
    for t in &handle.snapshot().tenants {
        let Ok(id) = t.id.parse::<TenantId>() else {
            continue;
        };
        let record = if t.is_own {
            TenantRecord::onboarded(id, OnboardedVia::OwnTenantConsent)
                .with_own_partner_tenant(true)
                .with_display_name(t.display_name.clone())
        } else if t.legacy {
            TenantRecord::onboarded(id, OnboardedVia::Individually)
        } else if t.previously_deleted {
            TenantRecord::onboarded(id, OnboardedVia::PartnerCenter)
                .with_protection(Protection::Deleted)
        } else {
            continue;
        };
        state
            .store
            .upsert_record(&record)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}
