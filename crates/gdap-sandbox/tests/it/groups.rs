//! Partner-tenant groups, members and users over HTTP.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

const REL: &str = "/tenantRelationships/delegatedAdminRelationships";

fn new_group(name: &str, nick: &str) -> Value {
    json!({
        "displayName": name,
        "description": "Created by a test",
        "mailNickname": nick,
        "mailEnabled": false,
        "securityEnabled": true,
    })
}

fn names(v: &Value) -> Vec<String> {
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["displayName"].as_str().unwrap().to_string())
        .collect()
}

fn ids(v: &Value) -> Vec<String> {
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect()
}

async fn delete(e: &Env, url: &str, tok: &str) -> (StatusCode, Value) {
    let r = e.http.delete(url).bearer_auth(tok).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn add_ref(e: &Env, group: &str, odata_id: &str, tok: &str) -> (StatusCode, Value) {
    let (s, v, _) = e
        .send_json(
            Method::POST,
            &e.graph(&format!("/groups/{group}/members/$ref")),
            tok,
            json!({"@odata.id": odata_id}),
        )
        .await;
    (s, v)
}

/// A Graph token of the partner tenant for `upn`.
async fn partner_token(e: &Env, upn: &str) -> String {
    let rt = e.h.issue_refresh_token(upn, &[GRAPH]);
    e.token_for(&e.info.partner_tenant_id, &rt, GRAPH).await
}

#[tokio::test]
async fn list_filter_select_and_paging() {
    let e = env().await;
    let tok = e.graph_token().await;
    let (s, v) = e.get(&e.graph("/groups"), &tok).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        v["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#groups")
    );
    assert_eq!(
        names(&v),
        ["AdminAgents", "GDAP - Onboarding Admins", "GDAP - Helpdesk"]
    );
    let g = &v["value"][1];
    assert_eq!(g["id"], e.info.admin_group_ids[0].as_str());
    assert_eq!(g["mailEnabled"], false);
    assert_eq!(g["securityEnabled"], true);
    assert_eq!(g["groupTypes"], json!([]));
    assert!(g["mailNickname"].is_string() && g["createdDateTime"].is_string());
    assert!(g.get("description").is_some());

    // $filter: eq (case-insensitive, doubled quotes), startswith, securityEnabled.
    e.h.with_world_mut(|w| w.add_partner_group("O'Brien's Team"));
    let q = |f: &str| e.graph(&format!("/groups?$filter={}", urlencode(f)));
    let (_, v) = e.get(&q("displayName eq 'gdap - helpdesk'"), &tok).await;
    assert_eq!(ids(&v), [e.info.helpdesk_group_id.as_str()]);
    let (_, v) = e.get(&q("displayName eq 'O''Brien''s Team'"), &tok).await;
    assert_eq!(names(&v), ["O'Brien's Team"]);
    let (_, v) = e.get(&q("startswith(displayName,'GDAP')"), &tok).await;
    assert_eq!(names(&v), ["GDAP - Onboarding Admins", "GDAP - Helpdesk"]);
    let (_, v) = e.get(&q("securityEnabled eq true"), &tok).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 4);
    let (s, v) = e.get(&q("visibility eq 'Private'"), &tok).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // $select keeps id.
    let (_, v) = e.get(&e.graph("/groups?$select=displayName"), &tok).await;
    let first = v["value"][0].as_object().unwrap();
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(first.contains_key("id") && first.contains_key("displayName"));

    // $top + nextLink walk every group once.
    let mut url = e.graph("/groups?$top=3");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (s, v) = e.get(&url, &tok).await;
        assert_eq!(s, StatusCode::OK);
        seen.extend(ids(&v));
        pages += 1;
        match v["@odata.nextLink"].as_str() {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    assert_eq!((pages, seen.len()), (2, 4));
    for top in ["0", "1000", "x"] {
        let (s, _) = e.get(&e.graph(&format!("/groups?$top={top}")), &tok).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "$top={top}");
    }
    assert_eq!(
        e.get(&e.graph("/groups?$top=999"), &tok).await.0,
        StatusCode::OK
    );
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn create_get_validation_and_duplicates() {
    let e = env().await;
    let tok = e.graph_token().await;
    let (s, v, h) = e
        .send_json(
            Method::POST,
            &e.graph("/groups"),
            &tok,
            new_group("GDAP - Tier 2", "GDAP-Tier-2"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["displayName"], "GDAP - Tier 2");
    assert_eq!(v["mailNickname"], "GDAP-Tier-2");
    assert_eq!(v["description"], "Created by a test");
    assert_eq!(v["securityEnabled"], true);
    assert!(
        h["location"]
            .to_str()
            .unwrap()
            .ends_with(&format!("/groups/{id}"))
    );
    let (s, got) = e.get(&e.graph(&format!("/groups/{id}")), &tok).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["displayName"], "GDAP - Tier 2");
    assert!(
        got["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#groups/$entity")
    );
    assert_eq!(
        e.h.with_world(|w| w.find_partner_groups("GDAP - Tier 2")),
        [id.as_str()]
    );

    // Same name again: Graph allows it; the sandbox counts it as a duplicate write.
    assert_eq!(e.h.stats().duplicates_per_kind.get("group"), None);
    let (s, v2, _) = e
        .send_json(
            Method::POST,
            &e.graph("/groups"),
            &tok,
            new_group("gdap - tier 2", "other"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_ne!(v2["id"], id.as_str());
    let stats = e.h.stats();
    assert_eq!(stats.duplicates_per_kind.get("group"), Some(&1));
    assert_eq!(stats.successful_writes("POST /graph/v1.0/groups"), 2);
    assert_eq!(
        e.h.with_world(|w| w.find_partner_groups("GDAP - TIER 2"))
            .len(),
        2
    );

    // Validation: each error names the property.
    let cases: Vec<(&str, Value)> = vec![
        (
            "displayName",
            json!({"mailNickname": "x", "mailEnabled": false, "securityEnabled": true}),
        ),
        ("displayName", new_group(&"x".repeat(257), "x")),
        ("displayName", new_group("", "x")),
        (
            "mailNickname",
            json!({"displayName": "x", "mailEnabled": false, "securityEnabled": true}),
        ),
        ("mailNickname", new_group("x", "has space")),
        ("mailNickname", new_group("x", "a@b")),
        ("mailNickname", new_group("x", "grüp")),
        ("mailNickname", new_group("x", &"n".repeat(65))),
        ("mailEnabled", {
            let mut b = new_group("x", "x");
            b["mailEnabled"] = json!(true);
            b
        }),
        ("securityEnabled", {
            let mut b = new_group("x", "x");
            b["securityEnabled"] = json!(false);
            b
        }),
        ("groupTypes", {
            let mut b = new_group("x", "x");
            b["groupTypes"] = json!(["Unified"]);
            b
        }),
    ];
    for (prop, body) in cases {
        let (s, v, _) = e
            .send_json(Method::POST, &e.graph("/groups"), &tok, body)
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{prop}: {v}");
        assert_eq!(err_code(&v), "Request_BadRequest");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(&format!("'{prop}'")), "{prop}: {msg}");
    }
    let r = e
        .http
        .post(e.graph("/groups"))
        .bearer_auth(&tok)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Unknown and malformed ids.
    let unknown = "00000000-0000-4000-8000-000000000001";
    let (s, v) = e.get(&e.graph(&format!("/groups/{unknown}")), &tok).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(err_code(&v), "Request_ResourceNotFound");
    assert_eq!(
        v["error"]["message"],
        format!(
            "Resource '{unknown}' does not exist or one of its queried reference-property objects are not present."
        )
    );
    assert_eq!(
        e.get(&e.graph("/groups/not-a-guid"), &tok).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn members_add_duplicate_and_remove() {
    let e = env().await;
    let tok = e.graph_token().await;
    let (_, g, _) = e
        .send_json(
            Method::POST,
            &e.graph("/groups"),
            &tok,
            new_group("GDAP - Members", "GDAP-Members"),
        )
        .await;
    let gid = g["id"].as_str().unwrap().to_string();
    let members_url = e.graph(&format!("/groups/{gid}/members"));
    let (s, v) = e.get(&members_url, &tok).await;
    assert_eq!(
        (s, v["value"].as_array().unwrap().len()),
        (StatusCode::OK, 0)
    );

    let admin = e.info.admin_user_id.clone();
    let (s, v) = add_ref(
        &e,
        &gid,
        &format!("https://graph.microsoft.com/v1.0/directoryObjects/{admin}"),
        &tok,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (_, v) = e.get(&members_url, &tok).await;
    let m = &v["value"][0];
    assert_eq!(m["@odata.type"], "#microsoft.graph.user");
    assert_eq!(m["id"], admin.as_str());
    assert_eq!(m["userPrincipalName"], e.info.admin_upn.as_str());
    assert!(m["displayName"].is_string());

    // Again: 400 and a duplicate write.
    let (s, v) = add_ref(
        &e,
        &gid,
        &format!("{}/directoryObjects/{admin}", e.h.graph_url()),
        &tok,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(err_code(&v), "Request_BadRequest");
    assert_eq!(
        v["error"]["message"],
        "One or more added object references already exist for the following modified properties: 'members'."
    );
    assert_eq!(e.h.stats().duplicates_per_kind.get("groupMember"), Some(&1));

    // A `users/{id}` URL works too; members page with nextLinks.
    let helpdesk_id =
        e.h.with_world(|w| w.partner_group_members(&e.info.helpdesk_group_id))[0].clone();
    let (s, _) = add_ref(
        &e,
        &gid,
        &format!("https://graph.microsoft.com/v1.0/users/{helpdesk_id}"),
        &tok,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, v) = e.get(&format!("{members_url}?$top=1"), &tok).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 1);
    let (_, v2) = e.get(v["@odata.nextLink"].as_str().unwrap(), &tok).await;
    assert_eq!(ids(&v2), [helpdesk_id.as_str()]);
    assert_eq!(
        e.h.with_world(|w| w.partner_group_members(&gid)),
        [admin.clone(), helpdesk_id.clone()]
    );

    // Unknown user -> 404; bad bodies -> 400; unknown group -> 404.
    let nobody = "00000000-0000-4000-8000-000000000002";
    let (s, v) = add_ref(
        &e,
        &gid,
        &format!("https://graph.microsoft.com/v1.0/directoryObjects/{nobody}"),
        &tok,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(err_code(&v), "Request_ResourceNotFound");
    for bad in [
        json!({}),
        json!({"@odata.id": 5}),
        json!({"@odata.id": "https://graph.microsoft.com/v1.0/groups/x"}),
        json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/applications/{admin}")}),
    ] {
        let (s, v, _) = e
            .send_json(
                Method::POST,
                &e.graph(&format!("/groups/{gid}/members/$ref")),
                &tok,
                bad.clone(),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }
    let (s, _) = add_ref(
        &e,
        nobody,
        &format!("https://graph.microsoft.com/v1.0/directoryObjects/{admin}"),
        &tok,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Remove: 204, then 404 (not a member any more).
    let ref_url = e.graph(&format!("/groups/{gid}/members/{helpdesk_id}/$ref"));
    assert_eq!(delete(&e, &ref_url, &tok).await.0, StatusCode::NO_CONTENT);
    let (s, v) = delete(&e, &ref_url, &tok).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(err_code(&v), "Request_ResourceNotFound");
    assert_eq!(e.h.with_world(|w| w.partner_group_members(&gid)), [admin]);
    // The helpdesk user keeps its other group.
    assert_eq!(
        e.h.with_world(|w| w.partner_group_members(&e.info.helpdesk_group_id)),
        [helpdesk_id]
    );
}

#[tokio::test]
async fn users_by_upn_and_id_and_member_of() {
    let e = env().await;
    let tok = e.graph_token().await;
    let (s, v) = e
        .get(
            &e.graph(&format!("/users/{}", e.info.admin_upn.to_uppercase())),
            &tok,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["id"], e.info.admin_user_id.as_str());
    assert_eq!(v["userPrincipalName"], e.info.admin_upn.as_str());
    assert_eq!(v["mail"], e.info.admin_upn.as_str());
    assert_eq!(v["accountEnabled"], true);
    assert!(v["displayName"].is_string());
    let (s, by_id) = e
        .get(&e.graph(&format!("/users/{}", e.info.admin_user_id)), &tok)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(by_id["userPrincipalName"], e.info.admin_upn.as_str());
    let encoded = e.info.admin_upn.replace('@', "%40");
    let (s, v) = e.get(&e.graph(&format!("/users/{encoded}")), &tok).await;
    assert_eq!(
        (s, v["id"].as_str()),
        (StatusCode::OK, Some(e.info.admin_user_id.as_str()))
    );
    let (_, sel) = e
        .get(
            &e.graph(&format!(
                "/users/{}?$select=userPrincipalName",
                e.info.admin_user_id
            )),
            &tok,
        )
        .await;
    assert!(sel.get("displayName").is_none() && sel["userPrincipalName"].is_string());
    let (s, v) = e
        .get(&e.graph("/users/nobody@sandboxmsp.onmicrosoft.com"), &tok)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(err_code(&v), "Request_ResourceNotFound");

    // The static routes next to `/users/{id}` still answer.
    let r = e
        .http
        .get(e.graph("/users/$count"))
        .bearer_auth(&tok)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().parse::<u64>().is_ok());
    let (s, v) = e.get(&e.graph("/users?$top=2"), &tok).await;
    assert_eq!(
        (s, v["value"].as_array().unwrap().len()),
        (StatusCode::OK, 2)
    );

    // transitiveMemberOf: the admin's groups as directoryObjects.
    let url = e.graph(&format!(
        "/users/{}/transitiveMemberOf",
        e.info.admin_user_id
    ));
    let (s, v) = e.get(&url, &tok).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut got = ids(&v);
    got.sort();
    let mut want = vec![
        e.info.admin_agents_group_id.clone(),
        e.info.admin_group_ids[0].clone(),
    ];
    want.sort();
    assert_eq!(got, want);
    for g in v["value"].as_array().unwrap() {
        assert_eq!(g["@odata.type"], "#microsoft.graph.group");
        assert_eq!(g["securityEnabled"], true);
        assert!(g["displayName"].is_string());
    }
    // By UPN, and the group cast.
    let (_, v) = e
        .get(
            &e.graph(&format!(
                "/users/{}/transitiveMemberOf/microsoft.graph.group?$filter=displayName eq 'AdminAgents'",
                e.info.admin_upn
            )),
            &tok,
        )
        .await;
    assert_eq!(ids(&v), [e.info.admin_agents_group_id.as_str()]);
    // A group added over HTTP shows up.
    let (_, g, _) = e
        .send_json(
            Method::POST,
            &e.graph("/groups"),
            &tok,
            new_group("GDAP - Extra", "GDAP-Extra"),
        )
        .await;
    let gid = g["id"].as_str().unwrap();
    add_ref(
        &e,
        gid,
        &format!(
            "https://graph.microsoft.com/v1.0/directoryObjects/{}",
            e.info.admin_user_id
        ),
        &tok,
    )
    .await;
    let (_, v) = e.get(&url, &tok).await;
    assert!(ids(&v).iter().any(|x| x == gid));
    assert_eq!(
        e.get(
            &e.graph("/users/00000000-0000-4000-8000-000000000003/transitiveMemberOf"),
            &tok
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn writes_need_a_privileged_partner_user() {
    let e = env().await;
    let admin = e.graph_token().await;
    let helpdesk = partner_token(&e, &e.info.helpdesk_upn).await;
    // Reads: any partner user.
    let (s, v) = e.get(&e.graph("/groups"), &helpdesk).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["value"].as_array().unwrap().len(), 3);
    // Writes: 403 Authorization_RequestDenied.
    let check = |s: StatusCode, v: &Value| {
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        assert_eq!(err_code(v), "Authorization_RequestDenied");
        assert_eq!(
            v["error"]["message"],
            "Insufficient privileges to complete the operation."
        );
    };
    let (s, v, _) = e
        .send_json(
            Method::POST,
            &e.graph("/groups"),
            &helpdesk,
            new_group("Nope", "nope"),
        )
        .await;
    check(s, &v);
    let gid = e.info.admin_group_ids[0].clone();
    let (s, v) = add_ref(
        &e,
        &gid,
        &format!(
            "https://graph.microsoft.com/v1.0/directoryObjects/{}",
            e.info.admin_user_id
        ),
        &helpdesk,
    )
    .await;
    check(s, &v);
    let (s, v) = delete(
        &e,
        &e.graph(&format!(
            "/groups/{gid}/members/{}/$ref",
            e.info.admin_user_id
        )),
        &helpdesk,
    )
    .await;
    check(s, &v);
    assert_eq!(e.h.with_world(|w| w.find_partner_groups("Nope")).len(), 0);

    // A customer-tenant token: reads see that tenant (no groups), writes are refused.
    let t = e.tenant_with("ready_ga", true).id.clone();
    let ctok = e.customer_token(&t).await;
    let (s, v) = e.get(&e.graph("/groups"), &ctok).await;
    assert_eq!(
        (s, v["value"].as_array().unwrap().len()),
        (StatusCode::OK, 0)
    );
    assert_eq!(
        e.get(&e.graph(&format!("/groups/{gid}")), &ctok).await.0,
        StatusCode::NOT_FOUND
    );
    let (s, v, _) = e
        .send_json(
            Method::POST,
            &e.graph("/groups"),
            &ctok,
            new_group("Nope", "nope"),
        )
        .await;
    check(s, &v);
    // Its synthetic users resolve by UPN; the partner's users don't.
    let (_, list) = e.get(&e.graph("/users?$top=1"), &ctok).await;
    let upn = list["value"][0]["userPrincipalName"].as_str().unwrap();
    let (s, u) = e.get(&e.graph(&format!("/users/{upn}")), &ctok).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(u["id"], list["value"][0]["id"]);
    assert_eq!(
        e.get(&e.graph(&format!("/users/{}", e.info.admin_upn)), &ctok)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // The admin still can.
    let (s, _, _) = e
        .send_json(
            Method::POST,
            &e.graph("/groups"),
            &admin,
            new_group("Yes", "yes"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn member_added_over_http_gets_customer_token() {
    let e = env().await;
    let tok = e.graph_token().await;
    // A customer with an active relationship and no assignments; a new technician.
    let (t, rel) = e.h.with_world_mut(|w| {
        w.add_customer_with_relationship("Membership Dental", &[GA, GLOBAL_READER], "PT0S")
    });
    let upn = "tech2@sandboxmsp.onmicrosoft.com";
    let tech = e.h.with_world_mut(|w| w.add_partner_user(upn, true));
    // A group created over HTTP can carry an access assignment.
    let (_, g, _) = e
        .send_json(
            Method::POST,
            &e.graph("/groups"),
            &tok,
            new_group("GDAP - Readers", "GDAP-Readers"),
        )
        .await;
    let gid = g["id"].as_str().unwrap().to_string();
    let assign = |group: &str, role: &str| {
        json!({
            "accessContainer": {"accessContainerId": group, "accessContainerType": "securityGroup"},
            "accessDetails": {"unifiedRoles": [{"roleDefinitionId": role}]},
        })
    };
    let url = e.graph(&format!("{REL}/{rel}/accessAssignments"));
    let (s, v, _) = e
        .send_json(Method::POST, &url, &tok, assign(&gid, GLOBAL_READER))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // The admin group gets GA there too, so the admin can consent the app through PC.
    let (s, v, _) = e
        .send_json(
            Method::POST,
            &url,
            &tok,
            assign(&e.info.admin_group_ids[0], GA),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    e.h.advance_clock(Duration::from_secs(3));
    let _ = e.customer_token(&t).await;

    // Not a member yet: 50177.
    let rt = e.h.issue_refresh_token(upn, &[GRAPH]);
    let r = e.token_raw(&t, &rt, GRAPH).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_grant");
    assert!(
        v["error_codes"].as_array().unwrap().contains(&json!(50177)),
        "{v}"
    );

    // Added over HTTP: the token is issued, and reads work with the group's role.
    let (s, _) = add_ref(
        &e,
        &gid,
        &format!("https://graph.microsoft.com/v1.0/directoryObjects/{tech}"),
        &tok,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let ctok = e.token_for(&t, &rt, GRAPH).await;
    let (s, v) = e.get(&e.graph("/organization"), &ctok).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["value"][0]["id"], t.as_str());

    // Removed over HTTP: access is gone again.
    let ref_url = e.graph(&format!("/groups/{gid}/members/{tech}/$ref"));
    assert_eq!(delete(&e, &ref_url, &tok).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        e.token_raw(&t, &rt, GRAPH).await.status(),
        StatusCode::BAD_REQUEST
    );

    // Deleting the group leaves the assignment pointing at a stale id (drift).
    e.h.with_world_mut(|w| w.delete_partner_group(&gid))
        .unwrap();
    let assignments = e.h.with_world(|w| w.access_assignments_of(&rel));
    assert!(
        assignments
            .iter()
            .any(|a| a.group_id == gid && a.status == "active")
    );
    assert_eq!(
        e.get(&e.graph(&format!("/groups/{gid}")), &tok).await.0,
        StatusCode::NOT_FOUND
    );
}
