//! Expiry report: active relationships ending within 30 / 7 / 1 days (with their auto-extend
//! state), and approval requests about to expire 90 days after they were sent.

use futures::TryStreamExt;
use gdap_core::{RelationshipId, TenantId};
use serde::Serialize;
use time::OffsetDateTime;
use url::Url;

use crate::error::{OnboardError, Operation, Result};
use crate::relationship::{Relationship, RelationshipStatus};
use crate::templates::Days;
use crate::tenant::AutoExtend;

use super::Orchestrator;

/// How soon a relationship ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ExpiryBucket {
    /// The end date has passed (the relationship is still listed as active).
    Overdue,
    /// Within a day.
    Within1Day,
    /// Within 7 days.
    Within7Days,
    /// Within 30 days.
    Within30Days,
}

impl ExpiryBucket {
    /// The bucket of a relationship ending `left` from now, or `None` beyond 30 days.
    pub fn of(left: time::Duration) -> Option<Self> {
        if left.is_negative() {
            Some(ExpiryBucket::Overdue)
        } else if left <= time::Duration::days(1) {
            Some(ExpiryBucket::Within1Day)
        } else if left <= time::Duration::days(7) {
            Some(ExpiryBucket::Within7Days)
        } else if left <= time::Duration::days(30) {
            Some(ExpiryBucket::Within30Days)
        } else {
            None
        }
    }
}

/// An active relationship ending soon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpiringRelationship {
    /// The customer.
    pub tenant_id: Option<TenantId>,
    /// The customer's name.
    pub tenant_name: Option<String>,
    /// The relationship.
    pub relationship_id: RelationshipId,
    /// Its name.
    pub display_name: String,
    /// When it ends.
    #[serde(with = "time::serde::rfc3339")]
    pub end_date_time: OffsetDateTime,
    /// Whole days left (negative when overdue).
    pub days_left: i64,
    /// The bucket.
    pub bucket: ExpiryBucket,
    /// Its auto-extend state.
    pub auto_extend: AutoExtend,
    /// Whether it will be extended rather than end.
    pub will_auto_extend: bool,
}

/// A relationship request the customer has not approved yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingApproval {
    /// The customer, if the request is pinned to one.
    pub tenant_id: Option<TenantId>,
    /// The customer's name.
    pub tenant_name: Option<String>,
    /// The relationship.
    pub relationship_id: RelationshipId,
    /// Its name.
    pub display_name: String,
    /// When it was sent for approval (last modified, else created).
    #[serde(with = "time::serde::rfc3339::option")]
    pub requested_at: Option<OffsetDateTime>,
    /// When the request expires (90 days after it was sent).
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Whole days left (negative when expired).
    pub days_left: Option<i64>,
    /// Whether it expires within the configured margin (or has expired).
    pub about_to_expire: bool,
    /// The approval link to send again.
    pub approval_link: Url,
}

/// The expiry report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpiryReport {
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// Active relationships ending within 30 days, soonest first.
    pub expiring: Vec<ExpiringRelationship>,
    /// Requests waiting for approval, soonest expiry first.
    pub pending_approvals: Vec<PendingApproval>,
}

impl ExpiryReport {
    /// The expiring relationships in `bucket`.
    pub fn in_bucket(&self, bucket: ExpiryBucket) -> impl Iterator<Item = &ExpiringRelationship> {
        self.expiring.iter().filter(move |e| e.bucket == bucket)
    }

    /// The pending approvals about to expire.
    pub fn approvals_about_to_expire(&self) -> impl Iterator<Item = &PendingApproval> {
        self.pending_approvals.iter().filter(|p| p.about_to_expire)
    }
}

fn tenant_of(r: &Relationship) -> (Option<TenantId>, Option<String>) {
    match &r.customer {
        Some(c) => (Some(c.tenant_id), c.display_name.clone()),
        None => (None, None),
    }
}

impl Orchestrator {
    /// Builds the expiry report at the clock's now.
    ///
    /// # Errors
    /// Listing relationships failed.
    pub async fn expiry_report(&self) -> Result<ExpiryReport> {
        let ports = self.ports();
        let now = ports.clock.now();
        let margin = self.config().approval_margin.to_duration();
        let all: Vec<Relationship> = ports
            .gdap
            .list_relationships(None)
            .try_collect()
            .await
            .map_err(|e| OnboardError::classify(Operation::ListRelationships, None, e))?;

        let mut expiring = Vec::new();
        let mut pending = Vec::new();
        for r in &all {
            if r.is_reseller || r.is_microsoft_led_transition() {
                continue;
            }
            let (tenant_id, tenant_name) = tenant_of(r);
            if r.status.is_active() {
                let Some(end) = r.end_date_time else { continue };
                let left = end - now;
                let Some(bucket) = ExpiryBucket::of(left) else {
                    continue;
                };
                let auto_extend = AutoExtend::of(r);
                expiring.push(ExpiringRelationship {
                    tenant_id,
                    tenant_name,
                    relationship_id: r.id.clone(),
                    display_name: r.display_name.clone(),
                    end_date_time: end,
                    days_left: left.whole_days(),
                    bucket,
                    will_auto_extend: matches!(auto_extend, AutoExtend::Enabled { .. }),
                    auto_extend,
                });
            } else if r.status == RelationshipStatus::ApprovalPending {
                let requested_at = r.last_modified_date_time.or(r.created_date_time);
                let expires_at = requested_at.map(|t| t + Days::APPROVAL_WINDOW.to_duration());
                let left = expires_at.map(|e| e - now);
                pending.push(PendingApproval {
                    tenant_id,
                    tenant_name,
                    relationship_id: r.id.clone(),
                    display_name: r.display_name.clone(),
                    requested_at,
                    expires_at,
                    days_left: left.map(|l| l.whole_days()),
                    about_to_expire: left.is_some_and(|l| l <= margin),
                    approval_link: self.config().links.approval_link(&r.id),
                });
            }
        }
        expiring.sort_by(|a, b| {
            a.end_date_time
                .cmp(&b.end_date_time)
                .then(a.relationship_id.cmp(&b.relationship_id))
        });
        pending.sort_by(|a, b| {
            a.expires_at
                .cmp(&b.expires_at)
                .then(a.relationship_id.cmp(&b.relationship_id))
        });
        Ok(ExpiryReport {
            generated_at: now,
            expiring,
            pending_approvals: pending,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets() {
        let d = time::Duration::days;
        assert_eq!(ExpiryBucket::of(d(-1)), Some(ExpiryBucket::Overdue));
        assert_eq!(ExpiryBucket::of(d(1)), Some(ExpiryBucket::Within1Day));
        assert_eq!(ExpiryBucket::of(d(2)), Some(ExpiryBucket::Within7Days));
        assert_eq!(ExpiryBucket::of(d(7)), Some(ExpiryBucket::Within7Days));
        assert_eq!(ExpiryBucket::of(d(30)), Some(ExpiryBucket::Within30Days));
        assert_eq!(ExpiryBucket::of(d(31)), None);
    }
}
