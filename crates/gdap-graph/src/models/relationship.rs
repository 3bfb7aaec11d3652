//! `delegatedAdminRelationship` and its request bodies.

use gdap_core::roles::{self, RoleTemplate};
use gdap_core::{RelationshipId, RoleTemplateId, TenantId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{IsoDuration, RelationshipStatus};
use crate::error::{Error, Result};

/// Longest relationship `displayName` Graph accepts.
pub const MAX_DISPLAY_NAME_CHARS: usize = 50;

/// `@odata.type` of a reseller relationship.
pub const RESELLER_ODATA_TYPE: &str = "#microsoft.graph.resellerDelegatedAdminRelationship";

/// `unifiedRole`: one Entra role, by template id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnifiedRole {
    /// The role template id.
    pub role_definition_id: RoleTemplateId,
}

impl From<RoleTemplate> for UnifiedRole {
    fn from(r: RoleTemplate) -> Self {
        Self {
            role_definition_id: r.id(),
        }
    }
}

impl From<RoleTemplateId> for UnifiedRole {
    fn from(id: RoleTemplateId) -> Self {
        Self {
            role_definition_id: id,
        }
    }
}

/// `delegatedAdminAccessDetails`: the roles of a relationship or access assignment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessDetails {
    /// The roles.
    #[serde(default)]
    pub unified_roles: Vec<UnifiedRole>,
}

impl AccessDetails {
    /// Access details holding `roles` (role templates or ids).
    pub fn from_roles<I, R>(roles: I) -> Self
    where
        I: IntoIterator<Item = R>,
        R: Into<UnifiedRole>,
    {
        Self {
            unified_roles: roles.into_iter().map(Into::into).collect(),
        }
    }

    /// The role ids.
    pub fn role_ids(&self) -> impl Iterator<Item = &RoleTemplateId> {
        self.unified_roles.iter().map(|r| &r.role_definition_id)
    }

    /// Whether `role` is among the roles.
    pub fn contains(&self, role: &RoleTemplateId) -> bool {
        self.role_ids().any(|r| r == role)
    }

    /// Whether Global Administrator is among the roles.
    pub fn includes_global_administrator(&self) -> bool {
        self.contains(&roles::GLOBAL_ADMINISTRATOR.id())
    }
}

/// `delegatedAdminRelationshipCustomerParticipant`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerParticipant {
    /// The customer's tenant id.
    pub tenant_id: TenantId,
    /// The customer's display name (read-only; may be sent on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl CustomerParticipant {
    /// A participant pinned to `tenant_id`.
    pub fn new(tenant_id: TenantId) -> Self {
        Self {
            tenant_id,
            display_name: None,
        }
    }
}

/// The extra properties of a `resellerDelegatedAdminRelationship`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResellerDetails {
    /// The indirect provider's tenant id.
    pub indirect_provider_tenant_id: String,
    /// `true` while the indirect reseller has not approved or rejected.
    pub is_partner_consent_pending: bool,
}

/// Which kind of relationship an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelationshipKind {
    /// A plain `delegatedAdminRelationship`.
    Direct,
    /// A `resellerDelegatedAdminRelationship` (created by an indirect provider for a reseller).
    Reseller,
}

/// `delegatedAdminRelationship` (or its reseller subtype) as Graph returns it.
///
/// Fields a `$select` left out are empty/`None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DelegatedAdminRelationship {
    /// The relationship id (two GUIDs joined by `-`).
    pub id: RelationshipId,
    /// `@odata.type`, e.g. `#microsoft.graph.resellerDelegatedAdminRelationship`.
    #[serde(
        rename = "@odata.type",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    /// `@odata.etag`: pass it to update and delete.
    #[serde(
        rename = "@odata.etag",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub etag: Option<String>,
    /// Display name, unique per partner.
    #[serde(default)]
    pub display_name: String,
    /// Length of the relationship.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<IsoDuration>,
    /// Auto-extension (`PT0S`/`P0D` none, `P180D`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_extend_duration: Option<IsoDuration>,
    /// Roles.
    #[serde(default)]
    pub access_details: AccessDetails,
    /// The customer, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerParticipant>,
    /// Lifecycle status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RelationshipStatus>,
    /// Creation time.
    #[serde(
        default,
        with = "super::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_date_time: Option<OffsetDateTime>,
    /// Last change.
    #[serde(
        default,
        with = "super::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_modified_date_time: Option<OffsetDateTime>,
    /// When it became active.
    #[serde(
        default,
        with = "super::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub activated_date_time: Option<OffsetDateTime>,
    /// When it ends.
    #[serde(
        default,
        with = "super::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub end_date_time: Option<OffsetDateTime>,
    /// Reseller properties, present on `resellerDelegatedAdminRelationship` items.
    #[serde(flatten)]
    pub reseller: Option<ResellerDetails>,
}

impl DelegatedAdminRelationship {
    /// Plain or reseller relationship (dispatched on `@odata.type`).
    pub fn kind(&self) -> RelationshipKind {
        let reseller_type = self
            .odata_type
            .as_deref()
            .is_some_and(|t| t.ends_with("resellerDelegatedAdminRelationship"));
        if reseller_type || self.reseller.is_some() {
            RelationshipKind::Reseller
        } else {
            RelationshipKind::Direct
        }
    }

    /// Whether the status is `active`.
    pub fn is_active(&self) -> bool {
        self.status
            .as_ref()
            .is_some_and(RelationshipStatus::is_active)
    }

    /// The customer tenant id, once known.
    pub fn customer_tenant_id(&self) -> Option<&TenantId> {
        self.customer.as_ref().map(|c| &c.tenant_id)
    }
}

/// Body of `POST /tenantRelationships/delegatedAdminRelationships`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRelationship {
    /// Display name: 1..=50 characters, unique per partner.
    pub display_name: String,
    /// `P1D`..=`P2Y`.
    pub duration: IsoDuration,
    /// Roles requested.
    pub access_details: AccessDetails,
    /// Pins the invitation to one customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerParticipant>,
    /// `P0D`, `PT0S` or `P180D`; not allowed (non-zero) with Global Administrator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_extend_duration: Option<IsoDuration>,
}

impl NewRelationship {
    /// A relationship request with the required fields.
    pub fn new(
        display_name: impl Into<String>,
        duration: IsoDuration,
        access_details: AccessDetails,
    ) -> Self {
        Self {
            display_name: display_name.into(),
            duration,
            access_details,
            customer: None,
            auto_extend_duration: None,
        }
    }

    /// Pins the invitation to `customer`.
    pub fn with_customer(mut self, customer: CustomerParticipant) -> Self {
        self.customer = Some(customer);
        self
    }

    /// Sets `autoExtendDuration`.
    pub fn with_auto_extend(mut self, d: IsoDuration) -> Self {
        self.auto_extend_duration = Some(d);
        self
    }

    /// Checks what Graph would reject: display name length, duration range, auto-extend value,
    /// auto-extend with Global Administrator, no roles.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the field.
    pub fn validate(&self) -> Result<()> {
        validate_display_name(&self.display_name)?;
        self.duration.check_relationship_duration()?;
        validate_access_details(&self.access_details)?;
        if let Some(ae) = &self.auto_extend_duration {
            ae.check_auto_extend()?;
            check_auto_extend_with_ga(ae, &self.access_details)?;
        }
        Ok(())
    }
}

/// Body of `PATCH /tenantRelationships/delegatedAdminRelationships/{id}`. Only the set fields are
/// sent.
///
/// Graph accepts `displayName`, `duration`, `accessDetails` and `customer` only while the
/// relationship is `created`; `autoExtendDuration` while `created` or `active`; and removal of
/// Global Administrator from an `active` one (answered 202).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelationshipUpdate {
    /// New display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// New duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<IsoDuration>,
    /// New roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_details: Option<AccessDetails>,
    /// New auto-extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_extend_duration: Option<IsoDuration>,
    /// New customer pin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerParticipant>,
}

impl RelationshipUpdate {
    /// Checks each set field as [`NewRelationship::validate`] does, and that something is set.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the field.
    pub fn validate(&self) -> Result<()> {
        if self == &Self::default() {
            return Err(Error::validation("body", "an update must change something"));
        }
        if let Some(n) = &self.display_name {
            validate_display_name(n)?;
        }
        if let Some(d) = &self.duration {
            d.check_relationship_duration()?;
        }
        if let Some(a) = &self.access_details {
            validate_access_details(a)?;
        }
        if let Some(ae) = &self.auto_extend_duration {
            ae.check_auto_extend()?;
            if let Some(a) = &self.access_details {
                check_auto_extend_with_ga(ae, a)?;
            }
        }
        Ok(())
    }
}

pub(crate) fn validate_display_name(name: &str) -> Result<()> {
    let n = name.chars().count();
    if n == 0 || name.trim().is_empty() {
        return Err(Error::validation("displayName", "must not be empty"));
    }
    if n > MAX_DISPLAY_NAME_CHARS {
        return Err(Error::validation(
            "displayName",
            format!("is {n} characters; at most {MAX_DISPLAY_NAME_CHARS} are allowed"),
        ));
    }
    Ok(())
}

pub(crate) fn validate_access_details(a: &AccessDetails) -> Result<()> {
    if a.unified_roles.is_empty() {
        return Err(Error::validation(
            "accessDetails",
            "unifiedRoles must name at least one role",
        ));
    }
    Ok(())
}

fn check_auto_extend_with_ga(ae: &IsoDuration, a: &AccessDetails) -> Result<()> {
    if !ae.is_zero() && a.includes_global_administrator() {
        return Err(Error::validation(
            "autoExtendDuration",
            "a relationship that includes Global Administrator cannot be auto-extended",
        ));
    }
    Ok(())
}
