//! Readiness: every case of the seed's rule, directly and through a sync.

use std::collections::BTreeSet;

use gdap_core::roles::{self, RoleTemplate};
use gdap_onboard::{Readiness, RoleRequirement};

use crate::support::*;

fn evaluate(held: &[RoleTemplate]) -> Readiness {
    let held: BTreeSet<_> = held.iter().map(RoleTemplate::id).collect();
    RoleRequirement::default_for_app_install().evaluate(&held)
}

fn missing_labels(r: &Readiness) -> Vec<String> {
    r.missing().iter().map(|m| m.label()).collect()
}

#[test]
fn global_admin_is_ready() {
    assert_eq!(evaluate(&[roles::GLOBAL_ADMINISTRATOR]), Readiness::Ready);
}

#[test]
fn app_admin_plus_pra_is_ready() {
    assert_eq!(
        evaluate(&[
            roles::APPLICATION_ADMINISTRATOR,
            roles::PRIVILEGED_ROLE_ADMINISTRATOR
        ]),
        Readiness::Ready
    );
}

#[test]
fn cloud_app_admin_plus_pra_is_ready() {
    assert_eq!(
        evaluate(&[
            roles::CLOUD_APPLICATION_ADMINISTRATOR,
            roles::PRIVILEGED_ROLE_ADMINISTRATOR
        ]),
        Readiness::Ready
    );
}

#[test]
fn app_admin_alone_is_missing_pra() {
    let r = evaluate(&[roles::APPLICATION_ADMINISTRATOR]);
    assert_eq!(missing_labels(&r), vec!["Privileged Role Administrator"]);
    let r = evaluate(&[
        roles::CLOUD_APPLICATION_ADMINISTRATOR,
        roles::HELPDESK_ADMINISTRATOR,
    ]);
    assert_eq!(missing_labels(&r), vec!["Privileged Role Administrator"]);
}

#[test]
fn pra_alone_is_missing_app_admin_or_cloud_app_admin() {
    let r = evaluate(&[roles::PRIVILEGED_ROLE_ADMINISTRATOR]);
    assert_eq!(
        missing_labels(&r),
        vec!["Application Administrator or Cloud Application Administrator"]
    );
    assert_eq!(
        r.missing()[0].alternatives(),
        &[
            roles::APPLICATION_ADMINISTRATOR.id(),
            roles::CLOUD_APPLICATION_ADMINISTRATOR.id()
        ]
    );
}

#[test]
fn unrelated_roles_are_missing_both() {
    let r = evaluate(&[roles::SECURITY_READER]);
    assert_eq!(
        missing_labels(&r),
        vec![
            "Application Administrator or Cloud Application Administrator",
            "Privileged Role Administrator"
        ]
    );
}

#[test]
fn readiness_serialises_with_state_and_names() {
    let r = evaluate(&[roles::APPLICATION_ADMINISTRATOR]);
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        serde_json::json!({"state": "missing", "missing": ["Privileged Role Administrator"]})
    );
    assert_eq!(
        serde_json::to_value(Readiness::Ready).unwrap(),
        serde_json::json!({"state": "ready"})
    );
}

#[test]
fn other_apps_supply_their_own_requirement() {
    // An app that only needs Exchange Administrator and Security Reader.
    let req = RoleRequirement::All(vec![
        RoleRequirement::role(roles::EXCHANGE_ADMINISTRATOR),
        RoleRequirement::role(roles::SECURITY_READER),
    ]);
    let held: BTreeSet<_> = [roles::EXCHANGE_ADMINISTRATOR.id()].into();
    assert_eq!(
        missing_labels(&req.evaluate(&held)),
        vec!["Security Reader"]
    );
}

#[tokio::test(start_paused = true)]
async fn each_case_through_sync() {
    let w = world();
    let cases: &[(&str, &[RoleTemplate], Readiness)] = &[
        ("Ga", &[roles::GLOBAL_ADMINISTRATOR], Readiness::Ready),
        (
            "AppPra",
            &[
                roles::APPLICATION_ADMINISTRATOR,
                roles::PRIVILEGED_ROLE_ADMINISTRATOR,
            ],
            Readiness::Ready,
        ),
        (
            "CloudPra",
            &[
                roles::CLOUD_APPLICATION_ADMINISTRATOR,
                roles::PRIVILEGED_ROLE_ADMINISTRATOR,
            ],
            Readiness::Ready,
        ),
        (
            "AppOnly",
            &[roles::APPLICATION_ADMINISTRATOR],
            evaluate(&[roles::APPLICATION_ADMINISTRATOR]),
        ),
        (
            "PraOnly",
            &[roles::PRIVILEGED_ROLE_ADMINISTRATOR],
            evaluate(&[roles::PRIVILEGED_ROLE_ADMINISTRATOR]),
        ),
    ];
    for (i, (name, rs, _)) in cases.iter().enumerate() {
        let t = tid(i as u32 + 1);
        w.directories.add_tenant(t, name, 10);
        w.gdap
            .insert(active(i as u64, t, name, &format!("rel {name}"), rs));
    }
    let report = orchestrator(&w).sync().await.unwrap();
    for (i, (name, _, expected)) in cases.iter().enumerate() {
        let row = report.tenant(&tid(i as u32 + 1)).unwrap();
        assert_eq!(&row.gdap, expected, "{name}");
    }
}
