//! Access trace: for a partner user and a customer tenant, the chain user → security group(s)
//! → relationship(s) → role(s), and, when access is missing, why — in the order an MSP would
//! check it.

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt;
use gdap_core::{AssignmentId, RelationshipId, RoleTemplateId, SecurityGroupId, TenantId};
use serde::Serialize;

use crate::error::{OnboardError, Operation, Result};
use crate::partner_directory::{PartnerUser, SecurityGroup};
use crate::readiness::RoleRef;
use crate::relationship::{AssignmentStatus, RelationshipStatus};

use super::Orchestrator;

/// One access assignment of a traced relationship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TracedAssignment {
    /// The assignment.
    pub assignment_id: AssignmentId,
    /// Its group.
    pub group_id: SecurityGroupId,
    /// The group's name, when it exists.
    pub group_name: Option<String>,
    /// Whether the user is in the group.
    pub user_is_member: bool,
    /// Its status.
    pub status: AssignmentStatus,
    /// Its roles.
    pub roles: Vec<RoleRef>,
}

/// One relationship with the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TracedRelationship {
    /// The relationship.
    pub relationship_id: RelationshipId,
    /// Its name.
    pub display_name: String,
    /// Its status.
    pub status: RelationshipStatus,
    /// Its roles.
    pub roles: Vec<RoleRef>,
    /// Its access assignments.
    pub assignments: Vec<TracedAssignment>,
}

/// One chain user → group → relationship → roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TracedPath {
    /// The group.
    pub group_id: SecurityGroupId,
    /// Its name.
    pub group_name: Option<String>,
    /// The relationship.
    pub relationship_id: RelationshipId,
    /// Its name.
    pub relationship_name: String,
    /// The roles this chain gives.
    pub roles: Vec<RoleRef>,
    /// Whether it gives access now (relationship and assignment active).
    pub effective: bool,
}

/// What [`Orchestrator::trace_access`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessTrace {
    /// The user.
    pub user: PartnerUser,
    /// The customer tenant.
    pub tenant_id: TenantId,
    /// The customer's name, when a relationship says.
    pub tenant_name: Option<String>,
    /// The user's security groups.
    pub user_groups: Vec<SecurityGroup>,
    /// The relationships with the tenant.
    pub relationships: Vec<TracedRelationship>,
    /// The chains from the user to roles in the tenant.
    pub paths: Vec<TracedPath>,
    /// The roles the user holds in the tenant now.
    pub effective_roles: Vec<RoleRef>,
    /// Whether the user can act in the tenant through GDAP now.
    pub has_access: bool,
    /// What the readiness rule needs that the effective roles lack.
    pub missing_for_app_install: Vec<String>,
    /// Why access is missing or incomplete, most basic first, each with what to do.
    pub reasons: Vec<String>,
}

impl Orchestrator {
    /// Traces `user`'s (UPN or object id) GDAP access to `tenant`: the user's groups, every
    /// relationship with the tenant and its assignments, the chains that connect them, the
    /// effective roles, and why access is missing when it is.
    ///
    /// # Errors
    /// [`OnboardError::UserNotFound`]; a failure reading the directory or the relationships.
    pub async fn trace_access(&self, user: &str, tenant: TenantId) -> Result<AccessTrace> {
        let user = self.find_partner_user(user).await?;
        let dir = &self.ports.partner_directory;
        let read_dir = |e| OnboardError::classify(Operation::ReadPartnerDirectory, None, e);
        let user_groups = dir.list_user_groups(&user.id).await.map_err(read_dir)?;
        let member_of: BTreeSet<SecurityGroupId> = user_groups.iter().map(|g| g.id).collect();
        let mut names: BTreeMap<SecurityGroupId, Option<String>> = user_groups
            .iter()
            .map(|g| (g.id, Some(g.display_name.clone())))
            .collect();
        let mut rels: Vec<_> = self
            .ports
            .gdap
            .list_customer_relationships(tenant)
            .try_collect()
            .await
            .map_err(|e| OnboardError::classify(Operation::ListRelationships, Some(tenant), e))?;
        rels.sort_by(|a, b| {
            b.status
                .is_active()
                .cmp(&a.status.is_active())
                .then(a.display_name.cmp(&b.display_name))
        });
        let tenant_name = rels
            .iter()
            .find_map(|r| r.customer.as_ref().and_then(|c| c.display_name.clone()));
        let mut traced = Vec::with_capacity(rels.len());
        let mut paths = Vec::new();
        let mut effective: BTreeSet<RoleTemplateId> = BTreeSet::new();
        for rel in &rels {
            // Only active relationships have assignments worth reading.
            let assignments = if rel.status.is_active() {
                self.list_assignments(&rel.id).await?
            } else {
                Vec::new()
            };
            let mut out = Vec::with_capacity(assignments.len());
            for a in assignments {
                if let std::collections::btree_map::Entry::Vacant(slot) = names.entry(a.group) {
                    let name = dir
                        .get_group(&a.group)
                        .await
                        .map_err(read_dir)?
                        .map(|g| g.display_name);
                    slot.insert(name);
                }
                let group_name = names.get(&a.group).cloned().flatten();
                let user_is_member = member_of.contains(&a.group);
                if user_is_member && a.is_live() {
                    let is_effective =
                        rel.status.is_active() && a.status == AssignmentStatus::Active;
                    if is_effective {
                        effective.extend(a.roles.iter().copied());
                    }
                    paths.push(TracedPath {
                        group_id: a.group,
                        group_name: group_name.clone(),
                        relationship_id: rel.id.clone(),
                        relationship_name: rel.display_name.clone(),
                        roles: RoleRef::list(a.roles.iter()),
                        effective: is_effective,
                    });
                }
                out.push(TracedAssignment {
                    assignment_id: a.id.clone(),
                    group_id: a.group,
                    group_name,
                    user_is_member,
                    status: a.status.clone(),
                    roles: RoleRef::list(a.roles.iter()),
                });
            }
            traced.push(TracedRelationship {
                relationship_id: rel.id.clone(),
                display_name: rel.display_name.clone(),
                status: rel.status.clone(),
                roles: RoleRef::list(rel.roles.iter()),
                assignments: out,
            });
        }
        let readiness = self.config.effective_requirement().evaluate(&effective);
        let missing_for_app_install: Vec<String> =
            readiness.missing().iter().map(|m| m.label()).collect();
        let reasons = why(&user, &traced, &paths, &missing_for_app_install);
        Ok(AccessTrace {
            has_access: !effective.is_empty(),
            user,
            tenant_id: tenant,
            tenant_name,
            user_groups,
            relationships: traced,
            paths,
            effective_roles: RoleRef::list(effective.iter()),
            missing_for_app_install,
            reasons,
        })
    }
}

fn why(
    user: &PartnerUser,
    rels: &[TracedRelationship],
    paths: &[TracedPath],
    missing: &[String],
) -> Vec<String> {
    let upn = &user.user_principal_name;
    let mut out = Vec::new();
    if rels.is_empty() {
        out.push(
            "There is no GDAP relationship with this tenant: request one (request-permissions) \
             and have the customer approve it."
                .to_owned(),
        );
        return out;
    }
    let active: Vec<&TracedRelationship> = rels.iter().filter(|r| r.status.is_active()).collect();
    if active.is_empty() {
        for r in rels {
            let what = if r.status.is_pending() {
                "is waiting for the customer's approval: send the approval link, then run \
                 wait-approval"
            } else {
                "is no longer in force: request a new relationship (request-permissions)"
            };
            out.push(format!(
                "Relationship {:?} is {}: it {what}.",
                r.display_name, r.status
            ));
        }
        return out;
    }
    for r in &active {
        if r.assignments.iter().all(|a| {
            !matches!(
                a.status,
                AssignmentStatus::Active | AssignmentStatus::Pending
            )
        }) {
            out.push(format!(
                "Relationship {:?} has no security group assigned: assign the GDAP groups \
                 (groups --relationship {}).",
                r.display_name, r.relationship_id
            ));
            continue;
        }
        let has_path = paths.iter().any(|p| p.relationship_id == r.relationship_id);
        if !has_path {
            let groups: Vec<String> = r
                .assignments
                .iter()
                .filter(|a| {
                    matches!(
                        a.status,
                        AssignmentStatus::Active | AssignmentStatus::Pending
                    )
                })
                .map(|a| {
                    a.group_name
                        .clone()
                        .unwrap_or_else(|| format!("{} (no longer exists: run repair)", a.group_id))
                })
                .collect();
            out.push(format!(
                "{upn} is in none of the groups assigned on {:?} ({}): add {upn} to one of them.",
                r.display_name,
                groups.join(", ")
            ));
        }
    }
    for p in paths.iter().filter(|p| !p.effective) {
        out.push(format!(
            "The assignment of {:?} on {:?} is still pending: Microsoft usually applies it \
             within minutes; try again shortly.",
            p.group_name.as_deref().unwrap_or("(group)"),
            p.relationship_name
        ));
    }
    if !missing.is_empty() && paths.iter().any(|p| p.effective) {
        out.push(format!(
            "{upn} has access but not the roles the app install needs: missing {}.",
            missing.join("; ")
        ));
    } else if !missing.is_empty() && out.is_empty() {
        out.push(format!(
            "Missing for the app install: {}.",
            missing.join("; ")
        ));
    }
    out
}
