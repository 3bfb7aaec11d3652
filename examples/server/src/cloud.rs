//! Where Microsoft (or the sandbox) is, and wiring a connected [`Orchestrator`] from a refresh
//! token over the real clients.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use gdap_auth::{
    AppCredentials, Authority, ClientSecretCredential, RefreshTokenCredential, RefreshTokenSink,
    SinkError, TenantRef, scopes,
};
use std::time::Duration;

use gdap_core::{AppId, SecurityGroupId, TenantId, TokenCredential};
use gdap_graph::GraphClient;
use gdap_onboard::adapters::{AuthTokens, GraphDirectories, GraphGdap, PartnerCenterConsents};
use gdap_onboard::ports::{PartnerAccount, Ports, SystemClock};
use gdap_onboard::{AppManifest, Links, OnboardOptions, Orchestrator, OrchestratorConfig};
use gdap_partner_center::PartnerCenterClient;
use gdap_store::SqliteStore;
use secrecy::SecretString;
use url::Url;

use crate::crypto::Sealer;
use crate::db::ServerDb;

/// The cloud endpoints and the partner app's credentials.
#[derive(Clone)]
pub struct Endpoints {
    /// The login authority (`https://login.microsoftonline.com`).
    pub authority: Url,
    /// Microsoft Graph (`https://graph.microsoft.com`).
    pub graph: Url,
    /// Partner Center (`https://api.partnercenter.microsoft.com`).
    pub partner_center: Url,
    /// The partner app's client id.
    pub client_id: AppId,
    /// The partner app's client secret (a confidential web app).
    pub client_secret: Option<SecretString>,
    /// The partner security group (the signed-in partner user is a member) that onboarding
    /// assigns to each customer's GDAP relationship. Without it the write routes answer 409
    /// `noSecurityGroup`.
    pub security_group: Option<SecurityGroupId>,
    /// How often the workflows poll for propagation (first interval; the maximum is 10×).
    /// `None`: the library's defaults (1 s, up to 15 s). The sandbox propagates in
    /// milliseconds, so [`Endpoints::of_sandbox`] uses 100 ms.
    pub poll_interval: Option<Duration>,
}

impl fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoints")
            .field("authority", &self.authority.as_str())
            .field("graph", &self.graph.as_str())
            .field("partner_center", &self.partner_center.as_str())
            .field("client_id", &self.client_id)
            .field("security_group", &self.security_group)
            .field("poll_interval", &self.poll_interval)
            .finish_non_exhaustive()
    }
}

impl Endpoints {
    /// The endpoints of a running sandbox.
    pub fn of_sandbox(handle: &gdap_sandbox::SandboxHandle) -> anyhow::Result<Self> {
        let info = handle.world_info();
        Ok(Self {
            authority: handle.authority_url(),
            graph: handle.graph_url(),
            partner_center: handle.partner_center_url(),
            client_id: info
                .client_id
                .parse()
                .map_err(|e| anyhow::anyhow!("sandbox client id: {e}"))?,
            client_secret: Some(SecretString::from(info.client_secret.clone())),
            // The sandbox's admin is a member of its GDAP admin groups.
            security_group: info.admin_group_ids.first().and_then(|id| id.parse().ok()),
            poll_interval: Some(Duration::from_millis(100)),
        })
    }

    pub(crate) fn app(&self) -> AppCredentials {
        match &self.client_secret {
            Some(s) => AppCredentials::confidential(self.client_id, s.clone()),
            None => AppCredentials::public(self.client_id),
        }
    }

    pub(crate) fn authority(&self) -> anyhow::Result<Authority> {
        Authority::new(self.authority.clone()).map_err(|e| anyhow::anyhow!("authority: {e}"))
    }
}

/// Persists rotated refresh tokens, encrypted.
pub(crate) struct DbSink {
    pub(crate) db: ServerDb,
    pub(crate) sealer: Sealer,
}

#[async_trait]
impl RefreshTokenSink for DbSink {
    async fn store(&self, refresh_token: &SecretString) -> Result<(), SinkError> {
        let sealed = self
            .sealer
            .seal(refresh_token)
            .map_err(|e| -> SinkError { e.to_string().into() })?;
        self.db
            .rotate_connection_token(sealed)
            .await
            .map_err(|e| -> SinkError { e.to_string().into() })
    }
}

/// A live connection to Partner Center.
#[derive(Clone)]
pub(crate) struct Connected {
    pub(crate) orchestrator: Orchestrator,
    pub(crate) account: PartnerAccount,
    pub(crate) client_id: AppId,
    pub(crate) security_group: Option<SecurityGroupId>,
    pub(crate) poll_interval: Option<Duration>,
}

impl Connected {
    /// The options of a write run, `None` without a security group.
    pub(crate) fn options(&self, concurrency: usize) -> Option<OnboardOptions> {
        let mut o = OnboardOptions::new(self.security_group?).with_concurrency(concurrency.max(1));
        if let Some(p) = self.poll_interval {
            o = o.with_poll(p, p * 10);
        }
        Some(o)
    }
}

impl fmt::Debug for Connected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connected")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// Who the refresh token belongs to, from a Graph access token's claims.
pub(crate) async fn probe_account(
    endpoints: &Endpoints,
    refresh_token: SecretString,
) -> Result<PartnerAccount, gdap_auth::Error> {
    let credential = RefreshTokenCredential::new(
        Authority::new(endpoints.authority.clone())?,
        endpoints.app(),
        refresh_token,
        Arc::new(gdap_auth::InMemoryRefreshTokenSink::new()),
    );
    let token = credential
        .token_for(&TenantRef::organizations(), &[scopes::GRAPH_DEFAULT])
        .await?;
    let claims = gdap_auth::access_token_claims(&token);
    Ok(PartnerAccount {
        user_email: claims
            .as_ref()
            .and_then(|c| c.username().map(str::to_owned)),
        partner_tenant_id: claims
            .as_ref()
            .and_then(|c| c.tid.as_deref())
            .and_then(|t| t.parse::<TenantId>().ok()),
    })
}

/// Wires the workflows for `account` over the real clients.
pub(crate) fn wire(
    endpoints: &Endpoints,
    refresh_token: SecretString,
    account: PartnerAccount,
    sink: Arc<dyn RefreshTokenSink>,
    store: &SqliteStore,
) -> anyhow::Result<Connected> {
    let authority = endpoints.authority()?;
    let credential = Arc::new(RefreshTokenCredential::new(
        authority.clone(),
        endpoints.app(),
        refresh_token,
        sink,
    ));
    let partner_credential: Arc<dyn TokenCredential> = match account.partner_tenant_id {
        Some(t) => credential.for_tenant(t),
        None => credential.for_tenant_ref(TenantRef::organizations()),
    };
    let graph = GraphClient::builder()
        .with_endpoint(endpoints.graph.clone())
        .with_credential(partner_credential.clone())
        .build()
        .map_err(|e| anyhow::anyhow!("graph endpoint: {e}"))?;
    let partner_center = PartnerCenterClient::builder()
        .with_endpoint(endpoints.partner_center.clone())
        .with_credential(partner_credential.clone())
        .build()
        .map_err(|e| anyhow::anyhow!("partner center endpoint: {e}"))?;
    let mut directories =
        GraphDirectories::from_refresh_credential(graph.clone(), credential.clone());
    let mut tokens = AuthTokens::from_refresh_credential(account.clone(), credential.clone())
        .with_partner_credential(partner_credential);
    if let (Some(t), Some(_)) = (account.partner_tenant_id, &endpoints.client_secret)
        && let Ok(own) = ClientSecretCredential::new(authority, t, endpoints.app())
    {
        let own: Arc<dyn TokenCredential> = Arc::new(own);
        directories = directories.with_own_tenant_credential(own.clone());
        tokens = tokens.with_own_tenant_credential(own);
    }
    let store = Arc::new(store.clone());
    let ports = Ports {
        gdap: Arc::new(GraphGdap::new(graph.clone())),
        partner_directory: Arc::new(GraphGdap::new(graph)),
        directories: Arc::new(directories),
        partner_center: Arc::new(PartnerCenterConsents::new(partner_center)),
        tokens: Arc::new(tokens),
        clock: Arc::new(SystemClock),
        store: store.clone(),
        journal: store,
    };
    let links = Links::new(Links::default().admin_center, endpoints.authority.clone());
    // The app installed in customer tenants: its Graph / Exchange / Management API permissions.
    let config = OrchestratorConfig::default()
        .with_links(links)
        .with_manifest(AppManifest::sample_security_app(endpoints.client_id));
    Ok(Connected {
        orchestrator: Orchestrator::new(ports, config),
        account,
        client_id: endpoints.client_id,
        security_group: endpoints.security_group,
        poll_interval: endpoints.poll_interval,
    })
}
