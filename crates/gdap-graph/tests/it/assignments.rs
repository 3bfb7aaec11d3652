//! Access assignments: list, get, create (201 / 409), update (202 / 200), delete.

use futures::TryStreamExt;
use gdap_graph::models::{
    AccessAssignmentStatus, AccessAssignmentUpdate, AccessDetails, NewAccessAssignment,
};
use gdap_graph::{AssignmentId, Error, ListOptions, RelationshipId, SecurityGroupId, roles};
use serde_json::json;
use wiremock::matchers::{body_json, header, query_param};
use wiremock::{MockServer, ResponseTemplate};

use crate::*;

const ASSIGNMENT: &str = "a97a9b4c-6da6-4a5d-b12f-6a4d8e7e5e0e";
const GROUP: &str = "1d6a2f36-3f1c-4b69-8d3c-1b0a2e4d5f6a";

fn base() -> String {
    format!("tenantRelationships/delegatedAdminRelationships/{REL_ID}/accessAssignments")
}

fn ids() -> (RelationshipId, AssignmentId) {
    (REL_ID.parse().unwrap(), ASSIGNMENT.parse().unwrap())
}

fn new_assignment() -> NewAccessAssignment {
    NewAccessAssignment::for_security_group(
        GROUP.parse::<SecurityGroupId>().unwrap(),
        AccessDetails::from_roles([roles::EXCHANGE_ADMINISTRATOR]),
    )
}

#[tokio::test(start_paused = true)]
async fn create_access_assignment_posts_container_and_roles() {
    let server = MockServer::start().await;
    given("POST", &base())
        .respond_with(ok_json(201, assignment("pending")).insert_header(
            "location",
            format!("https://graph.microsoft.com/v1.0/{}/{ASSIGNMENT}", base()).as_str(),
        ))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let (rel, _) = ids();
    let created = client(&server)
        .create_access_assignment(&rel, &new_assignment())
        .await
        .unwrap();
    assert_eq!(created.status, Some(AccessAssignmentStatus::Pending));
    assert_eq!(
        created
            .access_container
            .security_group_id()
            .unwrap()
            .to_string(),
        GROUP
    );
    snap!(
        "create_access_assignment_request",
        sent_body(&server, 0).await
    );
    snap!("create_access_assignment_response", &created);
}

#[tokio::test(start_paused = true)]
async fn duplicate_access_assignment_is_already_exists() {
    let server = MockServer::start().await;
    given("POST", &base())
        .respond_with(ok_json(
            409,
            json!({"error": {"code": "conflict", "message": "The resource already exists.",
                "target": null, "details": [],
                "innerError": {"date": "2025-02-13T10:17:06", "request-id": "req-dup", "client-request-id": "c"}}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let (rel, _) = ids();
    let err = client(&server)
        .create_access_assignment(&rel, &new_assignment())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AlreadyExists(_)), "{err}");
    assert!(err.is_already_exists());
    assert!(!err.is_duplicate_display_name());
    assert!(!err.is_retryable());
    assert_eq!(err.request_id(), Some("req-dup"));
    assert_eq!(err.message(), Some("The resource already exists."));
}

#[tokio::test(start_paused = true)]
async fn update_access_assignment_is_accepted_with_an_operation() {
    let server = MockServer::start().await;
    let op = format!(
        "{}/tenantRelationships/delegatedAdminRelationships/{REL_ID}/operations/op-7",
        PREFIX
    );
    given("PATCH", &format!("{}/{ASSIGNMENT}", base()))
        .and(header("if-match", ETAG))
        .and(body_json(json!({"accessDetails": {"unifiedRoles": [
            {"roleDefinitionId": EXCHANGE_ADMIN}, {"roleDefinitionId": roles::GLOBAL_READER.id_str()}]}})))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("location", format!("{}{op}", server.uri()).as_str())
                .insert_header("retry-after", "10")
                .set_body_json(json!({})),
        )
        .expect(1)
        .mount(&server)
        .await;
    given("PATCH", &format!("{}/{ASSIGNMENT}", base()))
        .and(header("if-match", "W/\"same\""))
        .respond_with(ok_json(200, assignment("active")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let (rel, a) = ids();
    let c = client(&server);
    let update = AccessAssignmentUpdate::new(AccessDetails::from_roles([
        roles::EXCHANGE_ADMINISTRATOR,
        roles::GLOBAL_READER,
    ]));
    let out = c
        .update_access_assignment(&rel, &a, ETAG, &update)
        .await
        .unwrap();
    assert_eq!(out.operation_url().unwrap().path(), op);
    snap!(
        "update_access_assignment_request",
        sent_body(&server, 0).await
    );

    let same = c
        .update_access_assignment(&rel, &a, "W/\"same\"", &update)
        .await
        .unwrap();
    assert!(same.updated().unwrap().status.unwrap().is_active());
}

#[tokio::test(start_paused = true)]
async fn list_get_delete_access_assignments() {
    let server = MockServer::start().await;
    given("GET", &base())
        .and(query_param("$filter", "status eq 'active'"))
        .respond_with(ok_json(
            200,
            json!({"value": [assignment("active"), assignment("deleting")]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", &format!("{}/{ASSIGNMENT}", base()))
        .respond_with(ok_json(200, assignment("error")))
        .expect(1)
        .mount(&server)
        .await;
    given("DELETE", &format!("{}/{ASSIGNMENT}", base()))
        .and(header("if-match", ETAG))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let (rel, a) = ids();
    let c = client(&server);
    let list: Vec<_> = c
        .list_access_assignments(&rel, Some(ListOptions::new().filter("status eq 'active'")))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].status, Some(AccessAssignmentStatus::Deleting));
    let got = c.get_access_assignment(&rel, &a).await.unwrap();
    assert!(got.status.unwrap().is_terminal());
    c.delete_access_assignment(&rel, &a, ETAG).await.unwrap();
    snap!("list_access_assignments", &list);
}
