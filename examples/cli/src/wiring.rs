//! From the global options to a ready [`Orchestrator`]: the in-process sandbox, or real
//! endpoints with the secrets from the environment, files or the state directory.

use std::sync::Arc;
use std::time::Duration;

use gdap_auth::{
    AppCredentials, Authority, ClientSecretCredential, InMemoryRefreshTokenSink,
    RefreshTokenCredential, RefreshTokenSink, TenantRef, scopes,
};
use gdap_core::{AppId, SecurityGroupId, TenantId, TokenCredential};
use gdap_graph::GraphClient;
use gdap_onboard::adapters::{AuthTokens, GraphDirectories, GraphGdap, PartnerCenterConsents};
use gdap_onboard::ports::{PartnerAccount, Ports, SystemClock};
use gdap_onboard::tenant::{OnboardedVia, Protection};
use gdap_onboard::{
    AppManifest, ExplainContext, Links, Orchestrator, OrchestratorConfig, TenantRecord,
};
use gdap_partner_center::PartnerCenterClient;
use gdap_sandbox::{Faults, Sandbox, SandboxHandle, World};
use secrecy::SecretString;
use url::Url;

use crate::cli::GlobalOpts;
use crate::connect::{Browser, SignIn, auth_failure, sign_in};
use crate::errors::CliError;
use crate::state::{StateDir, StateDirSink, Stores, read_secret_file};

/// Everything a command needs.
pub(crate) struct Env {
    /// The workflows.
    pub(crate) orchestrator: Orchestrator,
    /// Who we act as.
    pub(crate) account: PartnerAccount,
    /// The app.
    pub(crate) client_id: AppId,
    /// The authority (for admin-consent links).
    pub(crate) authority: Url,
    /// The in-process sandbox, when `--sandbox`.
    pub(crate) sandbox: Option<SandboxHandle>,
    /// The partner security group assigned to relationships when onboarding.
    pub(crate) security_group: Option<SecurityGroupId>,
    /// The Partner Center client (for checks the workflows do not cover).
    pub(crate) partner_center: PartnerCenterClient,
    /// `--sandbox-auto-approve-ms`: the sandbox customer approves after this long.
    pub(crate) sandbox_auto_approve: Option<Duration>,
}

impl Env {
    /// The context for catalogue messages.
    pub(crate) fn explain_context(&self) -> ExplainContext {
        let mut ctx = ExplainContext::new();
        if let Some(u) = &self.account.user_email {
            ctx = ctx.with_user_email(u.clone());
        }
        ctx.with_admin_consent(self.client_id, self.authority.clone())
    }
}

/// The app's credentials and where its endpoints are.
pub(crate) struct Target {
    pub(crate) authority: Authority,
    pub(crate) authority_url: Url,
    pub(crate) graph: Url,
    pub(crate) partner_center: Url,
    pub(crate) client_id: AppId,
    pub(crate) client_secret: Option<SecretString>,
    pub(crate) sandbox: Option<SandboxHandle>,
}

impl Target {
    pub(crate) fn app(&self) -> AppCredentials {
        match &self.client_secret {
            Some(s) => AppCredentials::confidential(self.client_id, s.clone()),
            None => AppCredentials::public(self.client_id),
        }
    }
}

/// Starts the sandbox (with `--sandbox`) or reads the real endpoints and the app's credentials.
pub(crate) async fn target(g: &GlobalOpts, state: &StateDir) -> Result<Target, CliError> {
    if g.sandbox {
        let faults = match g.faults {
            Some(p) => Faults::profile(p.as_str())
                .map_err(|e| CliError::usage(format!("--faults: {e}"), None))?,
            None => Faults::none(),
        };
        let mut builder = Sandbox::builder()
            .world(World::seeded(g.seed, g.tenants as usize))
            .faults(faults)
            .propagation_delay(Duration::from_millis(g.sandbox_propagation_ms));
        if let Some(ms) = g.sandbox_auto_approve_ms {
            builder = builder.auto_approve_after(Duration::from_millis(ms));
        }
        let handle = builder
            .start()
            .await
            .map_err(|e| CliError::Other(format!("cannot start the sandbox: {e}")))?;
        let info = handle.world_info();
        let authority_url = handle.authority_url();
        let authority = Authority::new(authority_url.clone())
            .map_err(|e| CliError::Other(format!("sandbox authority: {e}")))?;
        let client_id: AppId = info
            .client_id
            .parse()
            .map_err(|e| CliError::Other(format!("sandbox client id: {e}")))?;
        tracing::info!(base = %handle.base_url(), tenants = g.tenants, seed = g.seed, "sandbox started");
        return Ok(Target {
            authority,
            authority_url,
            graph: handle.graph_url(),
            partner_center: handle.partner_center_url(),
            client_id,
            client_secret: Some(SecretString::from(info.client_secret.clone())),
            sandbox: Some(handle),
        });
    }
    if g.faults.is_some() {
        return Err(CliError::usage(
            "--faults needs --sandbox",
            Some("Fault injection is a sandbox feature: add --sandbox.".to_owned()),
        ));
    }
    if g.sandbox_auto_approve_ms.is_some() {
        return Err(CliError::usage(
            "--sandbox-auto-approve-ms needs --sandbox",
            Some("Only the sandbox's customers approve on their own: add --sandbox.".to_owned()),
        ));
    }
    let authority = Authority::new(g.authority.clone())
        .map_err(|e| CliError::usage(format!("--authority: {e}"), None))?;
    let client_id_text = g
        .client_id
        .clone()
        .or_else(|| state.connection().client_id)
        .ok_or_else(|| {
            CliError::usage(
                "no client id: pass --client-id (or set GDAP_CLIENT_ID)",
                Some("Use the application (client) id of your app registration in the partner tenant.".to_owned()),
            )
        })?;
    let client_id: AppId = client_id_text.parse().map_err(|e| {
        CliError::usage(
            format!("--client-id: {e}"),
            Some("The client id is a GUID like 11111111-2222-3333-4444-555555555555.".to_owned()),
        )
    })?;
    let client_secret = match &g.client_secret_file {
        Some(p) => Some(
            read_secret_file(p)
                .map_err(|e| {
                    CliError::usage(format!("--client-secret-file {}: {e}", p.display()), None)
                })?
                .ok_or_else(|| {
                    CliError::usage(
                        format!(
                            "--client-secret-file {}: the file is missing or empty",
                            p.display()
                        ),
                        None,
                    )
                })?,
        ),
        None => env_secret("GDAP_CLIENT_SECRET"),
    };
    Ok(Target {
        authority,
        authority_url: g.authority.clone(),
        graph: g.graph_endpoint.clone(),
        partner_center: g.partner_center_endpoint.clone(),
        client_id,
        client_secret,
        sandbox: None,
    })
}

fn env_secret(name: &str) -> Option<SecretString> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}

/// Where the refresh token came from.
enum TokenSource {
    /// A fresh sign-in (sandbox).
    SignIn,
    /// `GDAP_REFRESH_TOKEN` or `--refresh-token-file`: rotated tokens stay in memory.
    Given,
    /// The state directory: rotated tokens are written back.
    StateDir,
}

/// Wires the workflows for a command that needs a signed-in partner user.
pub(crate) async fn connect_env(
    g: &GlobalOpts,
    state: &StateDir,
    target: Target,
) -> Result<Env, CliError> {
    let (refresh_token, source) = if target.sandbox.is_some() {
        let tokens = sign_in(
            SignIn {
                authority: &target.authority,
                app: target.app(),
                port: 0,
                login_hint: None,
                timeout: Duration::from_secs(30),
                browser: Browser::Automatic,
            },
            |_| {},
        )
        .await?;
        let rt = tokens.refresh_token.ok_or_else(|| CliError::AuthNeeded {
            message: "the sandbox sign-in returned no refresh token".to_owned(),
        })?;
        (rt, TokenSource::SignIn)
    } else {
        find_refresh_token(g, state)?
    };

    let sink: Arc<dyn RefreshTokenSink> = match source {
        TokenSource::StateDir => Arc::new(StateDirSink::new(state.clone())),
        TokenSource::Given | TokenSource::SignIn => Arc::new(InMemoryRefreshTokenSink::new()),
    };
    let credential = Arc::new(RefreshTokenCredential::new(
        target.authority.clone(),
        target.app(),
        refresh_token,
        sink,
    ));

    // Prove the sign-in works before anything else, and learn who we are.
    let token = credential
        .token_for(&TenantRef::organizations(), &[scopes::GRAPH_DEFAULT])
        .await
        .map_err(|e| match &e {
            gdap_auth::Error::Transport(t) => CliError::Unreachable {
                what: "the sign-in service",
                url: target.authority_url.to_string(),
                detail: t.to_string(),
            },
            _ => auth_failure("obtaining a Microsoft Graph token", &e),
        })?;
    let claims = gdap_auth::access_token_claims(&token);
    let partner_tenant = claims
        .as_ref()
        .and_then(|c| c.tid.as_deref())
        .and_then(|t| t.parse::<TenantId>().ok())
        .or(g.partner_tenant)
        .or_else(|| {
            state
                .connection()
                .partner_tenant_id
                .and_then(|t| t.parse().ok())
        });
    let user_email = claims
        .as_ref()
        .and_then(|c| c.username().map(str::to_owned))
        .or_else(|| state.connection().user);
    let account = PartnerAccount {
        user_email,
        partner_tenant_id: partner_tenant,
    };

    let partner_credential: Arc<dyn TokenCredential> = match partner_tenant {
        Some(t) => credential.for_tenant(t),
        None => credential.for_tenant_ref(TenantRef::organizations()),
    };
    let graph = GraphClient::builder()
        .with_endpoint(target.graph.clone())
        .with_credential(partner_credential.clone())
        .build()
        .map_err(|e| CliError::usage(format!("--graph-endpoint: {e}"), None))?;
    let partner_center = PartnerCenterClient::builder()
        .with_endpoint(target.partner_center.clone())
        .with_credential(partner_credential.clone())
        .build()
        .map_err(|e| CliError::usage(format!("--partner-center-endpoint: {e}"), None))?;

    let own: Option<Arc<dyn TokenCredential>> = match (partner_tenant, &target.client_secret) {
        (Some(t), Some(_)) => {
            ClientSecretCredential::new(target.authority.clone(), t, target.app())
                .ok()
                .map(|c| Arc::new(c) as Arc<dyn TokenCredential>)
        }
        _ => None,
    };
    let mut directories =
        GraphDirectories::from_refresh_credential(graph.clone(), credential.clone());
    let mut tokens = AuthTokens::from_refresh_credential(account.clone(), credential.clone())
        .with_partner_credential(partner_credential);
    if let Some(own) = own {
        directories = directories.with_own_tenant_credential(own.clone());
        tokens = tokens.with_own_tenant_credential(own);
    }

    let stores = match &target.sandbox {
        Some(handle) => sandbox_stores(handle),
        None => Stores::open(state).map_err(|e| {
            CliError::Other(format!("state directory {}: {e}", state.path().display()))
        })?,
    };
    let ports = Ports {
        gdap: Arc::new(GraphGdap::new(graph.clone())),
        partner_directory: Arc::new(GraphGdap::new(graph.clone())),
        directories: Arc::new(directories),
        partner_center: Arc::new(PartnerCenterConsents::new(partner_center.clone())),
        tokens: Arc::new(tokens),
        clock: Arc::new(SystemClock),
        store: stores.store,
        journal: stores.journal,
    };
    let links = Links::new(Links::default().admin_center, target.authority_url.clone());
    let config = OrchestratorConfig::default()
        .with_links(links)
        .with_manifest(AppManifest::sample_security_app(target.client_id));
    // The sandbox's admin is in its GDAP admin groups; elsewhere the flag names the group.
    let security_group = g.security_group.or_else(|| {
        target.sandbox.as_ref().and_then(|h| {
            h.world_info()
                .admin_group_ids
                .first()
                .and_then(|id| id.parse().ok())
        })
    });
    Ok(Env {
        orchestrator: Orchestrator::new(ports, config),
        account,
        client_id: target.client_id,
        authority: target.authority_url,
        security_group,
        sandbox_auto_approve: target
            .sandbox
            .as_ref()
            .and(g.sandbox_auto_approve_ms)
            .map(Duration::from_millis),
        sandbox: target.sandbox,
        partner_center,
    })
}

fn find_refresh_token(
    g: &GlobalOpts,
    state: &StateDir,
) -> Result<(SecretString, TokenSource), CliError> {
    if let Some(t) = env_secret("GDAP_REFRESH_TOKEN") {
        return Ok((t, TokenSource::Given));
    }
    if let Some(p) = &g.refresh_token_file {
        return match read_secret_file(p) {
            Ok(Some(t)) => Ok((t, TokenSource::Given)),
            Ok(None) => Err(CliError::AuthNeeded {
                message: format!(
                    "--refresh-token-file {}: the file is missing or empty",
                    p.display()
                ),
            }),
            Err(e) => Err(CliError::AuthNeeded {
                message: format!("--refresh-token-file {}: {e}", p.display()),
            }),
        };
    }
    match state.refresh_token() {
        Ok(Some(t)) => Ok((t, TokenSource::StateDir)),
        Ok(None) => Err(CliError::AuthNeeded {
            message: format!(
                "not connected: no refresh token in GDAP_REFRESH_TOKEN, --refresh-token-file or {}",
                state
                    .path()
                    .join(crate::state::REFRESH_TOKEN_FILE)
                    .display()
            ),
        }),
        Err(e) => Err(CliError::AuthNeeded {
            message: format!(
                "cannot read the stored refresh token in {}: {e}",
                state.path().display()
            ),
        }),
    }
}

/// The product's records as the sandbox world implies them: legacy tenants were onboarded
/// individually, previously deleted ones were deleted, and the partner tenant is the MSP's own.
fn sandbox_stores(handle: &SandboxHandle) -> Stores {
    let (stores, memory) = Stores::in_memory();
    for t in &handle.snapshot().tenants {
        let Ok(id) = t.id.parse::<TenantId>() else {
            continue;
        };
        if t.is_own {
            memory.put(
                TenantRecord::onboarded(id, OnboardedVia::OwnTenantConsent)
                    .with_own_partner_tenant(true)
                    .with_display_name(t.display_name.clone()),
            );
        } else if t.legacy {
            memory.put(
                TenantRecord::onboarded(id, OnboardedVia::Individually)
                    .with_display_name(t.display_name.clone()),
            );
        } else if t.previously_deleted {
            memory.put(
                TenantRecord::onboarded(id, OnboardedVia::PartnerCenter)
                    .with_protection(Protection::Deleted)
                    .with_display_name(t.display_name.clone()),
            );
        }
    }
    stores
}
