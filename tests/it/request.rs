//! Request permissions against the sandbox through the real Graph client.

use gdap_core::TenantId;
use gdap_onboard::workflows::RequestOutcome;
use gdap_onboard::{CatalogueKey, ExplainContext, RelationshipTemplate};

use crate::sync::env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_lock_and_link_and_the_guidance_rows() {
    let env = env().await;
    let snap = env.handle.snapshot();
    let o = &env.orchestrator;

    // A tenant without any relationship gets a pinned request, locked for approval.
    let lonely = snap
        .tenants
        .iter()
        .find(|t| !t.is_own && t.relationships.is_empty())
        .expect("a tenant without relationships");
    let tenant: TenantId = lonely.id.parse().unwrap();
    let out = o.re_request_permissions(tenant).await.unwrap();
    let req = out.requested().expect("requested").clone();
    assert!(req.display_name.chars().count() <= 50);
    assert!(req.approval_link.as_str().ends_with(&format!(
        "granularAdminRelationships/{}",
        req.relationship_id
    )));
    let after = env.handle.snapshot();
    let rel = after
        .tenants
        .iter()
        .find(|t| t.id == lonely.id)
        .and_then(|t| {
            t.relationships
                .iter()
                .find(|r| r.id == req.relationship_id.as_str())
        })
        .expect("the relationship exists in the sandbox");
    assert_eq!(rel.status, "approvalPending");
    assert_eq!(rel.duration, "P730D");
    assert_eq!(rel.auto_extend_duration, "P180D");

    // Asking again reuses it.
    let again = o.re_request_permissions(tenant).await.unwrap();
    assert_eq!(
        again.requested().unwrap().relationship_id,
        req.relationship_id
    );
    assert!(again.requested().unwrap().reused);

    // A tenant showing Missing: the service refuses a second pinned relationship while one is
    // active (403 disallowedOperation), which maps to the catalogue's guidance.
    let missing = snap
        .tenants
        .iter()
        .find(|t| t.profile == "missing_pra_only" && !t.relationships.iter().any(|r| r.is_reseller))
        .expect("a tenant missing roles");
    let err = o
        .re_request_permissions(missing.id.parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.catalogue_key(), CatalogueKey::RelationshipAlreadyActive);
    let entry = err.explain(&ExplainContext::new().with_tenant_name(missing.display_name.clone()));
    assert_eq!(entry.code.as_deref(), Some("disallowedOperation"));

    // A tenant whose relationship already has the roles: refused before anything is sent.
    let ready = snap
        .tenants
        .iter()
        .find(|t| {
            t.profile == "ready_app_admin_pra" && !t.relationships.iter().any(|r| r.is_reseller)
        })
        .expect("a ready tenant");
    let err = o
        .request_permissions(
            ready.id.parse().unwrap(),
            &RelationshipTemplate::app_install(),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.catalogue_key(), CatalogueKey::RelationshipAlreadyActive);

    // The MSP's own tenant: skipped silently.
    let own: TenantId = env.info.partner_tenant_id.parse().unwrap();
    assert_eq!(
        o.re_request_permissions(own).await.unwrap(),
        RequestOutcome::SkippedOwnTenant
    );
    env.handle.shutdown().await;
}
