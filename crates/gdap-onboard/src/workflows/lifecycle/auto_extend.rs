//! Bulk auto-extend (seed 004: "auto-extension options – adding up to six months for active
//! relationships"): set `autoExtendDuration` to `P180D` on every active relationship that allows
//! it. Relationships with Global Administrator cannot be auto-extended and are skipped with the
//! way out (remove Global Administrator first).

use futures::StreamExt;
use serde::Serialize;

use crate::error::{OnboardError, Operation, Result};
use crate::port_error::{PortError, PortErrorKind};
use crate::relationship::Relationship;
use crate::templates::Days;

use super::{BulkOptions, ChangeCounts, ChangeStatus, Orchestrator, RelationshipChange};

/// What [`Orchestrator::auto_extend_relationships`] did, per relationship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoExtendReport {
    /// A plan only.
    pub dry_run: bool,
    /// One entry per relationship considered, by display name.
    pub relationships: Vec<RelationshipChange>,
    /// Counts.
    pub counts: ChangeCounts,
}

/// Why a relationship cannot be auto-extended, if it cannot.
fn ineligible(rel: &Relationship) -> Option<String> {
    if !rel.status.is_active() {
        return Some(format!("the relationship is {}, not active", rel.status));
    }
    if rel.is_reseller {
        return Some("a reseller relationship: its indirect provider manages it".into());
    }
    if rel.has_global_admin() {
        return Some(
            "it includes Global Administrator, which Microsoft does not auto-extend: remove \
             Global Administrator first (remove-ga), then run auto-extend again"
                .into(),
        );
    }
    None
}

impl Orchestrator {
    /// Sets auto-extend to 180 days on every active relationship that allows it (or on
    /// `options.only`), with `If-Match`, verified by read-back; never on one with Global
    /// Administrator. One relationship's failure does not stop the others.
    ///
    /// # Errors
    /// Only a failure listing the relationships; per-relationship failures are in the report.
    pub async fn auto_extend_relationships(
        &self,
        options: &BulkOptions,
    ) -> Result<AutoExtendReport> {
        let targets = self.bulk_targets(options).await?;
        let relationships: Vec<RelationshipChange> = futures::stream::iter(targets)
            .map(|rel| self.auto_extend_one(rel, options.dry_run))
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        let counts = ChangeCounts::of(relationships.iter().map(|r| r.status));
        Ok(AutoExtendReport {
            dry_run: options.dry_run,
            relationships,
            counts,
        })
    }

    async fn auto_extend_one(&self, rel: Relationship, dry_run: bool) -> RelationshipChange {
        let ctx = self.lifecycle_ctx(Some(&rel));
        match self.try_auto_extend(&rel, dry_run).await {
            Ok(change) => change,
            Err(e) => {
                let mut c = RelationshipChange::new(&rel, ChangeStatus::Failed, e.to_string());
                c.error = Some(e.explain(&ctx));
                c
            }
        }
    }

    async fn try_auto_extend(
        &self,
        rel: &Relationship,
        dry_run: bool,
    ) -> Result<RelationshipChange> {
        let gdap = &self.ports.gdap;
        let get = |e| OnboardError::classify(Operation::GetRelationship, None, e);
        let update = |e| OnboardError::classify(Operation::UpdateRelationship, None, e);
        let mut current = rel.clone();
        if current.etag.is_none() {
            current = gdap.get_relationship(&rel.id).await.map_err(get)?;
        }
        for attempt in 0..2 {
            if let Some(reason) = ineligible(&current) {
                return Ok(RelationshipChange::new(
                    &current,
                    ChangeStatus::Skipped,
                    reason,
                ));
            }
            if current.auto_extend == Days::AUTO_EXTEND {
                return Ok(RelationshipChange::new(
                    &current,
                    ChangeStatus::Unchanged,
                    "auto-extends by 180 days already",
                ));
            }
            if dry_run {
                return Ok(RelationshipChange::new(
                    &current,
                    ChangeStatus::Planned,
                    format!(
                        "would set auto-extend from {} to 180 days",
                        current.auto_extend
                    ),
                ));
            }
            let etag = current.etag.clone().unwrap_or_default();
            match gdap
                .set_auto_extend(&current.id, &etag, Days::AUTO_EXTEND)
                .await
            {
                Ok(_) => break,
                // Changed since it was read: read again and decide again, once.
                Err(e) if e.kind() == PortErrorKind::PreconditionFailed && attempt == 0 => {
                    current = gdap.get_relationship(&rel.id).await.map_err(get)?;
                }
                Err(e) => return Err(update(e)),
            }
        }
        let after = gdap.get_relationship(&rel.id).await.map_err(get)?;
        if after.auto_extend != Days::AUTO_EXTEND {
            return Err(update(PortError::new(
                PortErrorKind::Other,
                format!(
                    "auto-extend reads {} after the update, not 180 days",
                    after.auto_extend
                ),
            )));
        }
        Ok(RelationshipChange::new(
            &after,
            ChangeStatus::Changed,
            format!("auto-extend set to 180 days (was {})", rel.auto_extend),
        ))
    }
}
