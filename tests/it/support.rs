//! The wiring every end-to-end test shares: the real clients and adapters, signed in as the
//! sandbox's partner admin, pointed at a running sandbox.

use std::sync::Arc;

use gdap_auth::{
    AppCredentials, Authority, ClientSecretCredential, InMemoryRefreshTokenSink,
    RefreshTokenCredential,
};
use gdap_core::{AppId, TenantId, TokenCredential};
use gdap_graph::GraphClient;
use gdap_onboard::adapters::{AuthTokens, GraphDirectories, GraphGdap, PartnerCenterConsents};
use gdap_onboard::ports::{Journal, PartnerAccount, Ports, SystemClock, TenantStore};
use gdap_partner_center::PartnerCenterClient;
use gdap_sandbox::SandboxHandle;
use secrecy::SecretString;

/// Ports over the real clients against `handle` (the partner admin's refresh token, the app's
/// client credentials for the own tenant), with `store` and `journal`; and the refresh-token
/// credential, for tests that check rotation or issue customer tokens.
pub(crate) fn sandbox_ports(
    handle: &SandboxHandle,
    store: Arc<dyn TenantStore>,
    journal: Arc<dyn Journal>,
) -> (Ports, Arc<RefreshTokenCredential>) {
    let info = handle.world_info();
    let refresh_token = handle.issue_refresh_token(
        &info.admin_upn,
        &[gdap_auth::scopes::GRAPH_DEFAULT, "offline_access"],
    );
    let authority = Authority::new(handle.authority_url()).unwrap();
    let client_id: AppId = info.client_id.parse().unwrap();
    let app =
        AppCredentials::confidential(client_id, SecretString::from(info.client_secret.clone()));
    let partner: TenantId = info.partner_tenant_id.parse().unwrap();
    let credential = Arc::new(RefreshTokenCredential::new(
        authority.clone(),
        app.clone(),
        SecretString::from(refresh_token),
        Arc::new(InMemoryRefreshTokenSink::new()),
    ));
    let own: Arc<dyn TokenCredential> =
        Arc::new(ClientSecretCredential::new(authority, partner, app).unwrap());
    let partner_credential = credential.for_tenant(partner);
    let graph = GraphClient::builder()
        .with_endpoint(handle.graph_url())
        .with_credential(partner_credential.clone())
        .build()
        .unwrap();
    let account = PartnerAccount {
        user_email: Some(info.admin_upn.clone()),
        partner_tenant_id: Some(partner),
    };
    let ports = Ports {
        gdap: Arc::new(GraphGdap::new(graph.clone())),
        partner_directory: Arc::new(GraphGdap::new(graph.clone())),
        directories: Arc::new(
            GraphDirectories::from_refresh_credential(graph, credential.clone())
                .with_own_tenant_credential(own.clone()),
        ),
        partner_center: Arc::new(PartnerCenterConsents::new(
            PartnerCenterClient::builder()
                .with_endpoint(handle.partner_center_url())
                .with_credential(partner_credential.clone())
                .build()
                .unwrap(),
        )),
        tokens: Arc::new(
            AuthTokens::from_refresh_credential(account, credential.clone())
                .with_own_tenant_credential(own)
                .with_partner_credential(partner_credential),
        ),
        clock: Arc::new(SystemClock),
        store,
        journal,
    };
    (ports, credential)
}
