#![doc = include_str!("../README.md")]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use gdap_auth::{
    AppCredentials, Authority, ClientSecretCredential, InMemoryRefreshTokenSink,
    RefreshTokenCredential,
};
use gdap_core::{AppId, SecurityGroupId, TenantId, TokenCredential};
use gdap_graph::GraphClient;
use gdap_onboard::adapters::{AuthTokens, GraphDirectories, GraphGdap, PartnerCenterConsents};
use gdap_onboard::manifest::{microsoft_graph, resources};
use gdap_onboard::ports::{Journal, PartnerAccount, Ports, SystemClock, TenantStore};
use gdap_onboard::tenant::{OnboardedVia, Protection};
use gdap_onboard::{
    AppManifest, Links, OnboardOptions, Orchestrator, OrchestratorConfig, ResourceAccess,
    TenantRecord,
};
use gdap_partner_center::PartnerCenterClient;
use gdap_sandbox::world::TenantSnapshot;
use gdap_sandbox::{SandboxHandle, WorldSnapshot};
use secrecy::SecretString;

/// Graph application permissions of the benchmark manifest (as in the e2e tests).
pub const GRAPH_APP_ROLES: &[&str] = &[
    "User.Read.All",
    "Directory.Read.All",
    "AuditLog.Read.All",
    "Mail.ReadWrite",
    "MailboxSettings.ReadWrite",
];

/// Peak resident set size of this process in bytes (`VmHWM` of `/proc/self/status`), if known.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The app the benchmark installs: the sandbox's product app with three Graph delegated scopes and
/// application permissions on Graph, Exchange Online and the Office 365 Management APIs.
///
/// # Panics
/// If the sandbox's ids are not GUIDs (they always are).
#[allow(clippy::expect_used)] // the sandbox's ids are GUIDs by construction
pub fn manifest(handle: &SandboxHandle) -> AppManifest {
    let info = handle.world_info();
    AppManifest::builder(
        info.client_id.parse().expect("client id"),
        info.app_display_name,
    )
    .resource(
        ResourceAccess::new(microsoft_graph(), "Microsoft Graph")
            .with_delegated_scopes([
                "Directory.ReadWrite.All",
                "AppRoleAssignment.ReadWrite.All",
                "DelegatedPermissionGrant.ReadWrite.All",
            ])
            .with_app_roles(GRAPH_APP_ROLES.iter().copied()),
    )
    .resource(
        ResourceAccess::new(
            resources::EXCHANGE_ONLINE.parse().expect("guid"),
            "Office 365 Exchange Online",
        )
        .with_app_roles(["Exchange.ManageAsApp"]),
    )
    .resource(
        ResourceAccess::new(
            resources::OFFICE_365_MANAGEMENT.parse().expect("guid"),
            "Office 365 Management APIs",
        )
        .with_app_roles(["ActivityFeed.Read"]),
    )
    .build()
}

/// Onboarding options: the admin's onboarding group, `concurrency`, polling suited to the
/// sandbox's propagation delay.
///
/// # Panics
/// If the sandbox's group id is not a GUID.
#[allow(clippy::expect_used)]
pub fn options(handle: &SandboxHandle, concurrency: usize) -> OnboardOptions {
    let group: SecurityGroupId = handle.world_info().admin_group_ids[0]
        .parse()
        .expect("group id");
    OnboardOptions::new(group)
        .with_concurrency(concurrency)
        .with_poll(Duration::from_millis(100), Duration::from_millis(400))
        .with_assignment_deadline(Duration::from_secs(60))
        .with_consent_deadline(Duration::from_secs(60))
}

/// Seeds `store` with the product's records as the world implies them.
///
/// # Errors
/// A store failure, as text.
pub async fn seed_store(store: &dyn TenantStore, snap: &WorldSnapshot) -> Result<(), String> {
    for t in &snap.tenants {
        let id: TenantId = t.id.parse().map_err(|e| format!("{e}"))?;
        let rec = if t.is_own {
            TenantRecord::onboarded(id, OnboardedVia::OwnTenantConsent)
                .with_own_partner_tenant(true)
        } else if t.legacy {
            TenantRecord::onboarded(id, OnboardedVia::Individually)
        } else if t.previously_deleted {
            TenantRecord::onboarded(id, OnboardedVia::PartnerCenter)
                .with_protection(Protection::Deleted)
        } else {
            continue;
        };
        store
            .upsert_record(&rec.with_display_name(t.display_name.clone()))
            .await
            .map_err(|e| format!("{e}"))?;
    }
    Ok(())
}

/// An orchestrator over the real clients against `handle`.
///
/// # Panics
/// If the sandbox's ids or URLs are malformed (they never are).
#[allow(clippy::expect_used)]
pub fn orchestrator(
    handle: &SandboxHandle,
    config: OrchestratorConfig,
    store: Arc<dyn TenantStore>,
    journal: Arc<dyn Journal>,
) -> Orchestrator {
    let info = handle.world_info();
    let refresh_token = handle.issue_refresh_token(
        &info.admin_upn,
        &[gdap_auth::scopes::GRAPH_DEFAULT, "offline_access"],
    );
    let authority = Authority::new(handle.authority_url()).expect("authority");
    let client_id: AppId = info.client_id.parse().expect("client id");
    let app =
        AppCredentials::confidential(client_id, SecretString::from(info.client_secret.clone()));
    let partner: TenantId = info.partner_tenant_id.parse().expect("partner");
    let credential = Arc::new(RefreshTokenCredential::new(
        authority.clone(),
        app.clone(),
        SecretString::from(refresh_token),
        Arc::new(InMemoryRefreshTokenSink::new()),
    ));
    let own: Arc<dyn TokenCredential> =
        Arc::new(ClientSecretCredential::new(authority, partner, app).expect("own credential"));
    let graph = GraphClient::builder()
        .with_endpoint(handle.graph_url())
        .with_credential(credential.for_tenant(partner))
        .build()
        .expect("graph client");
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
                .with_credential(credential.for_tenant(partner))
                .build()
                .expect("pc client"),
        )),
        tokens: Arc::new(
            AuthTokens::from_refresh_credential(account, credential.clone())
                .with_own_tenant_credential(own),
        ),
        clock: Arc::new(SystemClock),
        store,
        journal,
    };
    let links = Links::new(handle.base_url(), handle.authority_url());
    Orchestrator::new(ports, config.with_links(links))
}

/// Whether the tenant's usable active relationships carry the roles the app needs.
pub fn is_ready(t: &TenantSnapshot) -> bool {
    let held: BTreeSet<gdap_core::RoleTemplateId> = t
        .relationships
        .iter()
        .filter(|r| r.status == "active" && !r.is_reseller && !r.is_mlt)
        .flat_map(|r| r.roles.iter().filter_map(|x| x.parse().ok()))
        .collect();
    gdap_onboard::RoleRequirement::default_for_app_install().is_satisfied_by(&held)
}

/// Ready tenants (not legacy, not the own tenant, not previously deleted), in world order.
pub fn ready_tenants(snap: &WorldSnapshot) -> Vec<&TenantSnapshot> {
    snap.tenants
        .iter()
        .filter(|t| !t.is_own && !t.legacy && !t.previously_deleted && is_ready(t))
        .collect()
}
