//! Groups, group members and users of a directory: list, find, get, create, add/remove members,
//! transitive memberships.

use futures::TryStreamExt;
use gdap_graph::models::{NewSecurityGroup, mail_nickname_from};
use gdap_graph::{ListOptions, SecurityGroupId};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, query_param, query_param_is_missing};
use wiremock::{MockServer, ResponseTemplate};

use crate::*;

const GROUP: &str = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
const GROUP2: &str = "45b7d2e7-b882-4a80-ba97-10b7a63b8fa4";
const USER: &str = "87d349ed-44d7-43e1-9a83-5f2406dee5bd";
const USER2: &str = "6ea91a8d-e32e-41a1-b7bd-d2d185eed0e0";
const SP: &str = "2b3c4d5e-6f70-4a1b-9c2d-3e4f5a6b7c8d";
const GROUP_SELECT: &str = "id,displayName,description,mailNickname,mailEnabled,securityEnabled,groupTypes,createdDateTime";
const USER_SELECT: &str = "id,displayName,userPrincipalName,mail,accountEnabled";
const DUPLICATE_MEMBER: &str = "One or more added object references already exist for the following modified properties: 'members'.";

fn gid(s: &str) -> SecurityGroupId {
    s.parse().unwrap()
}

/// A group as Graph returns it, with properties this crate does not model.
fn group(id: &str, name: &str) -> Value {
    json!({
        "id": id,
        "deletedDateTime": null,
        "classification": null,
        "createdDateTime": "2021-09-21T07:09:14Z",
        "description": "GDAP agents",
        "displayName": name,
        "expirationDateTime": null,
        "groupTypes": [],
        "isAssignableToRole": null,
        "mail": null,
        "mailEnabled": false,
        "mailNickname": "gdapagents",
        "proxyAddresses": [],
        "securityEnabled": true,
        "securityIdentifier": "S-1-12-1-567301463-1099937718-295959174-3827004813",
        "visibility": null,
        "onPremisesProvisioningErrors": []
    })
}

fn user_object(id: &str, upn: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.user", "id": id, "displayName": "Adele Vance",
        "userPrincipalName": upn, "mail": upn, "businessPhones": [], "jobTitle": null})
}

fn not_found() -> ResponseTemplate {
    ok_json(
        404,
        json!({"error": {"code": "Request_ResourceNotFound",
            "message": "Resource '02bd9fd6-8f93-4758-87c3-1fb73740a315' does not exist or one of its queried reference-property objects are not present.",
            "innerError": {"date": "2025-02-13T10:17:06", "request-id": "req-404"}}}),
    )
}

#[tokio::test(start_paused = true)]
async fn list_groups_two_pages_with_top_999() {
    let server = MockServer::start().await;
    let next = format!("{}{PREFIX}/groups?$top=999&$skiptoken=p2", server.uri());
    given("GET", "groups")
        .and(query_param("$top", "999"))
        .and(query_param("$filter", "securityEnabled eq true"))
        .and(query_param_is_missing("$skiptoken"))
        .respond_with(ok_json(
            200,
            json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups",
                "value": [group(GROUP, "GDAP agents")], "@odata.nextLink": next}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", "groups")
        .and(query_param("$skiptoken", "p2"))
        .respond_with(ok_json(
            200,
            json!({"value": [{"id": GROUP2, "displayName": "Contoso 365", "groupTypes": ["Unified"],
                "mailEnabled": true, "securityEnabled": false}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let groups: Vec<_> = client(&server)
        .list_groups(Some(
            ListOptions::new()
                .filter("securityEnabled eq true")
                .top(999),
        ))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].id, gid(GROUP));
    assert_eq!(groups[1].group_types, ["Unified"]);
    assert_eq!(groups[1].description, None);
    snap!("list_groups_two_pages", &groups);
}

#[tokio::test(start_paused = true)]
async fn directory_lists_refuse_top_over_999_and_gdap_lists_keep_300() {
    let server = MockServer::start().await;
    catch_all(&server, 0).await;
    let c = client(&server);
    let err = c
        .list_groups(Some(ListOptions::new().top(1000)))
        .try_next()
        .await
        .unwrap_err();
    assert_eq!(err.validation_field(), Some("$top"));
    let err = c
        .list_group_members(&gid(GROUP), Some(ListOptions::new().top(0)))
        .try_next()
        .await
        .unwrap_err();
    assert_eq!(err.validation_field(), Some("$top"));
    let err = c
        .list_user_transitive_member_of(USER, Some(ListOptions::new().top(1000)))
        .try_next()
        .await
        .unwrap_err();
    assert_eq!(err.validation_field(), Some("$top"));
    assert!(ListOptions::new().top(999).validate().is_err());
    let err = c
        .list_relationships(Some(ListOptions::new().top(999)))
        .try_next()
        .await
        .unwrap_err();
    assert_eq!(err.validation_field(), Some("$top"));
}

#[tokio::test(start_paused = true)]
async fn find_by_display_name_escapes_quotes_and_collects_pages() {
    let server = MockServer::start().await;
    let name = "O'Brien's GDAP agents";
    let next = format!("{}{PREFIX}/groups?$skiptoken=p2", server.uri());
    given("GET", "groups")
        .and(query_param(
            "$filter",
            "displayName eq 'O''Brien''s GDAP agents'",
        ))
        .and(query_param("$select", GROUP_SELECT))
        .and(query_param("$top", "999"))
        .respond_with(ok_json(
            200,
            json!({"value": [group(GROUP, name)], "@odata.nextLink": next}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", "groups")
        .and(query_param("$skiptoken", "p2"))
        .respond_with(ok_json(200, json!({"value": [group(GROUP2, name)]})))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", "groups")
        .and(query_param("$filter", "displayName eq 'nobody'"))
        .respond_with(ok_json(200, json!({"value": []})))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let c = client(&server);
    let found = c.find_groups_by_display_name(name).await.unwrap();
    assert_eq!(
        found.iter().map(|g| g.id).collect::<Vec<_>>(),
        [gid(GROUP), gid(GROUP2)]
    );
    assert!(
        c.find_groups_by_display_name("nobody")
            .await
            .unwrap()
            .is_empty()
    );
    // The raw query on the wire: the doubled quotes survive percent-encoding (as %27%27).
    let reqs = server.received_requests().await.unwrap();
    assert!(
        reqs[0]
            .url
            .query()
            .unwrap()
            .contains("displayName%20eq%20%27O%27%27Brien%27%27s%20GDAP%20agents%27"),
        "{}",
        reqs[0].url
    );
    for bad in ["", "   ", &"n".repeat(257)] {
        let err = c.find_groups_by_display_name(bad).await.unwrap_err();
        assert_eq!(err.validation_field(), Some("displayName"));
    }
}

#[tokio::test(start_paused = true)]
async fn get_group_and_not_found() {
    let server = MockServer::start().await;
    given("GET", &format!("groups/{GROUP}"))
        .respond_with(ok_json(200, group(GROUP, "GDAP agents")))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", &format!("groups/{GROUP2}"))
        .respond_with(not_found())
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let c = client(&server);
    let g = c.get_group(&gid(GROUP)).await.unwrap();
    assert_eq!(g.display_name, "GDAP agents");
    assert_eq!(g.security_enabled, Some(true));
    assert!(g.created_date_time.is_some());
    let err = c.get_group(&gid(GROUP2)).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.service_code(), Some("Request_ResourceNotFound"));
    assert_eq!(err.request_id(), Some("req-404"));
    assert!(!err.is_already_exists());
    snap!("get_group", &g);
}

#[tokio::test(start_paused = true)]
async fn create_security_group_sends_security_flags() {
    let server = MockServer::start().await;
    given("POST", "groups")
        .and(body_json(json!({
            "displayName": "GDAP: Contoso helpdesk (EU)",
            "mailNickname": "GDAPContosohelpdeskEU",
            "mailEnabled": false,
            "securityEnabled": true,
            "description": "Helpdesk agents for Contoso"
        })))
        .respond_with(ok_json(
            201,
            json!({
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups/$entity",
                "id": GROUP, "displayName": "GDAP: Contoso helpdesk (EU)",
                "mailNickname": "GDAPContosohelpdeskEU", "mailEnabled": false,
                "securityEnabled": true, "groupTypes": [], "description": "Helpdesk agents for Contoso",
                "createdDateTime": "2025-02-13T10:17:06Z", "renewedDateTime": "2025-02-13T10:17:06Z"
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let body = NewSecurityGroup::new("GDAP: Contoso helpdesk (EU)")
        .with_description("Helpdesk agents for Contoso");
    let created = client(&server).create_security_group(&body).await.unwrap();
    assert_eq!(created.id, gid(GROUP));
    snap!("create_security_group_request", sent_body(&server, 0).await);
    snap!("create_security_group_response", &created);
}

#[tokio::test(start_paused = true)]
async fn create_security_group_refuses_bad_input_without_sending() {
    let server = MockServer::start().await;
    given("POST", "groups")
        .respond_with(ok_json(201, group(GROUP, "x")))
        .expect(0)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let c = client(&server);
    let cases = [
        (NewSecurityGroup::new(""), "displayName"),
        (NewSecurityGroup::new("  "), "displayName"),
        (NewSecurityGroup::new("n".repeat(257)), "displayName"),
        (
            NewSecurityGroup::new("ok").with_mail_nickname(""),
            "mailNickname",
        ),
        (
            NewSecurityGroup::new("ok").with_mail_nickname("a".repeat(65)),
            "mailNickname",
        ),
        (
            NewSecurityGroup::new("ok").with_mail_nickname("gdap agents"),
            "mailNickname",
        ),
        (
            NewSecurityGroup::new("ok").with_mail_nickname("gdap@contoso"),
            "mailNickname",
        ),
        (
            NewSecurityGroup::new("ok").with_mail_nickname("agents(eu)"),
            "mailNickname",
        ),
        (
            NewSecurityGroup::new("ok").with_mail_nickname("agentsé"),
            "mailNickname",
        ),
        (
            NewSecurityGroup::new("ok").with_mail_nickname("a\tb"),
            "mailNickname",
        ),
    ];
    for (body, field) in cases {
        let err = c.create_security_group(&body).await.unwrap_err();
        assert!(err.is_validation(), "{err}");
        assert_eq!(err.validation_field(), Some(field), "{body:?}");
    }
    // The boundaries are accepted.
    assert!(NewSecurityGroup::new("n".repeat(256)).validate().is_ok());
    assert!(
        NewSecurityGroup::new("ok")
            .with_mail_nickname("a".repeat(64))
            .validate()
            .is_ok()
    );
    assert!(
        NewSecurityGroup::new("ok")
            .with_mail_nickname("gdap.agents-eu_1!")
            .validate()
            .is_ok()
    );
}

#[test]
fn mail_nickname_is_derived_from_the_display_name() {
    assert_eq!(mail_nickname_from("GDAP agents"), "GDAPagents");
    assert_eq!(
        mail_nickname_from("Contoso_EU-helpdesk: tier 1"),
        "Contoso_EU-helpdesktier1"
    );
    assert_eq!(mail_nickname_from("Ünïcødé @ () []"), "ncd");
    assert_eq!(mail_nickname_from("日本語"), "gdapgroup");
    assert_eq!(mail_nickname_from(""), "gdapgroup");
    assert_eq!(mail_nickname_from(&"ab".repeat(100)).len(), 64);
    let derived = NewSecurityGroup::new("Σ (all) — agents; \"eu\" <x>, y\\z");
    assert_eq!(derived.mail_nickname, "allagentseuxyz");
    derived.validate().unwrap();
}

#[tokio::test(start_paused = true)]
async fn list_group_members_two_pages_of_mixed_objects() {
    let server = MockServer::start().await;
    let next = format!(
        "{}{PREFIX}/groups/{GROUP}/members?$skiptoken=p2",
        server.uri()
    );
    given("GET", &format!("groups/{GROUP}/members"))
        .and(query_param("$top", "999"))
        .and(query_param_is_missing("$skiptoken"))
        .respond_with(ok_json(
            200,
            json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
                "value": [user_object(USER, "adele@contoso.com"),
                          {"@odata.type": "#microsoft.graph.group", "id": GROUP2,
                           "displayName": "Nested agents", "securityEnabled": true, "groupTypes": []}],
                "@odata.nextLink": next}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", &format!("groups/{GROUP}/members"))
        .and(query_param("$skiptoken", "p2"))
        .respond_with(ok_json(
            200,
            json!({"value": [{"@odata.type": "#microsoft.graph.servicePrincipal", "id": SP,
                "displayName": "Our app", "appId": "11111111-2222-3333-4444-555555555555"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let members: Vec<_> = client(&server)
        .list_group_members(&gid(GROUP), Some(ListOptions::new().top(999)))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(members.len(), 3);
    assert!(members[0].is_user() && !members[0].is_group());
    assert_eq!(
        members[0].user_principal_name.as_deref(),
        Some("adele@contoso.com")
    );
    assert!(members[1].is_group() && members[1].security_enabled == Some(true));
    assert!(!members[2].is_user() && !members[2].is_group());
    insta::assert_json_snapshot!("list_group_members_two_pages", &members);
}

#[tokio::test(start_paused = true)]
async fn add_group_member_references_the_clients_endpoint_and_detects_duplicates() {
    let server = MockServer::start().await;
    let reference =
        json!({"@odata.id": format!("{}{PREFIX}/directoryObjects/{USER}", server.uri())});
    given("POST", &format!("groups/{GROUP}/members/$ref"))
        .and(body_json(reference.clone()))
        .respond_with(ResponseTemplate::new(204))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    given("POST", &format!("groups/{GROUP}/members/$ref"))
        .and(body_json(reference))
        .respond_with(ok_json(
            400,
            json!({"error": {"code": "Request_BadRequest", "message": DUPLICATE_MEMBER,
                "innerError": {"date": "2025-02-13T10:17:06", "request-id": "req-dup-member"}}}),
        ))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    given("POST", &format!("groups/{GROUP2}/members/$ref"))
        .respond_with(not_found())
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let c = client(&server);
    // An uppercase GUID is sent lowercase-hyphenated.
    c.add_group_member(&gid(GROUP), &USER.to_uppercase())
        .await
        .unwrap();
    let sent = sent_body(&server, 0).await;
    let shown = json!({"@odata.id": sent["@odata.id"]
        .as_str()
        .unwrap()
        .replace(&server.uri(), "[endpoint]")});
    insta::assert_json_snapshot!("add_group_member_request", shown);

    let dup = c.add_group_member(&gid(GROUP), USER).await.unwrap_err();
    assert!(dup.is_already_exists(), "{dup}");
    assert_eq!(dup.status(), Some(400));
    assert_eq!(dup.service_code(), Some("Request_BadRequest"));
    assert!(!dup.is_duplicate_display_name());
    assert!(!dup.is_retryable());

    let missing = c.add_group_member(&gid(GROUP2), USER).await.unwrap_err();
    assert!(missing.is_not_found());
    assert!(!missing.is_already_exists());
}

#[tokio::test(start_paused = true)]
async fn other_bad_requests_are_not_already_exists() {
    let server = MockServer::start().await;
    given("POST", &format!("groups/{GROUP}/members/$ref"))
        .respond_with(ok_json(
            400,
            json!({"error": {"code": "Request_BadRequest",
                "message": "Invalid object identifier 'x'.", "innerError": {"request-id": "r"}}}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    // The text alone, under another code, is not enough.
    given("POST", &format!("groups/{GROUP}/members/$ref"))
        .respond_with(ok_json(
            400,
            json!({"error": {"code": "Request_UnsupportedQuery", "message": DUPLICATE_MEMBER}}),
        ))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let c = client(&server);
    let err = c.add_group_member(&gid(GROUP), USER).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(!err.is_already_exists());
    let err = c.add_group_member(&gid(GROUP), USER).await.unwrap_err();
    assert!(!err.is_already_exists());
}

#[tokio::test(start_paused = true)]
async fn member_ids_must_be_guids_and_nothing_is_sent() {
    let server = MockServer::start().await;
    given("POST", &format!("groups/{GROUP}/members/$ref"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    given("DELETE", &format!("groups/{GROUP}/members/{USER}/$ref"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let c = client(&server);
    let long = "x".repeat(1000);
    for bad in [
        "",
        "adele@contoso.com",
        "../../users",
        &format!("{USER}/$ref"),
        &long,
    ] {
        let err = c.add_group_member(&gid(GROUP), bad).await.unwrap_err();
        assert_eq!(err.validation_field(), Some("member id"), "{bad:?}");
        assert!(!err.to_string().contains(&long));
        let err = c.remove_group_member(&gid(GROUP), bad).await.unwrap_err();
        assert_eq!(err.validation_field(), Some("member id"), "{bad:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn remove_group_member_and_not_a_member() {
    let server = MockServer::start().await;
    given("DELETE", &format!("groups/{GROUP}/members/{USER}/$ref"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    given("DELETE", &format!("groups/{GROUP}/members/{USER2}/$ref"))
        .respond_with(not_found())
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let c = client(&server);
    c.remove_group_member(&gid(GROUP), USER).await.unwrap();
    let err = c.remove_group_member(&gid(GROUP), USER2).await.unwrap_err();
    assert!(err.is_not_found());
}

#[tokio::test(start_paused = true)]
async fn get_user_by_id_and_by_upn() {
    let server = MockServer::start().await;
    let adele = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,displayName,userPrincipalName,mail,accountEnabled)/$entity",
        "id": USER, "displayName": "Adele Vance", "userPrincipalName": "AdeleV@contoso.com",
        "mail": "AdeleV@contoso.com", "accountEnabled": true, "jobTitle": "Retail Manager"
    });
    given("GET", &format!("users/{USER}"))
        .and(query_param("$select", USER_SELECT))
        .respond_with(ok_json(200, adele.clone()))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", "users/AdeleV@contoso.com")
        .and(query_param("$select", USER_SELECT))
        .respond_with(ok_json(200, adele.clone()))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", "users/AdeleVance_adatum.com%23EXT%23@contoso.com")
        .and(query_param("$select", USER_SELECT))
        .respond_with(ok_json(
            200,
            json!({"id": USER2, "userPrincipalName": "AdeleVance_adatum.com#EXT#@contoso.com",
            "displayName": null, "mail": null, "accountEnabled": false}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", "users('%24AdeleVance@contoso.com')")
        .respond_with(ok_json(200, adele))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", "users/nobody@contoso.com")
        .respond_with(not_found())
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let c = client(&server);
    let by_id = c.get_user(USER).await.unwrap();
    let by_upn = c.get_user("AdeleV@contoso.com").await.unwrap();
    assert_eq!(by_id, by_upn);
    assert_eq!(by_id.account_enabled, Some(true));
    let guest = c
        .get_user("AdeleVance_adatum.com#EXT#@contoso.com")
        .await
        .unwrap();
    assert_eq!(guest.id.to_string(), USER2);
    assert_eq!(guest.display_name, None);
    assert_eq!(guest.account_enabled, Some(false));
    c.get_user("$AdeleVance@contoso.com").await.unwrap();
    let err = c.get_user("nobody@contoso.com").await.unwrap_err();
    assert!(err.is_not_found());
    snap!("get_user", &by_id);
}

#[tokio::test(start_paused = true)]
async fn bad_user_keys_send_nothing() {
    let server = MockServer::start().await;
    catch_all(&server, 0).await;
    let c = client(&server);
    for bad in ["", "  ", "a/b@contoso.com", "../groups", &"u".repeat(257)] {
        let err = c.get_user(bad).await.unwrap_err();
        assert!(err.is_validation(), "{bad:?}");
        assert_eq!(err.validation_field(), Some("user id or userPrincipalName"));
        let err = c
            .list_user_transitive_member_of(bad, None)
            .try_next()
            .await
            .unwrap_err();
        assert!(err.is_validation(), "{bad:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn transitive_member_of_two_pages() {
    let server = MockServer::start().await;
    let p = format!("users/{USER}/transitiveMemberOf");
    let next = format!("{}{PREFIX}/{p}?$skiptoken=p2", server.uri());
    given("GET", &p)
        .and(query_param("$top", "999"))
        .and(query_param("$select", "id,displayName,securityEnabled"))
        .and(query_param_is_missing("$skiptoken"))
        .respond_with(ok_json(
            200,
            json!({"value": [
                {"@odata.type": "#microsoft.graph.group", "id": GROUP, "displayName": "GDAP agents",
                 "securityEnabled": true},
                {"@odata.type": "#microsoft.graph.directoryRole", "id": "3a4f2b1c-0d9e-4f8a-b7c6-d5e4f3a2b1c0",
                 "displayName": "Global Reader", "roleTemplateId": "f2ef992c-3afb-46b9-b7cf-a126ee74c451"}
            ], "@odata.nextLink": next}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", &p)
        .and(query_param("$skiptoken", "p2"))
        .respond_with(ok_json(
            200,
            json!({"value": [{"@odata.type": "#microsoft.graph.group", "id": GROUP2,
                "displayName": "Contoso 365", "securityEnabled": false}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let of: Vec<_> = client(&server)
        .list_user_transitive_member_of(
            USER,
            Some(
                ListOptions::new()
                    .select(["id", "displayName", "securityEnabled"])
                    .top(999),
            ),
        )
        .try_collect()
        .await
        .unwrap();
    let security_groups: Vec<_> = of
        .iter()
        .filter(|o| o.is_group() && o.security_enabled == Some(true))
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(security_groups, [GROUP]);
    assert_eq!(of.len(), 3);
    insta::assert_json_snapshot!("transitive_member_of_two_pages", &of);
}

#[tokio::test(start_paused = true)]
async fn malformed_and_wrong_typed_answers_are_decode_errors() {
    let server = MockServer::start().await;
    given("GET", &format!("groups/{GROUP}"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("request-id", "req-bad-json")
                .insert_header("content-type", "application/json")
                .set_body_string("{\"id\": \"02bd9fd6-8f93-4758-87c3-1fb73740a315\", "),
        )
        .expect(1)
        .mount(&server)
        .await;
    given("GET", &format!("groups/{GROUP2}"))
        .respond_with(ok_json(
            200,
            json!({"id": GROUP2, "displayName": "x", "securityEnabled": "yes"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", &format!("users/{USER}"))
        .respond_with(ok_json(200, json!({"id": "not-a-guid"})))
        .expect(1)
        .mount(&server)
        .await;
    given("GET", &format!("groups/{GROUP}/members"))
        .respond_with(ok_json(200, json!({"value": [{"displayName": "no id"}]})))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let c = client(&server);
    let err = c.get_group(&gid(GROUP)).await.unwrap_err();
    assert_eq!(err.status(), Some(200));
    assert_eq!(err.request_id(), Some("req-bad-json"));
    assert!(matches!(err.as_core(), Some(gdap_core::Error::Decode(_))));
    let err = c.get_group(&gid(GROUP2)).await.unwrap_err();
    assert!(
        matches!(err.as_core(), Some(gdap_core::Error::Decode(_))),
        "{err}"
    );
    let err = c.get_user(USER).await.unwrap_err();
    assert!(
        matches!(err.as_core(), Some(gdap_core::Error::Decode(_))),
        "{err}"
    );
    let err = c
        .list_group_members(&gid(GROUP), None)
        .try_next()
        .await
        .unwrap_err();
    assert!(
        matches!(err.as_core(), Some(gdap_core::Error::Decode(_))),
        "{err}"
    );
}
