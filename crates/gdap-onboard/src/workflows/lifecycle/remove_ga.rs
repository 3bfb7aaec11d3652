//! Remove Global Administrator from active relationships (seed 004: "Avoid over-permissioning";
//! seed 001: GA only for the initial set-up). Graph answers the `PATCH` with `202 Accepted` and
//! an operation, followed here to completion with a deadline; the result is verified by reading
//! the relationship back. A dry run shows the plan first.

use std::collections::BTreeSet;

use futures::StreamExt;
use gdap_core::RoleTemplateId;
use gdap_core::roles;
use serde::Serialize;

use crate::error::{OnboardError, Operation, Result};
use crate::port_error::{PortError, PortErrorKind};
use crate::readiness::RoleRef;
use crate::relationship::{Change, Relationship};

use super::{BulkOptions, ChangeCounts, ChangeStatus, Orchestrator, RelationshipChange};

/// What [`Orchestrator::remove_global_admin`] did (or would do), per relationship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GlobalAdminRemovalReport {
    /// A plan only.
    pub dry_run: bool,
    /// One entry per relationship with Global Administrator (or per one asked for).
    pub relationships: Vec<RelationshipChange>,
    /// Counts.
    pub counts: ChangeCounts,
}

fn remaining_roles(rel: &Relationship) -> BTreeSet<RoleTemplateId> {
    let ga = roles::GLOBAL_ADMINISTRATOR.id();
    rel.roles.iter().copied().filter(|r| *r != ga).collect()
}

fn role_names(ids: &BTreeSet<RoleTemplateId>) -> String {
    RoleRef::list(ids.iter())
        .into_iter()
        .map(|r| r.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Orchestrator {
    /// Removes Global Administrator from every active relationship that has it (or from
    /// `options.only`), keeping its other roles; follows each operation to completion within
    /// `options.operation_deadline` and verifies by read-back. A relationship whose only role is
    /// Global Administrator is skipped: removing it would leave nothing.
    ///
    /// # Errors
    /// Only a failure listing the relationships; per-relationship failures are in the report.
    pub async fn remove_global_admin(
        &self,
        options: &BulkOptions,
    ) -> Result<GlobalAdminRemovalReport> {
        let mut targets = self.bulk_targets(options).await?;
        if options.only.is_none() {
            targets.retain(Relationship::has_global_admin);
        }
        let relationships: Vec<RelationshipChange> = futures::stream::iter(targets)
            .map(|rel| async move {
                let ctx = self.lifecycle_ctx(Some(&rel));
                match self.try_remove_ga(&rel, options).await {
                    Ok(c) => c,
                    Err(e) => {
                        let mut c =
                            RelationshipChange::new(&rel, ChangeStatus::Failed, e.to_string());
                        c.error = Some(e.explain(&ctx));
                        c
                    }
                }
            })
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        let counts = ChangeCounts::of(relationships.iter().map(|r| r.status));
        Ok(GlobalAdminRemovalReport {
            dry_run: options.dry_run,
            relationships,
            counts,
        })
    }

    async fn try_remove_ga(
        &self,
        rel: &Relationship,
        options: &BulkOptions,
    ) -> Result<RelationshipChange> {
        let gdap = &self.ports.gdap;
        let get = |e| OnboardError::classify(Operation::GetRelationship, None, e);
        let update = |e| OnboardError::classify(Operation::UpdateRelationship, None, e);
        let mut current = rel.clone();
        if current.etag.is_none() {
            current = gdap.get_relationship(&rel.id).await.map_err(get)?;
        }
        let mut accepted = None;
        for attempt in 0..2 {
            if !current.status.is_active() {
                return Ok(RelationshipChange::new(
                    &current,
                    ChangeStatus::Skipped,
                    format!("the relationship is {}, not active", current.status),
                ));
            }
            if current.is_reseller {
                return Ok(RelationshipChange::new(
                    &current,
                    ChangeStatus::Skipped,
                    "a reseller relationship: its indirect provider manages it",
                ));
            }
            if !current.has_global_admin() {
                return Ok(RelationshipChange::new(
                    &current,
                    ChangeStatus::Unchanged,
                    "no Global Administrator",
                ));
            }
            let keep = remaining_roles(&current);
            if keep.is_empty() {
                return Ok(RelationshipChange::new(
                    &current,
                    ChangeStatus::Skipped,
                    "Global Administrator is its only role: removing it would leave no access. \
                     Request a least-privilege relationship (request-permissions), move the \
                     groups to it, then let this one expire or terminate it",
                ));
            }
            if options.dry_run {
                let holders = self.ga_holders(&current).await?;
                let mut detail = format!(
                    "would remove Global Administrator; keeps {}",
                    role_names(&keep)
                );
                if !holders.is_empty() {
                    detail.push_str(&format!("; groups losing it: {}", holders.join(", ")));
                }
                return Ok(RelationshipChange::new(
                    &current,
                    ChangeStatus::Planned,
                    detail,
                ));
            }
            let etag = current.etag.clone().unwrap_or_default();
            let keep_vec: Vec<RoleTemplateId> = keep.iter().copied().collect();
            match gdap
                .update_relationship_roles(&current.id, &etag, &keep_vec)
                .await
            {
                Ok(Change::Done(_)) => break,
                Ok(Change::Accepted {
                    operation,
                    retry_after,
                }) => {
                    accepted = Some((operation, retry_after));
                    break;
                }
                Err(e) if e.kind() == PortErrorKind::PreconditionFailed && attempt == 0 => {
                    current = gdap.get_relationship(&rel.id).await.map_err(get)?;
                }
                Err(e) => return Err(update(e)),
            }
        }
        if let Some((operation, retry_after)) = accepted {
            self.follow_operation(&operation, retry_after, options)
                .await?;
        }
        let after = gdap.get_relationship(&rel.id).await.map_err(get)?;
        if after.has_global_admin() {
            return Err(update(PortError::new(
                PortErrorKind::Other,
                "the relationship still carries Global Administrator after the update",
            )));
        }
        Ok(RelationshipChange::new(
            &after,
            ChangeStatus::Changed,
            format!(
                "Global Administrator removed; keeps {}",
                role_names(&after.roles)
            ),
        ))
    }

    /// The groups (by name when the partner directory knows them, else by id) whose access
    /// assignment on `rel` includes Global Administrator.
    async fn ga_holders(&self, rel: &Relationship) -> Result<Vec<String>> {
        let ga = roles::GLOBAL_ADMINISTRATOR.id();
        let mut out = Vec::new();
        for a in self.list_assignments(&rel.id).await? {
            if !(a.is_live() && a.roles.contains(&ga)) {
                continue;
            }
            // A name is only a nicety of the plan: a failed lookup shows the id.
            let name = match self.ports.partner_directory.get_group(&a.group).await {
                Ok(Some(g)) => g.display_name,
                Ok(None) => format!("{} (no longer exists)", a.group),
                Err(_) => a.group.to_string(),
            };
            out.push(name);
        }
        Ok(out)
    }
}
