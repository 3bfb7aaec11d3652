//! Read-only serializable views of the world, for tests that compute expected results.

use serde::Serialize;

use super::World;

/// The whole world at one instant.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WorldSnapshot {
    /// The seed of the world.
    pub seed: u64,
    /// Wall time of sandbox time zero (RFC 3339).
    pub anchor: String,
    /// The world's current time (RFC 3339).
    pub now: String,
    /// The partner (MSP) tenant id.
    pub partner_tenant_id: String,
    /// Every tenant, the partner tenant first.
    pub tenants: Vec<TenantSnapshot>,
    /// Relationships that have no customer yet.
    pub relationships_without_customer: Vec<RelationshipSnapshot>,
}

/// One tenant.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TenantSnapshot {
    /// Tenant id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Initial `*.onmicrosoft.com` domain.
    pub domain: String,
    /// Number of users (`/users/$count`).
    pub user_count: u64,
    /// The MSP's own partner tenant.
    pub is_own: bool,
    /// Legacy tenant: the legacy app is consented individually (SP + grants), no PC consent.
    pub legacy: bool,
    /// Previously onboarded then deleted in the product: the product app's SP, grants and a PC
    /// consent record remain.
    pub previously_deleted: bool,
    /// The seed profile (`own`, `ready_ga`, `ready_app_admin_pra`, `ready_cloud_app_admin_pra`,
    /// `ready_multi`, `missing_app_admin_only`, `missing_pra_only`, `missing_global_reader_only`,
    /// `inactive`, `approval_pending`, `no_relationship`; `custom` for tenants added with
    /// `World::add_customer_with_relationship`). Informational; derive readiness from
    /// the relationships.
    pub profile: String,
    /// Partner Center `relationshipToPartner`.
    pub relationship_to_partner: String,
    /// Relationships with this customer.
    pub relationships: Vec<RelationshipSnapshot>,
    /// Service principals.
    pub service_principals: Vec<ServicePrincipalSnapshot>,
    /// App role assignments (application permissions).
    pub app_role_assignments: Vec<AppRoleAssignmentSnapshot>,
    /// Delegated permission grants.
    pub oauth2_grants: Vec<GrantSnapshot>,
    /// Partner Center application consents.
    pub consents: Vec<ConsentSnapshot>,
}

/// One GDAP relationship.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RelationshipSnapshot {
    /// Relationship id (`guid-guid`).
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Raw status (may be a value outside the documented enum, e.g. `suspendedByPolicy`).
    pub status: String,
    /// Role template ids.
    pub roles: Vec<String>,
    /// ISO 8601 duration.
    pub duration: String,
    /// `endDateTime` (RFC 3339).
    pub end_date_time: Option<String>,
    /// `activatedDateTime` (RFC 3339).
    pub activated_date_time: Option<String>,
    /// `autoExtendDuration`.
    pub auto_extend_duration: String,
    /// Whether this is a `resellerDelegatedAdminRelationship`.
    pub is_reseller: bool,
    /// Microsoft-led transition relationship (display name starts with `MLT_`).
    pub is_mlt: bool,
    /// Customer tenant id.
    pub customer_tenant_id: Option<String>,
    /// Access assignments.
    pub access_assignments: Vec<AccessAssignmentSnapshot>,
}

/// One access assignment.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AccessAssignmentSnapshot {
    /// Assignment id.
    pub id: String,
    /// Status (`pending`, `active`, `deleting`, `deleted`).
    pub status: String,
    /// Security group id (partner tenant).
    pub group_id: String,
    /// Role template ids.
    pub roles: Vec<String>,
}

/// One service principal.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ServicePrincipalSnapshot {
    /// Object id (differs per tenant).
    pub id: String,
    /// Application id.
    pub app_id: String,
    /// Display name.
    pub display_name: String,
    /// When it was created (RFC 3339).
    pub created_date_time: String,
}

/// One app role assignment.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AppRoleAssignmentSnapshot {
    /// Assignment id.
    pub id: String,
    /// Client service principal object id.
    pub principal_id: String,
    /// Resource service principal object id.
    pub resource_id: String,
    /// App role id.
    pub app_role_id: String,
}

/// One oauth2PermissionGrant.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GrantSnapshot {
    /// Grant id.
    pub id: String,
    /// Client service principal object id.
    pub client_id: String,
    /// `AllPrincipals` or `Principal`.
    pub consent_type: String,
    /// User id for `Principal` grants.
    pub principal_id: Option<String>,
    /// Resource service principal object id.
    pub resource_id: String,
    /// Space separated scopes.
    pub scope: String,
}

/// One Partner Center application consent.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConsentSnapshot {
    /// The consented application id.
    pub application_id: String,
    /// Display name posted.
    pub display_name: Option<String>,
    /// `(enterpriseApplicationId, scope)` pairs as posted.
    pub grants: Vec<(String, String)>,
    /// When it was created (RFC 3339).
    pub created_date_time: String,
}

pub(super) fn build(w: &World) -> WorldSnapshot {
    let rel = |r: &super::Relationship| RelationshipSnapshot {
        id: r.id.clone(),
        display_name: r.display_name.clone(),
        status: r.status.clone(),
        roles: r.roles.clone(),
        duration: r.duration.clone(),
        end_date_time: r.end.map(|e| w.fmt_time(e)),
        activated_date_time: r.activated.map(|e| w.fmt_time(e)),
        auto_extend_duration: r.auto_extend.clone(),
        is_reseller: r.reseller.is_some(),
        is_mlt: r.display_name.starts_with("MLT_"),
        customer_tenant_id: r.customer.as_ref().map(|c| c.0.clone()),
        access_assignments: r
            .assignments
            .iter()
            .map(|a| AccessAssignmentSnapshot {
                id: a.id.clone(),
                status: a.status.clone(),
                group_id: a.group_id.clone(),
                roles: a.roles.clone(),
            })
            .collect(),
    };
    let tenants = w
        .tenants
        .iter()
        .map(|t| TenantSnapshot {
            id: t.id.clone(),
            display_name: t.display_name.clone(),
            domain: t.domain.clone(),
            user_count: t.user_count,
            is_own: t.is_own,
            legacy: t.legacy,
            previously_deleted: t.previously_deleted,
            profile: t.profile.to_string(),
            relationship_to_partner: t.relationship_to_partner.to_string(),
            relationships: t
                .rels
                .iter()
                .filter_map(|s| w.relationships.get(s))
                .map(rel)
                .collect(),
            service_principals: t
                .sps
                .iter()
                .map(|s| ServicePrincipalSnapshot {
                    id: s.id.clone(),
                    app_id: w.apps[s.app].app_id.clone(),
                    display_name: w.apps[s.app].display_name.clone(),
                    created_date_time: w.fmt_time(s.created),
                })
                .collect(),
            app_role_assignments: t
                .app_role_assignments
                .iter()
                .map(|a| AppRoleAssignmentSnapshot {
                    id: a.id.clone(),
                    principal_id: a.principal_id.clone(),
                    resource_id: a.resource_id.clone(),
                    app_role_id: a.app_role_id.clone(),
                })
                .collect(),
            oauth2_grants: t
                .grants
                .iter()
                .map(|g| GrantSnapshot {
                    id: g.id.clone(),
                    client_id: g.client_id.clone(),
                    consent_type: g.consent_type.clone(),
                    principal_id: g.principal_id.clone(),
                    resource_id: g.resource_id.clone(),
                    scope: g.scope.clone(),
                })
                .collect(),
            consents: t
                .consents
                .iter()
                .map(|c| ConsentSnapshot {
                    application_id: c.application_id.clone(),
                    display_name: c.display_name.clone(),
                    grants: c.grants.clone(),
                    created_date_time: w.fmt_time(c.created),
                })
                .collect(),
        })
        .collect();
    WorldSnapshot {
        seed: w.seed,
        anchor: w.fmt_time(0),
        now: w.fmt_time(w.now),
        partner_tenant_id: w.tenants[w.partner.tenant].id.clone(),
        tenants,
        relationships_without_customer: w
            .relationships
            .values()
            .filter(|r| r.customer.is_none())
            .map(rel)
            .collect(),
    }
}
