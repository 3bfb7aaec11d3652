use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

const REL: &str = "/tenantRelationships/delegatedAdminRelationships";

fn new_rel(name: &str) -> Value {
    json!({
        "displayName": name,
        "duration": "P730D",
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": APP_ADMIN}, {"roleDefinitionId": PRA}]},
        "autoExtendDuration": "P180D",
    })
}

#[tokio::test]
async fn list_paging_top_and_next_link() {
    let e = env().await;
    let tok = e.graph_token().await;
    let total: usize = e
        .snap
        .tenants
        .iter()
        .map(|t| t.relationships.len())
        .sum::<usize>()
        + e.snap.relationships_without_customer.len();
    let mut url = e.graph(&format!("{REL}?$top=37"));
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (s, v) = e.get(&url, &tok).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let items = v["value"].as_array().unwrap();
        assert!(items.len() <= 37);
        for it in items {
            assert!(it["@odata.etag"].as_str().unwrap().starts_with("W/\""));
            assert_eq!(it["id"].as_str().unwrap().len(), 73);
            seen.push(it["id"].as_str().unwrap().to_string());
        }
        pages += 1;
        match v["@odata.nextLink"].as_str() {
            Some(n) => {
                assert!(n.starts_with(&e.graph(REL)), "absolute nextLink: {n}");
                url = n.to_string();
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), total);
    assert_eq!(pages, total.div_ceil(37));
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), seen.len());
    // $top > 300 -> 400; garbage skiptoken -> 400; bad filter -> 400.
    assert_eq!(
        e.get(&e.graph(&format!("{REL}?$top=301")), &tok).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        e.get(&e.graph(&format!("{REL}?$skiptoken=zzz")), &tok)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let (s, v) = e
        .get(&e.graph(&format!("{REL}?$filter=nope eq 'x'")), &tok)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(err_code(&v), "badRequest");
    // Default page is 300.
    let (_, v) = e.get(&e.graph(REL), &tok).await;
    assert_eq!(v["value"].as_array().unwrap().len(), total.min(300));
}

#[tokio::test]
async fn filter_select_count_orderby() {
    let e = env().await;
    let tok = e.graph_token().await;
    let active = e
        .snap
        .tenants
        .iter()
        .flat_map(|t| &t.relationships)
        .filter(|r| r.status == "active")
        .count();
    let (s, v) = e
        .get(
            &e.graph(&format!(
                "{REL}?$filter=status eq 'active'&$top=300&$count=true&$select=id,status"
            )),
            &tok,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["@odata.count"], active);
    for it in v["value"].as_array().unwrap() {
        assert_eq!(it["status"], "active");
        assert!(it.get("displayName").is_none());
    }
    let t = e.tenant_with("ready_multi", true);
    let (_, v) = e
        .get(
            &e.graph(&format!("{REL}?$filter=customer/tenantId eq '{}'", t.id)),
            &tok,
        )
        .await;
    assert_eq!(v["value"].as_array().unwrap().len(), t.relationships.len());
    let (_, v) = e
        .get(
            &e.graph(&format!(
                "{REL}?$filter=status eq 'active'&$orderby=endDateTime asc&$top=5"
            )),
            &tok,
        )
        .await;
    let ends: Vec<&str> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["endDateTime"].as_str().unwrap())
        .collect();
    let mut sorted = ends.clone();
    sorted.sort();
    assert_eq!(ends, sorted);
}

#[tokio::test]
async fn unknown_status_is_gated_by_prefer() {
    let e = start(builder().world(gdap_sandbox::World::seeded(7, 600))).await;
    let tok = e.graph_token().await;
    let rel = e
        .snap
        .tenants
        .iter()
        .flat_map(|t| &t.relationships)
        .find(|r| r.status == "suspendedByPolicy")
        .expect("a relationship with an unknown status")
        .id
        .clone();
    let url = e.graph(&format!("{REL}/{rel}"));
    let (_, v) = e.get(&url, &tok).await;
    assert_eq!(v["status"], "unknownFutureValue");
    let r = e
        .http
        .get(&url)
        .bearer_auth(&tok)
        .header("Prefer", "include-unknown-enum-members")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["preference-applied"],
        "include-unknown-enum-members"
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "suspendedByPolicy");
    // Reseller items carry their subtype.
    let reseller = e
        .snap
        .tenants
        .iter()
        .flat_map(|t| &t.relationships)
        .find(|r| r.is_reseller)
        .expect("a reseller relationship");
    let (_, v) = e
        .get(&e.graph(&format!("{REL}/{}", reseller.id)), &tok)
        .await;
    assert_eq!(
        v["@odata.type"],
        "#microsoft.graph.resellerDelegatedAdminRelationship"
    );
    assert!(v["indirectProviderTenantId"].is_string());
    assert!(
        e.snap
            .tenants
            .iter()
            .flat_map(|t| &t.relationships)
            .any(|r| r.display_name.starts_with("MLT_"))
    );
}

#[tokio::test]
async fn create_validation_errors() {
    let e = env().await;
    let tok = e.graph_token().await;
    let url = e.graph(REL);
    let post = |body: Value| e.send_json(Method::POST, &url, &tok, body);
    // Created.
    let (s, v, h) = post(new_rel("Onboarding A")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["status"], "created");
    let id = v["id"].as_str().unwrap();
    assert_eq!(
        h["location"].to_str().unwrap(),
        e.graph(&format!("{REL}/{id}"))
    );
    // Too long name.
    let (s, v, _) = post(new_rel(&"x".repeat(51))).await;
    assert_eq!((s, err_code(&v)), (StatusCode::BAD_REQUEST, "badRequest"));
    // Exactly 50 is fine.
    assert_eq!(post(new_rel(&"y".repeat(50))).await.0, StatusCode::CREATED);
    // Duplicate name -> 409, counted as duplicate write.
    let before = e.h.stats().duplicate_writes;
    let (s, v, _) = post(new_rel("Onboarding A")).await;
    assert_eq!((s, err_code(&v)), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(e.h.stats().duplicate_writes, before + 1);
    // Duration out of range / malformed.
    for d in ["P731D", "PT1H", "P3Y", "730D"] {
        let mut b = new_rel(&format!("dur {d}"));
        b["duration"] = json!(d);
        assert_eq!(post(b).await.0, StatusCode::BAD_REQUEST, "{d}");
    }
    let mut b = new_rel("two years");
    b["duration"] = json!("P2Y");
    assert_eq!(post(b).await.0, StatusCode::CREATED);
    // autoExtendDuration values.
    let mut b = new_rel("auto bad");
    b["autoExtendDuration"] = json!("P90D");
    assert_eq!(post(b).await.0, StatusCode::BAD_REQUEST);
    // GA + auto-extend.
    let mut b = new_rel("ga auto");
    b["accessDetails"] = json!({"unifiedRoles": [{"roleDefinitionId": GA}]});
    assert_eq!(post(b.clone()).await.0, StatusCode::BAD_REQUEST);
    b["autoExtendDuration"] = json!("PT0S");
    assert_eq!(post(b).await.0, StatusCode::CREATED);
    // Missing fields / empty roles / role not usable in GDAP.
    assert_eq!(
        post(json!({"duration": "P30D"})).await.0,
        StatusCode::BAD_REQUEST
    );
    let mut b = new_rel("no roles");
    b["accessDetails"] = json!({"unifiedRoles": []});
    assert_eq!(post(b).await.0, StatusCode::BAD_REQUEST);
    let mut b = new_rel("tier1");
    b["accessDetails"] =
        json!({"unifiedRoles": [{"roleDefinitionId": "4ba39ca4-527c-499a-b93d-d9b492c50246"}]});
    assert_eq!(post(b).await.0, StatusCode::BAD_REQUEST);
    // A customer with an active relationship -> 403 disallowedOperation.
    let t = e.tenant_with("ready_ga", true).id.clone();
    let mut b = new_rel("second for active");
    b["customer"] = json!({"tenantId": t});
    let (s, v, _) = post(b).await;
    assert_eq!(
        (s, err_code(&v)),
        (StatusCode::FORBIDDEN, "disallowedOperation")
    );
    // The partner's own tenant -> 400.
    let mut b = new_rel("own");
    b["customer"] = json!({"tenantId": e.info.partner_tenant_id});
    assert_eq!(post(b).await.0, StatusCode::BAD_REQUEST);
    // A helpdesk user (not AdminAgents) can't write.
    let hd = e.h.issue_refresh_token(&e.info.helpdesk_upn, &[GRAPH]);
    let hd_tok = e.token_for(&e.info.partner_tenant_id, &hd, GRAPH).await;
    let (s, v, _) = e
        .send_json(Method::POST, &url, &hd_tok, new_rel("helpdesk"))
        .await;
    assert_eq!(
        (s, err_code(&v)),
        (StatusCode::FORBIDDEN, "Authorization_RequestDenied")
    );
    // Invalid / unknown ids.
    assert_eq!(
        e.get(&e.graph(&format!("{REL}/not-an-id")), &tok).await.0,
        StatusCode::BAD_REQUEST
    );
    let unknown = format!(
        "{}-{}",
        "00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(
        e.get(&e.graph(&format!("{REL}/{unknown}")), &tok).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn lifecycle_patch_etag_lock_approve_assign_terminate() {
    let e = start(builder().propagation_delay(Duration::from_secs(5))).await;
    let tok = e.graph_token().await;
    // A tenant without any relationship.
    let t = e.tenants(|t| t.profile == "no_relationship" && t.relationships.is_empty())[0]
        .id
        .clone();
    let mut b = new_rel("Lifecycle");
    b["customer"] = json!({"tenantId": t});
    let (_, v, _) = e.send_json(Method::POST, &e.graph(REL), &tok, b).await;
    let id = v["id"].as_str().unwrap().to_string();
    let etag = v["@odata.etag"].as_str().unwrap().to_string();
    let rel_url = e.graph(&format!("{REL}/{id}"));
    // PATCH without If-Match -> 400; stale -> 412; right -> 200 + new etag.
    let (s, _, _) = e
        .send_json(
            Method::PATCH,
            &rel_url,
            &tok,
            json!({"displayName": "Lifecycle 2"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let patch = |etag: String, body: Value| {
        let http = e.http.clone();
        let url = rel_url.clone();
        let tok = tok.clone();
        async move {
            http.patch(url)
                .bearer_auth(tok)
                .header("If-Match", etag)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let r = patch("W/\"stale\"".into(), json!({"displayName": "Lifecycle 2"})).await;
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let r = patch(
        etag.clone(),
        json!({"displayName": "Lifecycle 2", "duration": "P365D"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["displayName"], "Lifecycle 2");
    let etag2 = v["@odata.etag"].as_str().unwrap().to_string();
    assert_ne!(etag, etag2);
    // The old etag is stale now.
    assert_eq!(
        patch(etag, json!({"duration": "P30D"})).await.status(),
        StatusCode::PRECONDITION_FAILED
    );
    // Assignments need an active relationship.
    let asg_url = format!("{rel_url}/accessAssignments");
    let group = e.info.admin_group_ids[0].clone();
    let asg = json!({
        "accessContainer": {"accessContainerId": group, "accessContainerType": "securityGroup"},
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": APP_ADMIN}, {"roleDefinitionId": PRA}]},
    });
    assert_eq!(
        e.send_json(Method::POST, &asg_url, &tok, asg.clone())
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    // Terminate is not allowed from created; lockForApproval is.
    let req_url = format!("{rel_url}/requests");
    assert_eq!(
        e.send_json(Method::POST, &req_url, &tok, json!({"action": "terminate"}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let (s, v, h) = e
        .send_json(
            Method::POST,
            &req_url,
            &tok,
            json!({"action": "lockForApproval"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["status"], "created");
    assert!(h["location"].to_str().unwrap().contains("/requests/"));
    let (_, v) = e.get(&rel_url, &tok).await;
    assert_eq!(v["status"], "approvalPending");
    // Direct customers approve in the admin center: approve via API -> 403.
    let (s, v, _) = e
        .send_json(Method::POST, &req_url, &tok, json!({"action": "approve"}))
        .await;
    assert_eq!(
        (s, err_code(&v)),
        (StatusCode::FORBIDDEN, "disallowedOperation")
    );
    // Deleting is only allowed in `created`.
    let etag = v_etag(&e, &rel_url, &tok).await;
    let r = e
        .http
        .delete(&rel_url)
        .bearer_auth(&tok)
        .header("If-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The customer approves.
    e.h.approve_relationship(&id).unwrap();
    let (_, v) = e.get(&rel_url, &tok).await;
    assert_eq!(v["status"], "active");
    assert!(v["activatedDateTime"].is_string());
    // Roles must be a subset of the relationship's.
    let mut bad = asg.clone();
    bad["accessDetails"] = json!({"unifiedRoles": [{"roleDefinitionId": GA}]});
    assert_eq!(
        e.send_json(Method::POST, &asg_url, &tok, bad).await.0,
        StatusCode::BAD_REQUEST
    );
    // Unknown group -> 400.
    let mut bad = asg.clone();
    bad["accessContainer"]["accessContainerId"] = json!("11111111-1111-1111-1111-111111111111");
    assert_eq!(
        e.send_json(Method::POST, &asg_url, &tok, bad).await.0,
        StatusCode::BAD_REQUEST
    );
    let (s, v, h) = e.send_json(Method::POST, &asg_url, &tok, asg.clone()).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["status"], "pending");
    let aid = v["id"].as_str().unwrap().to_string();
    assert!(h["location"].to_str().unwrap().ends_with(&aid));
    // Pending means no customer token yet (50177).
    let r = e.token_raw(&t, &e.rt, GRAPH).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error_codes"][0], 50177);
    // A second assignment for the same group -> 409 + duplicate.
    let before = e.h.stats().duplicate_writes;
    let (s, v, _) = e.send_json(Method::POST, &asg_url, &tok, asg.clone()).await;
    assert_eq!((s, err_code(&v)), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(e.h.stats().duplicate_writes, before + 1);
    // After the propagation delay it is active (lazy clock, no sleep).
    e.h.advance_clock(Duration::from_secs(5));
    let a_url = format!("{asg_url}/{aid}");
    let (_, v) = e.get(&a_url, &tok).await;
    assert_eq!(v["status"], "active");
    // Now the GDAP check passes (and consent is missing -> 65001).
    let r = e.token_raw(&t, &e.rt, GRAPH).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error_codes"][0], 65001);
    // PATCH the assignment: identical -> 200; different -> 202 + operation.
    let a_etag = v["@odata.etag"].as_str().unwrap().to_string();
    let r = e
        .http
        .patch(&a_url)
        .bearer_auth(&tok)
        .header("If-Match", &a_etag)
        .json(&json!({"accessDetails": asg["accessDetails"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = e
        .http
        .patch(&a_url)
        .bearer_auth(&tok)
        .header("If-Match", &a_etag)
        .json(&json!({"accessDetails": {"unifiedRoles": [{"roleDefinitionId": APP_ADMIN}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.headers()["retry-after"], "5");
    let op_url = r.headers()["location"].to_str().unwrap().to_string();
    let (_, v) = e.get(&op_url, &tok).await;
    assert_eq!(v["status"], "running");
    assert_eq!(v["operationType"], "delegatedAdminAccessAssignmentUpdate");
    e.h.advance_clock(Duration::from_secs(5));
    let (_, v) = e.get(&op_url, &tok).await;
    assert_eq!(v["status"], "succeeded");
    let data: Value = serde_json::from_str(v["data"].as_str().unwrap()).unwrap();
    assert_eq!(
        data["accessDetails"]["unifiedRoles"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, v) = e.get(&format!("{rel_url}/operations"), &tok).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 1);
    // Requests list.
    let (_, v) = e.get(&req_url, &tok).await;
    assert_eq!(v["value"][0]["action"], "lockForApproval");
    assert_eq!(v["value"][0]["status"], "succeeded");
    // Active: only autoExtendDuration can change.
    let etag = v_etag(&e, &rel_url, &tok).await;
    assert_eq!(
        patch(etag.clone(), json!({"displayName": "renamed"}))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let r = patch(etag, json!({"autoExtendDuration": "PT0S"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    // Delete the assignment (stale etag -> 412).
    let r = e
        .http
        .delete(&a_url)
        .bearer_auth(&tok)
        .header("If-Match", &a_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let a_etag = e.get(&a_url, &tok).await.1["@odata.etag"]
        .as_str()
        .unwrap()
        .to_string();
    let r = e
        .http
        .delete(&a_url)
        .bearer_auth(&tok)
        .header("If-Match", &a_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(e.get(&a_url, &tok).await.1["status"], "deleting");
    // Terminate.
    let (s, _, _) = e
        .send_json(Method::POST, &req_url, &tok, json!({"action": "terminate"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(
        e.get(&rel_url, &tok).await.1["status"],
        "terminationRequested"
    );
    e.h.advance_clock(Duration::from_secs(5));
    assert_eq!(e.get(&rel_url, &tok).await.1["status"], "terminated");
    assert_eq!(e.get(&a_url, &tok).await.1["status"], "deleted");
    // Unknown action.
    assert_eq!(
        e.send_json(Method::POST, &req_url, &tok, json!({"action": "explode"}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}

async fn v_etag(e: &Env, url: &str, tok: &str) -> String {
    e.get(url, tok).await.1["@odata.etag"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn delete_created_and_auto_approve() {
    let e = start(builder().auto_approve_after(Duration::from_secs(30))).await;
    let tok = e.graph_token().await;
    let (_, v, _) = e
        .send_json(Method::POST, &e.graph(REL), &tok, new_rel("To delete"))
        .await;
    let url = e.graph(&format!("{REL}/{}", v["id"].as_str().unwrap()));
    let r = e.http.delete(&url).bearer_auth(&tok).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "If-Match is required");
    let r = e
        .http
        .delete(&url)
        .bearer_auth(&tok)
        .header("If-Match", v["@odata.etag"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(e.get(&url, &tok).await.0, StatusCode::NOT_FOUND);
    // Auto approval after lockForApproval (customer pinned).
    let t = e.tenants(|t| t.relationships.is_empty())[0].id.clone();
    let mut b = new_rel("Auto approved");
    b["customer"] = json!({"tenantId": t});
    let (_, v, _) = e.send_json(Method::POST, &e.graph(REL), &tok, b).await;
    let url = e.graph(&format!("{REL}/{}", v["id"].as_str().unwrap()));
    e.send_json(
        Method::POST,
        &format!("{url}/requests"),
        &tok,
        json!({"action": "lockForApproval"}),
    )
    .await;
    assert_eq!(e.get(&url, &tok).await.1["status"], "approvalPending");
    e.h.advance_clock(Duration::from_secs(29));
    assert_eq!(e.get(&url, &tok).await.1["status"], "approvalPending");
    e.h.advance_clock(Duration::from_secs(2));
    let (_, v) = e.get(&url, &tok).await;
    assert_eq!(v["status"], "active");
    assert_eq!(v["customer"]["tenantId"], t.as_str());
    assert!(v["activatedDateTime"].is_string() && v["endDateTime"].is_string());
    // Now the customer appears in delegatedAdminCustomers.
    let (s, v) = e
        .get(
            &e.graph(&format!("/tenantRelationships/delegatedAdminCustomers/{t}")),
            &tok,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["tenantId"], t.as_str());
}

#[tokio::test]
async fn remove_global_admin_from_active_relationship() {
    let e = env().await;
    let tok = e.graph_token().await;
    let t = e.tenant_with("ready_ga", true);
    let rel = t
        .relationships
        .iter()
        .find(|r| r.status == "active" && r.roles.contains(&GA.to_string()))
        .unwrap();
    let url = e.graph(&format!("{REL}/{}", rel.id));
    let etag = v_etag(&e, &url, &tok).await;
    // Keeping GA -> 200 with the original object.
    let roles: Vec<Value> = rel
        .roles
        .iter()
        .map(|r| json!({"roleDefinitionId": r}))
        .collect();
    let r = e
        .http
        .patch(&url)
        .bearer_auth(&tok)
        .header("If-Match", &etag)
        .json(&json!({"accessDetails": {"unifiedRoles": roles}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let others: Vec<Value> = rel
        .roles
        .iter()
        .filter(|r| *r != GA)
        .map(|r| json!({"roleDefinitionId": r}))
        .collect();
    if others.is_empty() {
        // GA only: nothing would remain -> 400.
        let r = e
            .http
            .patch(&url)
            .bearer_auth(&tok)
            .header("If-Match", &etag)
            .json(
                &json!({"accessDetails": {"unifiedRoles": [{"roleDefinitionId": GLOBAL_READER}]}}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        return;
    }
    let r = e
        .http
        .patch(&url)
        .bearer_auth(&tok)
        .header("If-Match", &etag)
        .json(&json!({"accessDetails": {"unifiedRoles": others}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("/operations/")
    );
    e.h.advance_clock(Duration::from_secs(2));
    let (_, v) = e.get(&url, &tok).await;
    assert!(
        !v["accessDetails"]["unifiedRoles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["roleDefinitionId"] == GA)
    );
    let (_, ops) = e.get(&format!("{url}/operations"), &tok).await;
    assert_eq!(ops["value"][0]["operationType"], "unknownFutureValue");
}

#[tokio::test]
async fn delegated_admin_customers_and_service_management() {
    let e = env().await;
    let tok = e.graph_token().await;
    let expected = e
        .tenants(|t| t.relationships.iter().any(|r| r.status == "active"))
        .len();
    let (s, v) = e
        .get(
            &e.graph("/tenantRelationships/delegatedAdminCustomers?$top=300&$count=true"),
            &tok,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["@odata.count"], expected);
    let c = &v["value"][0];
    assert_eq!(c["id"], c["tenantId"]);
    let id = c["id"].as_str().unwrap();
    let (s, v) = e
        .get(
            &e.graph(&format!(
                "/tenantRelationships/delegatedAdminCustomers/{id}/serviceManagementDetails"
            )),
            &tok,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        v["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["serviceName"] == "Azure Active Directory")
    );
    let none = e.tenants(|t| t.relationships.is_empty())[0].id.clone();
    assert_eq!(
        e.get(
            &e.graph(&format!(
                "/tenantRelationships/delegatedAdminCustomers/{none}"
            )),
            &tok
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // A customer-tenant token can't call GDAP endpoints.
    let t = e.tenant_with("ready_ga", true).id.clone();
    let ctok = e.customer_token(&t).await;
    assert_eq!(e.get(&e.graph(REL), &ctok).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn remove_global_admin_operation_succeeds_after_propagation() {
    let e = env().await;
    let tok = e.graph_token().await;
    let (_, rel) = e.h.with_world_mut(|w| {
        w.add_customer_with_relationship("GA Removal Co", &[GA, GLOBAL_READER], "PT0S")
    });
    let group = e.info.admin_group_ids[0].clone();
    e.h.with_world_mut(|w| w.insert_access_assignment(&rel, &group, &[GA, GLOBAL_READER], true))
        .unwrap();
    let url = e.graph(&format!("{REL}/{rel}"));
    let etag = v_etag(&e, &url, &tok).await;
    let r = e
        .http
        .patch(&url)
        .bearer_auth(&tok)
        .header("If-Match", &etag)
        .json(&json!({"accessDetails": {"unifiedRoles": [{"roleDefinitionId": GLOBAL_READER}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let op_url = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        op_url.starts_with(&format!("{url}/operations/")),
        "{op_url}"
    );
    assert_eq!(r.headers()["retry-after"], "2");
    // Running until the propagation delay has passed; GA still there meanwhile.
    let (s, op) = e.get(&op_url, &tok).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(op["status"], "running");
    assert_eq!(
        e.h.with_world(|w| w.relationship_roles(&rel)).unwrap(),
        [GA, GLOBAL_READER]
    );
    e.h.advance_clock(Duration::from_secs(1));
    assert_eq!(e.get(&op_url, &tok).await.1["status"], "running");
    e.h.advance_clock(Duration::from_secs(1));
    let (_, op) = e.get(&op_url, &tok).await;
    assert_eq!(op["status"], "succeeded");
    let (_, v) = e.get(&url, &tok).await;
    assert_eq!(
        v["accessDetails"]["unifiedRoles"],
        json!([{"roleDefinitionId": GLOBAL_READER}])
    );
    assert_ne!(v["@odata.etag"], etag.as_str());
    assert_eq!(v["status"], "active");
    // Assignments lose GA with it.
    let a = e.h.with_world(|w| w.access_assignments_of(&rel));
    assert_eq!(a[0].roles, [GLOBAL_READER]);
}

#[tokio::test]
async fn patch_auto_extend_with_if_match() {
    let e = env().await;
    let tok = e.graph_token().await;
    let (_, rel) = e.h.with_world_mut(|w| {
        w.add_customer_with_relationship("Extend Co", &[GLOBAL_READER], "PT0S")
    });
    let url = e.graph(&format!("{REL}/{rel}"));
    let (_, v) = e.get(&url, &tok).await;
    assert_eq!(
        (v["status"].as_str(), v["autoExtendDuration"].as_str()),
        (Some("active"), Some("PT0S"))
    );
    let etag = v["@odata.etag"].as_str().unwrap().to_string();
    let patch = |etag: String, body: Value| {
        let http = e.http.clone();
        let url = url.clone();
        let tok = tok.clone();
        async move {
            let r = http
                .patch(url)
                .bearer_auth(tok)
                .header("If-Match", etag)
                .json(&body)
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = patch(etag.clone(), json!({"autoExtendDuration": "P180D"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["autoExtendDuration"], "P180D");
    let etag2 = v["@odata.etag"].as_str().unwrap().to_string();
    assert_ne!(etag2, etag);
    assert_eq!(
        e.h.with_world(|w| w.relationship_auto_extend(&rel))
            .as_deref(),
        Some("P180D")
    );
    // The old etag is stale: 412.
    let (s, v) = patch(etag, json!({"autoExtendDuration": "PT0S"})).await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{v}");
    assert_eq!(err_code(&v), "preconditionFailed");
    // Back to PT0S with the current etag.
    let (s, v) = patch(etag2, json!({"autoExtendDuration": "PT0S"})).await;
    assert_eq!(
        (s, v["autoExtendDuration"].as_str()),
        (StatusCode::OK, Some("PT0S"))
    );

    // With Global Administrator: P180D is refused.
    let (_, ga) =
        e.h.with_world_mut(|w| w.add_customer_with_relationship("GA Extend Co", &[GA], "PT0S"));
    let ga_url = e.graph(&format!("{REL}/{ga}"));
    let ga_etag = v_etag(&e, &ga_url, &tok).await;
    let r = e
        .http
        .patch(&ga_url)
        .bearer_auth(&tok)
        .header("If-Match", &ga_etag)
        .json(&json!({"autoExtendDuration": "P180D"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        e.h.with_world(|w| w.relationship_auto_extend(&ga))
            .as_deref(),
        Some("PT0S")
    );
    // A helper-made P180D relationship auto-extends at its end instead of expiring.
    let (_, ext) = e
        .h
        .with_world_mut(|w| w.add_customer_with_relationship("Auto Co", &[GLOBAL_READER], "P180D"));
    e.h.with_world_mut(|w| w.set_relationship_end_in(&ext, Duration::from_secs(60)))
        .unwrap();
    e.h.advance_clock(Duration::from_secs(61));
    let (_, v) = e.get(&e.graph(&format!("{REL}/{ext}")), &tok).await;
    assert_eq!(v["status"], "active");
}
