use super::nickname_for;
use crate::World;
use crate::well_known::roles as r;

#[test]
fn nicknames_are_valid_and_never_empty() {
    assert_eq!(
        nickname_for("GDAP - Onboarding Admins"),
        "GDAP-Onboarding-Admins"
    );
    assert_eq!(nickname_for("  ***  "), "group");
    assert_eq!(nickname_for("Ünïcode grüp"), "n-code-gr-p");
    assert_eq!(nickname_for(&"x".repeat(100)).len(), 64);
}

#[test]
fn partner_groups_users_and_membership() {
    let mut w = World::seeded(1, 3);
    let g1 = w.add_partner_group("GDAP - Tier 2");
    let g2 = w.add_partner_group("gdap - tier 2");
    assert_ne!(g1, g2);
    assert_eq!(
        w.find_partner_groups("GDAP - TIER 2"),
        vec![g1.clone(), g2.clone()]
    );
    assert!(w.find_partner_groups("nope").is_empty());
    let info = w.info();
    assert!(
        info.partner_groups
            .iter()
            .any(|(id, n)| id == &g1 && n == "GDAP - Tier 2")
    );

    let upn = "tech@sandboxmsp.onmicrosoft.com";
    let u = w.add_partner_user(upn, true);
    assert_eq!(
        w.add_partner_user("TECH@sandboxmsp.onmicrosoft.com", false),
        u,
        "same UPN, same user"
    );
    assert!(w.partner_group_members(&g1).is_empty());
    w.set_group_membership(upn, &g1, true).unwrap();
    w.set_group_membership(upn, &g2, true).unwrap();
    assert_eq!(w.partner_group_members(&g1), vec![u.clone()]);
    assert_eq!(w.partner_group_members(&g1.to_uppercase()), vec![u.clone()]);

    // Deleting a group drops its memberships, nothing else.
    w.delete_partner_group(&g1).unwrap();
    assert!(w.partner_group_members(&g1).is_empty());
    assert_eq!(w.partner_group_members(&g2), vec![u]);
    assert!(w.find_partner_groups("GDAP - Tier 2") == vec![g2]);
    assert!(matches!(
        w.delete_partner_group(&g1),
        Err(crate::SandboxError::NotFound(_))
    ));
}

#[test]
fn customer_with_relationship_assignments_and_drift() {
    let mut w = World::seeded(2, 3);
    let before = w.customer_tenant_ids().len();
    let (t, rel) = w.add_customer_with_relationship(
        "Drift Dental",
        &[r::USER_ADMINISTRATOR, r::GLOBAL_READER],
        "P180D",
    );
    assert_eq!(w.customer_tenant_ids().len(), before + 1);
    assert_eq!(w.relationship_ids_for(&t), vec![rel.clone()]);
    assert_eq!(w.relationship_auto_extend(&rel).as_deref(), Some("P180D"));
    assert_eq!(
        w.relationship_roles(&rel).unwrap(),
        vec![
            r::USER_ADMINISTRATOR.to_string(),
            r::GLOBAL_READER.to_string()
        ]
    );
    assert!(w.access_assignments_of(&rel).is_empty());

    let snap = w.snapshot();
    let tn = snap.tenants.iter().find(|x| x.id == t).unwrap();
    assert_eq!(tn.display_name, "Drift Dental");
    assert_eq!(tn.profile, "custom");
    for app in [
        crate::well_known::apps::MICROSOFT_GRAPH,
        crate::well_known::apps::EXCHANGE_ONLINE,
        crate::well_known::apps::OFFICE365_MANAGEMENT,
        crate::well_known::apps::DELEGATED_ADMIN_OFFLINE_PROCESSOR,
    ] {
        assert!(
            tn.service_principals.iter().any(|sp| sp.app_id == app),
            "{app}"
        );
    }
    let rs = &tn.relationships[0];
    assert_eq!(rs.status, "active");
    assert_eq!(rs.duration, "P730D");
    let end = time::OffsetDateTime::parse(
        rs.end_date_time.as_deref().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let days = (end - w.now()).whole_days();
    assert!((360..=370).contains(&days), "ends in {days} days");

    // Drift: an unknown group, roles the relationship lacks, a pending one.
    let stale = "00000000-0000-4000-8000-00000000dead";
    let a1 = w
        .insert_access_assignment(&rel, stale, &[r::GLOBAL_ADMINISTRATOR], true)
        .unwrap();
    let group = w.add_partner_group("GDAP - Drift");
    let a2 = w
        .insert_access_assignment(&rel, &group, &[r::GLOBAL_READER], false)
        .unwrap();
    let got = w.access_assignments_of(&rel);
    assert_eq!(got.len(), 2);
    assert_eq!(
        (
            got[0].id.as_str(),
            got[0].group_id.as_str(),
            got[0].status.as_str()
        ),
        (a1.as_str(), stale, "active")
    );
    assert_eq!(got[0].roles, vec![r::GLOBAL_ADMINISTRATOR.to_string()]);
    assert_eq!(
        (got[1].id.as_str(), got[1].status.as_str()),
        (a2.as_str(), "pending")
    );
    w.set_access_assignment_status(&rel, &a2, "active").unwrap();
    assert_eq!(w.access_assignments_of(&rel)[1].status, "active");
    assert!(
        w.set_access_assignment_status(&rel, "nope", "active")
            .is_err()
    );
    assert!(
        w.insert_access_assignment("nope", &group, &[], true)
            .is_err()
    );

    w.set_relationship_roles(&rel, &[r::GLOBAL_READER]).unwrap();
    assert_eq!(
        w.relationship_roles(&rel).unwrap(),
        vec![r::GLOBAL_READER.to_string()]
    );
    assert!(w.set_relationship_roles("nope", &[]).is_err());
    assert_eq!(w.relationship_roles("nope"), None);
    assert_eq!(w.relationship_auto_extend("nope"), None);
    assert!(w.access_assignments_of("nope").is_empty());

    // Two customers with the same name get distinct domains and relationship names.
    let (t2, rel2) = w.add_customer_with_relationship("Drift Dental", &[r::GLOBAL_READER], "PT0S");
    let snap = w.snapshot();
    let d = |id: &str| {
        snap.tenants
            .iter()
            .find(|x| x.id == id)
            .unwrap()
            .domain
            .clone()
    };
    assert_ne!(d(&t), d(&t2));
    assert_ne!(rel, rel2);
}

#[test]
fn gdap_access_follows_membership() {
    let mut w = World::seeded(3, 3);
    let (t, rel) = w.add_customer_with_relationship("Access Co", &[r::GLOBAL_READER], "PT0S");
    let group = w.add_partner_group("GDAP - Readers");
    w.insert_access_assignment(&rel, &group, &[r::GLOBAL_READER], true)
        .unwrap();
    let upn = "reader@sandboxmsp.onmicrosoft.com";
    let u = w.add_partner_user(upn, true);
    assert!(!w.user_has_gdap_access(w.tenant_idx(&t).unwrap(), &u));
    w.set_group_membership(upn, &group, true).unwrap();
    assert!(w.user_has_gdap_access(w.tenant_idx(&t).unwrap(), &u));
    // Deleting the group revokes access; the assignment stays (drift).
    w.delete_partner_group(&group).unwrap();
    assert!(!w.user_has_gdap_access(w.tenant_idx(&t).unwrap(), &u));
    assert_eq!(w.access_assignments_of(&rel)[0].group_id, group);
}

#[test]
fn webhook_registration_seed_and_read_back() {
    let mut w = World::seeded(4, 1);
    assert_eq!(w.webhook_registration(), None);
    w.set_webhook_registration("https://other.example/hook", &["test-created"]);
    let id = w.webhook.as_ref().unwrap().subscriber_id.clone();
    assert_eq!(
        w.webhook_registration(),
        Some((
            "https://other.example/hook".into(),
            vec!["test-created".into()]
        ))
    );
    w.set_webhook_registration("https://other.example/h2", &[]);
    assert_eq!(
        w.webhook.as_ref().unwrap().subscriber_id,
        id,
        "subscriber id kept"
    );
    assert!(w.clear_webhook_registration());
    assert!(!w.clear_webhook_registration());
    assert_eq!(w.webhook_registration(), None);
}
