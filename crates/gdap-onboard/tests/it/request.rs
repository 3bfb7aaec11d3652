//! Request permissions over the fakes.

use std::time::Duration;

use gdap_core::roles;
use gdap_onboard::relationship::RelationshipStatus;
use gdap_onboard::tenant::OnboardedVia;
use gdap_onboard::workflows::RequestOutcome;
use gdap_onboard::{
    CatalogueKey, Days, ExplainContext, OnboardError, PortError, RelationshipTemplate, TenantRecord,
};

use crate::support::*;

#[tokio::test(start_paused = true)]
async fn a_missing_tenant_gets_a_locked_request_with_an_approval_link() {
    let w = world();
    let t = tid(1);
    w.gdap.insert(active(
        1,
        t,
        "Contoso",
        "Contoso apps",
        &[roles::APPLICATION_ADMINISTRATOR],
    ));
    let out = orchestrator(&w).re_request_permissions(t).await.unwrap();
    let req = out.requested().unwrap().clone();
    assert!(!req.reused);
    assert_eq!(req.display_name, "AppInstall Contoso 20260301");
    assert!(req.display_name.chars().count() <= 50);
    assert_eq!(
        req.approval_link.as_str(),
        format!(
            "https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/{}",
            req.relationship_id
        )
    );
    let rel = w.gdap.relationship(&req.relationship_id).unwrap();
    assert_eq!(rel.status, RelationshipStatus::ApprovalPending);
    assert_eq!(rel.customer_tenant(), Some(t));
    assert_eq!(
        rel.roles,
        [
            roles::APPLICATION_ADMINISTRATOR.id(),
            roles::PRIVILEGED_ROLE_ADMINISTRATOR.id()
        ]
        .into()
    );
    assert_eq!(rel.duration, Some(Days(730)));
    assert_eq!(rel.auto_extend, Days(180));
    insta::assert_json_snapshot!("request_outcome", out, {
        ".relationshipId" => "[id]",
        ".approvalLink" => "[link]",
    });
}

#[tokio::test(start_paused = true)]
async fn an_active_relationship_with_the_roles_gives_the_disallowed_operation_guidance() {
    let w = world();
    let t = tid(1);
    w.gdap.insert(active(
        1,
        t,
        "Contoso",
        "Contoso full",
        &[
            roles::APPLICATION_ADMINISTRATOR,
            roles::PRIVILEGED_ROLE_ADMINISTRATOR,
            roles::SECURITY_READER,
        ],
    ));
    let err = orchestrator(&w)
        .re_request_permissions(t)
        .await
        .unwrap_err();
    match &err {
        OnboardError::ActiveRelationshipExists {
            tenant,
            relationship_id,
            ..
        } => {
            assert_eq!(*tenant, Some(t));
            assert_eq!(relationship_id.as_ref(), Some(&rid(1)));
        }
        other => panic!("unexpected {other:?}"),
    }
    let entry = err.explain(&ExplainContext::new().with_tenant_name("Contoso"));
    assert_eq!(entry.key, CatalogueKey::RelationshipAlreadyActive);
    assert_eq!(entry.steps.len(), 3);
    assert!(
        !w.gdap
            .calls()
            .iter()
            .any(|c| c.starts_with("create_relationship"))
    );
}

#[tokio::test(start_paused = true)]
async fn the_service_refusing_with_disallowed_operation_maps_to_the_same_row() {
    let w = world();
    let t = tid(1);
    w.gdap.fail_next(
        "create_relationship",
        PortError::http(403, Some("disallowedOperation"), "not allowed"),
    );
    let err = orchestrator(&w)
        .re_request_permissions(t)
        .await
        .unwrap_err();
    assert_eq!(err.catalogue_key(), CatalogueKey::RelationshipAlreadyActive);
    assert_eq!(err.http_status(), 403);
}

#[tokio::test(start_paused = true)]
async fn a_request_to_the_own_partner_tenant_is_skipped_silently() {
    let w = world();
    let own = tid(9);
    w.store.put(
        TenantRecord::onboarded(own, OnboardedVia::OwnTenantConsent).with_own_partner_tenant(true),
    );
    let out = orchestrator(&w).re_request_permissions(own).await.unwrap();
    assert_eq!(out, RequestOutcome::SkippedOwnTenant);
    assert!(
        w.gdap.calls().is_empty(),
        "nothing sent: {:?}",
        w.gdap.calls()
    );
}

#[tokio::test(start_paused = true)]
async fn names_are_unique_and_collisions_get_a_suffix() {
    let w = world();
    let (a, b) = (tid(1), tid(2));
    // Another tenant's relationship already uses the name the generator would pick.
    let mut other = active(
        5,
        b,
        "Beta",
        "AppInstall Contoso 20260301",
        &[roles::SECURITY_READER],
    );
    other.status = RelationshipStatus::Terminated;
    w.gdap.insert(other);
    w.store
        .put(TenantRecord::new(a).with_display_name("Contoso"));
    let out = orchestrator(&w).re_request_permissions(a).await.unwrap();
    assert_eq!(
        out.requested().unwrap().display_name,
        "AppInstall Contoso 20260301 2"
    );
}

#[tokio::test(start_paused = true)]
async fn a_duplicate_reported_by_the_service_is_retried_with_the_next_name() {
    let w = world();
    let t = tid(1);
    w.store
        .put(TenantRecord::new(t).with_display_name("Contoso"));
    w.gdap.fail_next(
        "create_relationship",
        PortError::http(409, Some("duplicateDisplayName"), "exists"),
    );
    let out = orchestrator(&w).re_request_permissions(t).await.unwrap();
    assert_eq!(
        out.requested().unwrap().display_name,
        "AppInstall Contoso 20260301 2"
    );
    let creates: Vec<_> = w
        .gdap
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("create_relationship"))
        .collect();
    assert_eq!(creates.len(), 2, "{creates:?}");
}

#[tokio::test(start_paused = true)]
async fn a_persistent_duplicate_gives_the_catalogue_row() {
    let w = world();
    for _ in 0..3 {
        w.gdap.fail_next(
            "create_relationship",
            PortError::http(409, Some("duplicateDisplayName"), "exists"),
        );
    }
    let err = orchestrator(&w)
        .request_permissions(
            tid(1),
            &RelationshipTemplate::app_install(),
            Some("Fixed name"),
        )
        .await
        .unwrap_err();
    match &err {
        OnboardError::DuplicateDisplayName { display_name, .. } => {
            assert_eq!(display_name, "Fixed name 3");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn lock_for_approval_is_retried_while_the_service_catches_up() {
    let w = world();
    for _ in 0..2 {
        w.gdap.fail_next(
            "lock_for_approval",
            PortError::http(405, Some("methodNotAllowed"), "not yet"),
        );
    }
    let started = tokio::time::Instant::now();
    let out = orchestrator(&w)
        .re_request_permissions(tid(1))
        .await
        .unwrap();
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(4),
        "two 2-second pauses"
    );
    let id = &out.requested().unwrap().relationship_id;
    assert_eq!(
        w.gdap.relationship(id).unwrap().status,
        RelationshipStatus::ApprovalPending
    );
}

#[tokio::test(start_paused = true)]
async fn lock_retry_honours_retry_after() {
    let w = world();
    w.gdap.fail_next(
        "lock_for_approval",
        PortError::http(429, None, "slow").with_retry_after(Duration::from_secs(7)),
    );
    let started = tokio::time::Instant::now();
    orchestrator(&w)
        .re_request_permissions(tid(1))
        .await
        .unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn repeating_a_request_reuses_the_pending_one() {
    let w = world();
    let o = orchestrator(&w);
    let first = o.re_request_permissions(tid(1)).await.unwrap();
    let second = o.re_request_permissions(tid(1)).await.unwrap();
    let (f, s) = (first.requested().unwrap(), second.requested().unwrap());
    assert_eq!(f.relationship_id, s.relationship_id);
    assert!(s.reused);
    assert_eq!(w.gdap.relationships().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn once_approved_a_new_request_is_refused() {
    let w = world();
    let o = orchestrator(&w);
    let first = o.re_request_permissions(tid(1)).await.unwrap();
    w.gdap.approve(&first.requested().unwrap().relationship_id);
    let err = o.re_request_permissions(tid(1)).await.unwrap_err();
    assert_eq!(err.catalogue_key(), CatalogueKey::RelationshipAlreadyActive);
}

#[tokio::test(start_paused = true)]
async fn templates_are_validated_before_anything_is_sent() {
    let w = world();
    let o = orchestrator(&w);
    let too_long = RelationshipTemplate::app_install().with_duration(Days(800));
    let err = o
        .request_permissions(tid(1), &too_long, None)
        .await
        .unwrap_err();
    assert!(matches!(err, OnboardError::InvalidTemplate(_)), "{err:?}");
    let ga_auto = RelationshipTemplate::new("GA", "all", [roles::GLOBAL_ADMINISTRATOR]);
    let err = o
        .request_permissions(tid(1), &ga_auto, None)
        .await
        .unwrap_err();
    assert_eq!(err.catalogue_key(), CatalogueKey::InvalidRequest);
    assert!(w.gdap.calls().is_empty());
    // GA without auto-extend is allowed.
    let ga = ga_auto.with_auto_extend(Days::NONE);
    o.request_permissions(tid(1), &ga, None).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn least_privilege_task_template_request() {
    let w = world();
    let t = tid(3);
    w.store
        .put(TenantRecord::new(t).with_display_name("Northwind Traders & Sons, Inc."));
    let helpdesk = RelationshipTemplate::by_short_name("helpdesk").unwrap();
    let out = orchestrator(&w)
        .request_permissions(t, &helpdesk, None)
        .await
        .unwrap();
    let req = out.requested().unwrap();
    assert_eq!(
        req.display_name,
        "Helpdesk Northwind Traders Sons Inc. 20260301"
    );
    let rel = w.gdap.relationship(&req.relationship_id).unwrap();
    assert_eq!(rel.roles, [roles::HELPDESK_ADMINISTRATOR.id()].into());
    assert_eq!(rel.duration, Some(Days(90)));
}
