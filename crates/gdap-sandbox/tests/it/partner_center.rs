use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn customers_paging_with_continuation_token() {
    let e = env().await;
    let pc = e.pc_token().await;
    let mut seen = Vec::new();
    let mut req = e.http.get(e.pc("/v1/customers?size=40")).bearer_auth(&pc);
    loop {
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["ismfacompliant"], "true");
        assert!(
            r.headers().contains_key("ms-requestid")
                && r.headers().contains_key("ms-correlationid")
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["attributes"]["objectType"], "Collection");
        let items = v["items"].as_array().unwrap();
        assert_eq!(v["totalCount"], items.len());
        for c in items {
            assert_eq!(c["attributes"]["objectType"], "Customer");
            assert_eq!(c["id"], c["companyProfile"]["tenantId"]);
            seen.push(c["id"].as_str().unwrap().to_string());
        }
        let Some(next) = v["links"].get("next") else {
            break;
        };
        let uri = next["uri"].as_str().unwrap();
        assert!(uri.starts_with("/v1/customers") && uri.contains("seekOperation=Next"));
        let hdr = &next["headers"][0];
        assert_eq!(hdr["key"], "MS-ContinuationToken");
        req = e
            .http
            .get(e.pc(uri))
            .bearer_auth(&pc)
            .header("MS-ContinuationToken", hdr["value"].as_str().unwrap());
    }
    assert_eq!(seen.len(), 200);
    // Single customer; unknown -> 404 ApiFault.
    let r = e
        .http
        .get(e.pc(&format!("/v1/customers/{}", seen[3])))
        .bearer_auth(&pc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = e
        .http
        .get(e.pc("/v1/customers/00000000-0000-0000-0000-000000000009"))
        .bearer_auth(&pc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["source"], "PartnerFD");
    assert!(v["code"].is_number());
    // Missing continuation header -> 400.
    let r = e
        .http
        .get(e.pc("/v1/customers?size=40&seekOperation=Next"))
        .bearer_auth(&pc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn mfa_is_required_for_app_plus_user() {
    let e = env().await;
    let rt =
        e.h.issue_refresh_token_without_mfa(&e.info.admin_upn, &[PC]);
    let tok = e.token_for(&e.info.partner_tenant_id, &rt, PC).await;
    let r = e
        .http
        .get(e.pc("/v1/customers"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["ismfacompliant"], "false");
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], 900421);
    assert!(v["description"].as_str().unwrap().contains("MFA"));
    // The nomfa user signs in without MFA too.
    let rt = e.h.issue_refresh_token(&e.info.no_mfa_upn, &[PC]);
    let tok = e.token_for(&e.info.partner_tenant_id, &rt, PC).await;
    let r = e
        .http
        .get(e.pc("/v1/customers"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Missing token -> 401 800001.
    let r = e.http.get(e.pc("/v1/customers")).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 800001);
    // Switch off ("pre-2026 mode").
    let e2 = start(builder().require_mfa_for_partner_center(false)).await;
    let rt =
        e2.h.issue_refresh_token_without_mfa(&e2.info.admin_upn, &[PC]);
    let tok = e2.token_for(&e2.info.partner_tenant_id, &rt, PC).await;
    let r = e2
        .http
        .get(e2.pc("/v1/customers"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["ismfacompliant"], "false");
}

#[tokio::test]
async fn consent_creates_sp_and_grants_after_delay_and_dedupes() {
    let e = start(builder().consent_delay(Duration::from_secs(10))).await;
    let pc = e.pc_token().await;
    let t = e.tenant_with("ready_app_admin_pra", true).id.clone();
    let r = e
        .consent(&pc, &t, "Directory.Read.All, AuditLog.Read.All")
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["ismfacompliant"], "true");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["applicationId"], e.info.client_id.as_str());
    assert_eq!(
        v["applicationGrants"][0]["enterpriseApplicationId"],
        GRAPH_APP
    );
    // Not visible in Graph yet: no SP -> 65001.
    let r = e.token_raw(&t, &e.rt, GRAPH).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error_codes"][0], 65001);
    e.h.advance_clock(Duration::from_secs(10));
    let tok = e.token_for(&t, &e.rt, GRAPH).await;
    let (_, v) = e
        .get(
            &e.graph(&format!(
                "/servicePrincipals?$filter=appId eq '{}'",
                e.info.client_id
            )),
            &tok,
        )
        .await;
    let sp = v["value"][0]["id"].as_str().unwrap().to_string();
    let (_, v) = e
        .get(
            &e.graph(&format!(
                "/oauth2PermissionGrants?$filter=clientId eq '{sp}'"
            )),
            &tok,
        )
        .await;
    assert_eq!(
        v["value"][0]["scope"],
        "Directory.Read.All AuditLog.Read.All"
    );
    assert_eq!(v["value"][0]["consentType"], "AllPrincipals");
    // Duplicate -> 409 "Permission entry already exists." and counted.
    let r = e.consent(&pc, &t, "Directory.Read.All").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["description"], gdap_sandbox::PERMISSION_ENTRY_EXISTS);
    let st = e.h.stats();
    assert_eq!(st.duplicate_writes, 1);
    assert_eq!(st.duplicates_per_kind["applicationConsent"], 1);
    // GET lists (inspection route).
    let (_, v) = e
        .get(
            &e.pc(&format!("/v1/customers/{t}/applicationconsents")),
            &pc,
        )
        .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    // DELETE removes the grants, keeps the SP; then POST works again.
    let url = e.pc(&format!(
        "/v1/customers/{t}/applicationconsents/{}",
        e.info.client_id
    ));
    let r = e.http.delete(&url).bearer_auth(&pc).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = e.http.delete(&url).bearer_auth(&pc).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let snap = e.h.snapshot();
    let tn = snap.tenants.iter().find(|x| x.id == t).unwrap();
    assert!(
        tn.service_principals
            .iter()
            .any(|s| s.app_id == e.info.client_id)
    );
    assert!(!tn.oauth2_grants.iter().any(|g| g.client_id == sp));
    let r = e.consent(&pc, &t, "Directory.Read.All").await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn duplicate_consent_status_400_mode() {
    let e = start(builder().duplicate_consent_status(400)).await;
    let pc = e.pc_token().await;
    let t = e.tenant_with("ready_ga", true).id.clone();
    assert_eq!(
        e.consent(&pc, &t, "User.Read").await.status(),
        StatusCode::CREATED
    );
    let r = e.consent(&pc, &t, "User.Read").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["description"],
        "Permission entry already exists."
    );
    assert_eq!(e.h.stats().duplicate_writes, 1);
    // Previously deleted tenants already carry a consent record.
    let group = e.info.admin_group_ids[0].clone();
    let pd = e.tenants(|t| {
        t.previously_deleted
            && t.relationships.iter().any(|r| {
                r.status == "active"
                    && r.access_assignments.iter().any(|a| {
                        a.group_id == group
                            && a.status == "active"
                            && a.roles.iter().any(|x| {
                                x == GA
                                    || x == APP_ADMIN
                                    || x == "158c047a-c907-4556-b7ef-446551a6b5f7"
                            })
                    })
            })
    })[0]
        .id
        .clone();
    assert_eq!(
        e.consent(&pc, &pd, "User.Read").await.status(),
        StatusCode::BAD_REQUEST
    );
    // Invalid configuration.
    assert!(
        gdap_sandbox::Sandbox::builder()
            .duplicate_consent_status(418)
            .start()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn ms_request_id_replay_returns_the_original_result() {
    let e = env().await;
    let pc = e.pc_token().await;
    let t = e.tenant_with("ready_ga", true).id.clone();
    let body = json!({
        "ApplicationId": e.info.client_id,
        "ApplicationGrants": [{"EnterpriseApplicationId": GRAPH_APP, "Scope": "User.Read.All,Directory.Read.All"}],
    });
    let send = |rid: &'static str| {
        e.http
            .post(e.pc(&format!("/v1/customers/{t}/applicationconsents")))
            .bearer_auth(&pc)
            .header("MS-RequestId", rid)
            .header("MS-CorrelationId", "corr-1")
            .json(&body)
            .send()
    };
    let r1 = send("11111111-aaaa-4bbb-8ccc-000000000001").await.unwrap();
    assert_eq!(r1.status(), StatusCode::CREATED);
    assert_eq!(
        r1.headers()["ms-requestid"],
        "11111111-aaaa-4bbb-8ccc-000000000001"
    );
    assert_eq!(r1.headers()["ms-correlationid"], "corr-1");
    let b1: Value = r1.json().await.unwrap();
    let r2 = send("11111111-aaaa-4bbb-8ccc-000000000001").await.unwrap();
    assert_eq!(r2.status(), StatusCode::CREATED);
    assert_eq!(r2.json::<Value>().await.unwrap(), b1);
    let st = e.h.stats();
    assert_eq!(st.duplicate_writes, 0);
    assert_eq!(st.replayed_requests, 1);
    let snap = e.h.snapshot();
    let tn = snap.tenants.iter().find(|x| x.id == t).unwrap();
    assert_eq!(tn.consents.len(), 1);
    // A new request id is a new (duplicate) write.
    let r3 = send("11111111-aaaa-4bbb-8ccc-000000000002").await.unwrap();
    assert_eq!(r3.status(), StatusCode::CONFLICT);
    assert_eq!(e.h.stats().duplicate_writes, 1);
}

#[tokio::test]
async fn consent_validation() {
    let e = env().await;
    let pc = e.pc_token().await;
    let t = e.tenant_with("ready_ga", true).id.clone();
    let url = e.pc(&format!("/v1/customers/{t}/applicationconsents"));
    let post = |b: Value| e.send_json(Method::POST, &url, &pc, b);
    let ok_grant = json!([{"enterpriseApplicationId": GRAPH_APP, "scope": "User.Read"}]);
    // Not the token's app.
    let (s, _, _) =
        post(json!({"applicationId": e.info.legacy_app_id, "applicationGrants": ok_grant})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Bad GUID, empty grants, unknown resource, unknown scope.
    assert_eq!(
        post(json!({"applicationId": "nope", "applicationGrants": ok_grant}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(json!({"applicationId": e.info.client_id, "applicationGrants": []}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let g = json!([{"enterpriseApplicationId": "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd", "scope": "user_impersonation"}]);
    assert_eq!(
        post(json!({"applicationId": e.info.client_id, "applicationGrants": g}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let g = json!([{"enterpriseApplicationId": GRAPH_APP, "scope": "Made.Up"}]);
    let (s, v, _) = post(json!({"applicationId": e.info.client_id, "applicationGrants": g})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["code"], 800002);
    // Unknown customer and the partner's own tenant -> 404.
    let r = e
        .consent(&pc, "00000000-0000-0000-0000-000000000009", "User.Read")
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = e.consent(&pc, &e.info.partner_tenant_id, "User.Read").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // No GDAP access -> 403.
    let none = e.tenant_with("ready_ga", false).id.clone();
    assert_eq!(
        e.consent(&pc, &none, "User.Read").await.status(),
        StatusCode::FORBIDDEN
    );
    // Helpdesk user is not in AdminAgents -> 403.
    let rt = e.h.issue_refresh_token(&e.info.helpdesk_upn, &[PC]);
    let hd = e.token_for(&e.info.partner_tenant_id, &rt, PC).await;
    assert_eq!(
        e.consent(&hd, &t, "User.Read").await.status(),
        StatusCode::FORBIDDEN
    );
    // App-only token -> 403 on consents, fine on customers.
    let r = e
        .http
        .post(e.token_url(&e.info.partner_tenant_id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", e.info.client_id.as_str()),
            ("client_secret", e.info.client_secret.as_str()),
            ("scope", PC),
        ])
        .send()
        .await
        .unwrap();
    let app: Value = r.json().await.unwrap();
    let app = app["access_token"].as_str().unwrap();
    assert_eq!(
        e.consent(app, &t, "User.Read").await.status(),
        StatusCode::FORBIDDEN
    );
    let r = e
        .http
        .get(e.pc("/v1/customers?size=5"))
        .bearer_auth(app)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!r.headers().contains_key("ismfacompliant"));
    // A Graph token on Partner Center -> 401.
    let g = e.graph_token().await;
    assert_eq!(
        e.consent(&g, &t, "User.Read").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn webhook_registration_crud() {
    let e = env().await;
    let pc = e.pc_token().await;
    let url = e.pc("/webhooks/v1/registration");
    assert_eq!(e.get(&url, &pc).await.0, StatusCode::NOT_FOUND);
    let body = json!({"WebhookUrl": "https://msp.example/hook", "WebhookEvents": ["test-created", "granular-admin-relationship-approved"]});
    let (s, v, _) = e.send_json(Method::POST, &url, &pc, body.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["subscriberId"].is_string());
    assert_eq!(
        e.send_json(Method::POST, &url, &pc, body).await.0,
        StatusCode::CONFLICT
    );
    let (s, v, _) = e
        .send_json(
            Method::PUT,
            &url,
            &pc,
            json!({"webhookUrl": "https://msp.example/h2", "webhookEvents": ["test-created"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["webhookUrl"], "https://msp.example/h2");
    let (_, v) = e.get(&url, &pc).await;
    assert_eq!(v["webhookEvents"], json!(["test-created"]));
    assert_eq!(
        e.send_json(
            Method::PUT,
            &url,
            &pc,
            json!({"webhookUrl": "https://x", "webhookEvents": ["nope"]})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let (_, v) = e.get(&e.pc("/webhooks/v1/registration/events"), &pc).await;
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|x| x == "granular-admin-relationship-approved")
    );
    let r = e.http.delete(&url).bearer_auth(&pc).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        e.http
            .delete(&url)
            .bearer_auth(&pc)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn webhook_registration_preseeded_by_another_tool() {
    let e = env().await;
    let pc = e.pc_token().await;
    let url = e.pc("/webhooks/v1/registration");
    e.h.with_world_mut(|w| {
        w.set_webhook_registration(
            "https://other-tool.example/hook",
            &["granular-admin-relationship-approved"],
        )
    });
    // GET answers in camelCase.
    let (s, v) = e.get(&url, &pc).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["webhookUrl"], "https://other-tool.example/hook");
    assert_eq!(
        v["webhookEvents"],
        json!(["granular-admin-relationship-approved"])
    );
    assert!(v["subscriberId"].is_string() && v["lastModifiedTimestamp"].is_string());
    // Another registration exists: POST is refused, PUT replaces it.
    let body = json!({"WebhookUrl": "https://msp.example/hook", "WebhookEvents": ["test-created"]});
    assert_eq!(
        e.send_json(Method::POST, &url, &pc, body.clone()).await.0,
        StatusCode::CONFLICT
    );
    let (s, v, _) = e.send_json(Method::PUT, &url, &pc, body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        e.h.with_world(|w| w.webhook_registration()),
        Some((
            "https://msp.example/hook".to_string(),
            vec!["test-created".to_string()]
        ))
    );
    let r = e.http.delete(&url).bearer_auth(&pc).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(e.h.with_world(|w| w.webhook_registration()), None);
    assert_eq!(e.get(&url, &pc).await.0, StatusCode::NOT_FOUND);
}
