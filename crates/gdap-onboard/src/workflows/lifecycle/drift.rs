//! Drift repair: compare each active relationship's access assignments with the group template
//! and fix what differs, with a plan first.
//!
//! - **Missing group**: a template group that should hold roles on the relationship has no live
//!   assignment → create one.
//! - **Stale group**: an assignment names a group that no longer exists in the partner tenant
//!   (deleted, or recreated under the same name with a new id) → delete the assignment; the
//!   template group gets its own (missing group).
//! - **Extra roles** / **missing roles**: a template group's assignment holds roles the template
//!   does not give it, or lacks some the template gives and the relationship carries → update
//!   its roles (a long-running operation, followed to completion).
//!
//! Assignments of groups that exist but are not in the template are someone else's and are left
//! alone.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use gdap_core::{AssignmentId, RelationshipId, RoleTemplateId, SecurityGroupId};
use serde::Serialize;

use crate::catalogue::CatalogueEntry;
use crate::error::{OnboardError, Operation, Result};
use crate::partner_directory::SecurityGroup;
use crate::port_error::{PortError, PortErrorKind};
use crate::readiness::RoleRef;
use crate::relationship::{AccessAssignment, Change, CustomerRef, Relationship};

use super::groups::{GroupTemplate, Resolved};
use super::{BulkOptions, ChangeCounts, ChangeStatus, Orchestrator};

/// What differs from the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum DriftKind {
    /// A template group has no assignment.
    MissingGroup,
    /// An assignment names a group that does not exist.
    StaleGroup,
    /// An assignment holds roles beyond the template's.
    ExtraRoles,
    /// An assignment lacks template roles the relationship carries.
    MissingRoles,
}

/// One difference and its fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftFinding {
    /// What differs.
    pub kind: DriftKind,
    /// The template group's name (absent for a stale group).
    pub group_name: Option<String>,
    /// The group id the assignment names (or the template group's id).
    pub group_id: SecurityGroupId,
    /// The assignment concerned, when there is one.
    pub assignment_id: Option<AssignmentId>,
    /// The roles concerned: extra, missing, or those of the assignment to create or delete.
    pub roles: Vec<RoleRef>,
    /// The fix: "create assignment", "delete assignment", "set roles to …".
    pub fix: String,
    /// How the fix ended.
    pub status: ChangeStatus,
    /// The failure, rendered from the catalogue.
    pub error: Option<CatalogueEntry>,
}

/// One relationship's drift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelationshipDrift {
    /// The relationship.
    pub relationship_id: RelationshipId,
    /// Its display name.
    pub display_name: String,
    /// The customer.
    pub customer: Option<CustomerRef>,
    /// The differences (empty: in line with the template).
    pub findings: Vec<DriftFinding>,
    /// A failure reading it, if any.
    pub error: Option<CatalogueEntry>,
}

/// What [`Orchestrator::repair_drift`] found and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftReport {
    /// A plan only.
    pub dry_run: bool,
    /// Template groups missing from the partner tenant (their assignments cannot be made; run
    /// the groups workflow first).
    pub missing_groups: Vec<String>,
    /// One entry per relationship with drift (or a read failure); relationships in line with
    /// the template are counted, not listed.
    pub relationships: Vec<RelationshipDrift>,
    /// Relationships checked.
    pub checked: usize,
    /// Relationships in line with the template.
    pub in_line: usize,
    /// Relationships not compared (not active, or reseller relationships), when asked for by id.
    pub skipped: usize,
    /// Counts over the fixes.
    pub counts: ChangeCounts,
}

/// What one fix does.
enum Fix {
    Create(SecurityGroupId, Vec<RoleTemplateId>),
    Delete(AccessAssignment),
    SetRoles(AccessAssignment, Vec<RoleTemplateId>),
}

impl Orchestrator {
    /// Compares each active relationship (or `options.only`) with `template` and, unless
    /// `options.dry_run`, fixes what differs; every fix is verified by reading the assignments
    /// back. Template groups are resolved by name once.
    ///
    /// # Errors
    /// [`OnboardError::InvalidTemplate`], [`OnboardError::AmbiguousGroup`], or a failure
    /// listing relationships or groups; per-relationship failures are in the report.
    pub async fn repair_drift(
        &self,
        template: &GroupTemplate,
        options: &BulkOptions,
    ) -> Result<DriftReport> {
        template.validate()?;
        let mut resolved = Vec::new();
        let mut missing_groups = Vec::new();
        for spec in &template.groups {
            match self.resolve_group(&spec.display_name).await? {
                Resolved::Found(g) => resolved.push((spec.clone(), g)),
                Resolved::Missing => missing_groups.push(spec.display_name.clone()),
            }
        }
        let known: BTreeSet<SecurityGroupId> = resolved.iter().map(|(_, g)| g.id).collect();
        let targets = self.bulk_targets(options).await?;
        let checked = targets.len();
        let resolved = &resolved;
        let known = &known;
        let results: Vec<Option<RelationshipDrift>> = futures::stream::iter(targets)
            .map(|rel| async move {
                let ctx = self.lifecycle_ctx(Some(&rel));
                match self.drift_of(&rel, resolved, known, options).await {
                    Ok(d) => d,
                    Err(e) => Some(RelationshipDrift {
                        relationship_id: rel.id.clone(),
                        display_name: rel.display_name.clone(),
                        customer: rel.customer.clone(),
                        findings: Vec::new(),
                        error: Some(e.explain(&ctx)),
                    }),
                }
            })
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        let results: Vec<RelationshipDrift> = results.into_iter().flatten().collect();
        let skipped = checked - results.len();
        let relationships: Vec<RelationshipDrift> = results
            .into_iter()
            .filter(|d| !d.findings.is_empty() || d.error.is_some())
            .collect();
        let counts = ChangeCounts::of(
            relationships
                .iter()
                .flat_map(|d| d.findings.iter().map(|f| f.status)),
        );
        Ok(DriftReport {
            dry_run: options.dry_run,
            missing_groups,
            in_line: checked - skipped - relationships.len(),
            skipped,
            checked,
            relationships,
            counts,
        })
    }

    async fn drift_of(
        &self,
        rel: &Relationship,
        resolved: &[(super::GroupSpec, SecurityGroup)],
        known: &BTreeSet<SecurityGroupId>,
        options: &BulkOptions,
    ) -> Result<Option<RelationshipDrift>> {
        let mut out = RelationshipDrift {
            relationship_id: rel.id.clone(),
            display_name: rel.display_name.clone(),
            customer: rel.customer.clone(),
            findings: Vec::new(),
            error: None,
        };
        if !rel.status.is_active() || rel.is_reseller {
            return Ok(None);
        }
        let live: Vec<AccessAssignment> = self
            .list_assignments(&rel.id)
            .await?
            .into_iter()
            .filter(AccessAssignment::is_live)
            .collect();
        let mut plan: Vec<(DriftFinding, Fix)> = Vec::new();
        // Stale groups: assignments whose group is gone. Look each unknown group up once.
        let mut exists: BTreeMap<SecurityGroupId, bool> = BTreeMap::new();
        for a in live.iter().filter(|a| !known.contains(&a.group)) {
            let present = match exists.get(&a.group) {
                Some(p) => *p,
                None => {
                    let p = self
                        .ports
                        .partner_directory
                        .get_group(&a.group)
                        .await
                        .map_err(|e| {
                            OnboardError::classify(Operation::ReadPartnerDirectory, None, e)
                        })?
                        .is_some();
                    exists.insert(a.group, p);
                    p
                }
            };
            if !present {
                plan.push((
                    finding(
                        DriftKind::StaleGroup,
                        None,
                        a.group,
                        Some(a.id.clone()),
                        &a.roles,
                        "delete the assignment (its group no longer exists)".into(),
                    ),
                    Fix::Delete(a.clone()),
                ));
            }
        }
        for (spec, group) in resolved {
            let target = spec.roles_on(rel);
            let mine: Vec<&AccessAssignment> =
                live.iter().filter(|a| a.group == group.id).collect();
            if target.is_empty() {
                continue;
            }
            let Some(a) = mine.first() else {
                let roles: Vec<RoleTemplateId> = target.iter().copied().collect();
                plan.push((
                    finding(
                        DriftKind::MissingGroup,
                        Some(&spec.display_name),
                        group.id,
                        None,
                        &target,
                        "create the assignment".into(),
                    ),
                    Fix::Create(group.id, roles),
                ));
                continue;
            };
            let extra: BTreeSet<RoleTemplateId> = a.roles.difference(&target).copied().collect();
            let lacking: BTreeSet<RoleTemplateId> = target.difference(&a.roles).copied().collect();
            if extra.is_empty() && lacking.is_empty() {
                continue;
            }
            let names: Vec<String> = RoleRef::list(target.iter())
                .into_iter()
                .map(|r| r.name)
                .collect();
            let mut fix = format!("set the assignment's roles to {}", names.join(", "));
            if !extra.is_empty() && !lacking.is_empty() {
                // One finding per assignment; the roles it adds are named in the fix.
                let adds: Vec<String> = RoleRef::list(lacking.iter())
                    .into_iter()
                    .map(|r| r.name)
                    .collect();
                fix.push_str(&format!(" (also adds {})", adds.join(", ")));
            }
            let roles: Vec<RoleTemplateId> = target.iter().copied().collect();
            let (kind, shown) = if extra.is_empty() {
                (DriftKind::MissingRoles, lacking)
            } else {
                (DriftKind::ExtraRoles, extra)
            };
            plan.push((
                finding(
                    kind,
                    Some(&spec.display_name),
                    group.id,
                    Some(a.id.clone()),
                    &shown,
                    fix,
                ),
                Fix::SetRoles((*a).clone(), roles),
            ));
        }
        let ctx = self.lifecycle_ctx(Some(rel));
        for (mut f, fix) in plan {
            if options.dry_run {
                f.status = ChangeStatus::Planned;
            } else {
                match self.apply_fix(rel, fix, options).await {
                    Ok(()) => f.status = ChangeStatus::Changed,
                    Err(e) => {
                        f.status = ChangeStatus::Failed;
                        f.error = Some(e.explain(&ctx));
                    }
                }
            }
            out.findings.push(f);
        }
        Ok(Some(out))
    }

    async fn apply_fix(&self, rel: &Relationship, fix: Fix, options: &BulkOptions) -> Result<()> {
        let gdap = &self.ports.gdap;
        let upd = |e| OnboardError::classify(Operation::UpdateAssignment, None, e);
        let not_verified = |what: String| upd(PortError::new(PortErrorKind::Other, what));
        match fix {
            Fix::Create(group, roles) => {
                match gdap.create_access_assignment(&rel.id, &group, &roles).await {
                    Ok(_) => {}
                    Err(e) if e.kind() == PortErrorKind::AlreadyExists => {}
                    Err(e) => return Err(OnboardError::classify(Operation::AssignUser, None, e)),
                }
                let listed = self.list_assignments(&rel.id).await?;
                if !listed.iter().any(|a| a.group == group && a.is_live()) {
                    return Err(not_verified(format!(
                        "no assignment for group {group} is listed after creating it"
                    )));
                }
            }
            Fix::Delete(a) => {
                let etag = self.assignment_etag(rel, &a).await?;
                match gdap.delete_access_assignment(&rel.id, &a.id, &etag).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == PortErrorKind::NotFound => {}
                    Err(e) => return Err(upd(e)),
                }
                let listed = self.list_assignments(&rel.id).await?;
                if listed.iter().any(|x| x.id == a.id && x.is_live()) {
                    return Err(not_verified(format!(
                        "assignment {} is still live after deleting it",
                        a.id
                    )));
                }
            }
            Fix::SetRoles(a, roles) => {
                let mut etag = self.assignment_etag(rel, &a).await?;
                let mut accepted = None;
                for attempt in 0..2 {
                    match gdap
                        .update_access_assignment(&rel.id, &a.id, &etag, &roles)
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
                            etag = self
                                .assignment_etag(
                                    rel,
                                    &AccessAssignment {
                                        etag: None,
                                        ..a.clone()
                                    },
                                )
                                .await?;
                        }
                        Err(e) => return Err(upd(e)),
                    }
                }
                if let Some((operation, retry_after)) = accepted {
                    self.follow_operation(&operation, retry_after, options)
                        .await?;
                }
                let want: BTreeSet<RoleTemplateId> = roles.into_iter().collect();
                let listed = self.list_assignments(&rel.id).await?;
                if !listed.iter().any(|x| x.id == a.id && x.roles == want) {
                    return Err(not_verified(format!(
                        "assignment {} does not carry the template's roles after the update",
                        a.id
                    )));
                }
            }
        }
        Ok(())
    }

    /// The assignment's ETag: the one it was listed with, or a fresh read.
    async fn assignment_etag(&self, rel: &Relationship, a: &AccessAssignment) -> Result<String> {
        if let Some(e) = &a.etag {
            return Ok(e.clone());
        }
        Ok(self
            .list_assignments(&rel.id)
            .await?
            .into_iter()
            .find(|x| x.id == a.id)
            .and_then(|x| x.etag)
            .unwrap_or_default())
    }
}

fn finding(
    kind: DriftKind,
    group_name: Option<&str>,
    group_id: SecurityGroupId,
    assignment_id: Option<AssignmentId>,
    roles: &BTreeSet<RoleTemplateId>,
    fix: String,
) -> DriftFinding {
    DriftFinding {
        kind,
        group_name: group_name.map(str::to_owned),
        group_id,
        assignment_id,
        roles: RoleRef::list(roles.iter()),
        fix,
        status: ChangeStatus::Planned,
        error: None,
    }
}
