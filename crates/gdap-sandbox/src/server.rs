//! The HTTP server: builder, handle, router and the request gate (stats + faults).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::json;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use url::Url;

use crate::faults::{Action, FaultEngine, Faults};
use crate::graph::{consent as gc, directory as gd, groups as gg, relationships as gr};
use crate::listener::{ConnInfo, KillListener};
use crate::state::{AppState, Clock, Config, Core, CoreGuard, Shared, Tokens};
use crate::stats::{
    DuplicateWrite, FaultRecord, Recorder, Replayed, Stats, WebhookDelivery, WriteRecord,
};
use crate::util::{
    ReqCtx, bearer, counter_uuid, graph_error, header_str, json_response, with_header,
};
use crate::webhooks::{self, DeliveryOptions};
use crate::world::{Ms, SEC, World, WorldInfo, WorldSnapshot};
use crate::{SandboxError, login, partner_center as pc};

/// Entry point: `Sandbox::builder()...start().await`.
#[derive(Debug)]
pub struct Sandbox;

impl Sandbox {
    /// A builder with the defaults: a 20-tenant world from seed 0, no faults, no latency,
    /// propagation delay 2 s, consent delay 0, duplicate consent status 409, any free port.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }
}

/// Configures and starts a sandbox.
#[derive(Debug)]
pub struct SandboxBuilder {
    world: Option<World>,
    faults: Faults,
    latency: Duration,
    propagation_delay: Duration,
    consent_delay: Duration,
    duplicate_consent_status: u16,
    port: u16,
    auto_approve_after: Option<Duration>,
    access_token_lifetime: Duration,
    strict_refresh_rotation: bool,
    require_mfa: bool,
    timeout_hold: Duration,
    anchor: Option<OffsetDateTime>,
    webhook: DeliveryOptions,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        SandboxBuilder {
            world: None,
            faults: Faults::none(),
            latency: Duration::ZERO,
            propagation_delay: Duration::from_secs(2),
            consent_delay: Duration::ZERO,
            duplicate_consent_status: 409,
            port: 0,
            auto_approve_after: None,
            access_token_lifetime: Duration::from_secs(3600),
            strict_refresh_rotation: false,
            require_mfa: true,
            timeout_hold: Duration::from_secs(30),
            anchor: None,
            webhook: DeliveryOptions {
                timeout: Duration::from_secs(5),
                retry_delay: Duration::from_millis(500),
                any_host: false,
            },
        }
    }
}

impl SandboxBuilder {
    /// The world to serve (default `World::seeded(0, 20)`).
    pub fn world(mut self, world: World) -> Self {
        self.world = Some(world);
        self
    }

    /// Fault injection rules and rate limits.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// A fixed latency added to every request (login included).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Delay before a new access assignment turns `pending` -> `active` (also used for
    /// assignment updates/deletes, termination and GA-removal operations). Default 2 s.
    pub fn propagation_delay(mut self, delay: Duration) -> Self {
        self.propagation_delay = delay;
        self
    }

    /// Delay before a Partner Center consent's service principal and grants become visible in
    /// Graph. Default 0.
    pub fn consent_delay(mut self, delay: Duration) -> Self {
        self.consent_delay = delay;
        self
    }

    /// Status of the "Permission entry already exists." answer: 409 (default) or 400.
    pub fn duplicate_consent_status(mut self, status: u16) -> Self {
        self.duplicate_consent_status = status;
        self
    }

    /// The loopback port (0 = any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Relationships locked for approval (with a customer) become active after this delay.
    pub fn auto_approve_after(mut self, delay: Duration) -> Self {
        self.auto_approve_after = Some(delay);
        self
    }

    /// Access token lifetime (`expires_in`); default 3600 s.
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime;
        self
    }

    /// When true, a refresh token stops working once it has been redeemed (strict rotation).
    /// Default false: like Entra, the old refresh token stays valid.
    pub fn strict_refresh_rotation(mut self, strict: bool) -> Self {
        self.strict_refresh_rotation = strict;
        self
    }

    /// Whether Partner Center rejects App+User tokens without the `mfa` amr (401, 900421).
    /// Default true (the 2026 behaviour).
    pub fn require_mfa_for_partner_center(mut self, require: bool) -> Self {
        self.require_mfa = require;
        self
    }

    /// How long a `Timeout` fault holds the request before answering 504. Default 30 s.
    pub fn timeout_hold(mut self, hold: Duration) -> Self {
        self.timeout_hold = hold;
        self
    }

    /// Pins the wall time of sandbox time zero (default: now). Pin it to get identical
    /// timestamps across runs.
    pub fn anchor(mut self, anchor: OffsetDateTime) -> Self {
        self.anchor = Some(anchor);
        self
    }

    /// Per-attempt timeout of a webhook delivery (connect and answer). Default 5 s.
    ///
    /// It runs on tokio time: under paused time it can fire while the callback is still
    /// answering (tokio advances the paused clock whenever the runtime waits on I/O), so tests
    /// that receive webhooks run on real time.
    pub fn webhook_timeout(mut self, timeout: Duration) -> Self {
        self.webhook.timeout = timeout;
        self
    }

    /// Pause before the second attempt of a failed webhook delivery (doubled before the third).
    /// Default 500 ms.
    pub fn webhook_retry_delay(mut self, delay: Duration) -> Self {
        self.webhook.retry_delay = delay;
        self
    }

    /// Lets webhook deliveries go to callbacks on any host. By default only loopback callbacks
    /// (`localhost`, `127.0.0.0/8`, `[::1]`) are contacted; others are recorded as not sent, so
    /// that a test registering `https://msp.example/…` causes no network traffic (not even a
    /// name lookup).
    pub fn webhook_to_any_host(mut self, yes: bool) -> Self {
        self.webhook.any_host = yes;
        self
    }

    /// Binds `127.0.0.1:{port}` and serves until the handle is shut down or dropped.
    ///
    /// # Errors
    /// [`SandboxError::Bind`] when the port can't be bound; [`SandboxError::InvalidConfig`] for a
    /// duplicate consent status other than 400/409.
    pub async fn start(self) -> Result<SandboxHandle, SandboxError> {
        if self.duplicate_consent_status != 409 && self.duplicate_consent_status != 400 {
            return Err(SandboxError::InvalidConfig(format!(
                "duplicate_consent_status must be 409 or 400, not {}",
                self.duplicate_consent_status
            )));
        }
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .map_err(SandboxError::Bind)?;
        let port = listener.local_addr().map_err(SandboxError::Bind)?.port();
        let base = format!("http://127.0.0.1:{port}");
        let anchor = self.anchor.unwrap_or_else(|| {
            let now = OffsetDateTime::now_utc();
            now.replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
                .unwrap_or(now)
        });
        let mut world = self.world.unwrap_or_else(|| World::seeded(0, 20));
        world.anchor = anchor;
        world.now = 0;
        let ms = |d: Duration| d.as_millis() as Ms;
        let config = Config {
            propagation_delay: ms(self.propagation_delay),
            consent_delay: ms(self.consent_delay),
            duplicate_consent_status: self.duplicate_consent_status,
            auto_approve_after: self.auto_approve_after.map(ms),
            access_token_lifetime: ms(self.access_token_lifetime).max(SEC),
            refresh_token_inactivity: 90 * 24 * 3600 * SEC,
            strict_refresh_rotation: self.strict_refresh_rotation,
            require_mfa_for_partner_center: self.require_mfa,
            timeout_hold: self.timeout_hold,
            base: base.clone(),
            anchor,
            latency: self.latency,
        };
        let (tx, rx) = watch::channel(false);
        let clock = Arc::new(Clock::new());
        let stats = Arc::new(Recorder::default());
        let webhooks = webhooks::start(
            world.seed,
            &base,
            anchor,
            clock.clone(),
            self.webhook,
            stats.clone(),
            rx.clone(),
        )
        .map_err(|e| SandboxError::InvalidConfig(format!("webhook delivery client: {e}")))?;
        let state = Arc::new(AppState {
            core: Mutex::new(Core {
                world,
                tokens: Tokens::default(),
                pc_replay: Default::default(),
            }),
            clock,
            config,
            stats,
            faults: Mutex::new(FaultEngine::new(self.faults)),
            shutdown: rx.clone(),
            webhooks,
        });
        let app = router(state.clone());
        let mut stop = rx;
        let serve = axum::serve(
            KillListener { inner: listener },
            app.into_make_service_with_connect_info::<ConnInfo>(),
        )
        .with_graceful_shutdown(async move {
            while !*stop.borrow() {
                if stop.changed().await.is_err() {
                    break;
                }
            }
        });
        let join = tokio::spawn(async move {
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "gdap-sandbox server stopped with an error");
            }
        });
        let base_url = Url::parse(&base).map_err(|e| SandboxError::InvalidConfig(e.to_string()))?;
        Ok(SandboxHandle {
            state,
            base: base_url,
            stop: tx,
            join: Some(join),
        })
    }
}

/// A running sandbox. Dropping it stops the server (best effort); prefer
/// [`SandboxHandle::shutdown`].
#[derive(Debug)]
pub struct SandboxHandle {
    state: Shared,
    base: Url,
    stop: watch::Sender<bool>,
    join: Option<JoinHandle<()>>,
}

fn join_url(base: &Url, path: &str) -> Url {
    let mut u = base.clone();
    u.set_path(path);
    u
}

impl SandboxHandle {
    /// `http://127.0.0.1:{port}`.
    pub fn base_url(&self) -> Url {
        self.base.clone()
    }

    /// The login authority: `{base}/login` (token endpoint: `{authority}/{tenant}/oauth2/v2.0/token`).
    pub fn authority_url(&self) -> Url {
        join_url(&self.base, "/login")
    }

    /// Graph root: `{base}/graph/v1.0`.
    pub fn graph_url(&self) -> Url {
        join_url(&self.base, "/graph/v1.0")
    }

    /// Partner Center root: `{base}/partnercenter` (e.g. `{pc}/v1/customers`).
    pub fn partner_center_url(&self) -> Url {
        join_url(&self.base, "/partnercenter")
    }

    fn core(&self) -> CoreGuard<'_> {
        self.state.lock()
    }

    /// Facts about the partner side (tenant, app credentials, admin user, groups).
    pub fn world_info(&self) -> WorldInfo {
        self.core().world.info()
    }

    /// A refresh token of the product app for a partner user (amr `["pwd","mfa"]` when the user
    /// has MFA, which the admin has). `scopes` is informational: refresh tokens are not bound to
    /// a resource. An unknown UPN gives a token the token endpoint rejects (AADSTS9002313).
    pub fn issue_refresh_token(&self, upn: &str, scopes: &[&str]) -> String {
        self.issue_rt(upn, scopes, None)
    }

    /// Like [`SandboxHandle::issue_refresh_token`] but the sign-in carries amr `["pwd"]` only, so
    /// Partner Center answers 401 (900421).
    pub fn issue_refresh_token_without_mfa(&self, upn: &str, scopes: &[&str]) -> String {
        self.issue_rt(upn, scopes, Some(false))
    }

    fn issue_rt(&self, upn: &str, scopes: &[&str], mfa: Option<bool>) -> String {
        let _ = scopes;
        let now = self.state.now();
        let mut core = self.core();
        login::issue_refresh_token(&mut core, now, upn, mfa).unwrap_or_else(|| {
            tracing::warn!(upn, "issue_refresh_token: unknown user");
            format!("invalid-refresh-token-for-unknown-user-{upn}")
        })
    }

    /// An access token for a partner user, issued without going through the token endpoint and
    /// without the GDAP/consent checks (for tests). `scope` picks the audience (Graph unless it
    /// names Partner Center); `tenant` is a tenant id, domain or `organizations`.
    ///
    /// # Errors
    /// [`SandboxError::NotFound`] for an unknown user or tenant.
    pub fn issue_access_token(
        &self,
        upn: &str,
        tenant: &str,
        scope: &str,
    ) -> Result<String, SandboxError> {
        let now = self.state.now();
        let mut core = self.core();
        login::issue_access_token(&mut core, &self.state, now, upn, tenant, scope)
            .ok_or_else(|| SandboxError::NotFound(format!("user {upn} or tenant {tenant}")))
    }

    /// Revokes every refresh token issued so far (next use: AADSTS700082).
    pub fn revoke_refresh_tokens(&self) {
        let mut core = self.core();
        for rt in core.tokens.refresh.values_mut() {
            rt.revoked = true;
        }
    }

    /// A read-only snapshot of the world (time-based transitions applied).
    pub fn snapshot(&self) -> WorldSnapshot {
        self.core().world.snapshot()
    }

    /// Request counters, the write log, duplicates, 429s and faults.
    pub fn stats(&self) -> Stats {
        self.state.stats.snapshot()
    }

    /// Clears the stats.
    pub fn reset_stats(&self) {
        self.state.stats.reset();
    }

    /// Moves a relationship from `approvalPending` (or `created`) to `active`, as if the customer
    /// approved it in the admin center. The relationship needs a customer.
    ///
    /// # Errors
    /// Unknown relationship, no customer, or wrong status.
    pub fn approve_relationship(&self, id: &str) -> Result<(), SandboxError> {
        self.core().world.approve_relationship(id, None)
    }

    /// Like [`SandboxHandle::approve_relationship`], setting the customer first.
    ///
    /// # Errors
    /// Unknown relationship or tenant, or wrong status.
    pub fn approve_relationship_for(
        &self,
        id: &str,
        customer_tenant_id: &str,
    ) -> Result<(), SandboxError> {
        self.core()
            .world
            .approve_relationship(id, Some(customer_tenant_id))
    }

    /// Runs `f` with mutable access to the world (time-based transitions applied first).
    pub fn with_world_mut<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut self.core().world)
    }

    /// Runs `f` with read access to the world.
    pub fn with_world<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&self.core().world)
    }

    /// Moves the sandbox clock forward (assignments activate, tokens expire, relationships
    /// expire...) without sleeping.
    pub fn advance_clock(&self, by: Duration) {
        self.state.clock.advance(by);
    }

    /// The sandbox's current wall time.
    pub fn now(&self) -> OffsetDateTime {
        self.state.config.anchor + time::Duration::milliseconds(self.state.now())
    }

    /// Waits until at least `n` webhook deliveries are recorded in
    /// [`Stats::webhook_deliveries`] (each counted once its last attempt finished) and returns
    /// them all. Time-based transitions due now are applied first, so events they emit are
    /// queued; advance the clock before calling. Woken by each recorded delivery (no polling).
    ///
    /// `timeout` runs on tokio time (see [`SandboxBuilder::webhook_timeout`] about paused time).
    ///
    /// # Errors
    /// [`SandboxError::Timeout`] when fewer than `n` were recorded within `timeout`.
    pub async fn wait_for_webhook_deliveries(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<WebhookDelivery>, SandboxError> {
        let mut changed = self.state.stats.subscribe_deliveries();
        drop(self.core());
        let stats = &self.state.stats;
        let wait = async {
            loop {
                let got = stats.webhook_deliveries();
                if got.len() >= n {
                    return got;
                }
                if changed.changed().await.is_err() {
                    return got;
                }
            }
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(got) if got.len() >= n => Ok(got),
            _ => Err(SandboxError::Timeout(format!(
                "{} of {n} webhook deliveries after {timeout:?}",
                stats.webhook_deliveries().len()
            ))),
        }
    }

    /// What the sandbox puts after `Signature ` in a webhook's `Authorization` header for
    /// `body`: base64 of HMAC-SHA256 under a key derived from the world seed. This is **not**
    /// Partner Center's scheme (RSA-SHA256 under Microsoft's certificate); it lets a test check
    /// that a receiver passes the header through, nothing more.
    pub fn webhook_signature(&self, body: &[u8]) -> String {
        self.state.webhooks.signature(body)
    }

    /// Replaces the fault configuration (counters and RNG restart from the new seed).
    pub fn set_faults(&self, faults: Faults) {
        let mut f = self.state.faults.lock().unwrap_or_else(|p| p.into_inner());
        *f = FaultEngine::new(faults);
    }

    /// Stops accepting connections, ends held (timeout) requests and waits for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(j) = self.join.take() {
            let abort = j.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), j)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(j) = self.join.take() {
            j.abort();
        }
    }
}

/// Builds the router with every route and the request gate.
pub(crate) fn router(state: Shared) -> Router {
    const REL: &str = "/graph/v1.0/tenantRelationships/delegatedAdminRelationships";
    const SP: &str = "/graph/v1.0/servicePrincipals";
    let r = Router::new()
        // login
        .route(
            "/login/{tenant}/oauth2/v2.0/authorize",
            get(login::authorize),
        )
        .route("/login/{tenant}/oauth2/v2.0/token", post(login::token))
        // GDAP
        .route(
            REL,
            get(gr::list_relationships).post(gr::create_relationship),
        )
        .route(
            &format!("{REL}/{{id}}"),
            get(gr::get_relationship)
                .patch(gr::update_relationship)
                .delete(gr::delete_relationship),
        )
        .route(
            &format!("{REL}/{{id}}/accessAssignments"),
            get(gr::list_assignments).post(gr::create_assignment),
        )
        .route(
            &format!("{REL}/{{id}}/accessAssignments/{{aid}}"),
            get(gr::get_assignment)
                .patch(gr::update_assignment)
                .delete(gr::delete_assignment),
        )
        .route(
            &format!("{REL}/{{id}}/requests"),
            get(gr::list_requests).post(gr::create_request),
        )
        .route(
            &format!("{REL}/{{id}}/requests/{{rid}}"),
            get(gr::get_request),
        )
        .route(
            &format!("{REL}/{{id}}/operations"),
            get(gr::list_operations),
        )
        .route(
            &format!("{REL}/{{id}}/operations/{{oid}}"),
            get(gr::get_operation),
        )
        .route(
            "/graph/v1.0/tenantRelationships/delegatedAdminCustomers",
            get(gr::list_customers),
        )
        .route(
            "/graph/v1.0/tenantRelationships/delegatedAdminCustomers/{id}",
            get(gr::get_customer),
        )
        .route(
            "/graph/v1.0/tenantRelationships/delegatedAdminCustomers/{id}/serviceManagementDetails",
            get(gr::list_service_management),
        )
        // consent side
        .route(SP, get(gc::list_sps).post(gc::create_sp))
        .route(
            &format!("{SP}/{{id}}"),
            get(gc::get_sp).delete(gc::delete_sp),
        )
        .route(
            &format!("{SP}/{{id}}/appRoleAssignments"),
            get(gc::list_app_role_assignments).post(gc::create_app_role_assignment),
        )
        .route(
            &format!("{SP}/{{id}}/appRoleAssignments/{{aid}}"),
            axum::routing::delete(gc::delete_app_role_assignment),
        )
        .route(
            &format!("{SP}/{{id}}/appRoleAssignedTo"),
            get(gc::list_app_role_assigned_to).post(gc::create_app_role_assigned_to),
        )
        .route(
            &format!("{SP}/{{id}}/appRoleAssignedTo/{{aid}}"),
            axum::routing::delete(gc::delete_app_role_assigned_to),
        )
        .route(
            &format!("{SP}/{{id}}/oauth2PermissionGrants"),
            get(gc::list_sp_grants),
        )
        .route(
            "/graph/v1.0/oauth2PermissionGrants",
            get(gc::list_grants).post(gc::create_grant),
        )
        .route(
            "/graph/v1.0/oauth2PermissionGrants/{id}",
            get(gc::get_grant)
                .patch(gc::update_grant)
                .delete(gc::delete_grant),
        )
        .route("/graph/v1.0/organization", get(gd::list_organization))
        .route("/graph/v1.0/organization/{id}", get(gd::get_organization))
        .route("/graph/v1.0/users", get(gd::list_users))
        .route("/graph/v1.0/users/$count", get(gd::users_count))
        // partner directory: groups, members, users by id or UPN
        .route(
            "/graph/v1.0/groups",
            get(gg::list_groups).post(gg::create_group),
        )
        .route("/graph/v1.0/groups/{id}", get(gg::get_group))
        .route("/graph/v1.0/groups/{id}/members", get(gg::list_members))
        .route("/graph/v1.0/groups/{id}/members/$ref", post(gg::add_member))
        .route(
            "/graph/v1.0/groups/{id}/members/{member_id}/$ref",
            axum::routing::delete(gg::remove_member),
        )
        .route("/graph/v1.0/users/{id}", get(gg::get_user))
        .route("/graph/v1.0/users/{id}/memberOf", get(gg::member_of))
        .route(
            "/graph/v1.0/users/{id}/transitiveMemberOf",
            get(gg::member_of),
        )
        .route(
            "/graph/v1.0/users/{id}/transitiveMemberOf/microsoft.graph.group",
            get(gg::member_of),
        )
        .route("/graph/v1.0/{segment}", get(gc::get_sp_by_key))
        // Partner Center
        .route("/partnercenter/v1/customers", get(pc::list_customers))
        .route("/partnercenter/v1/customers/{id}", get(pc::get_customer))
        .route(
            "/partnercenter/v1/customers/{id}/applicationconsents",
            get(pc::list_consents).post(pc::create_consent),
        )
        .route(
            "/partnercenter/v1/customers/{id}/applicationconsents/{app_id}",
            get(pc::get_consent).delete(pc::delete_consent),
        )
        .route(
            "/partnercenter/webhooks/v1/registration",
            any(pc::webhook_registration),
        )
        .route(
            "/partnercenter/webhooks/v1/registration/events",
            get(pc::webhook_events),
        )
        .route(
            "/partnercenter/webhooks/v1/registration/validationEvents",
            post(pc::create_validation_event),
        )
        .route(
            "/partnercenter/webhooks/v1/registration/validationEvents/{id}",
            get(pc::get_validation_event),
        )
        .route(webhooks::CERTIFICATE_PATH, get(pc::webhook_certificate))
        // index
        .route("/", get(index))
        .route("/health", get(|| async { "ok" }))
        .route_layer(middleware::from_fn_with_state(state.clone(), gate))
        .fallback(fallback);
    r.with_state(state)
}

async fn index(State(s): State<Shared>) -> Response {
    let b = &s.config.base;
    let info = s.lock().world.info();
    json_response(
        StatusCode::OK,
        &json!({
            "service": "gdap-sandbox",
            "authority": format!("{b}/login"),
            "graph": format!("{b}/graph/v1.0"),
            "partnerCenter": format!("{b}/partnercenter"),
            "partnerTenantId": info.partner_tenant_id,
            "clientId": info.client_id,
        }),
        "application/json",
    )
}

const REQ_SALT: u64 = 0x5ad_b0c5;

fn make_ctx(s: &AppState, seq: u64, req: &Request) -> ReqCtx {
    let request_id = counter_uuid(seq, REQ_SALT);
    let headers = req.headers();
    let client_request_id =
        header_str(headers, "client-request-id").map_or_else(|| request_id.clone(), str::to_string);
    let include_unknown = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',').any(|p| {
                p.trim()
                    .eq_ignore_ascii_case("include-unknown-enum-members")
            })
        });
    ReqCtx {
        request_id,
        client_request_id,
        now: s.config.anchor + time::Duration::milliseconds(s.now()),
        include_unknown,
    }
}

async fn fallback(State(s): State<Shared>, req: Request) -> Response {
    let seq = s.stats.begin(&format!("{} (unmatched)", req.method()));
    let ctx = make_ctx(&s, seq, &req);
    let path = req.uri().path().to_string();
    let resp = if path.starts_with("/graph/") {
        graph_error(
            StatusCode::NOT_FOUND,
            "UnknownError",
            &format!("Resource not found for the segment '{path}'."),
            &ctx,
        )
    } else if path.starts_with("/partnercenter/") {
        crate::auth::pc_fault(StatusCode::NOT_FOUND, 1000, "Not found.")
    } else {
        (StatusCode::NOT_FOUND, "not found").into_response()
    };
    s.stats.finish(404, None);
    resp
}

fn is_write(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The tenant a request counts against for per-tenant rate limits: the customer in a Partner
/// Center customer path, else the bearer token's tenant.
fn tenant_key(s: &AppState, path: &str, req: &Request) -> Option<String> {
    if let Some(rest) = path.strip_prefix("/partnercenter/v1/customers/") {
        return rest.split('/').next().map(|x| x.to_ascii_lowercase());
    }
    let tok = bearer(req.headers())?;
    let core = s.core.lock().unwrap_or_else(|p| p.into_inner());
    let t = core.tokens.access.get(tok)?.tenant;
    Some(core.world.tenants.get(t)?.id.clone())
}

fn fault_response(action: &Action, path: &str, ctx: &ReqCtx) -> Response {
    let (status, retry_after) = match action {
        Action::Status429 { retry_after, .. } => {
            (StatusCode::TOO_MANY_REQUESTS, Some(*retry_after))
        }
        Action::Status500 => (StatusCode::INTERNAL_SERVER_ERROR, None),
        Action::Status503 { retry_after } => (StatusCode::SERVICE_UNAVAILABLE, *retry_after),
        Action::Timeout => (StatusCode::GATEWAY_TIMEOUT, None),
        Action::Reset
        | Action::ForeignNextLink(_)
        | Action::Redirect(_)
        | Action::HugeBody(_)
        | Action::EndlessBody(_)
        | Action::WrongContentType => (StatusCode::INTERNAL_SERVER_ERROR, None),
    };
    let resp = if path.starts_with("/graph/") {
        let (code, msg) = match status {
            StatusCode::TOO_MANY_REQUESTS => (
                "TooManyRequests",
                "Too many requests. Please retry after the time in the Retry-After header.",
            ),
            StatusCode::SERVICE_UNAVAILABLE => (
                "serviceNotAvailable",
                "The service is temporarily unavailable. Please retry.",
            ),
            StatusCode::GATEWAY_TIMEOUT => (
                "gatewayTimeout",
                "The gateway timed out waiting for the service.",
            ),
            _ => ("generalException", "An internal server error occurred."),
        };
        graph_error(status, code, msg, ctx)
    } else if path.starts_with("/partnercenter/") {
        if status == StatusCode::TOO_MANY_REQUESTS {
            let secs = retry_after.unwrap_or(1);
            json_response(
                status,
                &json!({"statusCode": 429, "message": format!("Rate limit is exceeded. Try again in {secs} seconds.")}),
                "application/json; charset=utf-8",
            )
        } else {
            let (code, msg) = match status {
                StatusCode::SERVICE_UNAVAILABLE => {
                    (503, "The service is temporarily unavailable (server busy).")
                }
                StatusCode::GATEWAY_TIMEOUT => (504, "Gateway timeout."),
                _ => (800003, "Unexpected service error."),
            };
            crate::auth::pc_fault(status, code, msg)
        }
    } else {
        login::token_error(
            status,
            "temporarily_unavailable",
            50196,
            "The server is temporarily unable to handle the request. Please retry.",
            ctx,
            None,
        )
    };
    match retry_after {
        Some(ra) => with_header(resp, "retry-after", &ra.to_string()),
        None => resp,
    }
}

/// The answers of a compromised or broken endpoint (`None` for the ordinary faults).
fn hostile_response(s: &AppState, action: &Action, req: &Request) -> Option<Response> {
    let path = req.uri().path();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or(path, |pq| pq.as_str())
        .to_string();
    let resp = match action {
        Action::ForeignNextLink(base) => {
            let link = format!("{}{path_and_query}", base.trim_end_matches('/'));
            let body = if path.starts_with("/partnercenter/") {
                json!({"totalCount": 0, "items": [], "links": {"next": {"uri": link,
                    "method": "GET", "headers": [{"key": "MS-ContinuationToken", "value": "x"}]}},
                    "attributes": {"objectType": "Collection"}})
            } else {
                json!({"value": [], "@odata.nextLink": link})
            };
            json_response(StatusCode::OK, &body, "application/json; charset=utf-8")
        }
        Action::Redirect(base) => {
            let to = format!("{}{path_and_query}", base.trim_end_matches('/'));
            with_header(StatusCode::FOUND.into_response(), "location", &to)
        }
        Action::HugeBody(total) => {
            const CHUNK: usize = 64 * 1024;
            let chunk = axum::body::Bytes::from(vec![b' '; CHUNK]);
            let total = *total;
            let stream = futures::stream::unfold(0u64, move |sent| {
                let chunk = chunk.clone();
                async move {
                    if sent >= total {
                        return None;
                    }
                    let n = (total - sent).min(CHUNK as u64);
                    // `n` ≤ CHUNK, so the cast cannot truncate.
                    let part = chunk.slice(..n as usize);
                    Some((Ok::<_, std::io::Error>(part), sent + n))
                }
            });
            let mut resp = Response::new(axum::body::Body::from_stream(stream));
            resp.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            );
            resp
        }
        Action::EndlessBody(interval_ms) => {
            let interval = Duration::from_millis((*interval_ms).max(1));
            let stop = s.shutdown.clone();
            let stream = futures::stream::unfold(stop, move |mut stop| async move {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = stop.wait_for(|v| *v) => return None,
                }
                if *stop.borrow() {
                    return None;
                }
                Some((
                    Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b" ")),
                    stop,
                ))
            });
            let mut resp = Response::new(axum::body::Body::from_stream(stream));
            resp.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            );
            resp
        }
        Action::WrongContentType => {
            let mut resp = (
                StatusCode::OK,
                "<!DOCTYPE html><html><head><title>Sign in</title></head>\
                 <body>Portal maintenance</body></html>",
            )
                .into_response();
            resp.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("text/html; charset=utf-8"),
            );
            resp
        }
        _ => return None,
    };
    Some(resp)
}

/// Counts the request, applies faults and latency, runs the handler, records writes.
async fn gate(
    State(s): State<Shared>,
    matched: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let route = format!(
        "{method} {}",
        matched.as_ref().map_or(path.as_str(), |m| m.as_str())
    );
    let seq = s.stats.begin(&route);
    let ctx = make_ctx(&s, seq, &req);
    let decision = {
        let empty = s.faults.lock().map(|f| f.is_empty()).unwrap_or(true);
        if empty {
            Default::default()
        } else {
            let needs_tenant = s.faults.lock().map(|f| f.needs_tenant()).unwrap_or(false);
            let tenant = if needs_tenant {
                tenant_key(&s, &path, &req)
            } else {
                None
            };
            let now = s.now();
            let mut f = s.faults.lock().unwrap_or_else(|p| p.into_inner());
            f.decide(method.as_str(), &path, tenant.as_deref(), now)
        }
    };
    if !decision.applied.is_empty() {
        let rate_limited = matches!(
            decision.action,
            Some(Action::Status429 {
                rate_limited: true,
                ..
            })
        );
        let rec = FaultRecord {
            seq,
            method: method.to_string(),
            path: path.clone(),
            kinds: decision.applied.iter().map(|k| (*k).to_string()).collect(),
        };
        s.stats.fault(rec, rate_limited);
    }
    let latency = s.config.latency + Duration::from_millis(decision.latency_ms);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault_name = decision
        .applied
        .last()
        .map(|k| (*k).to_string())
        .filter(|_| decision.action.is_some());
    let resp = match &decision.action {
        Some(Action::Reset) => {
            if let Some(ConnectInfo(c)) = req.extensions().get::<ConnectInfo<ConnInfo>>() {
                c.ctl.kill();
            }
            let write = is_write(&method).then(|| WriteRecord {
                seq,
                method: method.to_string(),
                path: path.clone(),
                route: route.clone(),
                status: 0,
                duplicate: false,
                duplicate_kind: None,
                replayed: false,
                fault: fault_name,
            });
            s.stats.finish(0, write);
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Some(Action::Timeout) => {
            let mut stop = s.shutdown.clone();
            let hold = tokio::time::sleep(s.config.timeout_hold);
            tokio::select! {
                _ = hold => {}
                _ = async { while !*stop.borrow() { if stop.changed().await.is_err() { break; } } } => {}
            }
            fault_response(&Action::Timeout, &path, &ctx)
        }
        Some(a) => hostile_response(&s, a, &req).unwrap_or_else(|| fault_response(a, &path, &ctx)),
        None => {
            req.extensions_mut().insert(ctx.clone());
            next.run(req).await
        }
    };
    let mut resp = resp;
    if path.starts_with("/graph/") {
        resp = with_header(resp, "request-id", &ctx.request_id);
        resp = with_header(resp, "client-request-id", &ctx.client_request_id);
        if ctx.include_unknown {
            resp = with_header(resp, "preference-applied", "include-unknown-enum-members");
        }
    }
    let status = resp.status().as_u16();
    let write = is_write(&method).then(|| {
        let dup = resp
            .extensions()
            .get::<DuplicateWrite>()
            .map(|d| d.0.to_string());
        WriteRecord {
            seq,
            method: method.to_string(),
            path: path.clone(),
            route: route.clone(),
            status,
            duplicate: dup.is_some(),
            duplicate_kind: dup,
            replayed: resp.extensions().get::<Replayed>().is_some(),
            fault: fault_name.clone(),
        }
    });
    s.stats.finish(status, write);
    resp
}
