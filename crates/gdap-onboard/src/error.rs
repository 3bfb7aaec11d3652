//! [`OnboardError`]: the one error of the orchestration core.
//!
//! Each variant is a row of the error catalogue ([`crate::catalogue`]), which gives the seed's
//! user-facing message and resolution steps. Port failures are classified into it by
//! [`OnboardError::classify`] using codes (kind, HTTP status, service code, `AADSTS` codes) and the
//! operation that failed — never by matching English text alone.

use std::fmt;

use gdap_core::{RelationshipId, TenantId};
use serde::Serialize;

use crate::port_error::{PortError, PortErrorKind};
use crate::readiness::MissingRole;
use crate::templates::TemplateError;

/// Result alias of the crate.
pub type Result<T, E = OnboardError> = std::result::Result<T, E>;

/// The operation a port failure happened in; part of how it is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Operation {
    /// Listing GDAP relationships.
    ListRelationships,
    /// Reading one relationship.
    GetRelationship,
    /// Creating a relationship request.
    CreateRelationship,
    /// Locking a relationship for approval.
    LockForApproval,
    /// Assigning the partner user's security group to a relationship.
    AssignUser,
    /// Reading a customer's organization.
    ReadOrganization,
    /// Counting a customer's users.
    CountUsers,
    /// Partner Center application consent.
    Consent,
    /// Finding or creating a service principal.
    ServicePrincipal,
    /// Granting an application permission.
    GrantAppRole,
    /// Granting delegated permissions.
    GrantDelegated,
    /// Obtaining a token.
    Token,
    /// Reading or writing the product's records.
    Store,
    /// Reading the partner tenant's groups and users.
    ReadPartnerDirectory,
    /// Creating a GDAP security group or adding a member to it.
    ManageGroups,
    /// Updating a GDAP relationship (auto-extend, roles).
    UpdateRelationship,
    /// Updating or deleting an access assignment.
    UpdateAssignment,
    /// Following a long-running operation.
    PollOperation,
    /// Reading or writing the Partner Center webhook registration.
    Webhook,
}

impl Operation {
    /// A short description for messages.
    pub fn as_str(&self) -> &'static str {
        match self {
            Operation::ListRelationships => "listing GDAP relationships",
            Operation::GetRelationship => "reading a GDAP relationship",
            Operation::CreateRelationship => "creating a GDAP relationship request",
            Operation::LockForApproval => "locking a GDAP relationship for approval",
            Operation::AssignUser => "assigning your user to the GDAP relationship",
            Operation::ReadOrganization => "reading the tenant's organization",
            Operation::CountUsers => "counting the tenant's users",
            Operation::Consent => "granting consent through Partner Center",
            Operation::ServicePrincipal => "installing the application",
            Operation::GrantAppRole => "granting application permissions",
            Operation::GrantDelegated => "granting delegated permissions",
            Operation::Token => "obtaining a token",
            Operation::Store => "reading or writing the tenant records",
            Operation::ReadPartnerDirectory => "reading the partner tenant's groups and users",
            Operation::ManageGroups => "managing the GDAP security groups",
            Operation::UpdateRelationship => "updating a GDAP relationship",
            Operation::UpdateAssignment => "updating an access assignment",
            Operation::PollOperation => "following a long-running GDAP operation",
            Operation::Webhook => "registering the Partner Center webhook",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One permission that could not be granted (or verified), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantFailure {
    /// The resource, e.g. `"Microsoft Graph"`.
    pub resource_name: String,
    /// The permission, e.g. `"User.Read.All"`.
    pub permission: String,
    /// Why it failed (from the service; no secrets).
    pub reason: String,
}

impl GrantFailure {
    /// A failure.
    pub fn new(
        resource_name: impl Into<String>,
        permission: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            resource_name: resource_name.into(),
            permission: permission.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for GrantFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({})",
            self.resource_name, self.permission, self.reason
        )
    }
}

fn tenant_text(t: &Option<TenantId>) -> String {
    t.map(|t| format!(" {t}")).unwrap_or_default()
}

/// Every failure of the orchestration core. The user-facing text and resolution steps come from
/// [`crate::catalogue::explain`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OnboardError {
    /// AADSTS50177: the partner user has no GDAP access to the customer tenant.
    #[error("the Partner Portal user does not have GDAP access to customer tenant{}", tenant_text(.tenant))]
    GdapAccessDenied {
        /// The customer tenant.
        tenant: Option<TenantId>,
        /// The token failure.
        #[source]
        source: PortError,
    },
    /// 403 disallowedOperation: the tenant already has an active relationship.
    #[error("operation not allowed: tenant{} already has an active GDAP relationship", tenant_text(.tenant))]
    ActiveRelationshipExists {
        /// The customer tenant.
        tenant: Option<TenantId>,
        /// The active relationship, when known.
        relationship_id: Option<RelationshipId>,
        /// The service's refusal, when the service refused (rather than our pre-check).
        #[source]
        source: Option<PortError>,
    },
    /// A relationship with this display name exists.
    #[error("GDAP relationship request failed: duplicate display name {display_name:?}")]
    DuplicateDisplayName {
        /// The name.
        display_name: String,
        /// The service's refusal, when it refused.
        #[source]
        source: Option<PortError>,
    },
    /// The partner user could not be assigned to the relationship.
    #[error("could not assign your user to the GDAP relationship for tenant{}", tenant_text(.tenant))]
    AssignmentFailed {
        /// The customer tenant.
        tenant: Option<TenantId>,
        /// The relationship.
        relationship_id: Option<RelationshipId>,
        /// The failure.
        #[source]
        source: Option<PortError>,
    },
    /// "Unsupported token" / 401 / 403: the partner user may not manage the customer.
    #[error("the Partner Portal user does not have sufficient permissions to manage customer tenant{}", tenant_text(.tenant))]
    InsufficientPermissions {
        /// The customer tenant.
        tenant: Option<TenantId>,
        /// The failure.
        #[source]
        source: PortError,
    },
    /// AADSTS65001: the authorization was revoked.
    #[error("the Partner Portal authorization has expired or been revoked")]
    AuthorizationRevoked {
        /// The token failure.
        #[source]
        source: PortError,
    },
    /// AADSTS700082 (or 70008): the refresh token expired.
    #[error("the Partner Portal session has expired")]
    SessionExpired {
        /// The token failure.
        #[source]
        source: PortError,
    },
    /// Partner Center refused an App+User call without MFA (401, code 900421).
    #[error("Partner Center requires multi-factor authentication for this account")]
    MfaRequired {
        /// The refusal.
        #[source]
        source: PortError,
    },
    /// The tenant's active GDAP relationships lack roles the app needs (onboarding, refresh).
    #[error("tenant {tenant} does not have the required GDAP permissions")]
    MissingGdapPermissions {
        /// The tenant.
        tenant: TenantId,
        /// What is missing.
        missing: Vec<MissingRole>,
    },
    /// Email permissions can be refreshed only for tenants onboarded through Partner Center.
    #[error(
        "tenant {tenant} was not onboarded through Partner Center; its email permissions cannot be refreshed here"
    )]
    RefreshRequiresPartnerCenter {
        /// The tenant.
        tenant: TenantId,
    },
    /// Migration asked for a tenant that was not onboarded individually.
    #[error("no existing legacy tenant found to migrate (tenant {tenant})")]
    NoLegacyTenant {
        /// The tenant.
        tenant: TenantId,
    },
    /// Migration asked for a tenant already managed through Partner Center.
    #[error("tenant {tenant} is already managed by Partner Center")]
    AlreadyManagedByPartnerCenter {
        /// The tenant.
        tenant: TenantId,
    },
    /// Migration asked for a tenant whose GDAP relationship lacks required roles.
    #[error("tenant {tenant} does not have the required GDAP permissions for migration")]
    MigrationMissingGdapPermissions {
        /// The tenant.
        tenant: TenantId,
        /// What is missing.
        missing: Vec<MissingRole>,
    },
    /// Migration installed the app but could not grant every permission.
    #[error("migration failed: could not grant permissions in tenant {tenant}")]
    MigrationGrantFailed {
        /// The tenant.
        tenant: TenantId,
        /// What failed.
        failures: Vec<GrantFailure>,
    },
    /// Migration's read-back found permissions missing.
    #[error(
        "migration failed: only {verified} of {expected} permissions verified in tenant {tenant}"
    )]
    MigrationVerificationFailed {
        /// The tenant.
        tenant: TenantId,
        /// Permissions verified.
        verified: usize,
        /// Permissions expected.
        expected: usize,
        /// The missing permissions, as `"Resource: Permission"`.
        missing: Vec<String>,
    },
    /// Application permissions (appRoleAssignments) failed while delegated ones may have worked.
    #[error("failed to grant application permissions in tenant {tenant}")]
    AppPermissionGrantFailed {
        /// The tenant.
        tenant: TenantId,
        /// What failed.
        failures: Vec<GrantFailure>,
        /// Whether every permission failed.
        all_failed: bool,
    },
    /// Onboarding blocked because some permissions failed to grant.
    #[error("cannot onboard tenant {tenant}: failed to grant permissions")]
    OnboardGrantFailed {
        /// The tenant.
        tenant: TenantId,
        /// What failed.
        failures: Vec<GrantFailure>,
    },
    /// The MSP's own partner tenant cannot be hard-deleted (seed 003; HTTP 403).
    #[error("Cannot hard-delete the MSP's own partner tenant. Disable via /my-tenant first.")]
    OwnTenantHardDelete {
        /// The tenant.
        tenant: TenantId,
    },
    /// A second partner tenant was refused (seed 003; HTTP 409).
    #[error(
        "a partner tenant ({existing}) is already enabled; a second one ({requested}) is not supported"
    )]
    SecondPartnerTenant {
        /// The partner tenant already enabled.
        existing: TenantId,
        /// The one refused.
        requested: TenantId,
    },
    /// A relationship template (or a GDAP group template) breaks a GDAP rule.
    #[error("invalid {subject}: {0}", subject = .0.subject())]
    InvalidTemplate(#[from] TemplateError),
    /// A relationship display name is invalid.
    #[error("invalid relationship display name {display_name:?}: {reason}")]
    InvalidDisplayName {
        /// The name.
        display_name: String,
        /// Why.
        reason: String,
    },
    /// The relationship is not active, so access cannot be assigned or changed.
    #[error("GDAP relationship {relationship_id} is {status}, not active")]
    RelationshipNotActive {
        /// The relationship.
        relationship_id: RelationshipId,
        /// Its status.
        status: String,
    },
    /// The customer did not approve the relationship before the deadline.
    #[error("GDAP relationship {relationship_id} is still {status} after waiting {waited_secs} s")]
    ApprovalTimedOut {
        /// The relationship.
        relationship_id: RelationshipId,
        /// Its last status.
        status: String,
        /// How long was waited.
        waited_secs: u64,
        /// The link the customer's admin opens to approve it.
        approval_link: String,
    },
    /// The relationship ended (declined, expired, terminated) instead of becoming active.
    #[error("GDAP relationship {relationship_id} ended as {status} without becoming active")]
    ApprovalEnded {
        /// The relationship.
        relationship_id: RelationshipId,
        /// Its final status.
        status: String,
    },
    /// A long-running operation failed or did not finish before the deadline.
    #[error("the operation on GDAP relationship {relationship_id} is {status}")]
    OperationIncomplete {
        /// The relationship.
        relationship_id: RelationshipId,
        /// The operation's last status (`failed`, `running`, …).
        status: String,
        /// How long was waited.
        waited_secs: u64,
    },
    /// Another webhook registration exists and replacing it was not asked for.
    #[error("Partner Center already has a webhook registration for {existing_url}")]
    WebhookRegisteredElsewhere {
        /// The registered callback.
        existing_url: String,
        /// Its events.
        existing_events: Vec<String>,
    },
    /// Several partner security groups carry the same name.
    #[error("{} security groups are named {display_name:?}", ids.len())]
    AmbiguousGroup {
        /// The name.
        display_name: String,
        /// Their ids.
        ids: Vec<gdap_core::SecurityGroupId>,
    },
    /// A group the template names does not exist in the partner tenant.
    #[error("the security group {display_name:?} does not exist in the partner tenant")]
    GroupNotFound {
        /// The name.
        display_name: String,
    },
    /// No such user in the partner tenant.
    #[error("no user {user:?} in the partner tenant")]
    UserNotFound {
        /// The sign-in name or id asked for.
        user: String,
    },
    /// Any other port failure.
    #[error("{operation} failed{}", tenant_text(.tenant))]
    Service {
        /// What was being done.
        operation: Operation,
        /// The tenant, if one.
        tenant: Option<TenantId>,
        /// The failure.
        #[source]
        source: PortError,
    },
}

impl OnboardError {
    /// Classifies a port failure during `operation` (for `tenant`, if any) into a catalogue row,
    /// by `AADSTS` codes, kind, status and service code.
    pub fn classify(operation: Operation, tenant: Option<TenantId>, source: PortError) -> Self {
        let aadsts = |c: u32| source.has_aadsts(c);
        if aadsts(50177) || aadsts(50020) {
            return OnboardError::GdapAccessDenied { tenant, source };
        }
        if aadsts(65001) {
            return OnboardError::AuthorizationRevoked { source };
        }
        if aadsts(700082) || aadsts(70008) {
            return OnboardError::SessionExpired { source };
        }
        if source.kind() == PortErrorKind::MfaRequired
            || (source.status() == Some(401) && source.has_service_code("900421"))
        {
            return OnboardError::MfaRequired { source };
        }
        if source.has_service_code("disallowedOperation") {
            return OnboardError::ActiveRelationshipExists {
                tenant,
                relationship_id: None,
                source: Some(source),
            };
        }
        if operation == Operation::CreateRelationship
            && (matches!(
                source.kind(),
                PortErrorKind::AlreadyExists | PortErrorKind::Conflict
            ) || source.has_service_code("duplicateDisplayName"))
        {
            return OnboardError::DuplicateDisplayName {
                display_name: String::new(),
                source: Some(source),
            };
        }
        if operation == Operation::AssignUser && !source.is_retryable() {
            return OnboardError::AssignmentFailed {
                tenant,
                relationship_id: None,
                source: Some(source),
            };
        }
        if matches!(
            source.kind(),
            PortErrorKind::Forbidden | PortErrorKind::Unauthorized
        ) || source.has_service_code("Authorization_RequestDenied")
        {
            return OnboardError::InsufficientPermissions { tenant, source };
        }
        OnboardError::Service {
            operation,
            tenant,
            source,
        }
    }

    /// The tenant the error is about, if any.
    pub fn tenant(&self) -> Option<TenantId> {
        match self {
            OnboardError::GdapAccessDenied { tenant, .. }
            | OnboardError::ActiveRelationshipExists { tenant, .. }
            | OnboardError::AssignmentFailed { tenant, .. }
            | OnboardError::InsufficientPermissions { tenant, .. }
            | OnboardError::Service { tenant, .. } => *tenant,
            OnboardError::NoLegacyTenant { tenant }
            | OnboardError::RefreshRequiresPartnerCenter { tenant }
            | OnboardError::MissingGdapPermissions { tenant, .. }
            | OnboardError::AlreadyManagedByPartnerCenter { tenant }
            | OnboardError::MigrationMissingGdapPermissions { tenant, .. }
            | OnboardError::MigrationGrantFailed { tenant, .. }
            | OnboardError::MigrationVerificationFailed { tenant, .. }
            | OnboardError::AppPermissionGrantFailed { tenant, .. }
            | OnboardError::OnboardGrantFailed { tenant, .. }
            | OnboardError::OwnTenantHardDelete { tenant } => Some(*tenant),
            OnboardError::SecondPartnerTenant { requested, .. } => Some(*requested),
            OnboardError::DuplicateDisplayName { .. }
            | OnboardError::AuthorizationRevoked { .. }
            | OnboardError::SessionExpired { .. }
            | OnboardError::MfaRequired { .. }
            | OnboardError::InvalidTemplate(_)
            | OnboardError::InvalidDisplayName { .. }
            | OnboardError::RelationshipNotActive { .. }
            | OnboardError::ApprovalTimedOut { .. }
            | OnboardError::ApprovalEnded { .. }
            | OnboardError::OperationIncomplete { .. }
            | OnboardError::WebhookRegisteredElsewhere { .. }
            | OnboardError::AmbiguousGroup { .. }
            | OnboardError::GroupNotFound { .. }
            | OnboardError::UserNotFound { .. } => None,
        }
    }

    /// The port failure underneath, if any.
    pub fn port_error(&self) -> Option<&PortError> {
        match self {
            OnboardError::GdapAccessDenied { source, .. }
            | OnboardError::InsufficientPermissions { source, .. }
            | OnboardError::AuthorizationRevoked { source }
            | OnboardError::SessionExpired { source }
            | OnboardError::MfaRequired { source }
            | OnboardError::Service { source, .. } => Some(source),
            OnboardError::ActiveRelationshipExists { source, .. }
            | OnboardError::DuplicateDisplayName { source, .. }
            | OnboardError::AssignmentFailed { source, .. } => source.as_ref(),
            _ => None,
        }
    }

    /// The HTTP status a front-end should answer with.
    pub fn http_status(&self) -> u16 {
        match self {
            OnboardError::GdapAccessDenied { .. }
            | OnboardError::ActiveRelationshipExists { .. }
            | OnboardError::InsufficientPermissions { .. }
            | OnboardError::OwnTenantHardDelete { .. } => 403,
            OnboardError::AuthorizationRevoked { .. }
            | OnboardError::SessionExpired { .. }
            | OnboardError::MfaRequired { .. } => 401,
            OnboardError::DuplicateDisplayName { .. }
            | OnboardError::AlreadyManagedByPartnerCenter { .. }
            | OnboardError::SecondPartnerTenant { .. } => 409,
            OnboardError::NoLegacyTenant { .. }
            | OnboardError::GroupNotFound { .. }
            | OnboardError::UserNotFound { .. } => 404,
            OnboardError::RelationshipNotActive { .. }
            | OnboardError::ApprovalEnded { .. }
            | OnboardError::WebhookRegisteredElsewhere { .. }
            | OnboardError::AmbiguousGroup { .. } => 409,
            OnboardError::ApprovalTimedOut { .. } | OnboardError::OperationIncomplete { .. } => 504,
            OnboardError::MigrationMissingGdapPermissions { .. }
            | OnboardError::MissingGdapPermissions { .. }
            | OnboardError::RefreshRequiresPartnerCenter { .. }
            | OnboardError::InvalidTemplate(_)
            | OnboardError::InvalidDisplayName { .. } => 400,
            OnboardError::Service { source, .. } => match source.kind() {
                PortErrorKind::NotFound => 404,
                PortErrorKind::Throttled => 429,
                PortErrorKind::Transient => 503,
                _ => 502,
            },
            OnboardError::AssignmentFailed { .. }
            | OnboardError::MigrationGrantFailed { .. }
            | OnboardError::MigrationVerificationFailed { .. }
            | OnboardError::AppPermissionGrantFailed { .. }
            | OnboardError::OnboardGrantFailed { .. } => 502,
        }
    }

    /// Whether trying again later may succeed without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            OnboardError::AssignmentFailed { .. } | OnboardError::ApprovalTimedOut { .. } => true,
            OnboardError::OperationIncomplete { status, .. } => status != "failed",
            OnboardError::Service { source, .. } => source.is_retryable(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Option<TenantId> {
        Some(TenantId::new_random())
    }

    #[test]
    fn classification_by_codes() {
        let c = |op, e| OnboardError::classify(op, t(), e);
        assert!(matches!(
            c(Operation::Token, PortError::aadsts(&[50177], "x")),
            OnboardError::GdapAccessDenied { .. }
        ));
        assert!(matches!(
            c(Operation::Token, PortError::aadsts(&[65001], "x")),
            OnboardError::AuthorizationRevoked { .. }
        ));
        assert!(matches!(
            c(Operation::Token, PortError::aadsts(&[700082], "x")),
            OnboardError::SessionExpired { .. }
        ));
        assert!(matches!(
            c(Operation::Consent, PortError::http(401, Some("900421"), "")),
            OnboardError::MfaRequired { .. }
        ));
        assert!(matches!(
            c(
                Operation::CreateRelationship,
                PortError::http(403, Some("disallowedOperation"), "")
            ),
            OnboardError::ActiveRelationshipExists { .. }
        ));
        assert!(matches!(
            c(
                Operation::CreateRelationship,
                PortError::http(409, Some("conflict"), "")
            ),
            OnboardError::DuplicateDisplayName { .. }
        ));
        assert!(matches!(
            c(
                Operation::AssignUser,
                PortError::http(400, Some("badRequest"), "")
            ),
            OnboardError::AssignmentFailed { .. }
        ));
        assert!(matches!(
            c(
                Operation::Consent,
                PortError::http(403, Some("Forbidden"), "Unsupported token")
            ),
            OnboardError::InsufficientPermissions { .. }
        ));
        assert!(matches!(
            c(Operation::CountUsers, PortError::http(503, None, "")),
            OnboardError::Service { .. }
        ));
    }

    #[test]
    fn english_text_alone_does_not_classify() {
        // A message that looks like a duplicate or a GDAP refusal, without the codes.
        let e = OnboardError::classify(
            Operation::ListRelationships,
            None,
            PortError::http(
                500,
                None,
                "AADSTS50177 duplicate display name disallowedOperation",
            ),
        );
        assert!(matches!(e, OnboardError::Service { .. }));
    }
}
