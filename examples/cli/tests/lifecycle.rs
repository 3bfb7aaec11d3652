#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report.
//! The relationship-lifecycle commands of the built `gdap` binary — `groups`, `wait-approval`,
//! `auto-extend`, `remove-ga`, `repair`, `trace` — against the in-process sandbox (a fresh seeded
//! world per run) and, for the multi-step scenarios, against one external sandbox reached with
//! the endpoint flags.

mod common;

use common::*;
use gdap_sandbox::World;

const ADMIN: &str = "admin@sandboxmsp.onmicrosoft.com";
const HELPDESK: &str = "helpdesk@sandboxmsp.onmicrosoft.com";
const NO_MFA: &str = "nomfa@sandboxmsp.onmicrosoft.com";

/// Role template ids (gdap-core's table).
const APP_ADMIN: &str = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3";
const PRA: &str = "e8611ab8-c189-46e8-94e1-60213ab1f814";
const SERVICE_SUPPORT: &str = "f023fd81-a637-4b56-95fd-791ac0226033";

/// The seeded tenant whose display name starts with `name`.
fn tenant(name: &str) -> gdap_sandbox::world::TenantSnapshot {
    world()
        .tenants
        .into_iter()
        .find(|t| t.display_name.starts_with(name))
        .unwrap_or_else(|| panic!("a tenant named {name}"))
}

/// The active relationship of the seeded tenant named `name`.
fn rel(name: &str) -> String {
    tenant(name)
        .relationships
        .into_iter()
        .find(|r| r.status == "active")
        .unwrap_or_else(|| panic!("an active relationship of {name}"))
        .id
}

/// The `approvalPending` relationship of the first 40 seeded tenants (there is none in 30).
fn pending_relationship() -> String {
    World::seeded(SEED, 40)
        .snapshot()
        .tenants
        .into_iter()
        .flat_map(|t| t.relationships)
        .find(|r| r.status == "approvalPending")
        .expect("an approvalPending relationship in 40 seeded tenants")
        .id
}

/// Poll counts and waited seconds depend on timing: `[n]`.
fn redact_timing(s: &str) -> String {
    let numbers_after = |line: &str, marker: &str| -> String {
        let mut out = String::new();
        let mut rest = line;
        while let Some(p) = rest.find(marker) {
            out.push_str(&rest[..p + marker.len()]);
            rest = &rest[p + marker.len()..];
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            if digits > 0 {
                out.push_str("[n]");
                rest = &rest[digits..];
            }
        }
        out.push_str(rest);
        out
    };
    let out = redact(s)
        .lines()
        .map(|l| {
            let mut l = l.to_owned();
            for m in [
                "\"polls\": ",
                "\"waitedSecs\": ",
                "Waited: ",
                "(read ",
                " times in ",
            ] {
                l = numbers_after(&l, m);
            }
            l
        })
        .collect::<Vec<_>>()
        .join("\n");
    if s.ends_with('\n') { out + "\n" } else { out }
}

fn transcript_timing(o: &Out) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        o.code,
        redact_timing(&o.stdout),
        redact_timing(&o.stderr)
    )
}

/// A file in a fresh directory under the target's tmp dir (redacted as `[state-dir]`).
fn file(name: &str, text: &str) -> String {
    let path = state_dir("template").join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// A template naming the seeded partner groups.
fn seeded_groups_template() -> String {
    file(
        "seeded-groups.json",
        r#"{"groups": [
            {"displayName": "GDAP - Onboarding Admins", "description": "Installs the app",
             "roles": ["Application Administrator", "Privileged Role Administrator"]},
            {"displayName": "GDAP - Helpdesk", "roles": ["Helpdesk Administrator"]}
        ]}"#,
    )
}

// ------------------------------------------------------------------------------------------
// groups

#[test]
fn groups_dry_run_then_create_and_assign() {
    let r2 = rel("Consolidated Holdings 0002");
    let r15 = rel("Relecloud Pharmacy 0015");
    let o = sandbox(
        "groups-dry",
        &[
            "groups",
            "--dry-run",
            "--relationship",
            &r2,
            "--relationship",
            &r15,
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("would create"));
    insta::assert_snapshot!("groups_dry_run", o.transcript());

    // The signed-in user is the default service account.
    let o = sandbox(
        "groups",
        &["groups", "--relationship", &r2, "--relationship", &r15],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains(&format!("Service account: {ADMIN}")));
    assert!(o.stdout.contains(", 0 duplicate writes"));
    insta::assert_snapshot!("groups", o.transcript());

    let o = sandbox(
        "groups-json",
        &[
            "groups",
            "--service-account",
            ADMIN,
            "--relationship",
            &r15,
            "-o",
            "json",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = o.json();
    assert_eq!(v["template"], "app-install");
    assert_eq!(v["counts"]["changed"], 4);
    assert_eq!(v["adminAgents"]["status"], "member");
    assert_eq!(v["mfa"]["status"], "enforced");
    assert_eq!(v["assignments"][0]["report"]["counts"]["changed"], 2);
    assert_eq!(v["failed"], 0);
    insta::assert_snapshot!("groups_json", redact(&o.stdout));
}

#[test]
fn groups_checks_admin_agents_and_mfa_of_another_account() {
    // helpdesk is in no AdminAgents group, and its MFA cannot be read from the admin's sign-in.
    let o = sandbox(
        "groups-helpdesk",
        &[
            "groups",
            "--dry-run",
            "--service-account",
            HELPDESK,
            "--template",
            "least-privilege",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("is NOT a member"));
    insta::assert_snapshot!("groups_least_privilege_helpdesk", o.transcript());
}

#[test]
fn groups_bad_input() {
    let o = sandbox(
        "groups-nofile",
        &["groups", "--template", "/nonexistent/groups.json"],
    );
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("groups_template_missing_file", o.transcript());

    let o = sandbox("groups-unknown", &["groups", "--template", "everything"]);
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("groups_template_unknown", o.transcript());

    let path = file("broken.json", "{\"groups\": [");
    let o = sandbox("groups-broken", &["groups", "--template", &path]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("broken.json"));
    insta::assert_snapshot!("groups_template_not_json", o.transcript());

    let path = file(
        "bad-role.json",
        r#"{"groups": [{"displayName": "GDAP - X", "roles": ["Chief Everything Officer"]}]}"#,
    );
    let o = sandbox("groups-badrole", &["groups", "--template", &path]);
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("groups_template_unknown_role", o.transcript());

    let path = file(
        "twice.json",
        r#"{"groups": [{"displayName": "GDAP - X", "roles": ["Global Reader"]},
                       {"displayName": "gdap - x", "roles": ["Global Reader"]}]}"#,
    );
    let o = sandbox("groups-twice", &["groups", "--template", &path]);
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("groups_template_duplicate_name", o.transcript());

    let o = sandbox(
        "groups-nouser",
        &[
            "groups",
            "--service-account",
            "nobody@sandboxmsp.onmicrosoft.com",
        ],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    insta::assert_snapshot!("groups_unknown_service_account", o.transcript());

    let o = sandbox("groups-badrel", &["groups", "--relationship", "not-hex"]);
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("groups_malformed_relationship", o.transcript());

    // A well-formed id that names nothing is refused before any group is created.
    let o = sandbox(
        "groups-norel",
        &[
            "groups",
            "--relationship",
            "11111111-2222-3333-4444-555555555555-11111111-2222-3333-4444-555555555555",
        ],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(!o.stdout.contains("created"));
    insta::assert_snapshot!("groups_unknown_relationship", o.transcript());
}

// ------------------------------------------------------------------------------------------
// wait-approval (in-process: the sandbox's customer approves after 200 ms)

#[test]
fn wait_approval_plans_then_waits_and_assigns() {
    let pending = pending_relationship();
    let template = seeded_groups_template();
    let o = sandbox_with(
        "wait-dry",
        40,
        &[
            "wait-approval",
            &pending,
            "--dry-run",
            "--assign",
            &template,
            "--webhook-url",
            "https://msp.example/hooks/gdap",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout
            .contains("would register https://msp.example/hooks/gdap")
    );
    insta::assert_snapshot!("wait_approval_dry_run", o.transcript());

    let o = sandbox_with(
        "wait",
        40,
        &[
            "--sandbox-auto-approve-ms",
            "200",
            "wait-approval",
            &pending,
            "--timeout",
            "30s",
            "--assign",
            &template,
            "--webhook-url",
            "https://msp.example/hooks/gdap",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("is active"));
    insta::assert_snapshot!("wait_approval", transcript_timing(&o));

    let o = sandbox_with(
        "wait-json",
        40,
        &[
            "--sandbox-auto-approve-ms",
            "200",
            "wait-approval",
            &pending,
            "--assign",
            &template,
            "-o",
            "json",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = o.json();
    assert_eq!(v["status"], "active");
    assert_eq!(v["assignments"]["counts"]["changed"], 1);
    assert!(v["approval"]["polls"].as_u64().unwrap() >= 2);
    insta::assert_snapshot!("wait_approval_json", redact_timing(&o.stdout));
}

#[test]
fn wait_approval_failures() {
    let pending = pending_relationship();
    // The default template's groups do not exist yet: each assignment fails, exit 3.
    let o = sandbox_with(
        "wait-nogroups",
        40,
        &[
            "--sandbox-auto-approve-ms",
            "200",
            "wait-approval",
            &pending,
            "--assign",
        ],
    );
    assert_eq!(o.code, 3, "{}", o.stderr);
    insta::assert_snapshot!("wait_approval_groups_missing", transcript_timing(&o));

    // Nobody approves: the deadline passes, with the approval link.
    let o = sandbox_with(
        "wait-timeout",
        40,
        &["wait-approval", &pending, "--timeout", "1s"],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("granularAdminRelationships/"));
    insta::assert_snapshot!("wait_approval_timeout", transcript_timing(&o));

    let o = sandbox_with(
        "wait-baddur",
        40,
        &["wait-approval", &pending, "--timeout", "soon"],
    );
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("wait_approval_bad_duration", o.transcript());

    let o = sandbox_with(
        "wait-http",
        40,
        &[
            "wait-approval",
            &pending,
            "--webhook-url",
            "http://msp.example/hooks",
        ],
    );
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("wait_approval_http_webhook", o.transcript());

    let o = Out::of(
        gdap("wait-nosandbox")
            .args([
                "--sandbox-auto-approve-ms",
                "200",
                "wait-approval",
                &pending,
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("wait_approval_auto_approve_without_sandbox", o.transcript());
}

// ------------------------------------------------------------------------------------------
// auto-extend

#[test]
fn auto_extend_plans_then_extends() {
    let o = sandbox("auto-extend-dry", &["auto-extend", "--dry-run"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("Dry run: nothing is changed."));
    insta::assert_snapshot!("auto_extend_dry_run", o.transcript());

    let wingtip = rel("Wingtip Media 0001");
    let blue_yonder = rel("Blue Yonder Motors 0004");
    let holdings = rel("Consolidated Holdings 0002");
    let o = sandbox(
        "auto-extend",
        &[
            "auto-extend",
            "--relationship",
            &wingtip,
            "--relationship",
            &blue_yonder,
            "--relationship",
            &holdings,
            "--relationship",
            &wingtip,
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("auto_extend", o.transcript());

    let o = sandbox(
        "auto-extend-json",
        &["auto-extend", "--concurrency", "16", "-o", "json"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = o.json();
    assert_eq!(v["dryRun"], false);
    assert_eq!(v["counts"]["failed"], 0);
    assert_eq!(v["counts"]["changed"], 14);
    insta::assert_snapshot!("auto_extend_json", redact(&o.stdout));
}

#[test]
fn auto_extend_unknown_relationship() {
    let o = sandbox(
        "auto-extend-unknown",
        &[
            "auto-extend",
            "--relationship",
            "11111111-2222-3333-4444-555555555555-11111111-2222-3333-4444-555555555555",
        ],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    insta::assert_snapshot!("auto_extend_unknown_relationship", o.transcript());
}

// ------------------------------------------------------------------------------------------
// remove-ga

#[test]
fn remove_ga_shows_the_plan_and_needs_yes() {
    let o = sandbox("remove-ga-dry", &["remove-ga", "--dry-run"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("remove_ga_dry_run", o.transcript());

    let o = sandbox("remove-ga-noyes", &["remove-ga"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("--yes"));
    insta::assert_snapshot!("remove_ga_without_yes", o.transcript());

    let o = sandbox("remove-ga-noyes-json", &["remove-ga", "-o", "json"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let v = o.json();
    assert_eq!(v["exitCode"], 2);
    assert_eq!(v["plan"]["dryRun"], true);
    assert_eq!(v["plan"]["counts"]["planned"], 6);
    insta::assert_snapshot!("remove_ga_without_yes_json", redact(&o.stdout));

    let o = sandbox("remove-ga-conflict", &["remove-ga", "--dry-run", "--yes"]);
    assert_eq!(o.code, 2);
}

#[test]
fn remove_ga_with_yes_follows_the_operations() {
    let o = sandbox("remove-ga", &["remove-ga", "--yes", "--timeout", "2m"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains(", 0 duplicate writes"));
    insta::assert_snapshot!("remove_ga", o.transcript());

    let coho = rel("Coho Accounting 0016");
    let o = sandbox(
        "remove-ga-one-json",
        &["remove-ga", "--yes", "--relationship", &coho, "-o", "json"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.json()["relationships"][0]["status"], "skipped");
    insta::assert_snapshot!("remove_ga_only_role_json", redact(&o.stdout));
}

// ------------------------------------------------------------------------------------------
// repair (in-process) and trace

#[test]
fn repair_reports_missing_template_groups_and_fixes_drift() {
    let o = sandbox("repair-missing", &["repair", "--dry-run"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("Missing from the partner tenant"));
    insta::assert_snapshot!("repair_template_groups_missing", o.transcript());

    // The seeded groups carry more roles than this template gives them.
    let template = seeded_groups_template();
    let lucerne = rel("Lucerne Architects 0005");
    let contoso = rel("Contoso Pharmacy 0025");
    let bellows = rel("Bellows Engineering 0019");
    let args = [
        "repair",
        "--template",
        &template,
        "--relationship",
        &lucerne,
        "--relationship",
        &contoso,
        "--relationship",
        &bellows,
    ];
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let o = sandbox("repair-seeded-dry", &dry);
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("repair_seeded_dry_run", o.transcript());
    let o = sandbox("repair-seeded", &args);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains(", 0 failed."));
    insta::assert_snapshot!("repair_seeded", o.transcript());

    let path = file("empty.json", r#"{"groups": []}"#);
    let o = sandbox("repair-empty", &["repair", "--template", &path]);
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("repair_template_without_groups", o.transcript());
}

#[test]
fn trace_explains_access() {
    let contoso = tenant("Contoso Pharmacy 0025").id;
    let o = sandbox(
        "trace-admin",
        &["trace", "--user", ADMIN, "--tenant", &contoso],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("has access: yes"));
    insta::assert_snapshot!("trace_admin", o.transcript());

    let o = sandbox(
        "trace-helpdesk",
        &["trace", "--user", HELPDESK, "--tenant", &contoso],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("trace_helpdesk", o.transcript());

    let trey = tenant("Trey Media 0012").id;
    let o = sandbox(
        "trace-nomfa",
        &["trace", "--user", NO_MFA, "--tenant", &trey],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("has access: no"));
    insta::assert_snapshot!("trace_no_assignment", o.transcript());

    let o = sandbox(
        "trace-json",
        &[
            "trace", "--user", HELPDESK, "--tenant", &contoso, "-o", "json",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = o.json();
    assert_eq!(v["hasAccess"], true);
    assert!(!v["missingForAppInstall"].as_array().unwrap().is_empty());
    insta::assert_snapshot!("trace_json", redact(&o.stdout));

    let lonely = lonely_tenant();
    let o = sandbox(
        "trace-none",
        &["trace", "--user", ADMIN, "--tenant", &lonely],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("trace_no_relationship", o.transcript());
}

#[test]
fn trace_bad_input() {
    let contoso = tenant("Contoso Pharmacy 0025").id;
    let o = sandbox(
        "trace-nouser",
        &[
            "trace",
            "--user",
            "nobody@sandboxmsp.onmicrosoft.com",
            "--tenant",
            &contoso,
        ],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    insta::assert_snapshot!("trace_unknown_user", o.transcript());

    let o = sandbox(
        "trace-nouser-json",
        &[
            "trace",
            "--user",
            "nobody@sandboxmsp.onmicrosoft.com",
            "--tenant",
            &contoso,
            "-o",
            "json",
        ],
    );
    assert_eq!(o.code, 2);
    assert_eq!(o.json()["exitCode"], 2);

    let o = sandbox(
        "trace-badtenant",
        &["trace", "--user", ADMIN, "--tenant", "contoso"],
    );
    assert_eq!(o.code, 2);
    insta::assert_snapshot!("trace_bad_tenant", o.transcript());
}

// ------------------------------------------------------------------------------------------
// Multi-step, against one external sandbox: groups, then drift, then repair; approval with the
// webhook of another tool.

#[test]
fn groups_then_drift_then_repair_against_an_external_sandbox() {
    let ext = External::start();
    let token = ext.refresh_token();
    let run = |name: &str, args: &[&str]| {
        let mut c = ext.gdap(name);
        c.args(args).env("GDAP_REFRESH_TOKEN", &token);
        Out::of(c.output().unwrap())
    };
    let relecloud = rel("Relecloud Pharmacy 0015");
    let trey = rel("Trey Media 0012");
    let only = [
        "--relationship",
        relecloud.as_str(),
        "--relationship",
        trey.as_str(),
    ];

    let mut groups = vec!["groups", "--service-account", ADMIN];
    groups.extend(only);
    let o = run("ext-groups", &groups);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    insta::assert_snapshot!("ext_groups", o.transcript());
    // Again: everything is reused, nothing written twice.
    let o = run("ext-groups-again", &groups);
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("ext_groups_again", o.transcript());
    assert_eq!(ext.handle.stats().duplicate_writes, 0);

    let mut repair = vec!["repair"];
    repair.extend(only);
    let o = run("ext-repair-clean", &repair);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("2 relationships checked: 2 in line"));

    // Drift: the Global Reader group loses its assignment on Relecloud, the App Install group's
    // assignment there gains Service Support Administrator, and Trey Media carries an assignment
    // of a group that no longer exists.
    ext.handle.with_world_mut(|w| {
        let app_install = w.find_partner_groups("GDAP - App Install")[0].clone();
        let reader = w.find_partner_groups("GDAP - Global Reader")[0].clone();
        for a in w.access_assignments_of(&relecloud) {
            if a.group_id == reader || a.group_id == app_install {
                w.set_access_assignment_status(&relecloud, &a.id, "deleted")
                    .unwrap();
            }
        }
        w.insert_access_assignment(
            &relecloud,
            &app_install,
            &[APP_ADMIN, PRA, SERVICE_SUPPORT],
            true,
        )
        .unwrap();
        let gone = w.add_partner_group("GDAP - Retired");
        w.insert_access_assignment(&trey, &gone, &[PRA], true)
            .unwrap();
        w.delete_partner_group(&gone).unwrap();
    });

    let mut dry = repair.clone();
    dry.push("--dry-run");
    let o = run("ext-repair-dry", &dry);
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("ext_repair_dry_run", o.transcript());
    let o = run("ext-repair", &repair);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    insta::assert_snapshot!("ext_repair", o.transcript());
    let mut json = repair.clone();
    json.extend(["-o", "json"]);
    let o = run("ext-repair-after", &json);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = o.json();
    assert_eq!(v["checked"], 2);
    assert_eq!(v["inLine"], 2);
    insta::assert_snapshot!("ext_repair_after_json", redact(&o.stdout));

    // The world agrees: one live assignment per template group, with the template's roles.
    ext.handle.with_world(|w| {
        let app_install = w.find_partner_groups("GDAP - App Install")[0].clone();
        let live: Vec<_> = w
            .access_assignments_of(&relecloud)
            .into_iter()
            .filter(|a| a.status == "active" || a.status == "pending")
            .collect();
        let mine: Vec<_> = live.iter().filter(|a| a.group_id == app_install).collect();
        assert_eq!(mine.len(), 1, "{live:?}");
        let mut roles = mine[0].roles.clone();
        roles.sort();
        assert_eq!(roles, [APP_ADMIN, PRA]);
    });
    assert_eq!(ext.handle.stats().duplicate_writes, 0);

    // The admin's access to Relecloud now runs through both groups.
    let o = run(
        "ext-trace",
        &[
            "trace",
            "--user",
            ADMIN,
            "--tenant",
            &tenant("Relecloud Pharmacy 0015").id,
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    insta::assert_snapshot!("ext_trace_after_repair", o.transcript());
}

#[test]
fn approval_with_another_tools_webhook_against_an_external_sandbox() {
    let ext = External::start();
    let token = ext.refresh_token();
    let run = |name: &str, args: &[&str]| {
        let mut c = ext.gdap(name);
        c.args(args).env("GDAP_REFRESH_TOKEN", &token);
        Out::of(c.output().unwrap())
    };
    let o = run("ext-appr-groups", &["groups"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = run(
        "ext-appr-request",
        &["request-permissions", &lonely_tenant(), "-o", "json"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let id = o.json()["relationshipId"].as_str().unwrap().to_owned();
    ext.handle.with_world_mut(|w| {
        w.set_webhook_registration(
            "https://other-tool.example/partner-center",
            &["granular-admin-relationship-approved"],
        );
    });
    let ours = "https://msp.example/hooks/gdap";

    // Another tool's registration is kept unless --force.
    let o = run(
        "ext-appr-refused",
        &["wait-approval", &id, "--webhook-url", ours],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("--force"));
    insta::assert_snapshot!("ext_wait_approval_webhook_elsewhere", o.transcript());
    let o = run(
        "ext-appr-force-dry",
        &[
            "wait-approval",
            &id,
            "--webhook-url",
            ours,
            "--force",
            "--dry-run",
            "--assign",
            "-o",
            "json",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = o.json();
    assert_eq!(v["webhook"]["action"], "planned");
    assert_eq!(v["status"], "approvalPending");
    insta::assert_snapshot!("ext_wait_approval_force_dry_run_json", redact(&o.stdout));
    assert_eq!(
        ext.handle
            .with_world(|w| w.webhook_registration())
            .unwrap()
            .0,
        "https://other-tool.example/partner-center"
    );

    // The customer approves; the wait ends at the first read and the groups are assigned.
    ext.handle.approve_relationship(&id).unwrap();
    let o = run(
        "ext-appr",
        &[
            "wait-approval",
            &id,
            "--webhook-url",
            ours,
            "--force",
            "--assign",
        ],
    );
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    insta::assert_snapshot!("ext_wait_approval_force_assign", transcript_timing(&o));
    assert_eq!(
        ext.handle
            .with_world(|w| w.webhook_registration())
            .unwrap()
            .0,
        ours
    );
    assert_eq!(ext.handle.stats().duplicate_writes, 0);
}
