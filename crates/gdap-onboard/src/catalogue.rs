//! The error catalogue: every error a user can hit, with the message and resolution steps of
//! seed 000's "Troubleshooting" section (plus seed 003's own-tenant messages and Partner Center's
//! MFA refusal).
//!
//! [`explain`] renders an [`OnboardError`] for people: the seed's title, a message with the
//! user's email and the tenant name filled in where the seed says so, the seed's numbered steps,
//! and the admin-consent URL where one applies.

use gdap_core::{AppId, TenantId};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{GrantFailure, OnboardError};
use crate::links::Links;
use crate::port_error::PortErrorKind;

/// One row of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum CatalogueKey {
    /// AADSTS50177: no GDAP access to the customer tenant.
    GdapAccess,
    /// 403 disallowedOperation: an active relationship exists.
    RelationshipAlreadyActive,
    /// Duplicate relationship display name.
    DuplicateDisplayName,
    /// Could not assign the user to the relationship.
    AssignmentFailed,
    /// "Unsupported token": insufficient permissions.
    InsufficientPermissions,
    /// AADSTS65001: authorization expired or revoked.
    AuthorizationRevoked,
    /// AADSTS700082: session expired.
    SessionExpired,
    /// Onboarding / refresh: the relationship lacks required roles.
    GdapPermissionsMissing,
    /// Refresh: only tenants onboarded through Partner Center.
    RefreshRequiresPartnerCenter,
    /// Migration: no legacy tenant.
    NoLegacyTenant,
    /// Migration: already managed by Partner Center.
    AlreadyManagedByPartnerCenter,
    /// Migration: GDAP roles missing.
    MigrationMissingGdapPermissions,
    /// Migration: could not grant permissions.
    MigrationGrantFailed,
    /// Migration: only X of Y permissions verified.
    MigrationVerificationFailed,
    /// Application (Graph API) permission grant failures.
    AppPermissionGrantFailed,
    /// Onboarding blocked: failed to grant permissions.
    OnboardGrantFailed,
    /// Partner Center MFA required (900421).
    MfaRequired,
    /// The MSP's own partner tenant cannot be hard-deleted.
    OwnTenantHardDelete,
    /// A second partner tenant is refused.
    SecondPartnerTenant,
    /// Lifecycle: the relationship is not active.
    RelationshipNotActive,
    /// Lifecycle: the customer has not approved yet.
    ApprovalTimedOut,
    /// Lifecycle: the relationship ended without approval.
    ApprovalEnded,
    /// Lifecycle: a long-running operation failed or is still running.
    OperationIncomplete,
    /// Lifecycle: another tool owns the webhook registration.
    WebhookRegisteredElsewhere,
    /// Lifecycle: several groups share a template group's name.
    AmbiguousGroup,
    /// Lifecycle: a template group does not exist.
    GroupNotFound,
    /// Lifecycle: no such partner user.
    UserNotFound,
    /// A request the library refused before sending (template, display name).
    InvalidRequest,
    /// Any other service failure.
    ServiceError,
}

impl CatalogueKey {
    /// Every row, in catalogue order.
    pub const ALL: &'static [CatalogueKey] = &[
        CatalogueKey::GdapAccess,
        CatalogueKey::RelationshipAlreadyActive,
        CatalogueKey::DuplicateDisplayName,
        CatalogueKey::AssignmentFailed,
        CatalogueKey::InsufficientPermissions,
        CatalogueKey::AuthorizationRevoked,
        CatalogueKey::SessionExpired,
        CatalogueKey::GdapPermissionsMissing,
        CatalogueKey::RefreshRequiresPartnerCenter,
        CatalogueKey::NoLegacyTenant,
        CatalogueKey::AlreadyManagedByPartnerCenter,
        CatalogueKey::MigrationMissingGdapPermissions,
        CatalogueKey::MigrationGrantFailed,
        CatalogueKey::MigrationVerificationFailed,
        CatalogueKey::AppPermissionGrantFailed,
        CatalogueKey::OnboardGrantFailed,
        CatalogueKey::MfaRequired,
        CatalogueKey::OwnTenantHardDelete,
        CatalogueKey::SecondPartnerTenant,
        CatalogueKey::RelationshipNotActive,
        CatalogueKey::ApprovalTimedOut,
        CatalogueKey::ApprovalEnded,
        CatalogueKey::OperationIncomplete,
        CatalogueKey::WebhookRegisteredElsewhere,
        CatalogueKey::AmbiguousGroup,
        CatalogueKey::GroupNotFound,
        CatalogueKey::UserNotFound,
        CatalogueKey::InvalidRequest,
        CatalogueKey::ServiceError,
    ];

    /// The row's static text.
    pub fn row(self) -> &'static CatalogueRow {
        // ROWS is written in the order of ALL; a unit test checks it.
        ROWS.iter()
            .find(|r| r.key == self)
            .unwrap_or(&ROWS[ROWS.len() - 1])
    }
}

/// The static text of a catalogue row, as in the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogueRow {
    /// The key.
    pub key: CatalogueKey,
    /// The section of the seed's Troubleshooting it belongs to.
    pub section: &'static str,
    /// The code the seed names (`"AADSTS50177"`, `"403 disallowedOperation"`), if any.
    pub code: Option<&'static str>,
    /// The seed's quoted message.
    pub title: &'static str,
    /// The seed's explanation.
    pub explanation: &'static str,
    /// The causes the seed lists, if it lists some.
    pub causes: &'static [&'static str],
    /// The seed's numbered resolution steps.
    pub steps: &'static [&'static str],
    /// Whether the admin-consent URL fallback applies.
    pub admin_consent: bool,
}

const REQUIRED_ROLES: &str = "Global Administrator, or Application Administrator or Cloud Application Administrator plus Privileged Role Administrator";

/// The catalogue, in [`CatalogueKey::ALL`] order.
pub static ROWS: &[CatalogueRow] = &[
    CatalogueRow {
        key: CatalogueKey::GdapAccess,
        section: "GDAP Access Errors",
        code: Some("AADSTS50177"),
        title: "The Partner Portal user does not have GDAP access to customer tenant",
        explanation: "The user you authenticated with does not have access to the customer tenant through the GDAP security group.",
        causes: &[],
        steps: &[
            "Add the authenticated user to the GDAP security group that grants admin access to this customer tenant in Microsoft Partner Center.",
            "Alternatively, reconnect the Partner Portal with a different user who already has GDAP access to this tenant.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::RelationshipAlreadyActive,
        section: "GDAP Access Errors",
        code: Some("403 disallowedOperation"),
        title: "Operation not allowed: tenant already has an active GDAP relationship",
        explanation: "You tried to create a new GDAP relationship request for a tenant that already has an active relationship.",
        causes: &[],
        steps: &[
            "Check the managed tenants table to see if the tenant already appears with an active GDAP relationship.",
            "If the relationship exists but shows Missing permissions, the relationship may need to be updated with the required roles rather than creating a new one.",
            "If you need to create a new relationship, first terminate the existing one in Microsoft Partner Center.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::DuplicateDisplayName,
        section: "GDAP Access Errors",
        code: Some("400"),
        title: "GDAP relationship request failed: duplicate display name",
        explanation: "You tried to create a GDAP relationship with a display name that already exists for another relationship.",
        causes: &[],
        steps: &[
            "Use a unique display name for the new GDAP relationship request.",
            "Display names must also meet Microsoft's length requirements (50 characters at most; validated automatically).",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::AssignmentFailed,
        section: "GDAP Assignment Errors",
        code: None,
        title: "Could not assign your user to the GDAP relationship for this tenant",
        explanation: "Your user could not be assigned to the GDAP relationship for the target tenant. The operation stopped immediately, and no changes were made to the tenant.",
        causes: &[],
        steps: &[
            "Wait a couple of minutes and retry. Microsoft sometimes takes a moment to propagate GDAP relationship changes.",
            "Verify that the GDAP relationship is active and includes the required admin roles (Global Administrator, or Application Administrator or Cloud Application Administrator plus Privileged Role Administrator).",
            "Confirm that the authenticated user is in the GDAP security group for this customer tenant.",
            "If the issue persists, check the GDAP relationship in Microsoft Partner Center for any pending or degraded state.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::InsufficientPermissions,
        section: "Permission Errors",
        code: Some("Unsupported token"),
        title: "The Partner Portal user does not have sufficient permissions to manage customer tenant",
        explanation: "This error (often \"Unsupported token\") indicates one of the causes below.",
        causes: &[
            "The authenticated account does not have the Admin Agent role in Microsoft Partner Center.",
            "The Azure AD application is not properly consented in your MSP tenant.",
            "The user is not a member of the GDAP security groups for your customer tenants.",
        ],
        steps: &[
            "Verify the user has the Admin Agent role in Partner Center.",
            "Ensure the user is a member of the GDAP security groups for your customer tenants.",
            "If needed, reconnect the Partner Portal to refresh the consent and permissions.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::AuthorizationRevoked,
        section: "Session Expiration Errors",
        code: Some("AADSTS65001"),
        title: "The Partner Portal authorization has expired or been revoked",
        explanation: "Your OAuth session has expired or been revoked.",
        causes: &[],
        steps: &[
            "Click Re-authenticate with Microsoft Partner Center from the overflow menu at the top of the managed tenants table.",
            "Sign in again with your MSP tenant credentials and consent to the requested permissions.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::SessionExpired,
        section: "Session Expiration Errors",
        code: Some("AADSTS700082"),
        title: "The Partner Portal session has expired",
        explanation: "Your OAuth session has expired or been revoked.",
        causes: &[],
        steps: &[
            "Click Re-authenticate with Microsoft Partner Center from the overflow menu at the top of the managed tenants table.",
            "Sign in again with your MSP tenant credentials and consent to the requested permissions.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::GdapPermissionsMissing,
        section: "GDAP permission requirements",
        code: None,
        title: "This tenant does not have the required GDAP permissions",
        explanation: "To onboard a tenant through Partner Center, the GDAP relationship must include either Global Administrator, or Application Administrator or Cloud Application Administrator plus Privileged Role Administrator. The tenant shows Missing under GDAP Permissions; the missing roles are listed below.",
        causes: &[],
        steps: &[
            "If you do not have Global Administrator, the relationship needs Privileged Role Administrator in addition to Application Administrator or Cloud Application Administrator.",
            "Click Request to create a new GDAP relationship request with the required roles. You will receive a link that the client's admin needs to approve.",
            "Retry after the client's admin has approved the request.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::RefreshRequiresPartnerCenter,
        section: "Refreshing email permissions",
        code: None,
        title: "Email permissions can only be refreshed for tenants onboarded through Partner Center",
        explanation: "The refresh operation only works for tenants that were onboarded through Partner Center.",
        causes: &[],
        steps: &[
            "If the tenant was added through the Single Tenant flow, you'll need to update permissions outside of Partner Center.",
            "To manage a legacy tenant's permissions here, migrate it to Partner Center first (Migrate to Partner Center in the Actions column).",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::NoLegacyTenant,
        section: "Migration Errors",
        code: None,
        title: "No existing legacy tenant found to migrate",
        explanation: "The tenant was not onboarded individually before. Migration is only for tenants that were originally added outside of Partner Center.",
        causes: &[],
        steps: &["If the tenant is not yet onboarded, use Onboard instead."],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::AlreadyManagedByPartnerCenter,
        section: "Migration Errors",
        code: None,
        title: "This tenant is already managed by Partner Center",
        explanation: "The tenant has already been migrated or was onboarded through Partner Center originally.",
        causes: &[],
        steps: &["No action is needed."],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::MigrationMissingGdapPermissions,
        section: "Migration Errors",
        code: None,
        title: "This tenant does not have the required GDAP permissions for migration",
        explanation: "The GDAP relationship for this tenant is missing one or more of the required admin roles.",
        causes: &[],
        steps: &[
            "Request a new GDAP relationship with the required roles (Global Administrator, or Application Administrator or Cloud Application Administrator plus Privileged Role Administrator), then retry the migration.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::MigrationGrantFailed,
        section: "Migration Errors",
        code: None,
        title: "Migration failed: could not grant permissions",
        explanation: "The Partner Center app was installed but not all required permissions could be granted. The permissions that failed, and why, are listed below.",
        causes: &[],
        steps: &[
            "Check that the GDAP relationship is active and includes the required admin roles.",
            "If an admin consent URL is provided in the error message, have a tenant admin grant consent using that URL.",
            "Retry the migration after resolving the permission issues.",
        ],
        admin_consent: true,
    },
    CatalogueRow {
        key: CatalogueKey::MigrationVerificationFailed,
        section: "Migration Errors",
        code: None,
        title: "Migration failed: only X of Y permissions verified",
        explanation: "The app was installed and permissions were granted, but verification found that some permissions are missing. The missing permissions are listed below.",
        causes: &[],
        steps: &[
            "Review the missing permissions listed in the error message.",
            "Verify the GDAP relationship includes the required admin roles.",
            "Retry the migration. If the issue persists, contact support.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::AppPermissionGrantFailed,
        section: "Application Permission Grant Failures",
        code: None,
        title: "Failed to grant application permissions",
        explanation: "Delegated permissions (via Partner Center) and application permissions (via Graph API) are both granted; the application permissions failed, either some of them (listed below) or all of them individually. This typically indicates a GDAP relationship issue or insufficient permissions.",
        causes: &[],
        steps: &[
            "Check that the GDAP relationship is active and includes the required admin roles.",
            "Check that the authenticated user has the Admin Agent role in Partner Center.",
            "Check that the user is a member of the GDAP security group for this customer tenant.",
        ],
        admin_consent: true,
    },
    CatalogueRow {
        key: CatalogueKey::OnboardGrantFailed,
        section: "Application Permission Grant Failures",
        code: None,
        title: "Cannot onboard tenant: failed to grant permissions",
        explanation: "One or more required permissions failed to grant during onboarding. Onboarding is blocked because without the full set of permissions, monitoring and protection cannot function properly. The permissions that failed, and why, are listed below.",
        causes: &[],
        steps: &[
            "Review the permission failures listed in the error message.",
            "If an admin consent URL is provided, have a tenant admin grant consent using that URL.",
            "Verify the GDAP relationship includes the required admin roles (Global Administrator, or Application Administrator or Cloud Application Administrator plus Privileged Role Administrator).",
            "Retry onboarding after resolving the permission issues.",
        ],
        admin_consent: true,
    },
    CatalogueRow {
        key: CatalogueKey::MfaRequired,
        section: "Session Expiration Errors",
        code: Some("900421"),
        title: "Partner Center requires multi-factor authentication for this account",
        explanation: "Partner Center rejects App+User calls whose token does not carry the MFA claim (401, error code 900421).",
        causes: &[],
        steps: &[
            "Make sure the Partner Center account has MFA enabled and enforced: it must prompt for MFA at sign-in.",
            "Click Re-authenticate with Microsoft Partner Center and complete the MFA prompt.",
            "If you sign in through a federated identity provider, make sure it passes the MFA claim to Microsoft Entra ID.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::OwnTenantHardDelete,
        section: "Partner tenant",
        code: Some("403"),
        title: "Cannot hard-delete the MSP's own partner tenant. Disable via /my-tenant first.",
        explanation: "Deleting your own tenant row would break sign-in for every MSP user and cascade-delete audit events needed for incident forensics.",
        causes: &[],
        steps: &[
            "Use the Disable action on the /my-tenant page (Settings → My tenant) instead; it clears the flag and removes the row.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::SecondPartnerTenant,
        section: "Partner tenant",
        code: Some("409"),
        title: "Multiple partner tenants per MSP are not supported",
        explanation: "Each MSP has exactly one Microsoft partner registration and therefore exactly one partner tenant.",
        causes: &[],
        steps: &[
            "If your Microsoft partner tenant ID changed, disable the current partner tenant via /my-tenant, complete Graph consent again from the new tenant, and it will be enabled again with the new ID.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::RelationshipNotActive,
        section: "Relationship Lifecycle",
        code: None,
        title: "The GDAP relationship is not active",
        explanation: "Security groups can be assigned, and roles changed, only on an active relationship. A relationship waiting for approval becomes active when the customer's admin approves it.",
        causes: &[],
        steps: &[
            "If the relationship is waiting for approval, send the customer's admin the approval link and run wait-approval.",
            "If it expired or was terminated, request a new relationship (request-permissions).",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::ApprovalTimedOut,
        section: "Relationship Lifecycle",
        code: None,
        title: "The customer has not approved the GDAP relationship yet",
        explanation: "The relationship is still waiting for the customer's admin. A request that is not approved within 90 days expires.",
        causes: &[],
        steps: &[
            "Send the approval link to a Global Administrator of the customer tenant.",
            "Run wait-approval again (or register the Partner Center webhook) to continue as soon as it is approved.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::ApprovalEnded,
        section: "Relationship Lifecycle",
        code: None,
        title: "The GDAP relationship ended without being approved",
        explanation: "The request was declined, expired after 90 days without approval, or was terminated.",
        causes: &[],
        steps: &[
            "Confirm with the customer that they want to grant access.",
            "Request a new relationship (request-permissions) and send the new approval link.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::OperationIncomplete,
        section: "Relationship Lifecycle",
        code: None,
        title: "The change to the GDAP relationship did not complete",
        explanation: "Microsoft accepted the change as a long-running operation, which failed or had not finished before the deadline.",
        causes: &[],
        steps: &[
            "Run the command again: finished changes are detected and not repeated.",
            "If it keeps failing, check the relationship's operations in Microsoft Partner Center.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::WebhookRegisteredElsewhere,
        section: "Relationship Lifecycle",
        code: None,
        title: "Partner Center already sends webhook events to another address",
        explanation: "A partner tenant has a single Partner Center webhook registration; replacing it stops the events another tool relies on.",
        causes: &[],
        steps: &[
            "Keep the existing registration and rely on polling (wait-approval) instead.",
            "Or, if the other tool is no longer used, replace the registration explicitly (--force).",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::AmbiguousGroup,
        section: "Relationship Lifecycle",
        code: None,
        title: "Several security groups have the same name",
        explanation: "Group names are not unique in Microsoft Entra ID, so the group to use cannot be chosen by name.",
        causes: &[],
        steps: &[
            "Rename or delete the extra groups in Microsoft Entra ID > Groups so that one group has the name.",
            "Run the command again.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::GroupNotFound,
        section: "Relationship Lifecycle",
        code: None,
        title: "The GDAP security group does not exist in the partner tenant",
        explanation: "The group template names a security group that is not in the partner tenant.",
        causes: &[],
        steps: &[
            "Create the groups from the template first (the groups command), then run this again.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::UserNotFound,
        section: "Relationship Lifecycle",
        code: None,
        title: "No such user in the partner tenant",
        explanation: "The user (service account) was not found by sign-in name or object id.",
        causes: &[],
        steps: &[
            "Check the user principal name (for example svc-gdap@yourmsp.onmicrosoft.com).",
            "Create the dedicated service account in Microsoft Entra ID and sign in with it once to enrol MFA.",
        ],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::InvalidRequest,
        section: "Requests",
        code: Some("400"),
        title: "The GDAP relationship request is invalid",
        explanation: "The request breaks a GDAP rule and was not sent.",
        causes: &[],
        steps: &["Correct the request as described and try again."],
        admin_consent: false,
    },
    CatalogueRow {
        key: CatalogueKey::ServiceError,
        section: "Other",
        code: None,
        title: "Microsoft returned an error",
        explanation: "A call to Microsoft Graph, Partner Center or the sign-in service failed.",
        causes: &[],
        steps: &[
            "Wait a couple of minutes and retry.",
            "If the issue persists, contact support with the request id shown.",
        ],
        admin_consent: false,
    },
];

/// What is known about the situation, to fill the message in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExplainContext {
    /// The signed-in partner user's email.
    pub user_email: Option<String>,
    /// The customer tenant's display name.
    pub tenant_name: Option<String>,
    /// The customer tenant (used when the error does not name one).
    pub tenant_id: Option<TenantId>,
    /// The app being installed (for the admin-consent URL).
    pub application_id: Option<AppId>,
    /// The authority the admin-consent URL is built on; without it no URL is given.
    pub authority: Option<Url>,
}

impl ExplainContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the user's email.
    pub fn with_user_email(mut self, email: impl Into<String>) -> Self {
        self.user_email = Some(email.into());
        self
    }

    /// Sets the tenant's name.
    pub fn with_tenant_name(mut self, name: impl Into<String>) -> Self {
        self.tenant_name = Some(name.into());
        self
    }

    /// Sets the tenant.
    pub fn with_tenant_id(mut self, tenant: TenantId) -> Self {
        self.tenant_id = Some(tenant);
        self
    }

    /// Sets the app and the authority for the admin-consent URL.
    pub fn with_admin_consent(mut self, application_id: AppId, authority: Url) -> Self {
        self.application_id = Some(application_id);
        self.authority = Some(authority);
        self
    }
}

/// A catalogue row rendered for one error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogueEntry {
    /// The row.
    pub key: CatalogueKey,
    /// The code (from the error when it carries one, else the seed's).
    pub code: Option<String>,
    /// The seed's quoted message (with X and Y filled in where it has them).
    pub title: String,
    /// The message for this occurrence: the title with the user's email, the tenant name and
    /// the specifics filled in.
    pub message: String,
    /// The seed's explanation.
    pub explanation: String,
    /// Causes the seed lists.
    pub causes: Vec<String>,
    /// Specifics of this occurrence: failed permissions, missing roles, the service's words.
    pub details: Vec<String>,
    /// The seed's resolution steps.
    pub steps: Vec<String>,
    /// The admin-consent URL fallback, where it applies and the context allows building it.
    pub admin_consent_url: Option<String>,
}

impl CatalogueEntry {
    /// Plain text: message, details, numbered steps and the admin-consent URL.
    pub fn to_text(&self) -> String {
        let mut out = self.message.clone();
        if let Some(code) = &self.code {
            out.push_str(&format!(" [{code}]"));
        }
        out.push('\n');
        for d in &self.details {
            out.push_str(&format!("  - {d}\n"));
        }
        if !self.causes.is_empty() {
            out.push_str("Possible causes:\n");
            for (i, c) in self.causes.iter().enumerate() {
                out.push_str(&format!("  {}. {c}\n", i + 1));
            }
        }
        out.push_str("To resolve:\n");
        for (i, s) in self.steps.iter().enumerate() {
            out.push_str(&format!("  {}. {s}\n", i + 1));
        }
        if let Some(url) = &self.admin_consent_url {
            out.push_str(&format!("Admin consent URL: {url}\n"));
        }
        out
    }
}

/// The catalogue row of an error.
pub fn key_of(error: &OnboardError) -> CatalogueKey {
    match error {
        OnboardError::GdapAccessDenied { .. } => CatalogueKey::GdapAccess,
        OnboardError::ActiveRelationshipExists { .. } => CatalogueKey::RelationshipAlreadyActive,
        OnboardError::DuplicateDisplayName { .. } => CatalogueKey::DuplicateDisplayName,
        OnboardError::AssignmentFailed { .. } => CatalogueKey::AssignmentFailed,
        OnboardError::InsufficientPermissions { .. } => CatalogueKey::InsufficientPermissions,
        OnboardError::AuthorizationRevoked { .. } => CatalogueKey::AuthorizationRevoked,
        OnboardError::SessionExpired { .. } => CatalogueKey::SessionExpired,
        OnboardError::MfaRequired { .. } => CatalogueKey::MfaRequired,
        OnboardError::NoLegacyTenant { .. } => CatalogueKey::NoLegacyTenant,
        OnboardError::MissingGdapPermissions { .. } => CatalogueKey::GdapPermissionsMissing,
        OnboardError::RefreshRequiresPartnerCenter { .. } => {
            CatalogueKey::RefreshRequiresPartnerCenter
        }
        OnboardError::AlreadyManagedByPartnerCenter { .. } => {
            CatalogueKey::AlreadyManagedByPartnerCenter
        }
        OnboardError::MigrationMissingGdapPermissions { .. } => {
            CatalogueKey::MigrationMissingGdapPermissions
        }
        OnboardError::MigrationGrantFailed { .. } => CatalogueKey::MigrationGrantFailed,
        OnboardError::MigrationVerificationFailed { .. } => {
            CatalogueKey::MigrationVerificationFailed
        }
        OnboardError::AppPermissionGrantFailed { .. } => CatalogueKey::AppPermissionGrantFailed,
        OnboardError::OnboardGrantFailed { .. } => CatalogueKey::OnboardGrantFailed,
        OnboardError::OwnTenantHardDelete { .. } => CatalogueKey::OwnTenantHardDelete,
        OnboardError::SecondPartnerTenant { .. } => CatalogueKey::SecondPartnerTenant,
        OnboardError::InvalidTemplate(_) | OnboardError::InvalidDisplayName { .. } => {
            CatalogueKey::InvalidRequest
        }
        OnboardError::RelationshipNotActive { .. } => CatalogueKey::RelationshipNotActive,
        OnboardError::ApprovalTimedOut { .. } => CatalogueKey::ApprovalTimedOut,
        OnboardError::ApprovalEnded { .. } => CatalogueKey::ApprovalEnded,
        OnboardError::OperationIncomplete { .. } => CatalogueKey::OperationIncomplete,
        OnboardError::WebhookRegisteredElsewhere { .. } => CatalogueKey::WebhookRegisteredElsewhere,
        OnboardError::AmbiguousGroup { .. } => CatalogueKey::AmbiguousGroup,
        OnboardError::GroupNotFound { .. } => CatalogueKey::GroupNotFound,
        OnboardError::UserNotFound { .. } => CatalogueKey::UserNotFound,
        OnboardError::Service { .. } => CatalogueKey::ServiceError,
    }
}

fn failures(fs: &[GrantFailure]) -> Vec<String> {
    fs.iter().map(ToString::to_string).collect()
}

/// Renders `error` for people, filling in what `ctx` knows.
pub fn explain(error: &OnboardError, ctx: &ExplainContext) -> CatalogueEntry {
    let key = key_of(error);
    let row = key.row();
    let tenant_id = error.tenant().or(ctx.tenant_id);
    let tenant = match (&ctx.tenant_name, tenant_id) {
        (Some(name), Some(id)) => format!("{name} ({id})"),
        (Some(name), None) => name.clone(),
        (None, Some(id)) => id.to_string(),
        (None, None) => "(unknown tenant)".to_owned(),
    };
    let email = ctx
        .user_email
        .clone()
        .unwrap_or_else(|| "(unknown user)".to_owned());
    let mut title = row.title.to_owned();
    let mut details = Vec::new();
    let message = match error {
        OnboardError::GdapAccessDenied { .. } => format!(
            "The Partner Portal user {email} does not have GDAP access to customer tenant {tenant}"
        ),
        OnboardError::ActiveRelationshipExists {
            relationship_id, ..
        } => {
            if let Some(id) = relationship_id {
                details.push(format!("Active relationship: {id}"));
            }
            format!(
                "Operation not allowed: tenant {tenant} already has an active GDAP relationship"
            )
        }
        OnboardError::DuplicateDisplayName { display_name, .. } => {
            if display_name.is_empty() {
                row.title.to_owned()
            } else {
                format!("{}: \"{display_name}\"", row.title)
            }
        }
        OnboardError::AssignmentFailed {
            relationship_id, ..
        } => {
            if let Some(id) = relationship_id {
                details.push(format!("Relationship: {id}"));
            }
            format!(
                "Could not assign your user ({email}) to the GDAP relationship for this tenant ({tenant})"
            )
        }
        OnboardError::InsufficientPermissions { .. } => format!(
            "The Partner Portal user {email} does not have sufficient permissions to manage customer tenant {tenant}"
        ),
        OnboardError::AuthorizationRevoked { .. }
        | OnboardError::SessionExpired { .. }
        | OnboardError::MfaRequired { .. } => row.title.to_owned(),
        OnboardError::NoLegacyTenant { .. }
        | OnboardError::AlreadyManagedByPartnerCenter { .. } => {
            format!("{} ({tenant})", row.title)
        }
        OnboardError::RefreshRequiresPartnerCenter { .. } => format!("{} ({tenant})", row.title),
        OnboardError::MissingGdapPermissions { missing, .. }
        | OnboardError::MigrationMissingGdapPermissions { missing, .. } => {
            details.extend(missing.iter().map(|m| format!("Missing: {m}")));
            details.push(format!("Required: {REQUIRED_ROLES}"));
            format!("{} ({tenant})", row.title)
        }
        OnboardError::MigrationGrantFailed { failures: fs, .. }
        | OnboardError::OnboardGrantFailed { failures: fs, .. } => {
            details.extend(failures(fs));
            format!("{} ({tenant})", row.title)
        }
        OnboardError::MigrationVerificationFailed {
            verified,
            expected,
            missing,
            ..
        } => {
            title = format!("Migration failed: only {verified} of {expected} permissions verified");
            details.extend(missing.iter().map(|m| format!("Missing: {m}")));
            format!("{title} ({tenant})")
        }
        OnboardError::AppPermissionGrantFailed {
            failures: fs,
            all_failed,
            ..
        } => {
            if !fs.is_empty() && fs.iter().all(|f| f.resource_name == "Microsoft Graph") {
                title = "Failed to grant Graph API permissions".to_owned();
            }
            if *all_failed {
                details.push("All permissions failed individually.".to_owned());
            }
            details.extend(failures(fs));
            format!("{title} ({tenant})")
        }
        OnboardError::OwnTenantHardDelete { .. } => row.title.to_owned(),
        OnboardError::SecondPartnerTenant {
            existing,
            requested,
        } => {
            details.push(format!("Partner tenant already enabled: {existing}"));
            details.push(format!("Refused: {requested}"));
            row.title.to_owned()
        }
        OnboardError::InvalidTemplate(e) => format!("{}: {e}", row.title),
        OnboardError::InvalidDisplayName {
            display_name,
            reason,
        } => format!("{}: display name \"{display_name}\" {reason}", row.title),
        OnboardError::RelationshipNotActive {
            relationship_id,
            status,
        }
        | OnboardError::ApprovalEnded {
            relationship_id,
            status,
        } => {
            details.push(format!("Relationship: {relationship_id} ({status})"));
            format!("{} ({relationship_id} is {status})", row.title)
        }
        OnboardError::ApprovalTimedOut {
            relationship_id,
            status,
            waited_secs,
            approval_link,
        } => {
            details.push(format!("Relationship: {relationship_id} ({status})"));
            details.push(format!("Waited: {waited_secs} s"));
            details.push(format!("Approval link: {approval_link}"));
            format!("{} ({relationship_id})", row.title)
        }
        OnboardError::OperationIncomplete {
            relationship_id,
            status,
            waited_secs,
        } => {
            details.push(format!("Relationship: {relationship_id}"));
            details.push(format!("Operation status: {status} after {waited_secs} s"));
            format!("{} ({relationship_id})", row.title)
        }
        OnboardError::WebhookRegisteredElsewhere {
            existing_url,
            existing_events,
        } => {
            details.push(format!("Registered callback: {existing_url}"));
            if !existing_events.is_empty() {
                details.push(format!("Its events: {}", existing_events.join(", ")));
            }
            format!("{} ({existing_url})", row.title)
        }
        OnboardError::AmbiguousGroup { display_name, ids } => {
            details.extend(ids.iter().map(|id| format!("Group: {id}")));
            format!("{}: \"{display_name}\"", row.title)
        }
        OnboardError::GroupNotFound { display_name } => {
            format!("{}: \"{display_name}\"", row.title)
        }
        OnboardError::UserNotFound { user } => format!("{}: {user}", row.title),
        OnboardError::Service { operation, .. }
            if tenant_id.is_none() && ctx.tenant_name.is_none() =>
        {
            format!("{} while {operation}", row.title)
        }
        OnboardError::Service { operation, .. } => {
            format!("{} while {operation} ({tenant})", row.title)
        }
    };
    if let Some(p) = error.port_error() {
        details.push(format!("Service error: {p}"));
    }
    let code = error
        .port_error()
        .and_then(|p| {
            p.aadsts_codes()
                .first()
                .map(|c| format!("AADSTS{c}"))
                .or_else(|| p.service_code().map(str::to_owned))
        })
        .or_else(|| row.code.map(str::to_owned));
    let admin_consent_url = if row.admin_consent {
        match (tenant_id, ctx.application_id, &ctx.authority) {
            (Some(t), Some(app), Some(authority)) => Some(
                Links::new(authority.clone(), authority.clone())
                    .admin_consent_url(&t, &app)
                    .to_string(),
            ),
            _ => None,
        }
    } else {
        None
    };
    let mut steps: Vec<String> = row.steps.iter().map(|s| (*s).to_owned()).collect();
    if let (OnboardError::Service { source, .. }, false) = (error, error.is_retryable()) {
        // Retrying unchanged cannot help a refusal; say what can.
        match source.kind() {
            PortErrorKind::Invalid | PortErrorKind::Conflict => {
                steps = vec![
                    "Microsoft refused the request for this object in its current state; the service error above says why.".to_owned(),
                    "Change the input or the object's state (in Microsoft Partner Center or Entra ID) and run again: retrying unchanged fails the same way.".to_owned(),
                    "If the refusal looks wrong, contact support with the request id shown.".to_owned(),
                ];
            }
            PortErrorKind::NotFound => {
                steps = vec![
                    "The object no longer exists (or was never visible to this account): sync again to refresh the view.".to_owned(),
                    "If it should exist, check it in Microsoft Partner Center or Entra ID; contact support with the request id shown if it does.".to_owned(),
                ];
            }
            _ => {}
        }
    }
    CatalogueEntry {
        key,
        code,
        title,
        message,
        explanation: row.explanation.to_owned(),
        causes: row.causes.iter().map(|s| (*s).to_owned()).collect(),
        details,
        steps,
        admin_consent_url,
    }
}

impl OnboardError {
    /// Renders the error for people; see [`explain`].
    pub fn explain(&self, ctx: &ExplainContext) -> CatalogueEntry {
        explain(self, ctx)
    }

    /// The catalogue row.
    pub fn catalogue_key(&self) -> CatalogueKey {
        key_of(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_follow_all_order() {
        assert_eq!(ROWS.len(), CatalogueKey::ALL.len());
        for (row, key) in ROWS.iter().zip(CatalogueKey::ALL) {
            assert_eq!(row.key, *key);
            assert_eq!(key.row().key, *key);
            assert!(!row.steps.is_empty());
        }
    }
}
