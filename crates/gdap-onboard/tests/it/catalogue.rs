//! The error catalogue: every row, classified from codes and rendered with context.

use gdap_core::roles;
use gdap_core::{AppId, TenantId};
use gdap_onboard::catalogue::{CatalogueKey, ROWS};
use gdap_onboard::{
    ExplainContext, GrantFailure, MissingRole, OnboardError, Operation, PortError, PortErrorKind,
    explain,
};
use url::Url;

use crate::support::*;

fn tenant() -> TenantId {
    tid(0xc0)
}

fn ctx() -> ExplainContext {
    ExplainContext::new()
        .with_user_email(USER)
        .with_tenant_name("Contoso Ltd")
        .with_admin_consent(
            "22222222-2222-4222-8222-222222222222"
                .parse::<AppId>()
                .unwrap(),
            Url::parse("https://login.microsoftonline.com/").unwrap(),
        )
}

fn classify(op: Operation, e: PortError) -> OnboardError {
    OnboardError::classify(op, Some(tenant()), e)
}

/// One error per catalogue row; port failures go through classification by code.
fn one_of_each() -> Vec<OnboardError> {
    let t = tenant();
    let graph = |p: &str, why: &str| GrantFailure::new("Microsoft Graph", p, why);
    vec![
        classify(
            Operation::Token,
            PortError::aadsts(
                &[50177],
                "External challenge is not supported for passthrough users",
            )
            .with_status(400),
        ),
        classify(
            Operation::CreateRelationship,
            PortError::http(
                403,
                Some("disallowedOperation"),
                "The operation is not allowed.",
            ),
        ),
        OnboardError::DuplicateDisplayName {
            display_name: "AppInstall Contoso 20260301".into(),
            source: Some(PortError::http(
                409,
                Some("duplicateDisplayName"),
                "already exists",
            )),
        },
        classify(
            Operation::AssignUser,
            PortError::http(
                400,
                Some("badRequest"),
                "The passed in delegatedAdminRelationshipId is invalid.",
            ),
        ),
        classify(
            Operation::Consent,
            PortError::http(401, Some("Unauthorized"), "Unsupported token"),
        ),
        classify(
            Operation::Token,
            PortError::aadsts(&[65001], "consent required"),
        ),
        classify(
            Operation::Token,
            PortError::aadsts(&[700082], "refresh token expired"),
        ),
        OnboardError::MissingGdapPermissions {
            tenant: t,
            missing: vec![MissingRole::any_of(vec![
                roles::PRIVILEGED_ROLE_ADMINISTRATOR.id(),
            ])],
        },
        OnboardError::RefreshRequiresPartnerCenter { tenant: t },
        OnboardError::NoLegacyTenant { tenant: t },
        OnboardError::AlreadyManagedByPartnerCenter { tenant: t },
        OnboardError::MigrationMissingGdapPermissions {
            tenant: t,
            missing: vec![MissingRole::any_of(vec![
                roles::PRIVILEGED_ROLE_ADMINISTRATOR.id(),
            ])],
        },
        OnboardError::MigrationGrantFailed {
            tenant: t,
            failures: vec![
                graph("AuditLog.Read.All", "403 Authorization_RequestDenied"),
                GrantFailure::new(
                    "Office 365 Exchange Online",
                    "Exchange.ManageAsApp",
                    "resource service principal missing",
                ),
            ],
        },
        OnboardError::MigrationVerificationFailed {
            tenant: t,
            verified: 5,
            expected: 7,
            missing: vec![
                "Microsoft Graph: Mail.ReadWrite".into(),
                "Microsoft Graph: MailboxSettings.ReadWrite".into(),
            ],
        },
        OnboardError::AppPermissionGrantFailed {
            tenant: t,
            failures: vec![graph("Mail.ReadWrite", "403 Authorization_RequestDenied")],
            all_failed: false,
        },
        OnboardError::OnboardGrantFailed {
            tenant: t,
            failures: vec![graph("User.Read.All", "400 Request_BadRequest")],
        },
        classify(
            Operation::Consent,
            PortError::http(401, Some("900421"), "MFA required")
                .with_kind(PortErrorKind::MfaRequired),
        ),
        OnboardError::OwnTenantHardDelete { tenant: t },
        OnboardError::SecondPartnerTenant {
            existing: tid(1),
            requested: t,
        },
        OnboardError::RelationshipNotActive {
            relationship_id: rid(1),
            status: "approvalPending".into(),
        },
        OnboardError::ApprovalTimedOut {
            relationship_id: rid(2),
            status: "approvalPending".into(),
            waited_secs: 3600,
            approval_link: "https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/x".into(),
        },
        OnboardError::ApprovalEnded {
            relationship_id: rid(3),
            status: "expired".into(),
        },
        OnboardError::OperationIncomplete {
            relationship_id: rid(4),
            status: "running".into(),
            waited_secs: 600,
        },
        OnboardError::WebhookRegisteredElsewhere {
            existing_url: "https://other-tool.example/hooks".into(),
            existing_events: vec!["test-created".into()],
        },
        OnboardError::AmbiguousGroup {
            display_name: "GDAP - App Install".into(),
            ids: vec![
                "11111111-1111-4111-8111-111111111111".parse().unwrap(),
                "22222222-2222-4222-8222-222222222222".parse().unwrap(),
            ],
        },
        OnboardError::GroupNotFound {
            display_name: "GDAP - Global Reader".into(),
        },
        OnboardError::UserNotFound {
            user: "svc-gdap@msp.example".into(),
        },
        OnboardError::InvalidDisplayName {
            display_name: "a/b".into(),
            reason: "may contain only letters, digits, spaces and - _ . ( )".into(),
        },
        classify(
            Operation::CountUsers,
            PortError::http(503, Some("serviceUnavailable"), "try later").with_request_id("req-1"),
        ),
    ]
}

#[test]
fn every_row_is_covered_once_in_catalogue_order() {
    let keys: Vec<CatalogueKey> = one_of_each()
        .iter()
        .map(OnboardError::catalogue_key)
        .collect();
    assert_eq!(keys, CatalogueKey::ALL);
    assert_eq!(ROWS.len(), CatalogueKey::ALL.len());
}

#[test]
fn every_catalogue_message_snapshot() {
    let entries: Vec<_> = one_of_each().iter().map(|e| explain(e, &ctx())).collect();
    insta::assert_json_snapshot!("catalogue_entries", entries);
    let text: String = entries.iter().map(|e| e.to_text() + "\n").collect();
    insta::assert_snapshot!("catalogue_text", text);
}

#[test]
fn gdap_access_names_the_email_and_the_tenant() {
    let e = classify(Operation::Token, PortError::aadsts(&[50177], "x"));
    let entry = e.explain(&ctx());
    assert_eq!(entry.key, CatalogueKey::GdapAccess);
    assert_eq!(
        entry.message,
        format!(
            "The Partner Portal user {USER} does not have GDAP access to customer tenant Contoso Ltd ({})",
            tenant()
        )
    );
    assert_eq!(entry.code.as_deref(), Some("AADSTS50177"));
    assert_eq!(entry.steps.len(), 2);
    assert!(entry.admin_consent_url.is_none());
}

#[test]
fn admin_consent_url_where_it_applies() {
    for e in one_of_each() {
        let entry = e.explain(&ctx());
        let expected = matches!(
            entry.key,
            CatalogueKey::MigrationGrantFailed
                | CatalogueKey::AppPermissionGrantFailed
                | CatalogueKey::OnboardGrantFailed
        );
        assert_eq!(
            entry.admin_consent_url.is_some(),
            expected,
            "{:?}",
            entry.key
        );
        if let Some(url) = entry.admin_consent_url {
            assert_eq!(
                url,
                format!(
                    "https://login.microsoftonline.com/{}/adminconsent?client_id=22222222-2222-4222-8222-222222222222",
                    tenant()
                )
            );
        }
    }
    // Without an authority in the context there is no URL (no host is hard-coded).
    let e = OnboardError::OnboardGrantFailed {
        tenant: tenant(),
        failures: vec![],
    };
    assert!(
        e.explain(&ExplainContext::new())
            .admin_consent_url
            .is_none()
    );
}

#[test]
fn authority_comes_from_the_caller() {
    let e = OnboardError::OnboardGrantFailed {
        tenant: tenant(),
        failures: vec![],
    };
    let c = ExplainContext::new().with_admin_consent(
        AppId::new_random(),
        Url::parse("http://127.0.0.1:4000/login").unwrap(),
    );
    let url = e.explain(&c).admin_consent_url.unwrap();
    assert!(
        url.starts_with(&format!(
            "http://127.0.0.1:4000/login/{}/adminconsent?client_id=",
            tenant()
        )),
        "{url}"
    );
}

#[test]
fn graph_only_failures_use_the_graph_wording() {
    let e = OnboardError::AppPermissionGrantFailed {
        tenant: tenant(),
        failures: vec![GrantFailure::new(
            "Microsoft Graph",
            "Mail.ReadWrite",
            "denied",
        )],
        all_failed: true,
    };
    let entry = e.explain(&ctx());
    assert_eq!(entry.title, "Failed to grant Graph API permissions");
    assert!(
        entry
            .details
            .iter()
            .any(|d| d == "All permissions failed individually.")
    );
    let e = OnboardError::AppPermissionGrantFailed {
        tenant: tenant(),
        failures: vec![GrantFailure::new(
            "Office 365 Exchange Online",
            "Exchange.ManageAsApp",
            "denied",
        )],
        all_failed: false,
    };
    assert_eq!(
        e.explain(&ctx()).title,
        "Failed to grant application permissions"
    );
}

#[test]
fn verification_title_fills_in_x_and_y() {
    let e = OnboardError::MigrationVerificationFailed {
        tenant: tenant(),
        verified: 3,
        expected: 8,
        missing: vec![],
    };
    assert_eq!(
        e.explain(&ctx()).title,
        "Migration failed: only 3 of 8 permissions verified"
    );
}

#[test]
fn classification_is_by_code_not_by_text() {
    // The English of a 50177 refusal, without the code, is not a GDAP-access row.
    let e = classify(
        Operation::ListRelationships,
        PortError::new(
            PortErrorKind::Other,
            "The Partner Portal user does not have GDAP access",
        ),
    );
    assert_eq!(e.catalogue_key(), CatalogueKey::ServiceError);
    // 70008 is also an expired session.
    let e = classify(Operation::Token, PortError::aadsts(&[70008], ""));
    assert_eq!(e.catalogue_key(), CatalogueKey::SessionExpired);
    // Partner Center's MFA code without our kind still classifies.
    let e = classify(Operation::Consent, PortError::http(401, Some("900421"), ""));
    assert_eq!(e.catalogue_key(), CatalogueKey::MfaRequired);
    // A 409 outside relationship creation is not a duplicate display name.
    let e = classify(
        Operation::Consent,
        PortError::http(409, Some("Conflict"), ""),
    );
    assert_eq!(e.catalogue_key(), CatalogueKey::ServiceError);
}

#[test]
fn from_core_errors() {
    let core: gdap_core::Error = gdap_core::error::CredentialError::new("AADSTS50177: nope")
        .with_status(400)
        .with_service_code("AADSTS50177")
        .with_error_codes(vec![50177])
        .into();
    let e = classify(Operation::Token, PortError::from(core));
    assert_eq!(e.catalogue_key(), CatalogueKey::GdapAccess);
}
