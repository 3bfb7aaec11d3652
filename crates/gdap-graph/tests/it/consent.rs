//! Consent surface in a customer tenant: service principals, app role assignments,
//! oauth2PermissionGrants, organization, user count.

use std::sync::Arc;

use futures::TryStreamExt;
use gdap_core::StaticTokenCredential;
use gdap_graph::models::{NewAppRoleAssignment, NewOAuth2PermissionGrant};
use gdap_graph::{AppId, GrantId, ServicePrincipalId};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::*;

const CUSTOMER_TOKEN: &str = "customer-scoped-token";
const GRAPH_APP: &str = "00000003-0000-0000-c000-000000000000";
const GRAPH_SP: &str = "7c1d1f3e-0a2b-4c5d-8e9f-1a2b3c4d5e6f";
const CLIENT_SP: &str = "2b3c4d5e-6f70-4a1b-9c2d-3e4f5a6b7c8d";
const USER_READ_ALL_ROLE: &str = "df021288-bdef-4463-88db-98f22de89214";

/// A customer-scoped client: the same endpoint and pool, another token.
fn customer_client(server: &MockServer) -> gdap_graph::GraphClient {
    client(server).with_credential(Arc::new(StaticTokenCredential::new(CUSTOMER_TOKEN)))
}

fn cgiven(verb: &str, p: &str) -> wiremock::MockBuilder {
    Mock::given(method(verb))
        .and(path(format!("{PREFIX}/{p}")))
        .and(header(
            "authorization",
            format!("Bearer {CUSTOMER_TOKEN}").as_str(),
        ))
}

fn graph_sp() -> serde_json::Value {
    json!({
        "id": GRAPH_SP,
        "appId": GRAPH_APP,
        "displayName": "Microsoft Graph",
        "appRoles": [
            {"id": USER_READ_ALL_ROLE, "value": "User.Read.All", "allowedMemberTypes": ["Application"],
             "displayName": "Read all users' full profiles", "isEnabled": true, "origin": "Application"},
            {"id": "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "value": "Directory.Read.All",
             "allowedMemberTypes": ["Application"], "isEnabled": true}
        ],
        "oauth2PermissionScopes": [
            {"id": "a154be20-db9c-4678-8ab7-66f6cc099a59", "value": "User.Read.All", "type": "Admin", "isEnabled": true}
        ]
    })
}

#[tokio::test(start_paused = true)]
async fn service_principals_by_app_id_and_create() {
    let server = MockServer::start().await;
    cgiven("GET", "servicePrincipals")
        .and(query_param(
            "$filter",
            format!("appId eq '{GRAPH_APP}'").as_str(),
        ))
        .and(query_param(
            "$select",
            "id,appId,displayName,appRoles,oauth2PermissionScopes",
        ))
        .respond_with(ok_json(200, json!({"value": [graph_sp()]})))
        .expect(1)
        .mount(&server)
        .await;
    let missing = "11111111-2222-3333-4444-555555555555";
    cgiven("GET", "servicePrincipals")
        .and(query_param(
            "$filter",
            format!("appId eq '{missing}'").as_str(),
        ))
        .respond_with(ok_json(200, json!({"value": []})))
        .expect(1)
        .mount(&server)
        .await;
    cgiven("POST", "servicePrincipals")
        .and(body_json(json!({"appId": missing})))
        .respond_with(ok_json(
            201,
            json!({"id": CLIENT_SP, "appId": missing, "displayName": "Our app", "appRoles": [], "oauth2PermissionScopes": []}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let c = customer_client(&server);
    let sp = c
        .find_service_principal_by_app_id(&GRAPH_APP.parse::<AppId>().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        sp.app_role_id("User.Read.All").unwrap().to_string(),
        USER_READ_ALL_ROLE
    );
    assert!(sp.permission_scope("User.Read.All").is_some());
    let app: AppId = missing.parse().unwrap();
    assert!(
        c.find_service_principal_by_app_id(&app)
            .await
            .unwrap()
            .is_none()
    );
    let created = c.create_service_principal(&app).await.unwrap();
    assert_eq!(created.id.to_string(), CLIENT_SP);
    snap!("service_principal_parsed", &sp);
}

#[tokio::test(start_paused = true)]
async fn app_role_assignments_list_create_delete() {
    let server = MockServer::start().await;
    let assignment = json!({
        "id": "47nZsM8O_UuNq5Jz3QValCxBBiqJea9Drc9CMK4Ru_M",
        "deletedDateTime": null,
        "appRoleId": USER_READ_ALL_ROLE,
        "createdDateTime": "2025-02-13T10:17:06Z",
        "principalDisplayName": "Our app",
        "principalId": CLIENT_SP,
        "principalType": "ServicePrincipal",
        "resourceDisplayName": "Microsoft Graph",
        "resourceId": GRAPH_SP
    });
    cgiven(
        "POST",
        &format!("servicePrincipals/{GRAPH_SP}/appRoleAssignedTo"),
    )
    .and(body_json(
        json!({"principalId": CLIENT_SP, "resourceId": GRAPH_SP, "appRoleId": USER_READ_ALL_ROLE}),
    ))
    .respond_with(ok_json(201, assignment.clone()))
    .up_to_n_times(1)
    .with_priority(1)
    .expect(1)
    .mount(&server)
    .await;
    cgiven(
        "POST",
        &format!("servicePrincipals/{GRAPH_SP}/appRoleAssignedTo"),
    )
    .respond_with(ok_json(
        400,
        json!({"error": {"code": "Request_BadRequest",
            "message": "Permission being assigned already exists on the object.",
            "innerError": {"date": "2025-02-13T10:17:06", "request-id": "req-dup-ara"}}}),
    ))
    .with_priority(2)
    .expect(1)
    .mount(&server)
    .await;
    cgiven(
        "GET",
        &format!("servicePrincipals/{CLIENT_SP}/appRoleAssignments"),
    )
    .respond_with(ok_json(200, json!({"value": [assignment.clone()]})))
    .expect(1)
    .mount(&server)
    .await;
    cgiven(
        "GET",
        &format!("servicePrincipals/{GRAPH_SP}/appRoleAssignedTo"),
    )
    .and(query_param(
        "$filter",
        format!("principalId eq '{CLIENT_SP}'").as_str(),
    ))
    .respond_with(ok_json(200, json!({"value": [assignment]})))
    .expect(1)
    .mount(&server)
    .await;
    cgiven(
        "DELETE",
        &format!("servicePrincipals/{GRAPH_SP}/appRoleAssignedTo/47nZsM8O_UuNq5Jz3QValCxBBiqJea9Drc9CMK4Ru_M"),
    )
    .respond_with(ResponseTemplate::new(204))
    .expect(1)
    .mount(&server)
    .await;
    catch_all(&server, 0).await;

    let c = customer_client(&server);
    let client_sp: ServicePrincipalId = CLIENT_SP.parse().unwrap();
    let graph_sp: ServicePrincipalId = GRAPH_SP.parse().unwrap();
    let body = NewAppRoleAssignment::new(client_sp, graph_sp, USER_READ_ALL_ROLE.parse().unwrap());
    let created = c.create_app_role_assignment(&body).await.unwrap();
    snap!(
        "create_app_role_assignment_request",
        sent_body(&server, 0).await
    );
    snap!("create_app_role_assignment_response", &created);

    let dup = c.create_app_role_assignment(&body).await.unwrap_err();
    assert!(dup.is_already_exists(), "{dup}");
    assert_eq!(dup.status(), Some(400));

    let mine: Vec<_> = c
        .list_app_role_assignments(&client_sp, None)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(mine[0].resource_id, graph_sp);
    let to: Vec<_> = c
        .list_app_role_assigned_to(
            &graph_sp,
            Some(gdap_graph::ListOptions::new().filter(format!("principalId eq '{CLIENT_SP}'"))),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(to.len(), 1);
    c.delete_app_role_assignment(&graph_sp, &created.id)
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn oauth2_permission_grants_list_create_update_delete() {
    let server = MockServer::start().await;
    let grant_id = "l5eW7x0ga0-WDOntXzHateQDNpSH5-lPk9HjD3Sarjk";
    let grant = json!({"id": grant_id, "clientId": CLIENT_SP, "consentType": "AllPrincipals",
        "principalId": null, "resourceId": GRAPH_SP, "scope": "User.Read.All Group.Read.All"});
    cgiven("GET", "oauth2PermissionGrants")
        .and(query_param(
            "$filter",
            format!("clientId eq '{CLIENT_SP}' and resourceId eq '{GRAPH_SP}'").as_str(),
        ))
        .respond_with(ok_json(200, json!({"value": [grant.clone()]})))
        .expect(1)
        .mount(&server)
        .await;
    cgiven("POST", "oauth2PermissionGrants")
        .and(body_json(
            json!({"clientId": CLIENT_SP, "consentType": "AllPrincipals",
            "resourceId": GRAPH_SP, "scope": "User.Read.All Group.Read.All"}),
        ))
        .respond_with(ok_json(201, grant.clone()))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    cgiven("POST", "oauth2PermissionGrants")
        .respond_with(ok_json(409, json!({"error": {"code": "Request_MultipleObjectsWithSameKeyValue",
            "message": "Permission entry already exists.", "innerError": {"request-id": "req-409g"}}})))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    cgiven("PATCH", &format!("oauth2PermissionGrants/{grant_id}"))
        .and(body_json(
            json!({"scope": "User.Read.All Group.Read.All Mail.Read"}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    cgiven("DELETE", &format!("oauth2PermissionGrants/{grant_id}"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;

    let c = customer_client(&server);
    let client_sp: ServicePrincipalId = CLIENT_SP.parse().unwrap();
    let graph_sp: ServicePrincipalId = GRAPH_SP.parse().unwrap();
    let grants: Vec<_> = c
        .list_oauth2_permission_grants(Some(&client_sp), Some(&graph_sp))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        grants[0].scopes().collect::<Vec<_>>(),
        ["User.Read.All", "Group.Read.All"]
    );
    let body = NewOAuth2PermissionGrant::all_principals(
        client_sp,
        graph_sp,
        ["User.Read.All", "Group.Read.All", "User.Read.All"],
    );
    let created = c.create_oauth2_permission_grant(&body).await.unwrap();
    snap!("create_oauth2_permission_grant_response", &created);
    let dup = c.create_oauth2_permission_grant(&body).await.unwrap_err();
    assert!(dup.is_already_exists());
    let id: GrantId = grant_id.parse().unwrap();
    c.update_oauth2_permission_grant_scope(&id, ["User.Read.All Group.Read.All", "Mail.Read"])
        .await
        .unwrap();
    let err = c
        .update_oauth2_permission_grant_scope(&id, ["  "])
        .await
        .unwrap_err();
    assert_eq!(err.validation_field(), Some("scope"));
    c.delete_oauth2_permission_grant(&id).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn organization_and_user_count() {
    let server = MockServer::start().await;
    cgiven("GET", "organization")
        .respond_with(ok_json(200, json!({"value": [{
            "id": CUSTOMER, "displayName": "Contoso", "tenantType": "AAD", "countryLetterCode": "US",
            "createdDateTime": "2019-01-01T00:00:00Z",
            "verifiedDomains": [
                {"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": false, "isInitial": true, "name": "contoso.onmicrosoft.com", "type": "Managed"},
                {"capabilities": "Email", "isDefault": true, "isInitial": false, "name": "contoso.com", "type": "Managed"}
            ]}]})))
        .expect(1)
        .mount(&server)
        .await;
    cgiven("GET", "users/$count")
        .and(header("consistencylevel", "eventual"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/plain")
                .set_body_string("893"),
        )
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let c = customer_client(&server);
    let org = c.get_organization().await.unwrap();
    assert_eq!(org.tenant_id().to_string(), CUSTOMER);
    assert_eq!(org.default_domain(), Some("contoso.com"));
    assert_eq!(org.initial_domain(), Some("contoso.onmicrosoft.com"));
    assert_eq!(c.count_users().await.unwrap(), 893);
    snap!("organization", &org);
}
