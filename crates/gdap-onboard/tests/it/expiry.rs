//! Expiry report.

use std::time::Duration;

use gdap_core::roles;
use gdap_onboard::Days;
use gdap_onboard::tenant::AutoExtend;
use gdap_onboard::workflows::ExpiryBucket;

use crate::support::*;

fn ending_in(n: u64, hours: i64, auto_extend: bool, ga: bool) -> gdap_onboard::Relationship {
    let role = if ga {
        roles::GLOBAL_ADMINISTRATOR
    } else {
        roles::HELPDESK_ADMINISTRATOR
    };
    let mut r = active(
        n,
        tid(n as u32),
        &format!("T{n}"),
        &format!("rel {n}"),
        &[role],
    );
    r.end_date_time = Some(now() + time::Duration::hours(hours));
    if auto_extend {
        r.auto_extend = Days(180);
    }
    r
}

#[tokio::test(start_paused = true)]
async fn buckets_and_auto_extend_state() {
    let w = world();
    w.gdap.insert(ending_in(1, 12, false, false)); // within 1 day
    w.gdap.insert(ending_in(2, 24 * 3, true, false)); // within 7 days, auto-extends
    w.gdap.insert(ending_in(3, 24 * 20, false, true)); // within 30 days, GA: no auto-extend
    w.gdap.insert(ending_in(4, 24 * 60, false, false)); // not reported
    w.gdap.insert(ending_in(5, -5, false, false)); // overdue
    let report = orchestrator(&w).expiry_report().await.unwrap();
    let got: Vec<_> = report
        .expiring
        .iter()
        .map(|e| {
            (
                e.display_name.as_str(),
                e.bucket,
                e.auto_extend,
                e.days_left,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("rel 5", ExpiryBucket::Overdue, AutoExtend::Disabled, 0),
            ("rel 1", ExpiryBucket::Within1Day, AutoExtend::Disabled, 0),
            (
                "rel 2",
                ExpiryBucket::Within7Days,
                AutoExtend::Enabled { days: Days(180) },
                3
            ),
            (
                "rel 3",
                ExpiryBucket::Within30Days,
                AutoExtend::NotAllowedWithGlobalAdmin,
                20
            ),
        ]
    );
    assert!(report.expiring[2].will_auto_extend);
    assert_eq!(report.in_bucket(ExpiryBucket::Within7Days).count(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_report_moves_with_the_clock() {
    let w = world();
    w.gdap.insert(ending_in(1, 24 * 40, false, false));
    let o = orchestrator(&w);
    assert!(o.expiry_report().await.unwrap().expiring.is_empty());
    tokio::time::advance(Duration::from_secs(15 * 24 * 3600)).await;
    let r = o.expiry_report().await.unwrap();
    assert_eq!(r.expiring[0].bucket, ExpiryBucket::Within30Days);
    tokio::time::advance(Duration::from_secs(24 * 24 * 3600)).await;
    let r = o.expiry_report().await.unwrap();
    assert_eq!(r.expiring[0].bucket, ExpiryBucket::Within1Day);
}

#[tokio::test(start_paused = true)]
async fn approval_requests_about_to_expire_after_90_days() {
    let w = world();
    let o = orchestrator(&w);
    let old = o.re_request_permissions(tid(1)).await.unwrap();
    tokio::time::advance(Duration::from_secs(70 * 24 * 3600)).await;
    let fresh = o.re_request_permissions(tid(2)).await.unwrap();
    tokio::time::advance(Duration::from_secs(10 * 24 * 3600)).await;

    // Now: the old request was sent 80 days ago (10 left), the fresh one 10 days ago.
    let report = o.expiry_report().await.unwrap();
    assert_eq!(report.pending_approvals.len(), 2);
    let first = &report.pending_approvals[0];
    assert_eq!(
        first.relationship_id,
        old.requested().unwrap().relationship_id
    );
    assert_eq!(first.days_left, Some(10));
    assert!(first.about_to_expire);
    assert_eq!(first.approval_link, old.requested().unwrap().approval_link);
    let second = &report.pending_approvals[1];
    assert_eq!(
        second.relationship_id,
        fresh.requested().unwrap().relationship_id
    );
    assert_eq!(second.days_left, Some(80));
    assert!(!second.about_to_expire);
    assert_eq!(report.approvals_about_to_expire().count(), 1);

    // Past 90 days it is still reported, with negative days left.
    tokio::time::advance(Duration::from_secs(15 * 24 * 3600)).await;
    let report = o.expiry_report().await.unwrap();
    assert_eq!(report.pending_approvals[0].days_left, Some(-5));
    assert!(report.pending_approvals[0].about_to_expire);
}
