use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

const USER_READ_ALL: &str = "df021288-bdef-4463-88db-98f22de89214";
const EXO_MANAGE_AS_APP: &str = "dc50a0fb-09a3-484d-be87-e023b12c6440";

async fn sp_id(e: &Env, tok: &str, app_id: &str) -> String {
    let (s, v) = e
        .get(
            &e.graph(&format!(
                "/servicePrincipals?$filter=appId eq '{app_id}'&$select=id,appId,appRoles"
            )),
            tok,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let items = v["value"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{app_id}: {v}");
    items[0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn service_principals_app_roles_and_grants_with_ga() {
    let e = env().await;
    let t = e.tenant_with("ready_ga", true).id.clone();
    let tok = e.customer_token(&t).await;
    // Graph SP with real app roles; ids differ per tenant.
    let (_, v) = e
        .get(
            &e.graph(&format!(
                "/servicePrincipals?$filter=appId eq '{GRAPH_APP}'"
            )),
            &tok,
        )
        .await;
    let graph = &v["value"][0];
    assert!(
        graph["appRoles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == USER_READ_ALL && r["value"] == "User.Read.All")
    );
    assert!(
        graph["oauth2PermissionScopes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["value"] == "Directory.Read.All")
    );
    let graph_sp = graph["id"].as_str().unwrap().to_string();
    let other = e.tenant_with("ready_ga", true);
    let _ = other;
    let partner_graph = e.snap.tenants[0]
        .service_principals
        .iter()
        .find(|s| s.app_id == GRAPH_APP)
        .unwrap();
    assert_ne!(partner_graph.id, graph_sp);
    // Alternate key.
    let (s, v) = e
        .get(
            &e.graph(&format!("/servicePrincipals(appId='{GRAPH_APP}')")),
            &tok,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["id"], graph_sp.as_str());
    assert_eq!(
        e.get(
            &e.graph("/servicePrincipals(appId='00000000-0000-0000-0000-00000000dead')"),
            &tok
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // The consent created the app's SP and an AllPrincipals grant.
    let app_sp = sp_id(&e, &tok, &e.info.client_id).await;
    let (_, v) = e
        .get(&e.graph(&format!("/oauth2PermissionGrants?$filter=clientId eq '{app_sp}' and consentType eq 'AllPrincipals'")), &tok)
        .await;
    let grant = &v["value"][0];
    assert_eq!(grant["resourceId"], graph_sp.as_str());
    assert_eq!(
        grant["scope"],
        "Directory.ReadWrite.All AppRoleAssignment.ReadWrite.All DelegatedPermissionGrant.ReadWrite.All"
    );
    let grant_id = grant["id"].as_str().unwrap().to_string();
    // Creating the same SP again -> 409 and a duplicate write.
    let before = e.h.stats().duplicate_writes;
    let (s, v, _) = e
        .send_json(
            Method::POST,
            &e.graph("/servicePrincipals"),
            &tok,
            json!({"appId": e.info.client_id}),
        )
        .await;
    assert_eq!(
        (s, err_code(&v)),
        (
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue"
        )
    );
    assert_eq!(e.h.stats().duplicate_writes, before + 1);
    // Unknown app -> 400.
    let (s, _, _) = e
        .send_json(
            Method::POST,
            &e.graph("/servicePrincipals"),
            &tok,
            json!({"appId": "12345678-1234-1234-1234-123456789012"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // App role assignment via the resource SP (appRoleAssignedTo).
    let body = json!({"principalId": app_sp, "resourceId": graph_sp, "appRoleId": USER_READ_ALL});
    let url = e.graph(&format!("/servicePrincipals/{graph_sp}/appRoleAssignedTo"));
    let (s, v, _) = e.send_json(Method::POST, &url, &tok, body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["principalType"], "ServicePrincipal");
    assert_eq!(v["resourceDisplayName"], "Microsoft Graph");
    let aid = v["id"].as_str().unwrap().to_string();
    // Same assignment again via the client SP path -> 400 + duplicate.
    let before = e.h.stats().duplicate_writes;
    let url2 = e.graph(&format!("/servicePrincipals/{app_sp}/appRoleAssignments"));
    let (s, v, _) = e.send_json(Method::POST, &url2, &tok, body.clone()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"]["message"],
        "Permission being assigned already exists on the object."
    );
    assert_eq!(e.h.stats().duplicate_writes, before + 1);
    assert_eq!(e.h.stats().duplicates_per_kind["appRoleAssignment"], 1);
    // Unknown app role -> 400; body/path mismatch -> 400.
    let bad = json!({"principalId": app_sp, "resourceId": graph_sp, "appRoleId": "11111111-1111-1111-1111-111111111111"});
    assert_eq!(
        e.send_json(Method::POST, &url, &tok, bad).await.0,
        StatusCode::BAD_REQUEST
    );
    let bad = json!({"principalId": graph_sp, "resourceId": graph_sp, "appRoleId": USER_READ_ALL});
    assert_eq!(
        e.send_json(Method::POST, &url2, &tok, bad).await.0,
        StatusCode::BAD_REQUEST
    );
    // Lists on both sides.
    let (_, v) = e.get(&url2, &tok).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 1);
    let (_, v) = e
        .get(&format!("{url}?$filter=principalId eq '{app_sp}'"), &tok)
        .await;
    assert_eq!(v["value"].as_array().unwrap().len(), 1);
    // Delete via the resource side.
    let r = e
        .http
        .delete(format!("{url}/{aid}"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = e
        .http
        .delete(format!("{url}/{aid}"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Grants: PATCH scope -> 204; bad scope -> 400; duplicate create -> 409 + duplicate.
    let gurl = e.graph(&format!("/oauth2PermissionGrants/{grant_id}"));
    let (s, _, _) = e
        .send_json(
            Method::PATCH,
            &gurl,
            &tok,
            json!({"scope": "Directory.ReadWrite.All User.Read.All"}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        e.get(&gurl, &tok).await.1["scope"],
        "Directory.ReadWrite.All User.Read.All"
    );
    let (s, _, _) = e
        .send_json(Method::PATCH, &gurl, &tok, json!({"scope": "Not.A.Scope"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let g = json!({"clientId": app_sp, "consentType": "AllPrincipals", "resourceId": graph_sp, "scope": "User.Read.All"});
    let before = e.h.stats().duplicate_writes;
    let (s, v, _) = e
        .send_json(Method::POST, &e.graph("/oauth2PermissionGrants"), &tok, g)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(e.h.stats().duplicate_writes, before + 1);
    // A grant on Exchange is new -> 201; then DELETE -> 204.
    let exo = sp_id(&e, &tok, EXO_APP).await;
    let g = json!({"clientId": app_sp, "consentType": "AllPrincipals", "resourceId": exo, "scope": "Exchange.Manage"});
    let (s, v, _) = e
        .send_json(Method::POST, &e.graph("/oauth2PermissionGrants"), &tok, g)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, v2) = e
        .get(
            &e.graph(&format!(
                "/servicePrincipals/{app_sp}/oauth2PermissionGrants"
            )),
            &tok,
        )
        .await;
    assert_eq!(v2["value"].as_array().unwrap().len(), 2);
    let r = e
        .http
        .delete(e.graph(&format!(
            "/oauth2PermissionGrants/{}",
            v["id"].as_str().unwrap()
        )))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Validation: Principal without principalId; bad consentType.
    let g = json!({"clientId": app_sp, "consentType": "Principal", "resourceId": exo, "scope": "Exchange.Manage"});
    assert_eq!(
        e.send_json(Method::POST, &e.graph("/oauth2PermissionGrants"), &tok, g)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let g = json!({"clientId": app_sp, "consentType": "Everyone", "resourceId": exo, "scope": "Exchange.Manage"});
    assert_eq!(
        e.send_json(Method::POST, &e.graph("/oauth2PermissionGrants"), &tok, g)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    // Organization and users/$count.
    let (_, v) = e.get(&e.graph("/organization"), &tok).await;
    let org = &v["value"][0];
    assert_eq!(org["id"], t.as_str());
    assert_eq!(org["verifiedDomains"][0]["isInitial"], true);
    let r = e
        .http
        .get(e.graph("/users/$count"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        err_code(&r.json::<Value>().await.unwrap()),
        "Request_BadRequest"
    );
    let r = e
        .http
        .get(e.graph("/users/$count"))
        .bearer_auth(&tok)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let n: u64 = r.text().await.unwrap().parse().unwrap();
    let expected = e
        .snap
        .tenants
        .iter()
        .find(|x| x.id == t)
        .unwrap()
        .user_count;
    assert_eq!(n, expected);
    assert!((5..=2000).contains(&n));
    let r = e
        .http
        .get(e.graph("/users?$count=true&$top=1&$select=id"))
        .bearer_auth(&tok)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["@odata.count"], expected);
}

#[tokio::test]
async fn roles_gate_consent_writes() {
    let e = env().await;
    // App Administrator without PRA: may create grants and non-Graph app roles, not Graph app roles.
    let t = e.tenant_with("missing_app_admin_only", true).id.clone();
    let tok = e.customer_token(&t).await;
    let app_sp = sp_id(&e, &tok, &e.info.client_id).await;
    let graph_sp = sp_id(&e, &tok, GRAPH_APP).await;
    let exo_sp = sp_id(&e, &tok, EXO_APP).await;
    let body = json!({"principalId": app_sp, "resourceId": graph_sp, "appRoleId": USER_READ_ALL});
    let (s, v, _) = e
        .send_json(
            Method::POST,
            &e.graph(&format!("/servicePrincipals/{graph_sp}/appRoleAssignedTo")),
            &tok,
            body,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(err_code(&v), "Authorization_RequestDenied");
    assert_eq!(
        v["error"]["message"],
        "Insufficient privileges to complete the operation."
    );
    let body = json!({"principalId": app_sp, "resourceId": exo_sp, "appRoleId": EXO_MANAGE_AS_APP});
    let (s, _, _) = e
        .send_json(
            Method::POST,
            &e.graph(&format!("/servicePrincipals/{exo_sp}/appRoleAssignedTo")),
            &tok,
            body,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // PRA alone: can't consent via Partner Center (needs an app admin role).
    let t2 = e.tenant_with("missing_pra_only", true).id.clone();
    let pc = e.pc_token().await;
    let r = e.consent(&pc, &t2, "Directory.Read.All").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Global Reader only: token works (after consent elsewhere is impossible) -> use direct token.
    let t3 = e.tenant_with("missing_global_reader_only", true).id.clone();
    let gr =
        e.h.issue_access_token(&e.info.admin_upn, &t3, GRAPH)
            .unwrap();
    assert_eq!(
        e.get(&e.graph("/servicePrincipals"), &gr).await.0,
        StatusCode::OK
    );
    let (s, _, _) = e
        .send_json(
            Method::POST,
            &e.graph("/servicePrincipals"),
            &gr,
            json!({"appId": e.info.client_id}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let g = json!({"clientId": graph_sp, "consentType": "AllPrincipals", "resourceId": graph_sp, "scope": "User.Read"});
    assert_eq!(
        e.send_json(Method::POST, &e.graph("/oauth2PermissionGrants"), &gr, g)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // No access at all in a tenant: reads are denied too.
    let t4 = e.tenant_with("ready_ga", false).id.clone();
    let none =
        e.h.issue_access_token(&e.info.admin_upn, &t4, GRAPH)
            .unwrap();
    assert_eq!(
        e.get(&e.graph("/servicePrincipals"), &none).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn create_service_principal_with_app_admin_and_pra() {
    let e = env().await;
    let t = e.tenant_with("ready_app_admin_pra", true).id.clone();
    let tok =
        e.h.issue_access_token(&e.info.admin_upn, &t, GRAPH)
            .unwrap();
    let (s, v, h) = e
        .send_json(
            Method::POST,
            &e.graph("/servicePrincipals"),
            &tok,
            json!({"appId": e.info.client_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(
        h["location"]
            .to_str()
            .unwrap()
            .ends_with(v["id"].as_str().unwrap())
    );
    let app_sp = v["id"].as_str().unwrap().to_string();
    let graph_sp = sp_id(&e, &tok, GRAPH_APP).await;
    // PRA allows Graph app role assignments.
    let body = json!({"principalId": app_sp, "resourceId": graph_sp, "appRoleId": USER_READ_ALL});
    let (s, _, _) = e
        .send_json(
            Method::POST,
            &e.graph(&format!("/servicePrincipals/{app_sp}/appRoleAssignments")),
            &tok,
            body,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // Snapshot reflects the writes.
    let snap = e.h.snapshot();
    let tn = snap.tenants.iter().find(|x| x.id == t).unwrap();
    assert!(
        tn.service_principals
            .iter()
            .any(|s| s.app_id == e.info.client_id)
    );
    assert!(
        tn.app_role_assignments
            .iter()
            .any(|a| a.principal_id == app_sp && a.app_role_id == USER_READ_ALL)
    );
    // Legacy tenants carry the legacy app's SP and grants.
    let legacy = e.tenants(|t| t.legacy)[0];
    assert!(
        legacy
            .service_principals
            .iter()
            .any(|s| s.app_id == e.info.legacy_app_id)
    );
    assert!(!legacy.oauth2_grants.is_empty() && legacy.consents.is_empty());
    let _: Value = Value::Null;
}
