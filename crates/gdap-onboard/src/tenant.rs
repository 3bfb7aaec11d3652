//! The managed-tenants table: one [`ManagedTenant`] row per customer tenant, and the product's
//! own record of each tenant ([`TenantRecord`]).
//!
//! A row combines what Graph says (relationships, roles, names, user counts) with what the
//! product itself knows (kept in a [`crate::ports::TenantStore`]): whether the tenant was
//! onboarded and how, whether monitoring is paused, whether it was deleted, whether the email
//! permissions need a refresh, and which tenant is the MSP's own.

use gdap_core::{RelationshipId, TenantId};
use serde::Serialize;
use time::OffsetDateTime;

use crate::readiness::{Readiness, RoleRef};
use crate::relationship::{Relationship, RelationshipStatus};
use crate::templates::Days;

/// The "Petra Status" column: the tenant's onboarding state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum TenantStatus {
    /// Onboarded and monitored.
    Monitoring,
    /// Onboarded, monitoring paused.
    Paused,
    /// Was onboarded, then deleted, and shows up again through GDAP.
    PreviouslyDeleted,
    /// Not onboarded.
    NotProtected,
}

impl TenantStatus {
    /// The label the table shows.
    pub fn label(&self) -> &'static str {
        match self {
            TenantStatus::Monitoring => "Monitoring",
            TenantStatus::Paused => "Paused",
            TenantStatus::PreviouslyDeleted => "Previously Deleted",
            TenantStatus::NotProtected => "Not Protected",
        }
    }

    /// Monitoring or paused: the app is installed.
    pub fn is_onboarded(&self) -> bool {
        matches!(self, TenantStatus::Monitoring | TenantStatus::Paused)
    }
}

/// The "Email Perms" column: whether the app has the Exchange permissions it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum EmailPerms {
    /// Granted and verified.
    Ok,
    /// Revoked, modified or incomplete: the table shows a Refresh button.
    NeedsRefresh,
    /// The tenant is not onboarded, so there is nothing to check.
    NotApplicable,
    /// Not checked yet.
    Unknown,
}

/// How a tenant was onboarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum OnboardedVia {
    /// Through Partner Center (CPV consent + Graph grants over GDAP).
    PartnerCenter,
    /// Individually, by the customer's Global Admin consenting: shows the Legacy badge.
    Individually,
    /// The MSP's own tenant, through the partner app's admin consent (client credentials).
    OwnTenantConsent,
}

/// The product's onboarding state for a tenant, as recorded in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Protection {
    /// Never onboarded (or the record only remembers the name).
    NotOnboarded,
    /// Onboarded and monitored.
    Monitoring,
    /// Onboarded, monitoring paused.
    Paused,
    /// Onboarded once, then deleted.
    Deleted,
}

/// What the product itself knows about a tenant (kept in a [`crate::ports::TenantStore`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TenantRecord {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The name last seen.
    pub display_name: Option<String>,
    /// Onboarding state.
    pub protection: Protection,
    /// How it was onboarded, when it was.
    pub onboarded_via: Option<OnboardedVia>,
    /// Email permission state.
    pub email_perms: EmailPerms,
    /// The MSP's own partner tenant (seed 003 `is_own_msp_tenant`).
    pub is_own_partner_tenant: bool,
}

impl TenantRecord {
    /// A record of a tenant that is not onboarded.
    pub fn new(tenant_id: TenantId) -> Self {
        Self {
            tenant_id,
            display_name: None,
            protection: Protection::NotOnboarded,
            onboarded_via: None,
            email_perms: EmailPerms::Unknown,
            is_own_partner_tenant: false,
        }
    }

    /// A record of an onboarded tenant.
    pub fn onboarded(tenant_id: TenantId, via: OnboardedVia) -> Self {
        Self {
            protection: Protection::Monitoring,
            onboarded_via: Some(via),
            email_perms: EmailPerms::Ok,
            ..TenantRecord::new(tenant_id)
        }
    }

    /// Sets the name.
    pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Sets the protection state.
    pub fn with_protection(mut self, protection: Protection) -> Self {
        self.protection = protection;
        self
    }

    /// Sets the email permission state.
    pub fn with_email_perms(mut self, email_perms: EmailPerms) -> Self {
        self.email_perms = email_perms;
        self
    }

    /// Marks it as the MSP's own partner tenant.
    pub fn with_own_partner_tenant(mut self, own: bool) -> Self {
        self.is_own_partner_tenant = own;
        self
    }

    /// The table status this record gives.
    pub fn status(&self) -> TenantStatus {
        match self.protection {
            Protection::NotOnboarded => TenantStatus::NotProtected,
            Protection::Monitoring => TenantStatus::Monitoring,
            Protection::Paused => TenantStatus::Paused,
            Protection::Deleted => TenantStatus::PreviouslyDeleted,
        }
    }

    /// Whether the row shows the Legacy badge: onboarded individually and still onboarded.
    pub fn is_legacy(&self) -> bool {
        self.onboarded_via == Some(OnboardedVia::Individually) && self.status().is_onboarded()
    }

    /// The email-permission column this record gives.
    pub fn email_perms_column(&self) -> EmailPerms {
        if self.status().is_onboarded() {
            self.email_perms
        } else {
            EmailPerms::NotApplicable
        }
    }
}

/// Auto-extend state of a relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
#[non_exhaustive]
pub enum AutoExtend {
    /// Extends by `days` at its end date.
    Enabled {
        /// The period.
        days: Days,
    },
    /// Expires at its end date.
    Disabled,
    /// Carries Global Administrator, so it cannot be auto-extended.
    NotAllowedWithGlobalAdmin,
}

impl AutoExtend {
    /// The state of `rel`.
    pub fn of(rel: &Relationship) -> Self {
        if rel.auto_extend.get() > 0 {
            AutoExtend::Enabled {
                days: rel.auto_extend,
            }
        } else if rel.has_global_admin() {
            AutoExtend::NotAllowedWithGlobalAdmin
        } else {
            AutoExtend::Disabled
        }
    }
}

/// One relationship as the table shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelationshipSummary {
    /// Its id.
    pub id: RelationshipId,
    /// Its display name.
    pub display_name: String,
    /// Its status.
    pub status: RelationshipStatus,
    /// Its roles.
    pub roles: Vec<RoleRef>,
    /// When it ends.
    #[serde(with = "time::serde::rfc3339::option")]
    pub end_date_time: Option<OffsetDateTime>,
    /// Its auto-extend state.
    pub auto_extend: AutoExtend,
}

impl From<&Relationship> for RelationshipSummary {
    fn from(r: &Relationship) -> Self {
        Self {
            id: r.id.clone(),
            display_name: r.display_name.clone(),
            status: r.status.clone(),
            roles: RoleRef::list(&r.roles),
            end_date_time: r.end_date_time,
            auto_extend: AutoExtend::of(r),
        }
    }
}

/// An action the "Actions" column offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum TenantAction {
    /// Install and grant the app.
    Onboard,
    /// Open the tenant.
    View,
    /// Migrate a Legacy tenant to Partner Center management.
    MigrateToPartnerCenter,
    /// Create a relationship request with the missing roles.
    RequestPermissions,
    /// Create a new relationship request with every role the app needs.
    ReRequestPermissions,
    /// Refresh the email permissions.
    RefreshEmailPermissions,
}

/// One row of the managed-tenants table (seed 000, "What the table shows").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedTenant {
    /// The customer tenant id.
    pub tenant_id: TenantId,
    /// The customer's display name.
    pub display_name: String,
    /// The Legacy badge: onboarded individually, not through Partner Center.
    pub legacy: bool,
    /// The "GDAP Permissions" column.
    pub gdap: Readiness,
    /// Users in the tenant (refreshed on sync); `None` when they could not be counted.
    pub user_count: Option<u64>,
    /// The onboarding status column.
    pub status: TenantStatus,
    /// The "Email Perms" column.
    pub email_perms: EmailPerms,
    /// The tenant's active GDAP relationships (none for the MSP's own tenant).
    pub relationships: Vec<RelationshipSummary>,
    /// The MSP's own partner tenant ("Partner tenant" badge).
    pub is_own_partner_tenant: bool,
    /// What the Actions column offers.
    pub actions: Vec<TenantAction>,
}

impl ManagedTenant {
    /// The actions a row with these values offers.
    pub fn actions_for(
        gdap: &Readiness,
        status: TenantStatus,
        legacy: bool,
        email_perms: EmailPerms,
        own: bool,
    ) -> Vec<TenantAction> {
        if own {
            return vec![TenantAction::View];
        }
        let mut out = Vec::new();
        if status.is_onboarded() {
            out.push(TenantAction::View);
            if legacy && gdap.is_ready() {
                out.push(TenantAction::MigrateToPartnerCenter);
            }
            if !legacy && email_perms == EmailPerms::NeedsRefresh {
                out.push(TenantAction::RefreshEmailPermissions);
            }
        } else if gdap.is_ready() {
            out.push(TenantAction::Onboard);
        }
        if gdap.is_ready() {
            out.push(TenantAction::ReRequestPermissions);
        } else {
            out.push(TenantAction::RequestPermissions);
        }
        out
    }

    /// Whether the tenant counts toward billing (every tenant but the MSP's own).
    pub fn is_billable(&self) -> bool {
        !self.is_own_partner_tenant
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_maps_to_columns() {
        let t = TenantId::new_random();
        let r = TenantRecord::new(t);
        assert_eq!(r.status(), TenantStatus::NotProtected);
        assert_eq!(r.email_perms_column(), EmailPerms::NotApplicable);
        assert!(!r.is_legacy());
        let legacy = TenantRecord::onboarded(t, OnboardedVia::Individually);
        assert!(legacy.is_legacy());
        assert_eq!(legacy.status(), TenantStatus::Monitoring);
        let deleted = legacy.clone().with_protection(Protection::Deleted);
        assert_eq!(deleted.status(), TenantStatus::PreviouslyDeleted);
        assert!(!deleted.is_legacy());
    }

    #[test]
    fn actions() {
        let ready = Readiness::Ready;
        assert_eq!(
            ManagedTenant::actions_for(
                &ready,
                TenantStatus::NotProtected,
                false,
                EmailPerms::NotApplicable,
                false
            ),
            vec![TenantAction::Onboard, TenantAction::ReRequestPermissions]
        );
        assert_eq!(
            ManagedTenant::actions_for(
                &ready,
                TenantStatus::Monitoring,
                true,
                EmailPerms::Ok,
                false
            ),
            vec![
                TenantAction::View,
                TenantAction::MigrateToPartnerCenter,
                TenantAction::ReRequestPermissions
            ]
        );
        let missing = Readiness::Missing { missing: vec![] };
        assert_eq!(
            ManagedTenant::actions_for(
                &missing,
                TenantStatus::NotProtected,
                false,
                EmailPerms::NotApplicable,
                false
            ),
            vec![TenantAction::RequestPermissions]
        );
    }
}
