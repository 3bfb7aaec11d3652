//! Partner Center consents through the adapter, against the sandbox: success, duplicate, and the
//! MFA refusal classified into the catalogue.

use std::sync::Arc;

use gdap_auth::{AppCredentials, Authority, InMemoryRefreshTokenSink, RefreshTokenCredential};
use gdap_core::{AppId, TenantId};
use gdap_onboard::adapters::PartnerCenterConsents;
use gdap_onboard::directory::{AppConsent, ConsentGrant};
use gdap_onboard::manifest::microsoft_graph;
use gdap_onboard::ports::PartnerCenter;
use gdap_onboard::{CatalogueKey, ExplainContext, OnboardError, Operation, PortErrorKind};
use gdap_partner_center::PartnerCenterClient;
use secrecy::SecretString;

use crate::sync::{Env, env};

fn client(env: &Env, credential: &RefreshTokenCredential) -> PartnerCenterConsents {
    let partner: TenantId = env.info.partner_tenant_id.parse().unwrap();
    PartnerCenterConsents::new(
        PartnerCenterClient::builder()
            .with_endpoint(env.handle.partner_center_url())
            .with_credential(credential.for_tenant(partner))
            .build()
            .unwrap(),
    )
}

fn consent(env: &Env) -> AppConsent {
    AppConsent {
        application_id: env.info.client_id.parse::<AppId>().unwrap(),
        display_name: env.info.app_display_name.clone(),
        grants: vec![ConsentGrant {
            resource_app_id: microsoft_graph(),
            scopes: vec![
                "Directory.ReadWrite.All".into(),
                "AppRoleAssignment.ReadWrite.All".into(),
                "DelegatedPermissionGrant.ReadWrite.All".into(),
            ],
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_duplicate_and_mfa() {
    let env = env().await;
    let snap = env.handle.snapshot();
    // A tenant whose relationship gives the admin Global Administrator through an assignment.
    let target = snap
        .tenants
        .iter()
        .find(|t| {
            t.profile == "ready_ga"
                && !t.legacy
                && !t.previously_deleted
                && t.relationships.iter().any(|r| {
                    r.status == "active"
                        && r.access_assignments.iter().any(|a| {
                            a.status == "active" && env.info.admin_group_ids.contains(&a.group_id)
                        })
                })
        })
        .expect("a ready tenant the admin can manage");
    let tenant: TenantId = target.id.parse().unwrap();
    let pc = client(&env, &env.credential);

    pc.create_consent(&tenant, &consent(&env)).await.unwrap();
    let dup = pc
        .create_consent(&tenant, &consent(&env))
        .await
        .unwrap_err();
    assert_eq!(dup.kind(), PortErrorKind::AlreadyExists, "{dup}");

    // A sign-in without MFA: Partner Center answers 401 / 900421.
    let no_mfa = RefreshTokenCredential::new(
        Authority::new(env.handle.authority_url()).unwrap(),
        AppCredentials::confidential(
            env.info.client_id.parse().unwrap(),
            SecretString::from(env.info.client_secret.clone()),
        ),
        SecretString::from(env.handle.issue_refresh_token_without_mfa(
            &env.info.admin_upn,
            &[gdap_auth::scopes::PARTNER_CENTER_USER_IMPERSONATION],
        )),
        Arc::new(InMemoryRefreshTokenSink::new()),
    );
    let err = client(&env, &no_mfa)
        .create_consent(&tenant, &consent(&env))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), PortErrorKind::MfaRequired, "{err}");
    let classified = OnboardError::classify(Operation::Consent, Some(tenant), err);
    assert!(matches!(classified, OnboardError::MfaRequired { .. }));
    let entry = classified.explain(&ExplainContext::new());
    assert_eq!(entry.key, CatalogueKey::MfaRequired);
    assert_eq!(entry.code.as_deref(), Some("900421"));
    env.handle.shutdown().await;
}
