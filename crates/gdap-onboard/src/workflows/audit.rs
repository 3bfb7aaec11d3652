//! Least-privilege audit: active relationships carrying Global Administrator where the app does
//! not need it, or roles beyond what the app and the chosen task templates need, each with the
//! smaller role set to request instead.

use std::collections::BTreeSet;

use futures::TryStreamExt;
use gdap_core::roles;
use gdap_core::{RelationshipId, RoleTemplateId, TenantId};
use serde::Serialize;

use crate::error::{OnboardError, Operation, Result};
use crate::readiness::{RoleRef, RoleRequirement};
use crate::relationship::{Relationship, RelationshipStatus};
use crate::templates::RelationshipTemplate;

use super::Orchestrator;

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum FindingKind {
    /// Global Administrator, where the app's requirement can be met without it.
    GlobalAdminNotNeeded,
    /// Roles that neither the app nor any chosen template needs.
    RolesBeyondNeed,
}

/// One relationship with more than it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditFinding {
    /// The customer.
    pub tenant_id: Option<TenantId>,
    /// The customer's name.
    pub tenant_name: Option<String>,
    /// The relationship.
    pub relationship_id: RelationshipId,
    /// Its name.
    pub relationship_name: String,
    /// What was found.
    pub kinds: Vec<FindingKind>,
    /// The roles it carries.
    pub current_roles: Vec<RoleRef>,
    /// The roles it does not need.
    pub excess_roles: Vec<RoleRef>,
    /// The smaller set to request instead.
    pub suggested_roles: Vec<RoleRef>,
}

/// The audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditReport {
    /// Active relationships examined.
    pub relationships_checked: usize,
    /// Findings, by tenant name then relationship.
    pub findings: Vec<AuditFinding>,
}

/// The audit of one role set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAudit {
    /// What was found.
    pub kinds: Vec<FindingKind>,
    /// Roles not needed.
    pub excess: BTreeSet<RoleTemplateId>,
    /// The smaller set to request instead.
    pub suggested: BTreeSet<RoleTemplateId>,
}

/// Audits one relationship's roles against `requirement` and the roles of `templates`; `None`
/// when it carries nothing beyond need.
pub fn audit_roles(
    held: &BTreeSet<RoleTemplateId>,
    requirement: &RoleRequirement,
    templates: &[RelationshipTemplate],
) -> Option<RoleAudit> {
    let ga = roles::GLOBAL_ADMINISTRATOR.id();
    let template_roles: BTreeSet<RoleTemplateId> = templates
        .iter()
        .flat_map(|t| t.roles.iter().copied())
        .collect();
    let mut suggested: BTreeSet<RoleTemplateId> = if requirement.is_satisfied_by(held) {
        // The relationship serves the app: the cheapest way to keep serving it, GA only if
        // nothing else will do.
        requirement
            .cheapest_without(&ga, held)
            .unwrap_or_else(|| BTreeSet::from([ga]))
    } else {
        let mut mentioned = requirement.mentioned_roles();
        mentioned.remove(&ga);
        held.intersection(&mentioned).copied().collect()
    };
    suggested.extend(held.intersection(&template_roles).copied());
    if template_roles.contains(&ga) && held.contains(&ga) {
        suggested.insert(ga);
    }
    let excess: BTreeSet<RoleTemplateId> = held.difference(&suggested).copied().collect();
    if excess.is_empty() {
        return None;
    }
    let mut kinds = Vec::new();
    if excess.contains(&ga) {
        kinds.push(FindingKind::GlobalAdminNotNeeded);
    }
    if excess.iter().any(|r| r != &ga) {
        kinds.push(FindingKind::RolesBeyondNeed);
    }
    Some(RoleAudit {
        kinds,
        excess,
        suggested,
    })
}

impl Orchestrator {
    /// Audits every active relationship (reseller and `MLT_…` ones excluded) against the
    /// configured requirement and the roles of `templates` (the task templates the MSP uses).
    ///
    /// # Errors
    /// Listing relationships failed.
    pub async fn least_privilege_audit(
        &self,
        templates: &[RelationshipTemplate],
    ) -> Result<AuditReport> {
        let requirement = self.config().effective_requirement();
        let rels: Vec<Relationship> = self
            .ports()
            .gdap
            .list_relationships(Some(RelationshipStatus::Active))
            .try_collect()
            .await
            .map_err(|e| OnboardError::classify(Operation::ListRelationships, None, e))?;
        let mut checked = 0;
        let mut findings = Vec::new();
        for r in rels
            .iter()
            .filter(|r| r.status.is_active() && !r.is_reseller && !r.is_microsoft_led_transition())
        {
            checked += 1;
            if let Some(RoleAudit {
                kinds,
                excess,
                suggested,
            }) = audit_roles(&r.roles, &requirement, templates)
            {
                findings.push(AuditFinding {
                    tenant_id: r.customer_tenant(),
                    tenant_name: r.customer.as_ref().and_then(|c| c.display_name.clone()),
                    relationship_id: r.id.clone(),
                    relationship_name: r.display_name.clone(),
                    kinds,
                    current_roles: RoleRef::list(&r.roles),
                    excess_roles: RoleRef::list(&excess),
                    suggested_roles: RoleRef::list(&suggested),
                });
            }
        }
        findings.sort_by(|a, b| {
            a.tenant_name
                .cmp(&b.tenant_name)
                .then(a.relationship_name.cmp(&b.relationship_name))
        });
        Ok(AuditReport {
            relationships_checked: checked,
            findings,
        })
    }
}
