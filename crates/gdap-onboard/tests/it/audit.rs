//! Least-privilege audit.

use gdap_core::roles::{self, RoleTemplate};
use gdap_onboard::RelationshipTemplate;
use gdap_onboard::workflows::FindingKind;

use crate::support::*;

fn names(refs: &[gdap_onboard::RoleRef]) -> Vec<&str> {
    refs.iter().map(|r| r.name.as_str()).collect()
}

#[tokio::test(start_paused = true)]
async fn findings_with_the_smaller_role_set() {
    let w = world();
    let rel = |n: u64, name: &str, rs: &[RoleTemplate]| {
        w.gdap
            .insert(active(n, tid(n as u32), &format!("T{n}"), name, rs));
    };
    rel(1, "ga only", &[roles::GLOBAL_ADMINISTRATOR]);
    rel(
        2,
        "ga plus cloud app admin",
        &[
            roles::GLOBAL_ADMINISTRATOR,
            roles::CLOUD_APPLICATION_ADMINISTRATOR,
        ],
    );
    rel(
        3,
        "app plus extras",
        &[
            roles::APPLICATION_ADMINISTRATOR,
            roles::PRIVILEGED_ROLE_ADMINISTRATOR,
            roles::EXCHANGE_ADMINISTRATOR,
            roles::USER_ADMINISTRATOR,
        ],
    );
    rel(
        4,
        "lean",
        &[
            roles::APPLICATION_ADMINISTRATOR,
            roles::PRIVILEGED_ROLE_ADMINISTRATOR,
        ],
    );
    rel(5, "helpdesk", &[roles::HELPDESK_ADMINISTRATOR]);
    rel(6, "MLT_ignored", &[roles::GLOBAL_ADMINISTRATOR]);

    // The MSP uses the Helpdesk and Exchange task templates.
    let templates = vec![
        RelationshipTemplate::by_short_name("Helpdesk").unwrap(),
        RelationshipTemplate::by_short_name("Exchange").unwrap(),
    ];
    let report = orchestrator(&w)
        .least_privilege_audit(&templates)
        .await
        .unwrap();
    assert_eq!(report.relationships_checked, 5);
    let by_name = |n: &str| report.findings.iter().find(|f| f.relationship_name == n);

    let f = by_name("ga only").unwrap();
    assert_eq!(f.kinds, vec![FindingKind::GlobalAdminNotNeeded]);
    assert_eq!(names(&f.excess_roles), vec!["Global Administrator"]);
    assert_eq!(
        names(&f.suggested_roles),
        vec!["Application Administrator", "Privileged Role Administrator"]
    );

    let f = by_name("ga plus cloud app admin").unwrap();
    assert_eq!(
        names(&f.suggested_roles),
        vec![
            "Cloud Application Administrator",
            "Privileged Role Administrator"
        ],
        "prefers the role it already has"
    );

    let f = by_name("app plus extras").unwrap();
    assert_eq!(f.kinds, vec![FindingKind::RolesBeyondNeed]);
    assert_eq!(
        names(&f.excess_roles),
        vec!["User Administrator"],
        "Exchange is a chosen template"
    );

    assert!(by_name("lean").is_none());
    assert!(by_name("helpdesk").is_none());
    assert!(by_name("MLT_ignored").is_none());
    insta::assert_json_snapshot!("audit_report", report);
}

#[tokio::test(start_paused = true)]
async fn without_templates_task_roles_are_beyond_need() {
    let w = world();
    w.gdap.insert(active(
        1,
        tid(1),
        "T",
        "helpdesk",
        &[roles::HELPDESK_ADMINISTRATOR],
    ));
    let report = orchestrator(&w).least_privilege_audit(&[]).await.unwrap();
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].kinds, vec![FindingKind::RolesBeyondNeed]);
    assert!(report.findings[0].suggested_roles.is_empty());
}
