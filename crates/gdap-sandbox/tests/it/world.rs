use std::time::Instant;

use gdap_sandbox::World;

use crate::common::*;

fn pinned() -> time::OffsetDateTime {
    time::macros::datetime!(2026-11-24 00:00:00 UTC)
}

#[tokio::test]
async fn same_seed_same_world() {
    let a = serde_json::to_string(&World::seeded(42, 300).snapshot()).unwrap();
    let b = serde_json::to_string(&World::seeded(42, 300).snapshot()).unwrap();
    let c = serde_json::to_string(&World::seeded(43, 300).snapshot()).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Through a started sandbox with a pinned anchor, too.
    let s1 = gdap_sandbox::Sandbox::builder()
        .world(World::seeded(5, 50))
        .anchor(pinned())
        .start()
        .await
        .unwrap();
    let s2 = gdap_sandbox::Sandbox::builder()
        .world(World::seeded(5, 50))
        .anchor(pinned())
        .start()
        .await
        .unwrap();
    let j1 = serde_json::to_value(s1.snapshot()).unwrap();
    let j2 = serde_json::to_value(s2.snapshot()).unwrap();
    assert_eq!(j1["tenants"], j2["tenants"]);
    assert_eq!(s1.world_info(), s2.world_info());
}

#[test]
fn realistic_mix() {
    let t0 = Instant::now();
    let w = World::seeded(7, 2000);
    assert!(t0.elapsed().as_secs_f64() < 5.0);
    let s = w.snapshot();
    let customers: Vec<_> = s.tenants.iter().filter(|t| !t.is_own).collect();
    assert_eq!(customers.len(), 2000);
    assert_eq!(s.tenants.iter().filter(|t| t.is_own).count(), 1);
    assert!(s.tenants[0].is_own && s.tenants[0].relationships.is_empty());
    let share = |f: &dyn Fn(&&gdap_sandbox::world::TenantSnapshot) -> bool| {
        customers.iter().filter(|t| f(t)).count() as f64 / 2000.0
    };
    let ready = share(&|t| t.profile.starts_with("ready") && t.profile != "ready_multi");
    assert!((0.50..0.60).contains(&ready), "ready {ready}");
    let missing = share(&|t| t.profile.starts_with("missing"));
    assert!((0.12..0.18).contains(&missing), "missing {missing}");
    let multi = share(&|t| t.profile == "ready_multi");
    assert!((0.08..0.12).contains(&multi), "multi {multi}");
    let legacy = share(&|t| t.legacy);
    assert!((0.06..0.10).contains(&legacy), "legacy {legacy}");
    let deleted = share(&|t| t.previously_deleted);
    assert!(
        (0.015..0.045).contains(&deleted),
        "previously deleted {deleted}"
    );
    // Names unique; user counts in range; every customer has the three resource SPs.
    let mut names: Vec<&str> = s.tenants.iter().map(|t| t.display_name.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), s.tenants.len());
    for t in &customers {
        assert!((5..=2000).contains(&t.user_count));
        for app in [GRAPH_APP, EXO_APP, "c5393580-f805-4401-95e8-94b7a6ef2fc2"] {
            assert!(t.service_principals.iter().any(|sp| sp.app_id == app));
        }
    }
    let rels: Vec<_> = customers.iter().flat_map(|t| &t.relationships).collect();
    let mut rel_names: Vec<&str> = rels.iter().map(|r| r.display_name.as_str()).collect();
    rel_names.sort();
    rel_names.dedup();
    assert_eq!(rel_names.len(), rels.len());
    assert!(rels.iter().all(|r| r.display_name.chars().count() <= 50));
    assert!(rels.iter().any(|r| r.is_reseller));
    assert!(rels.iter().any(|r| r.is_mlt));
    assert!(rels.iter().any(|r| r.status == "suspendedByPolicy"));
    assert!(rels.iter().any(|r| r.status == "terminated"));
    assert!(rels.iter().any(|r| r.status == "expired"));
    assert!(rels.iter().any(|r| r.status == "approvalPending"));
    assert!(rels.iter().any(|r| r.auto_extend_duration == "P180D"));
    assert!(
        rels.iter()
            .filter(|r| r.auto_extend_duration == "P180D")
            .all(|r| !r.roles.iter().any(|x| x == GA))
    );
    // Expiring soon: within 1, 7 and 30 days of the anchor.
    let anchor =
        time::OffsetDateTime::parse(&s.anchor, &time::format_description::well_known::Rfc3339)
            .unwrap();
    let within = |days: i64| {
        rels.iter()
            .filter(|r| r.status == "active")
            .filter_map(|r| r.end_date_time.as_deref())
            .map(|e| {
                time::OffsetDateTime::parse(e, &time::format_description::well_known::Rfc3339)
                    .unwrap()
            })
            .filter(|e| *e > anchor && *e <= anchor + time::Duration::days(days))
            .count()
    };
    assert!(within(1) > 0 && within(7) > within(1) && within(30) > within(7));
}
