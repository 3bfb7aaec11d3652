//! The stored state of the fake directory: tenants, relationships, service principals, grants.

/// Milliseconds relative to the world's anchor (wall time at sandbox start).
pub(crate) type Ms = i64;
/// One second in [`Ms`].
pub(crate) const SEC: Ms = 1_000;
/// One hour in [`Ms`].
pub(crate) const HOUR: Ms = 3_600 * SEC;
/// One day in [`Ms`].
pub(crate) const DAY: Ms = 24 * HOUR;

/// A user of the partner tenant.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) upn: String,
    pub(crate) display_name: String,
    /// Whether sign-ins of this user carry the `mfa` amr claim.
    pub(crate) mfa: bool,
    /// Directory roles in the home (partner) tenant.
    pub(crate) home_roles: Vec<String>,
    /// Security groups (ids) of the partner tenant the user is a member of.
    pub(crate) groups: Vec<String>,
}

/// A security group of the partner tenant.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) id: String,
    pub(crate) display_name: String,
    pub(crate) mail_nickname: String,
    pub(crate) description: Option<String>,
    pub(crate) created: Ms,
}

/// A service principal in a tenant.
#[derive(Debug, Clone)]
pub(crate) struct ServicePrincipal {
    pub(crate) id: String,
    /// Index into `World::apps`.
    pub(crate) app: usize,
    pub(crate) created: Ms,
}

/// An app role assignment (application permission grant).
#[derive(Debug, Clone)]
pub(crate) struct AppRoleAssignment {
    pub(crate) id: String,
    pub(crate) principal_id: String,
    pub(crate) resource_id: String,
    pub(crate) app_role_id: String,
    pub(crate) created: Ms,
}

/// A delegated permission grant (oAuth2PermissionGrant).
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) id: String,
    pub(crate) client_id: String,
    pub(crate) consent_type: String,
    pub(crate) principal_id: Option<String>,
    pub(crate) resource_id: String,
    pub(crate) scope: String,
}

/// A Partner Center application consent record.
#[derive(Debug, Clone)]
pub(crate) struct Consent {
    pub(crate) application_id: String,
    pub(crate) display_name: Option<String>,
    /// `(enterpriseApplicationId, comma separated scope as posted)`.
    pub(crate) grants: Vec<(String, String)>,
    pub(crate) created: Ms,
}

/// A tenant (the partner's own or a customer).
#[derive(Debug, Clone)]
pub(crate) struct Tenant {
    pub(crate) id: String,
    pub(crate) display_name: String,
    pub(crate) domain: String,
    pub(crate) user_count: u64,
    pub(crate) is_own: bool,
    pub(crate) legacy: bool,
    pub(crate) previously_deleted: bool,
    /// The seed profile the tenant was generated from (e.g. `ready_ga`).
    pub(crate) profile: &'static str,
    pub(crate) created: Ms,
    pub(crate) country: &'static str,
    pub(crate) relationship_to_partner: &'static str,
    /// Relationship sequence numbers whose customer is this tenant.
    pub(crate) rels: Vec<u64>,
    pub(crate) sps: Vec<ServicePrincipal>,
    pub(crate) app_role_assignments: Vec<AppRoleAssignment>,
    pub(crate) grants: Vec<Grant>,
    pub(crate) consents: Vec<Consent>,
}

impl Tenant {
    pub(crate) fn sp_by_app(&self, app: usize) -> Option<&ServicePrincipal> {
        self.sps.iter().find(|s| s.app == app)
    }

    pub(crate) fn sp_by_id(&self, id: &str) -> Option<&ServicePrincipal> {
        self.sps.iter().find(|s| s.id.eq_ignore_ascii_case(id))
    }
}

/// Extra properties of a `resellerDelegatedAdminRelationship`.
#[derive(Debug, Clone)]
pub(crate) struct Reseller {
    pub(crate) indirect_provider_tenant_id: String,
    pub(crate) is_partner_consent_pending: bool,
}

/// A delegated admin access assignment.
#[derive(Debug, Clone)]
pub(crate) struct Assignment {
    pub(crate) id: String,
    pub(crate) group_id: String,
    pub(crate) roles: Vec<String>,
    pub(crate) status: String,
    pub(crate) created: Ms,
    pub(crate) last_modified: Ms,
    pub(crate) etag: String,
}

/// A long-running operation of a relationship.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub(crate) id: String,
    pub(crate) operation_type: String,
    pub(crate) data: String,
    pub(crate) status: String,
    pub(crate) created: Ms,
    pub(crate) last_modified: Ms,
    pub(crate) etag: String,
}

/// A relationship request (`lockForApproval`, `terminate`, ...).
#[derive(Debug, Clone)]
pub(crate) struct RelRequest {
    pub(crate) id: String,
    pub(crate) action: String,
    pub(crate) status: String,
    pub(crate) created: Ms,
    pub(crate) last_modified: Ms,
    pub(crate) etag: String,
}

/// A delegated admin relationship.
#[derive(Debug, Clone)]
pub(crate) struct Relationship {
    pub(crate) seq: u64,
    pub(crate) id: String,
    pub(crate) display_name: String,
    pub(crate) duration: String,
    pub(crate) duration_ms: Ms,
    pub(crate) auto_extend: String,
    pub(crate) roles: Vec<String>,
    /// `(tenantId, displayName)`.
    pub(crate) customer: Option<(String, String)>,
    /// Raw status; values outside the documented enum are gated behind `Prefer`.
    pub(crate) status: String,
    pub(crate) created: Ms,
    pub(crate) last_modified: Ms,
    pub(crate) activated: Option<Ms>,
    pub(crate) end: Option<Ms>,
    pub(crate) etag: String,
    pub(crate) reseller: Option<Reseller>,
    pub(crate) assignments: Vec<Assignment>,
    pub(crate) operations: Vec<Operation>,
    pub(crate) requests: Vec<RelRequest>,
}

/// A time-triggered state change, applied lazily when the clock passes its time.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// Access assignment pending -> active.
    AssignmentActive { rel: u64, assignment: String },
    /// Access assignment update operation completes (new roles applied).
    AssignmentUpdated {
        rel: u64,
        assignment: String,
        operation: String,
        roles: Vec<String>,
    },
    /// Access assignment deleting -> deleted.
    AssignmentDeleted { rel: u64, assignment: String },
    /// A locked relationship is approved by the (simulated) customer.
    AutoApprove { rel: u64 },
    /// A relationship reaches its end date (expire or auto-extend).
    RelationshipEnd { rel: u64, at: Ms },
    /// terminationRequested -> terminated.
    Terminated { rel: u64 },
    /// Removal of Global Administrator from an active relationship completes.
    RelationshipUpdated {
        rel: u64,
        operation: String,
        roles: Vec<String>,
    },
    /// A Partner Center consent becomes visible in Graph (SP + grants).
    ConsentMaterialize {
        tenant: usize,
        app: usize,
        grants: Vec<(usize, String)>,
    },
}

/// The singleton Partner Center webhook registration.
#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    pub(crate) subscriber_id: String,
    pub(crate) url: String,
    pub(crate) events: Vec<String>,
    pub(crate) last_modified: Ms,
}

/// What a Partner Center webhook event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WebhookResource {
    /// `.../granularAdminRelationships/{id}`.
    Relationship(String),
    /// `.../granularAdminRelationships/{relationship}/accessAssignments/{assignment}`.
    Assignment {
        relationship: String,
        assignment: String,
    },
    /// The validation (`test-created`) event.
    Test,
}

/// A webhook event waiting to be delivered: queued by the world when a transition happens and the
/// registration lists the event, handed to the delivery worker when the lock is released.
#[derive(Debug, Clone)]
pub(crate) struct PendingWebhook {
    pub(crate) event_name: &'static str,
    pub(crate) resource: WebhookResource,
    /// When the change happened (sandbox time).
    pub(crate) changed: Ms,
    /// The callback, as registered when the event was queued.
    pub(crate) url: String,
    /// The correlation id of a validation event.
    pub(crate) validation: Option<String>,
}
