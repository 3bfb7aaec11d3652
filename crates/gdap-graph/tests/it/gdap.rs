//! Requests, operations and customers.

use futures::TryStreamExt;
use gdap_graph::models::{OperationType, RequestAction, RequestStatus};
use gdap_graph::{AssignmentId, Error, RelationshipId, TenantId};
use serde_json::json;
use wiremock::MockServer;
use wiremock::matchers::{body_json, query_param};

use crate::*;

fn rel() -> RelationshipId {
    REL_ID.parse().unwrap()
}

fn rels(p: &str) -> String {
    format!("tenantRelationships/delegatedAdminRelationships/{REL_ID}/{p}")
}

fn request_json(action: &str, status: &str) -> serde_json::Value {
    json!({
        "@odata.etag": ETAG,
        "id": "ef0a5d6e-1b9a-4f1e-8a3d-2c7b9e0d1f2a",
        "action": action,
        "status": status,
        "createdDateTime": "2022-02-10T11:24:42.3148266Z",
        "lastModifiedDateTime": "2022-02-10T11:24:42.3148266Z"
    })
}

#[tokio::test(start_paused = true)]
async fn requests_lock_for_approval_and_reject() {
    let server = MockServer::start().await;
    given("POST", &rels("requests"))
        .and(body_json(json!({"action": "lockForApproval"})))
        .respond_with(ok_json(201, request_json("lockForApproval", "created")))
        .expect(1)
        .mount(&server)
        .await;
    given("POST", &rels("requests"))
        .and(body_json(json!({"action": "reject"})))
        .respond_with(ok_json(201, request_json("reject", "created")))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", &rels("requests"))
        .respond_with(ok_json(
            200,
            json!({"value": [request_json("terminate", "succeeded"),
            request_json("somethingNew", "pending")]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    given(
        "GET",
        &rels("requests/ef0a5d6e-1b9a-4f1e-8a3d-2c7b9e0d1f2a"),
    )
    .respond_with(ok_json(200, request_json("approve", "failed")))
    .expect(1)
    .mount(&server)
    .await;
    catch_all(&server, 0).await;
    let c = client(&server);
    let lock = c
        .create_relationship_request(&rel(), RequestAction::LockForApproval)
        .await
        .unwrap();
    assert_eq!(lock.status, Some(RequestStatus::Created));
    snap!(
        "create_relationship_request_lock",
        sent_body(&server, 0).await
    );
    let reject = c
        .create_relationship_request(&rel(), RequestAction::Reject)
        .await
        .unwrap();
    assert_eq!(reject.action, RequestAction::Reject);
    let all: Vec<_> = c
        .list_relationship_requests(&rel(), None)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all[1].action.as_str(), "somethingNew");
    let id: AssignmentId = "ef0a5d6e-1b9a-4f1e-8a3d-2c7b9e0d1f2a".parse().unwrap();
    let one = c.get_relationship_request(&rel(), &id).await.unwrap();
    assert_eq!(one.status, Some(RequestStatus::Failed));
    let err = c
        .create_relationship_request(&rel(), RequestAction::UnknownFutureValue)
        .await
        .unwrap_err();
    assert_eq!(err.validation_field(), Some("action"));
    snap!("list_relationship_requests", &all);
}

#[tokio::test(start_paused = true)]
async fn operations_parse_their_json_data() {
    let server = MockServer::start().await;
    let data = serde_json::to_string(&assignment("active")).unwrap();
    let op = json!({
        "@odata.etag": ETAG,
        "id": "0e2f3c6d-1f2a-4b5c-9d8e-7f6a5b4c3d2e",
        "operationType": "delegatedAdminAccessAssignmentUpdate",
        "data": data,
        "status": "succeeded",
        "createdDateTime": "2022-02-10T11:24:42.3148266Z",
        "lastModifiedDateTime": "2022-02-10T11:26:44.9941884Z"
    });
    let mut broken = op.clone();
    broken["data"] = json!("{not json");
    given("GET", &rels("operations"))
        .and(query_param("$top", "300"))
        .respond_with(ok_json(200, json!({"value": [op.clone(), broken]})))
        .expect(1)
        .mount(&server)
        .await;
    given(
        "GET",
        &rels("operations/0e2f3c6d-1f2a-4b5c-9d8e-7f6a5b4c3d2e"),
    )
    .respond_with(ok_json(200, op))
    .expect(1)
    .mount(&server)
    .await;
    catch_all(&server, 0).await;
    let c = client(&server);
    let ops: Vec<_> = c
        .list_operations(&rel(), Some(gdap_graph::ListOptions::new().top(300)))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ops[0].operation_type, OperationType::AccessAssignmentUpdate);
    let parsed = ops[0].access_assignment().unwrap();
    assert!(parsed.status.unwrap().is_active());
    let err = ops[1].data_json().unwrap_err();
    assert!(matches!(err, Error::InvalidOperationData { .. }));
    let one = c
        .get_operation(
            &rel(),
            &"0e2f3c6d-1f2a-4b5c-9d8e-7f6a5b4c3d2e".parse().unwrap(),
        )
        .await
        .unwrap();
    assert!(one.is_done());
    snap!("operation_data_parsed", &one.access_assignment().unwrap());
}

#[tokio::test(start_paused = true)]
async fn customers_and_service_management_details() {
    let server = MockServer::start().await;
    let customer = json!({"@odata.etag": ETAG, "id": CUSTOMER, "tenantId": CUSTOMER, "displayName": "Contoso"});
    given("GET", "tenantRelationships/delegatedAdminCustomers")
        .and(query_param("$orderby", "displayName"))
        .respond_with(ok_json(200, json!({"value": [customer.clone()]})))
        .expect(1)
        .mount(&server)
        .await;
    given(
        "GET",
        &format!("tenantRelationships/delegatedAdminCustomers/{CUSTOMER}"),
    )
    .respond_with(ok_json(200, customer))
    .expect(1)
    .mount(&server)
    .await;
    given(
        "GET",
        &format!("tenantRelationships/delegatedAdminCustomers/{CUSTOMER}/serviceManagementDetails"),
    )
    .respond_with(ok_json(200, json!({"value": [
        {"id": "AAD", "serviceName": "Azure Active Directory", "serviceManagementUrl": "https://aad.portal.azure.com/contoso.onmicrosoft.com"},
        {"id": "Teams", "serviceName": "Teams", "serviceManagementUrl": "https://admin.teams.microsoft.com/?delegatedOrg=contoso.onmicrosoft.com"}
    ]})))
    .expect(1)
    .mount(&server)
    .await;
    catch_all(&server, 0).await;
    let c = client(&server);
    let tenant: TenantId = CUSTOMER.parse().unwrap();
    let list: Vec<_> = c
        .list_customers(Some(gdap_graph::ListOptions::new().orderby("displayName")))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(list[0].tenant_id, tenant);
    assert_eq!(
        c.get_customer(&tenant)
            .await
            .unwrap()
            .display_name
            .as_deref(),
        Some("Contoso")
    );
    let details: Vec<_> = c
        .list_service_management_details(&tenant)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(details.len(), 2);
    // serviceManagementDetails takes no OData options.
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs[2].url.query(), None);
    snap!("service_management_details", &details);
}
