//! Relationships: list (3 pages), get, create, update (200/202), delete, validation.

use std::time::Duration;

use futures::TryStreamExt;
use gdap_graph::models::{
    AccessDetails, CustomerParticipant, IsoDuration, NewRelationship, RelationshipKind,
    RelationshipStatus, RelationshipUpdate,
};
use gdap_graph::{Error, ListOptions, RelationshipId, TenantId, UpdateOutcome, roles};
use serde_json::json;
use wiremock::matchers::{body_json, header, query_param, query_param_is_missing};
use wiremock::{MockServer, ResponseTemplate};

use crate::*;

const RELS: &str = "tenantRelationships/delegatedAdminRelationships";

fn rel_id() -> RelationshipId {
    REL_ID.parse().unwrap()
}

fn new_relationship() -> NewRelationship {
    NewRelationship::new(
        "Contoso onboarding",
        IsoDuration::relationship_duration("P730D").unwrap(),
        AccessDetails::from_roles([
            roles::PRIVILEGED_ROLE_ADMINISTRATOR,
            roles::APPLICATION_ADMINISTRATOR,
        ]),
    )
    .with_customer(CustomerParticipant::new(
        CUSTOMER.parse::<TenantId>().unwrap(),
    ))
    .with_auto_extend(IsoDuration::auto_extend("P180D").unwrap())
}

#[tokio::test(start_paused = true)]
async fn list_three_pages_keeps_unknown_status_and_reseller_items() {
    let server = MockServer::start().await;
    let next = |token: &str| format!("{}{PREFIX}/{RELS}?$skiptoken={token}", server.uri());
    given("GET", RELS)
        .and(query_param("$filter", "status eq 'active'"))
        .and(query_param("$top", "2"))
        .and(query_param("$select", "id,displayName,status"))
        .and(query_param("$orderby", "endDateTime asc"))
        .and(query_param_is_missing("$skiptoken"))
        .respond_with(ok_json(
            200,
            json!({
                "@odata.context": "https://graph.microsoft.com/v1.0/tenantRelationships/$metadata#delegatedAdminRelationships",
                "value": [relationship("11111111-1111-1111-1111-111111111111-22222222-2222-2222-2222-222222222222", "active", "one"),
                          relationship("33333333-3333-3333-3333-333333333333-44444444-4444-4444-4444-444444444444", "active", "two")],
                "@odata.nextLink": next("p2"),
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", RELS)
        .and(query_param("$skiptoken", "p2"))
        .respond_with(ok_json(
            200,
            json!({
                "value": [relationship("55555555-5555-5555-5555-555555555555-66666666-6666-6666-6666-666666666666", "hibernating", "future status"),
                          reseller_relationship("77777777-7777-7777-7777-777777777777-88888888-8888-8888-8888-888888888888")],
                "@odata.nextLink": next("p3"),
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", RELS)
        .and(query_param("$skiptoken", "p3"))
        .respond_with(ok_json(
            200,
            json!({"value": [relationship("99999999-9999-9999-9999-999999999999-aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "unknownFutureValue", "five")]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;

    let options = ListOptions::new()
        .filter("status eq 'active'")
        .top(2)
        .select(["id", "displayName", "status"])
        .orderby("endDateTime asc");
    let items: Vec<_> = client(&server)
        .list_relationships(Some(options))
        .try_collect()
        .await
        .unwrap();

    assert_eq!(items.len(), 5);
    assert!(matches!(
        items[2].status.as_ref().unwrap(),
        RelationshipStatus::Unrecognized(v) if v.as_str() == "hibernating"
    ));
    assert_eq!(items[3].kind(), RelationshipKind::Reseller);
    let reseller = items[3].reseller.as_ref().unwrap();
    assert!(reseller.is_partner_consent_pending);
    assert_eq!(items[0].kind(), RelationshipKind::Direct);
    assert_eq!(items[0].etag.as_deref(), Some(ETAG));
    assert_eq!(
        items[4].status,
        Some(RelationshipStatus::UnknownFutureValue)
    );
    snap!("list_relationships_three_pages", &items);
}

#[tokio::test(start_paused = true)]
async fn list_rejects_top_over_300_without_sending() {
    let server = MockServer::start().await;
    catch_all(&server, 0).await;
    let err = client(&server)
        .list_relationships(Some(ListOptions::new().top(301)))
        .try_next()
        .await
        .unwrap_err();
    assert_eq!(err.validation_field(), Some("$top"));
}

#[tokio::test(start_paused = true)]
async fn get_relationship_parses_the_reseller_subtype() {
    let server = MockServer::start().await;
    given("GET", &format!("{RELS}/{REL_ID}"))
        .respond_with(ok_json(200, reseller_relationship(REL_ID)))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let rel = client(&server).get_relationship(&rel_id()).await.unwrap();
    assert_eq!(rel.kind(), RelationshipKind::Reseller);
    assert_eq!(rel.duration.as_ref().unwrap().days(), 730);
    snap!("get_relationship_reseller", &rel);
}

#[tokio::test(start_paused = true)]
async fn create_relationship_posts_the_validated_body() {
    let server = MockServer::start().await;
    let mut created = relationship(REL_ID, "created", "Contoso onboarding");
    created["autoExtendDuration"] = json!("P180D");
    given("POST", RELS)
        .and(header("content-type", "application/json"))
        .respond_with(ok_json(201, created).insert_header(
            "location",
            format!("https://graph.microsoft.com/v1.0/{RELS}/{REL_ID}").as_str(),
        ))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;

    let rel = client(&server)
        .create_relationship(&new_relationship())
        .await
        .unwrap();
    assert_eq!(rel.status, Some(RelationshipStatus::Created));
    assert_eq!(rel.id, rel_id());
    snap!("create_relationship_request", sent_body(&server, 0).await);
    snap!("create_relationship_response", &rel);
}

#[tokio::test(start_paused = true)]
async fn create_relationship_validates_before_sending() {
    let server = MockServer::start().await;
    catch_all(&server, 0).await;
    let c = client(&server);

    let mut long = new_relationship();
    long.display_name = "x".repeat(51);
    let mut empty = new_relationship();
    empty.display_name = String::new();
    let mut too_long = new_relationship();
    too_long.duration = IsoDuration::parse("P731D").unwrap();
    let mut too_short = new_relationship();
    too_short.duration = IsoDuration::parse("PT12H").unwrap();
    let mut ga_extend = new_relationship();
    ga_extend.access_details = AccessDetails::from_roles([roles::GLOBAL_ADMINISTRATOR]);
    let mut bad_extend = new_relationship();
    bad_extend.auto_extend_duration = Some(IsoDuration::parse("P90D").unwrap());
    let mut no_roles = new_relationship();
    no_roles.access_details = AccessDetails::default();

    for (body, field) in [
        (long, "displayName"),
        (empty, "displayName"),
        (too_long, "duration"),
        (too_short, "duration"),
        (ga_extend, "autoExtendDuration"),
        (bad_extend, "autoExtendDuration"),
        (no_roles, "accessDetails"),
    ] {
        let err = c.create_relationship(&body).await.unwrap_err();
        assert!(matches!(err, Error::Validation { .. }), "{err}");
        assert_eq!(err.validation_field(), Some(field), "{err}");
    }

    // 50 characters (not bytes) is fine, and GA without auto-extend is fine.
    let mut ok = new_relationship();
    ok.display_name = "é".repeat(50);
    ok.validate().unwrap();
    let mut ga = new_relationship();
    ga.access_details = AccessDetails::from_roles([roles::GLOBAL_ADMINISTRATOR]);
    ga.auto_extend_duration = Some(IsoDuration::no_auto_extend());
    ga.validate().unwrap();
}

#[tokio::test(start_paused = true)]
async fn create_relationship_duplicate_name_is_typed() {
    let server = MockServer::start().await;
    given("POST", RELS)
        .respond_with(ok_json(
            409,
            json!({"error": {"code": "conflict", "message": "A relationship with this name already exists.",
                "innerError": {"date": "2025-02-13T10:17:06", "request-id": "req-409", "client-request-id": "c-1"}}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let err = client(&server)
        .create_relationship(&new_relationship())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateDisplayName(_)));
    assert!(err.is_duplicate_display_name());
    assert!(err.is_already_exists());
    assert_eq!(err.status(), Some(409));
    assert_eq!(err.service_code(), Some("conflict"));
    assert_eq!(err.request_id(), Some("req-409"));
    assert_eq!(err.date(), Some("2025-02-13T10:17:06"));
}

#[tokio::test(start_paused = true)]
async fn update_relationship_sends_if_match_and_returns_the_object() {
    let server = MockServer::start().await;
    let mut updated = relationship(REL_ID, "active", "Contoso onboarding");
    updated["autoExtendDuration"] = json!("P180D");
    given("PATCH", &format!("{RELS}/{REL_ID}"))
        .and(header("if-match", ETAG))
        .and(body_json(json!({"autoExtendDuration": "P180D"})))
        .respond_with(ok_json(200, updated))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let update = RelationshipUpdate {
        auto_extend_duration: Some(IsoDuration::auto_extend("P180D").unwrap()),
        ..Default::default()
    };
    let out = client(&server)
        .update_relationship(&rel_id(), ETAG, &update)
        .await
        .unwrap();
    let rel = out.updated().unwrap();
    assert_eq!(rel.auto_extend_duration.unwrap().as_str(), "P180D");
    snap!("update_relationship_request", sent_body(&server, 0).await);
}

#[tokio::test(start_paused = true)]
async fn removing_global_admin_is_accepted_and_polled_on_retry_after() {
    let server = MockServer::start().await;
    let op_path = format!("{RELS}/{REL_ID}/operations/0e2f3c6d-1f2a-4b5c-9d8e-7f6a5b4c3d2e");
    given("PATCH", &format!("{RELS}/{REL_ID}"))
        .and(header("if-match", ETAG))
        .and(body_json(
            json!({"accessDetails": {"unifiedRoles": [{"roleDefinitionId": EXCHANGE_ADMIN}]}}),
        ))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header(
                    "location",
                    format!("{}{PREFIX}/{op_path}", server.uri()).as_str(),
                )
                .insert_header("retry-after", "10"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let op = |status: &str| {
        json!({
            "@odata.etag": ETAG,
            "id": "0e2f3c6d-1f2a-4b5c-9d8e-7f6a5b4c3d2e",
            "operationType": "delegatedAdminRelationshipUpdate",
            "data": serde_json::to_string(&relationship(REL_ID, "active", "Contoso onboarding")).unwrap(),
            "status": status,
            "createdDateTime": "2022-02-10T11:24:42.3148266Z",
            "lastModifiedDateTime": "2022-02-10T11:24:42.3148266Z"
        })
    };
    given("GET", &op_path)
        .respond_with(ok_json(200, op("running")).insert_header("retry-after", "7"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    given("GET", &op_path)
        .respond_with(ok_json(200, op("succeeded")))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;

    let c = client(&server);
    let update = RelationshipUpdate {
        access_details: Some(AccessDetails::from_roles([roles::EXCHANGE_ADMINISTRATOR])),
        ..Default::default()
    };
    let out = c
        .update_relationship(&rel_id(), ETAG, &update)
        .await
        .unwrap();
    let UpdateOutcome::Accepted {
        operation_url,
        retry_after,
    } = out
    else {
        panic!("expected 202, got {out:?}");
    };
    assert_eq!(retry_after, Some(Duration::from_secs(10)));
    assert!(operation_url.path().ends_with(&op_path));

    let started = tokio::time::Instant::now();
    let done = c
        .wait_for_operation(&operation_url, Duration::from_secs(24 * 3600))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(7));
    assert_eq!(done.status.as_str(), "succeeded");
    assert_eq!(
        done.operation_type.as_str(),
        "delegatedAdminRelationshipUpdate"
    );
    assert_eq!(done.relationship().unwrap().id, rel_id());
}

#[tokio::test(start_paused = true)]
async fn wait_for_operation_gives_up_at_the_deadline() {
    let server = MockServer::start().await;
    let op_path = format!("{RELS}/{REL_ID}/operations/op-1");
    given("GET", &op_path)
        .respond_with(
            ok_json(
                200,
                json!({"id": "op-1", "operationType": "delegatedAdminAccessAssignmentUpdate",
                "data": "{}", "status": "running"}),
            )
            .insert_header("retry-after", "10"),
        )
        // Three polls (t = 0, 10, 20 s) on a quiet clock; fewer if paused time jumps ahead while
        // loopback I/O is in flight (the connection pool arms idle timers).
        .expect(1..=3)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let url = gdap_graph::Url::parse(&format!("{}{PREFIX}/{op_path}", server.uri())).unwrap();
    let err = client(&server)
        .wait_for_operation(&url, Duration::from_secs(25))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::OperationTimedOut { .. }), "{err}");
}

#[tokio::test(start_paused = true)]
async fn stale_etag_is_precondition_failed() {
    let server = MockServer::start().await;
    given("PATCH", &format!("{RELS}/{REL_ID}"))
        .respond_with(ok_json(
            412,
            json!({"error": {"code": "preconditionFailed", "message": "ETag mismatch",
                "innerError": {"request-id": "req-412", "date": "2025-02-13T10:17:06"}}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let update = RelationshipUpdate {
        display_name: Some("renamed".into()),
        ..Default::default()
    };
    let err = client(&server)
        .update_relationship(&rel_id(), "W/\"stale\"", &update)
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed());
    assert!(!err.is_already_exists());
    assert_eq!(err.request_id(), Some("req-412"));
}

#[tokio::test(start_paused = true)]
async fn delete_relationship_sends_if_match() {
    let server = MockServer::start().await;
    given("DELETE", &format!("{RELS}/{REL_ID}"))
        .and(header("if-match", ETAG))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let c = client(&server);
    c.delete_relationship(&rel_id(), ETAG).await.unwrap();
    let err = c.delete_relationship(&rel_id(), " ").await.unwrap_err();
    assert_eq!(err.validation_field(), Some("If-Match"));
}

#[tokio::test(start_paused = true)]
async fn customer_scoped_client_reuses_paths_with_another_token() {
    let server = MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(format!(
            "{PREFIX}/{RELS}/{REL_ID}"
        )))
        .and(header("authorization", "Bearer customer-token"))
        .respond_with(ok_json(200, relationship(REL_ID, "active", "x")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let customer = client(&server).with_credential(std::sync::Arc::new(
        gdap_core::StaticTokenCredential::new("customer-token"),
    ));
    assert!(
        customer
            .get_relationship(&rel_id())
            .await
            .unwrap()
            .is_active()
    );
}

#[test]
fn approval_link_uses_the_relationship_id() {
    assert_eq!(
        gdap_graph::approval_link(&rel_id()),
        format!(
            "https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/{REL_ID}"
        )
    );
}
