#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report.
//! The relationship lifecycle routes (`/api/lifecycle/*`) over real HTTP on 127.0.0.1, against
//! gdap-sandbox worlds built for them: each route's plan and change (a dry run writes nothing),
//! their errors (400 / 404 / 409 from the catalogue), and who may call them.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use gdap_core::roles::{self, RoleTemplate};
use gdap_sandbox::{Sandbox, SandboxHandle, World};
use gdap_server::{CloudMode, Config, Endpoints, KeySource, Role, RunningServer};
use reqwest::{Client, StatusCode, header};
use secrecy::SecretString;
use serde_json::{Value, json};

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const SEED: u64 = 20_261_202;
const APP_INSTALL: &[RoleTemplate] = &[
    roles::APPLICATION_ADMINISTRATOR,
    roles::PRIVILEGED_ROLE_ADMINISTRATOR,
];
const APP_GROUP: &str = "GDAP - App Install";

fn ids(rs: &[RoleTemplate]) -> Vec<&'static str> {
    rs.iter().map(RoleTemplate::id_str).collect()
}

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn start_sandbox(world: World) -> SandboxHandle {
    Sandbox::builder()
        .world(world)
        .propagation_delay(Duration::from_millis(10))
        .start()
        .await
        .unwrap()
}

async fn server(db: &Path, sb: &SandboxHandle) -> RunningServer {
    let mut config = Config::new(
        db.to_path_buf(),
        "127.0.0.1:0".parse().unwrap(),
        CloudMode::Endpoints(Endpoints::of_sandbox(sb).unwrap()),
    );
    config.key = KeySource::Inline(SecretString::from(KEY.to_owned()));
    gdap_server::start(config).await.unwrap()
}

async fn users(db: &Path) -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    for r in Role::ALL {
        let email = format!("{}@msp.example", r.as_str());
        out.insert(
            r.as_str(),
            gdap_server::add_user(db, &email, r).await.unwrap(),
        );
    }
    out
}

fn header_of(resp: &reqwest::Response, name: header::HeaderName) -> String {
    resp.headers()[name].to_str().unwrap().to_owned()
}

/// /connect → sandbox authorize (signs in its admin) → /connect/callback.
async fn connect(c: &Client, base: &str, token: &str) {
    let r = c
        .get(format!("{base}/connect"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = header_of(&r, header::SET_COOKIE)
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let r = c.get(header_of(&r, header::LOCATION)).send().await.unwrap();
    assert!(r.status().is_redirection(), "authorize: {}", r.status());
    let r = c
        .get(header_of(&r, header::LOCATION))
        .bearer_auth(token)
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "connected");
}

/// Writes the sandbox saw, token requests (which change nothing) left out.
fn writes(sb: &SandboxHandle) -> Vec<String> {
    sb.stats()
        .writes
        .into_iter()
        .filter(|w| !w.path.ends_with("/oauth2/v2.0/token"))
        .map(|w| format!("{} {}", w.method, w.path))
        .collect()
}

struct Api {
    c: Client,
    base: String,
    token: String,
}

impl Api {
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .c
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .c
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }

    async fn trace(&self, query: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = self
            .c
            .get(format!("{}/api/lifecycle/trace", self.base))
            .bearer_auth(&self.token)
            .query(query)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }
}

fn error_key(v: &Value) -> &str {
    v["error"]["key"].as_str().unwrap_or("(none)")
}

fn change<'a>(report: &'a Value, relationship: &str) -> &'a Value {
    report["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["relationshipId"] == relationship)
        .unwrap_or_else(|| panic!("{relationship} not in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_routes_plan_then_change_over_http() {
    let mut world = World::seeded(SEED, 0);
    let (dental_tenant, dental) =
        world.add_customer_with_relationship("Lifecycle Dental", &ids(APP_INSTALL), "PT0S");
    let with_ga = ids(&[
        roles::GLOBAL_ADMINISTRATOR,
        roles::APPLICATION_ADMINISTRATOR,
        roles::PRIVILEGED_ROLE_ADMINISTRATOR,
    ]);
    let (_, ga_corp) = world.add_customer_with_relationship("GA Corp", &with_ga, "PT0S");
    let (_, lean) = world.add_customer_with_relationship("Lean Bakery", &ids(APP_INSTALL), "P180D");
    let sb = start_sandbox(world).await;
    let info = sb.world_info();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gdap.db");
    let tokens = users(&db).await;
    let srv = server(&db, &sb).await;
    let api = Api {
        c: client(),
        base: srv.url(),
        token: tokens["admin"].clone(),
    };
    connect(&api.c, &api.base, &api.token).await;

    // ---- groups: plan, then create + assign; the default service account is the signed-in user.
    let before = writes(&sb);
    let (s, plan) = api
        .post(
            "/api/lifecycle/groups",
            json!({ "relationshipIds": [dental], "dryRun": true }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    assert_eq!(plan["dryRun"], true);
    assert_eq!(plan["serviceAccount"]["userPrincipalName"], info.admin_upn);
    assert!(
        plan["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["group"] == "planned" && g["membership"] == "planned"),
        "{plan}"
    );
    let planned = &plan["assignments"][0];
    assert_eq!(planned["relationshipId"], dental.as_str());
    let status_of = |report: &Value, name: &str| {
        report["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["displayName"] == name)
            .unwrap_or_else(|| panic!("{name} not in {report}"))["status"]
            .clone()
    };
    // The group does not exist yet: the plan says the real run would assign it, not "failed".
    assert_eq!(status_of(planned, APP_GROUP), "planned", "{planned}");
    assert_eq!(status_of(planned, "GDAP - Global Reader"), "skipped");
    assert_eq!(planned["counts"]["failed"], 0, "{planned}");
    assert_eq!(writes(&sb), before, "a dry run wrote");
    assert!(
        sb.with_world(|w| w.find_partner_groups(APP_GROUP))
            .is_empty()
    );

    let (s, run) = api
        .post(
            "/api/lifecycle/groups",
            json!({ "relationshipIds": [dental] }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    assert_eq!(run["dryRun"], false);
    assert!(
        run["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["group"] == "changed" && g["membership"] == "changed"),
        "{run}"
    );
    assert_eq!(run["adminAgents"]["status"], "member", "{run}");
    assert_eq!(status_of(&run["assignments"][0], APP_GROUP), "changed");
    let app_group = sb.with_world(|w| w.find_partner_groups(APP_GROUP));
    assert_eq!(app_group.len(), 1, "created once");
    assert_eq!(
        sb.with_world(|w| w.partner_group_members(&app_group[0])),
        vec![info.admin_user_id.clone()]
    );
    let live = sb.with_world(|w| w.access_assignments_of(&dental));
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].group_id, app_group[0]);
    // A custom template object, planned: the group it names would be created.
    let (s, custom) = api
        .post(
            "/api/lifecycle/groups",
            json!({
                "template": {"groups": [{"displayName": "GDAP - Custom Reader", "description": "r", "roles": ["Global Reader"]}]},
                "serviceAccount": info.admin_upn,
                "dryRun": true
            }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{custom}");
    assert_eq!(custom["groups"][0]["displayName"], "GDAP - Custom Reader");
    assert_eq!(custom["groups"][0]["group"], "planned");
    assert_eq!(custom["assignments"], json!([]));

    // ---- trace: the admin reaches the tenant through the group; the helpdesk user does not.
    let (s, trace) = api
        .trace(&[("user", &info.admin_upn), ("tenant", &dental_tenant)])
        .await;
    assert_eq!(s, StatusCode::OK, "{trace}");
    assert_eq!(trace["hasAccess"], true, "{trace}");
    assert!(
        trace["paths"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["groupName"] == APP_GROUP && p["relationshipId"] == dental.as_str()),
        "{trace}"
    );
    let (s, miss) = api
        .trace(&[("user", &info.helpdesk_upn), ("tenant", &dental_tenant)])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(miss["hasAccess"], false);
    assert!(
        miss["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains(APP_GROUP)),
        "{miss}"
    );
    let (s, e) = api
        .trace(&[("user", &info.admin_upn), ("tenant", "not-a-guid")])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_key(&e), "invalidTenantId");
    let (s, e) = api
        .trace(&[("user", "nobody@msp.example"), ("tenant", &dental_tenant)])
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
    assert_eq!(error_key(&e), "userNotFound");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nobody@msp.example")
    );
    assert!(!e["error"]["steps"].as_array().unwrap().is_empty(), "{e}");
    let (s, e) = api.trace(&[("tenant", &dental_tenant)]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("user is missing")
    );
    let (s, _) = api
        .trace(&[("user", "a"), ("tenant", &dental_tenant), ("extra", "1")])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "unknown query parameter");

    // ---- auto-extend: plan, then change; Global Administrator blocks it.
    let before = writes(&sb);
    let (s, plan) = api
        .post("/api/lifecycle/auto-extend", json!({ "dryRun": true }))
        .await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    assert_eq!(plan["dryRun"], true);
    assert_eq!(change(&plan, &dental)["status"], "planned");
    assert_eq!(change(&plan, &lean)["status"], "unchanged");
    let ga = change(&plan, &ga_corp);
    assert_eq!(ga["status"], "skipped");
    assert!(
        ga["detail"]
            .as_str()
            .unwrap()
            .contains("Global Administrator")
    );
    assert_eq!(writes(&sb), before, "a dry run wrote");
    assert_eq!(
        sb.with_world(|w| w.relationship_auto_extend(&dental)),
        Some("PT0S".into())
    );
    let (s, run) = api
        .post("/api/lifecycle/auto-extend", json!({ "concurrency": 2 }))
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    assert_eq!(
        (&run["counts"]["changed"], &run["counts"]["failed"]),
        (&json!(1), &json!(0)),
        "{run}"
    );
    assert_eq!(change(&run, &dental)["status"], "changed");
    assert_eq!(
        sb.with_world(|w| w.relationship_auto_extend(&dental)),
        Some("P180D".into())
    );
    assert_eq!(
        sb.with_world(|w| w.relationship_auto_extend(&ga_corp)),
        Some("PT0S".into())
    );

    // ---- remove-ga: a real run without confirm is refused; plan; then change.
    let ga_id = roles::GLOBAL_ADMINISTRATOR.id_str();
    let before = writes(&sb);
    let (s, e) = api.post("/api/lifecycle/remove-ga", json!({})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_key(&e), "confirmRequired");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("review the dry run first"),
        "{e}"
    );
    let (s, plan) = api
        .post("/api/lifecycle/remove-ga", json!({ "dryRun": true }))
        .await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    assert_eq!(plan["relationships"].as_array().unwrap().len(), 1, "{plan}");
    let planned = change(&plan, &ga_corp);
    assert_eq!(planned["status"], "planned");
    assert!(
        planned["detail"]
            .as_str()
            .unwrap()
            .contains("would remove Global Administrator")
    );
    assert_eq!(writes(&sb), before, "refusal and dry run wrote");
    assert!(
        sb.with_world(|w| w.relationship_roles(&ga_corp))
            .unwrap()
            .iter()
            .any(|r| r == ga_id)
    );
    let (s, run) = api
        .post(
            "/api/lifecycle/remove-ga",
            json!({ "confirm": true, "relationshipIds": [ga_corp] }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    assert_eq!(change(&run, &ga_corp)["status"], "changed", "{run}");
    let roles_now = sb.with_world(|w| w.relationship_roles(&ga_corp)).unwrap();
    assert!(!roles_now.iter().any(|r| r == ga_id), "{roles_now:?}");
    assert_eq!(roles_now.len(), 2);

    // ---- repair: lean and GA Corp lack the App Install group's assignment (drift); dental is
    // in line. Plan, then repair, then nothing left.
    let before = writes(&sb);
    let (s, plan) = api
        .post("/api/lifecycle/repair", json!({ "dryRun": true }))
        .await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    assert_eq!((&plan["checked"], &plan["inLine"]), (&json!(3), &json!(1)));
    for id in [&lean, &ga_corp] {
        let d = change(&plan, id);
        assert_eq!(d["findings"][0]["kind"], "missingGroup", "{d}");
        assert_eq!(d["findings"][0]["status"], "planned");
        assert_eq!(d["findings"][0]["groupName"], APP_GROUP);
    }
    assert_eq!(writes(&sb), before, "a dry run wrote");
    assert!(sb.with_world(|w| w.access_assignments_of(&lean)).is_empty());
    let (s, run) = api
        .post(
            "/api/lifecycle/repair",
            json!({ "template": "app-install" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    assert_eq!(
        (&run["counts"]["changed"], &run["counts"]["failed"]),
        (&json!(2), &json!(0)),
        "{run}"
    );
    assert_eq!(sb.with_world(|w| w.access_assignments_of(&lean)).len(), 1);
    let (_, after) = api
        .post("/api/lifecycle/repair", json!({ "dryRun": true }))
        .await;
    assert_eq!(after["inLine"], after["checked"], "{after}");

    // ---- webhook: another tool's registration is kept (409) unless forced.
    sb.with_world_mut(|w| {
        w.set_webhook_registration("https://other-tool.example/h", &["test-created"]);
    });
    let ours = "https://msp.example/gdap/webhook";
    let (s, e) = api
        .post("/api/lifecycle/webhook", json!({ "url": ours }))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(error_key(&e), "webhookRegisteredElsewhere");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("https://other-tool.example/h"),
        "{e}"
    );
    assert!(!e["error"]["steps"].as_array().unwrap().is_empty());
    let kept = || sb.with_world(|w| w.webhook_registration()).unwrap();
    assert_eq!(
        kept(),
        (
            "https://other-tool.example/h".to_owned(),
            vec!["test-created".to_owned()]
        )
    );
    let (s, plan) = api
        .post(
            "/api/lifecycle/webhook",
            json!({ "url": ours, "force": true, "dryRun": true }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    assert_eq!(plan["action"], "planned");
    assert_eq!(plan["previous"]["url"], "https://other-tool.example/h");
    assert_eq!(
        kept().0,
        "https://other-tool.example/h",
        "a dry run replaced it"
    );
    let (s, run) = api
        .post(
            "/api/lifecycle/webhook",
            json!({ "url": ours, "force": true }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    assert_eq!(run["action"], "replaced");
    let (url, events) = kept();
    assert_eq!(url, ours);
    assert!(
        events
            .iter()
            .any(|e| e == "granular-admin-relationship-approved")
    );
    let (_, again) = api
        .post("/api/lifecycle/webhook", json!({ "url": ours }))
        .await;
    assert_eq!(again["action"], "unchanged");

    // ---- bad input: 400 with what to fix, before anything is read or written.
    let before = writes(&sb);
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "/api/lifecycle/auto-extend",
            json!({ "dryRun": true, "relationshipId": [dental] }),
            "invalidJson",
            "unknown field `relationshipId`",
        ),
        (
            "/api/lifecycle/auto-extend",
            json!({ "relationshipIds": [dental, "not/an id"] }),
            "invalidRelationshipId",
            "relationshipIds[1]",
        ),
        (
            "/api/lifecycle/auto-extend",
            json!({ "relationshipIds": [] }),
            "invalidRelationshipId",
            "leave it out",
        ),
        (
            "/api/lifecycle/auto-extend",
            json!({ "concurrency": 0 }),
            "invalidBody",
            "concurrency",
        ),
        (
            "/api/lifecycle/remove-ga",
            json!({ "confirm": true, "concurrency": 2 }),
            "invalidJson",
            "unknown field `concurrency`",
        ),
        (
            "/api/lifecycle/repair",
            json!({ "template": "tier-9" }),
            "unknownTemplate",
            "least-privilege",
        ),
        (
            "/api/lifecycle/repair",
            json!({ "template": {"groups": [{"displayName": "G", "roles": ["No Such Role"]}]} }),
            "invalidTemplate",
            "unknown role",
        ),
        (
            "/api/lifecycle/groups",
            json!({ "template": {"groups": [{"displayName": "G", "desc": "x", "roles": ["Global Reader"]}]} }),
            "invalidTemplate",
            "`desc`",
        ),
        (
            // Validated by the library: the catalogue's invalid-request row.
            "/api/lifecycle/groups",
            json!({ "template": {"groups": [
                {"displayName": "G", "roles": ["Global Reader"]},
                {"displayName": "g", "roles": ["Global Reader"]}
            ]} }),
            "invalidRequest",
            "twice",
        ),
        (
            "/api/lifecycle/groups",
            json!({ "serviceAccount": " " }),
            "invalidBody",
            "serviceAccount",
        ),
        (
            "/api/lifecycle/webhook",
            json!({ "url": "http://msp.example/h?key=s3cr3t" }),
            "invalidWebhookUrl",
            "https",
        ),
        (
            "/api/lifecycle/webhook",
            json!({ "force": true }),
            "invalidJson",
            "missing field `url`",
        ),
    ];
    for (path, body, key, says) in cases {
        let (s, e) = api.post(path, body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path} {body}: {e}");
        assert_eq!(error_key(&e), key, "{path} {body}: {e}");
        let text = format!(
            "{} {}",
            e["error"]["message"].as_str().unwrap(),
            e["error"]["details"]
        );
        assert!(text.contains(says), "{path} {body}: {e}");
        assert!(!text.contains("s3cr3t"), "the URL's secret echoed: {e}");
    }
    assert_eq!(writes(&sb), before, "bad input wrote");
    // A well-formed relationship id that does not exist: 404 from the service, via the catalogue.
    let unknown = "00000000-0000-0000-0000-000000000000-00000000-0000-0000-0000-000000000000";
    let (s, e) = api
        .post(
            "/api/lifecycle/auto-extend",
            json!({ "dryRun": true, "relationshipIds": [unknown] }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
    assert_eq!(error_key(&e), "serviceError");
    // The existing body limit holds (413).
    let big = format!(
        "{{\"relationshipIds\":[\"{}\"]}}",
        "a".repeat(gdap_server::BODY_LIMIT)
    );
    let r = api
        .c
        .post(format!("{}/api/lifecycle/auto-extend", api.base))
        .bearer_auth(&api.token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(sb.stats().duplicate_writes, 0);
    srv.shutdown(Duration::from_secs(5)).await;
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_roles_writes_and_dry_runs_for_owners_and_admins_trace_for_members() {
    let mut world = World::seeded(SEED, 0);
    let with_ga = ids(&[
        roles::GLOBAL_ADMINISTRATOR,
        roles::APPLICATION_ADMINISTRATOR,
    ]);
    let (tenant, rel) = world.add_customer_with_relationship("RBAC Corp", &with_ga, "PT0S");
    let sb = start_sandbox(world).await;
    let info = sb.world_info();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gdap.db");
    let tokens = users(&db).await;
    let srv = server(&db, &sb).await;
    let base = srv.url();
    let c = client();
    connect(&c, &base, &tokens["owner"]).await;
    let as_role = |role: &str| Api {
        c: c.clone(),
        base: base.clone(),
        token: tokens[role].clone(),
    };
    let real: Vec<(&str, Value)> = vec![
        ("/api/lifecycle/groups", json!({})),
        ("/api/lifecycle/auto-extend", json!({})),
        ("/api/lifecycle/remove-ga", json!({ "confirm": true })),
        ("/api/lifecycle/repair", json!({})),
        (
            "/api/lifecycle/webhook",
            json!({ "url": "https://msp.example/h" }),
        ),
    ];
    let dry = |body: &Value| {
        let mut b = body.clone();
        b["dryRun"] = json!(true);
        b
    };
    let trace_q = [
        ("user", info.admin_upn.as_str()),
        ("tenant", tenant.as_str()),
    ];

    // Member, guest, billing: 403 on every write route, real run or dry run, and nothing written.
    let before = writes(&sb);
    for role in ["member", "guest", "billing"] {
        let api = as_role(role);
        for (path, body) in &real {
            for b in [body.clone(), dry(body)] {
                let (s, e) = api.post(path, b.clone()).await;
                assert_eq!(s, StatusCode::FORBIDDEN, "{role} {path} {b}: {e}");
                assert_eq!(error_key(&e), "forbidden");
                let msg = e["error"]["message"].as_str().unwrap();
                assert!(
                    msg.contains(&format!("the {role} role cannot use POST {path}"))
                        && msg.contains("Owners and Admins can (dry runs included"),
                    "{msg}"
                );
            }
        }
        // The trace is a read: members may, guests and billing may not.
        let (s, t) = api.trace(&trace_q).await;
        if role == "member" {
            assert_eq!(s, StatusCode::OK, "{t}");
            assert_eq!(t["tenantId"], tenant.as_str());
            assert_eq!(t["tenantName"], "RBAC Corp");
        } else {
            assert_eq!(s, StatusCode::FORBIDDEN, "{role} trace: {t}");
        }
    }
    assert_eq!(writes(&sb), before, "a refused call wrote");
    assert!(sb.with_world(|w| w.webhook_registration()).is_none());

    // Anonymous: 401.
    let r = c
        .post(format!("{base}/api/lifecycle/auto-extend"))
        .json(&json!({ "dryRun": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Browser-style credentials (HTTP Basic, like a session) need the CSRF token on writes.
    let r = c
        .post(format!("{base}/api/lifecycle/auto-extend"))
        .basic_auth("admin@msp.example", Some(&tokens["admin"]))
        .json(&json!({ "dryRun": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_key(&r.json().await.unwrap()), "csrf");

    // Admin and owner: dry runs, then real runs.
    let admin = as_role("admin");
    for (path, body) in &real {
        let (s, v) = admin.post(path, dry(body)).await;
        assert_eq!(s, StatusCode::OK, "admin dry {path}: {v}");
        assert_eq!(
            v.get("dryRun").cloned().unwrap_or(json!(true)),
            json!(true),
            "{path}: {v}"
        );
    }
    assert_eq!(writes(&sb), before, "admin dry runs wrote");
    let (s, v) = admin.post(real[0].0, real[0].1.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["groups"][0]["group"], "changed", "{v}");
    let owner = as_role("owner");
    let (s, v) = owner.post(real[2].0, real[2].1.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(change(&v, &rel)["status"], "changed", "{v}");
    for (path, body) in [&real[1], &real[3], &real[4]] {
        let (s, v) = admin.post(path, body.clone()).await;
        assert_eq!(s, StatusCode::OK, "admin {path}: {v}");
    }
    assert_eq!(
        sb.with_world(|w| w.relationship_auto_extend(&rel)),
        Some("P180D".into()),
        "auto-extend after GA removal"
    );
    assert_eq!(
        sb.with_world(|w| w.webhook_registration()).unwrap().0,
        "https://msp.example/h"
    );
    let (s, t) = admin.trace(&trace_q).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(t["hasAccess"], true, "groups + repair gave access: {t}");
    srv.shutdown(Duration::from_secs(5)).await;
    sb.shutdown().await;
}

// ------------------------------------------------------------------ Partner Center webhooks

const APPROVED: &str = "granular-admin-relationship-approved";
const ACTIVATED: &str = "granular-admin-relationship-activated";

/// A Partner Center event body for relationship `id`.
fn event(name: &str, sb: &SandboxHandle, id: &str) -> Value {
    json!({
        "EventName": name,
        "ResourceUri": format!("{}/v1/granularAdminRelationships/{id}", sb.partner_center_url()),
        "ResourceName": "GranularAdminRelationship",
        "AuditUri": null,
        "ResourceChangeUtcDate": "2026-11-24T10:00:00.000Z",
    })
}

/// Posts `body` to `url` the way Partner Center does: no session, no CSRF token.
async fn deliver(c: &Client, url: &str, body: impl Into<reqwest::Body>) -> (StatusCode, String) {
    let r = c
        .post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn webhook_events(api: &Api) -> Vec<Value> {
    let (s, v) = api.get("/api/lifecycle/webhook/events").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["events"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_approval_event_assigns_the_app_install_group_once_graph_shows_it_active() {
    let sb = Sandbox::builder()
        .world(World::seeded(SEED, 6))
        .propagation_delay(Duration::from_millis(10))
        .auto_approve_after(Duration::from_millis(300))
        .webhook_retry_delay(Duration::from_millis(10))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gdap.db");
    let tokens = users(&db).await;
    let srv = server(&db, &sb).await;
    let api = Api {
        c: client(),
        base: srv.url(),
        token: tokens["admin"].clone(),
    };
    connect(&api.c, &api.base, &api.token).await;

    // The GDAP groups exist (with the admin in them) before any relationship is approved.
    let (s, groups) = api.post("/api/lifecycle/groups", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{groups}");

    // The callback: {public url}/webhooks/partner-center/{64 hex digits}, registered (forced).
    let (s, cb) = api.get("/api/lifecycle/webhook/callback").await;
    assert_eq!(s, StatusCode::OK, "{cb}");
    let callback = cb["url"].as_str().unwrap().to_owned();
    let key = callback
        .strip_prefix(&format!("{}/webhooks/partner-center/", srv.url()))
        .unwrap_or_else(|| panic!("{callback}"));
    assert!(
        key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()),
        "{key}"
    );
    let (s, reg) = api
        .post(
            "/api/lifecycle/webhook",
            json!({ "url": callback, "force": true }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{reg}");
    assert_eq!(
        sb.with_world(|w| w.webhook_registration()).unwrap().0,
        callback
    );

    // A GDAP request for a customer without a relationship; the sandbox approves it after
    // 300 ms of its clock and delivers approved + activated to the callback.
    let tenant = sb
        .snapshot()
        .tenants
        .into_iter()
        .find(|t| !t.is_own && !t.previously_deleted && t.relationships.is_empty())
        .expect("a customer without a relationship")
        .id;
    let r = api
        .c
        .post(format!(
            "{}/api/tenants/{tenant}/request-permissions",
            api.base
        ))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let rel = sb.with_world(|w| w.relationship_ids_for(&tenant));
    assert_eq!(rel.len(), 1, "{rel:?}");
    let rel = rel[0].clone();
    assert!(sb.with_world(|w| w.access_assignments_of(&rel)).is_empty());

    sb.advance_clock(Duration::from_millis(400));
    let deliveries = sb
        .wait_for_webhook_deliveries(2, Duration::from_secs(10))
        .await
        .unwrap();
    let names: Vec<&str> = deliveries.iter().map(|d| d.event_name.as_str()).collect();
    assert_eq!(names, [APPROVED, ACTIVATED]);
    for d in &deliveries {
        assert_eq!((d.status, d.delivered), (Some(202), true), "{d:?}");
        assert!(d.resource_uri.ends_with(&rel), "{d:?}");
    }

    // The server acts in the background; the events list shows what it did.
    assert!(srv.webhook_events_settled(Duration::from_secs(10)).await);
    let events = webhook_events(&api).await;
    assert_eq!(events.len(), 2, "{events:?}");
    // Newest first.
    assert_eq!(events[0]["eventName"], ACTIVATED);
    assert_eq!(events[1]["eventName"], APPROVED);
    for e in &events {
        assert_eq!(e["relationshipId"], rel.as_str(), "{e}");
        assert_eq!(e["status"], "done", "{e}");
        assert!(e["receivedAt"].as_str().is_some(), "{e}");
        assert_eq!(e["outcome"]["outcome"], "active", "{e}");
        assert!(e.get("error").is_none(), "{e}");
    }
    let app_group = |e: &Value| -> Value {
        e["outcome"]["assignments"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["displayName"] == APP_GROUP)
            .cloned()
            .unwrap_or_else(|| panic!("{e}"))
    };
    // The first event assigned the group, the second (processed after it) found it there.
    assert_eq!(app_group(&events[1])["status"], "changed", "{}", events[1]);
    assert_eq!(
        app_group(&events[0])["status"],
        "unchanged",
        "{}",
        events[0]
    );

    // The sandbox has the App Install group's assignment on the new relationship, once.
    let group_ids = sb.with_world(|w| w.find_partner_groups(APP_GROUP));
    assert_eq!(group_ids.len(), 1, "{group_ids:?}");
    let assignments = sb.with_world(|w| w.access_assignments_of(&rel));
    let app: Vec<_> = assignments
        .iter()
        .filter(|a| a.group_id == group_ids[0])
        .collect();
    assert_eq!(app.len(), 1, "{assignments:?}");
    let mut roles = app[0].roles.clone();
    roles.sort();
    let mut want = ids(APP_INSTALL);
    want.sort_unstable();
    assert_eq!(roles, want);

    srv.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_receiver_refuses_wrong_keys_and_bad_bodies_and_records_failures() {
    let mut world = World::seeded(SEED, 0);
    let (_, dental) =
        world.add_customer_with_relationship("Webhook Dental", &ids(APP_INSTALL), "PT0S");
    let sb = start_sandbox(world).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gdap.db");
    let tokens = users(&db).await;
    let srv = server(&db, &sb).await;
    let api = Api {
        c: client(),
        base: srv.url(),
        token: tokens["owner"].clone(),
    };
    connect(&api.c, &api.base, &api.token).await;
    let (s, cb) = api.get("/api/lifecycle/webhook/callback").await;
    assert_eq!(s, StatusCode::OK, "{cb}");
    let callback = cb["url"].as_str().unwrap().to_owned();
    let c = client();

    // Member, guest and billing: 403 on both reads; the admin may read them.
    for role in ["member", "guest", "billing"] {
        for path in [
            "/api/lifecycle/webhook/callback",
            "/api/lifecycle/webhook/events",
        ] {
            let r = c
                .get(format!("{}{path}", api.base))
                .bearer_auth(&tokens[role])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role} {path}");
        }
    }
    let admin = Api {
        c: client(),
        base: srv.url(),
        token: tokens["admin"].clone(),
    };
    assert_eq!(admin.get("/api/lifecycle/webhook/callback").await.1, cb);

    // A wrong key: 404 like any unknown path, whatever the body; nothing read or written.
    let before = writes(&sb);
    let requests = sb.stats().total_requests;
    let approved = event(APPROVED, &sb, &dental).to_string();
    let wrong_keys = [
        format!("{callback}0"),
        callback[..callback.len() - 1].to_owned(),
        format!("{}x", &callback[..callback.len() - 1]),
        format!("{}/webhooks/partner-center/", api.base),
        format!("{}/webhooks/partner-center/%ZZ", api.base),
    ];
    for url in &wrong_keys {
        let (s, text) = deliver(&c, url, approved.clone()).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{url}: {text}");
        assert!(!text.contains(&callback[callback.len() - 64..]), "{text}");
    }
    let (s, _) = deliver(&c, &format!("{callback}0"), vec![b'x'; 100 * 1024]).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a wrong key is refused before the body is read"
    );
    assert!(srv.webhook_events_settled(Duration::from_secs(5)).await);
    assert!(webhook_events(&api).await.is_empty());
    assert_eq!(writes(&sb), before);
    assert_eq!(
        sb.stats().total_requests,
        requests,
        "the sandbox was called"
    );

    // Bodies: malformed or without EventName → 400; over 64 KiB → 413; none recorded.
    for bad in [
        "not json",
        "[]",
        r#"{"ResourceName": "test"}"#,
        r#"{"EventName": 7}"#,
    ] {
        let (s, text) = deliver(&c, &callback, bad).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(error_key(&v), "invalidWebhookEvent", "{v}");
    }
    let big = format!(
        r#"{{"EventName": "test-created", "Pad": "{}"}}"#,
        "a".repeat(gdap_server::BODY_LIMIT)
    );
    let (s, text) = deliver(&c, &callback, big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
    assert!(webhook_events(&api).await.is_empty());

    // test-created → 200, listed as ignored; another event → 200 ignored.
    let (s, text) = deliver(
        &c,
        &callback,
        r#"{"EventName": "test-created", "ResourceName": "test"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let terminated = event("granular-admin-relationship-terminated", &sb, &dental).to_string();
    let (s, text) = deliver(&c, &callback, terminated).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    assert_eq!(writes(&sb), before);

    // An approval for a relationship Graph does not know: 202, then the recorded outcome is the
    // catalogue's error (the server did not panic, and still answers).
    let unknown = "0b1e2d3c-4a5b-4c6d-8e7f-9a0b1c2d3e4f-1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b";
    let (s, text) = deliver(&c, &callback, event(APPROVED, &sb, unknown).to_string()).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{text}");
    assert!(srv.webhook_events_settled(Duration::from_secs(10)).await);
    let events = webhook_events(&api).await;
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["eventName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            APPROVED,
            "granular-admin-relationship-terminated",
            "test-created"
        ]
    );
    let failed = &events[0];
    assert_eq!(failed["relationshipId"], unknown);
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(failed.get("outcome").is_none(), "{failed}");
    assert!(
        !failed["error"]["key"].as_str().unwrap().is_empty()
            && !failed["error"]["message"].as_str().unwrap().is_empty(),
        "{failed}"
    );
    assert!(
        events[1..].iter().all(|e| e["status"] == "ignored"),
        "{events:?}"
    );
    assert_eq!(events[2]["relationshipId"], Value::Null);
    assert_eq!(writes(&sb), before, "nothing was written");
    let (s, _) = api.get("/api/lifecycle/webhook/events").await;
    assert_eq!(s, StatusCode::OK);

    // A session-less caller of a lifecycle read is still refused.
    let r = c
        .get(format!("{}/api/lifecycle/webhook/events", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
