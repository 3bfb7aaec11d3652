//! GDAP relationships, access assignments and requests, in domain terms.
//!
//! These are what the [`crate::ports::PartnerGdap`] port speaks; the adapter converts from and to
//! the Graph client's models.

use std::collections::BTreeSet;
use std::fmt;

use gdap_core::roles;
use gdap_core::{AssignmentId, RelationshipId, RoleTemplateId, SecurityGroupId, TenantId};
use serde::Serialize;
use time::OffsetDateTime;

use crate::templates::Days;

/// The status of a relationship.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RelationshipStatus {
    /// Being provisioned after approval.
    Activating,
    /// In force.
    Active,
    /// Locked for approval; waiting for the customer.
    ApprovalPending,
    /// Approved by the customer.
    Approved,
    /// Created by the partner; still editable.
    Created,
    /// Ended.
    Expired,
    /// Past its end date, being deprovisioned.
    Expiring,
    /// Terminated.
    Terminated,
    /// Being terminated.
    Terminating,
    /// Termination requested.
    TerminationRequested,
    /// A value this library does not know (including Graph's `unknownFutureValue`); the raw text
    /// is kept.
    Unknown(String),
}

impl RelationshipStatus {
    /// The wire text (`"active"`, `"approvalPending"`, …).
    pub fn as_str(&self) -> &str {
        match self {
            RelationshipStatus::Activating => "activating",
            RelationshipStatus::Active => "active",
            RelationshipStatus::ApprovalPending => "approvalPending",
            RelationshipStatus::Approved => "approved",
            RelationshipStatus::Created => "created",
            RelationshipStatus::Expired => "expired",
            RelationshipStatus::Expiring => "expiring",
            RelationshipStatus::Terminated => "terminated",
            RelationshipStatus::Terminating => "terminating",
            RelationshipStatus::TerminationRequested => "terminationRequested",
            RelationshipStatus::Unknown(s) => s,
        }
    }

    /// Parses the wire text; anything unknown is kept in [`RelationshipStatus::Unknown`].
    pub fn parse(s: &str) -> Self {
        match s {
            "activating" => RelationshipStatus::Activating,
            "active" => RelationshipStatus::Active,
            "approvalPending" => RelationshipStatus::ApprovalPending,
            "approved" => RelationshipStatus::Approved,
            "created" => RelationshipStatus::Created,
            "expired" => RelationshipStatus::Expired,
            "expiring" => RelationshipStatus::Expiring,
            "terminated" => RelationshipStatus::Terminated,
            "terminating" => RelationshipStatus::Terminating,
            "terminationRequested" => RelationshipStatus::TerminationRequested,
            other => RelationshipStatus::Unknown(other.to_owned()),
        }
    }

    /// Whether the relationship grants access now.
    pub fn is_active(&self) -> bool {
        matches!(self, RelationshipStatus::Active)
    }

    /// Whether the relationship is on its way to becoming active (created, waiting for approval,
    /// approved or activating).
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            RelationshipStatus::Created
                | RelationshipStatus::ApprovalPending
                | RelationshipStatus::Approved
                | RelationshipStatus::Activating
        )
    }
}

impl fmt::Display for RelationshipStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RelationshipStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The customer side of a relationship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRef {
    /// The customer's tenant id.
    pub tenant_id: TenantId,
    /// The customer's display name, when known.
    pub display_name: Option<String>,
}

/// A GDAP relationship.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Relationship {
    /// Its id.
    pub id: RelationshipId,
    /// Its display name (unique per partner, at most 50 characters).
    pub display_name: String,
    /// Its status.
    pub status: RelationshipStatus,
    /// The customer, once known.
    pub customer: Option<CustomerRef>,
    /// The roles it carries.
    pub roles: BTreeSet<RoleTemplateId>,
    /// How long it lasts, when the service said and it was whole days.
    pub duration: Option<Days>,
    /// Auto-extend period (0 = none).
    pub auto_extend: Days,
    /// Created.
    pub created_date_time: Option<OffsetDateTime>,
    /// Last modified (for an `approvalPending` relationship: when it was locked for approval).
    pub last_modified_date_time: Option<OffsetDateTime>,
    /// Became active.
    pub activated_date_time: Option<OffsetDateTime>,
    /// Ends.
    pub end_date_time: Option<OffsetDateTime>,
    /// A reseller relationship (indirect provider), which the product does not use for
    /// readiness.
    pub is_reseller: bool,
    /// The service's concurrency token (`@odata.etag`), sent as `If-Match` on updates.
    pub etag: Option<String>,
}

impl Relationship {
    /// A relationship with the given id, name and status and nothing else set.
    pub fn new(
        id: RelationshipId,
        display_name: impl Into<String>,
        status: RelationshipStatus,
    ) -> Self {
        Self {
            id,
            display_name: display_name.into(),
            status,
            customer: None,
            roles: BTreeSet::new(),
            duration: None,
            auto_extend: Days::NONE,
            created_date_time: None,
            last_modified_date_time: None,
            activated_date_time: None,
            end_date_time: None,
            is_reseller: false,
            etag: None,
        }
    }

    /// Sets the ETag.
    pub fn with_etag(mut self, etag: impl Into<String>) -> Self {
        self.etag = Some(etag.into());
        self
    }

    /// Sets the customer.
    pub fn with_customer(mut self, tenant_id: TenantId, display_name: Option<&str>) -> Self {
        self.customer = Some(CustomerRef {
            tenant_id,
            display_name: display_name.map(str::to_owned),
        });
        self
    }

    /// Sets the roles.
    pub fn with_roles(mut self, roles: impl IntoIterator<Item = RoleTemplateId>) -> Self {
        self.roles = roles.into_iter().collect();
        self
    }

    /// Sets the duration.
    pub fn with_duration(mut self, duration: Days) -> Self {
        self.duration = Some(duration);
        self
    }

    /// Sets the auto-extend period.
    pub fn with_auto_extend(mut self, days: Days) -> Self {
        self.auto_extend = days;
        self
    }

    /// Sets the creation, last-modified, activation and end times.
    pub fn with_times(
        mut self,
        created: Option<OffsetDateTime>,
        last_modified: Option<OffsetDateTime>,
        activated: Option<OffsetDateTime>,
        end: Option<OffsetDateTime>,
    ) -> Self {
        self.created_date_time = created;
        self.last_modified_date_time = last_modified;
        self.activated_date_time = activated;
        self.end_date_time = end;
        self
    }

    /// Marks it as a reseller relationship.
    pub fn with_reseller(mut self, is_reseller: bool) -> Self {
        self.is_reseller = is_reseller;
        self
    }

    /// The customer tenant id, if known.
    pub fn customer_tenant(&self) -> Option<TenantId> {
        self.customer.as_ref().map(|c| c.tenant_id)
    }

    /// Whether the name marks a Microsoft-Led Transition relationship (`MLT_…`), created by
    /// Microsoft when DAP was retired; not used for readiness.
    pub fn is_microsoft_led_transition(&self) -> bool {
        self.display_name.starts_with("MLT_")
    }

    /// Whether it carries Global Administrator.
    pub fn has_global_admin(&self) -> bool {
        self.roles.contains(&roles::GLOBAL_ADMINISTRATOR.id())
    }
}

/// What to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRelationship {
    /// Display name (validated, unique).
    pub display_name: String,
    /// The customer the invitation is pinned to.
    pub customer: Option<CustomerRef>,
    /// Roles to request.
    pub roles: Vec<RoleTemplateId>,
    /// Duration.
    pub duration: Days,
    /// Auto-extend period (0 or 180).
    pub auto_extend: Days,
}

/// The status of an access assignment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AssignmentStatus {
    /// Being applied.
    Pending,
    /// In force.
    Active,
    /// Being removed.
    Deleting,
    /// Removed.
    Deleted,
    /// Failed.
    Error,
    /// A value this library does not know; the raw text is kept.
    Unknown(String),
}

impl AssignmentStatus {
    /// Parses the wire text.
    pub fn parse(s: &str) -> Self {
        match s {
            "pending" => AssignmentStatus::Pending,
            "active" => AssignmentStatus::Active,
            "deleting" => AssignmentStatus::Deleting,
            "deleted" => AssignmentStatus::Deleted,
            "error" => AssignmentStatus::Error,
            other => AssignmentStatus::Unknown(other.to_owned()),
        }
    }
}

/// An access assignment: a partner security group holding some of the relationship's roles.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessAssignment {
    /// Its id.
    pub id: AssignmentId,
    /// The security group in the partner tenant.
    pub group: SecurityGroupId,
    /// The roles the group holds in the customer tenant.
    pub roles: BTreeSet<RoleTemplateId>,
    /// Its status.
    pub status: AssignmentStatus,
    /// The service's concurrency token (`@odata.etag`), sent as `If-Match` on updates.
    pub etag: Option<String>,
}

impl AccessAssignment {
    /// An assignment.
    pub fn new(
        id: AssignmentId,
        group: SecurityGroupId,
        roles: impl IntoIterator<Item = RoleTemplateId>,
        status: AssignmentStatus,
    ) -> Self {
        Self {
            id,
            group,
            roles: roles.into_iter().collect(),
            status,
            etag: None,
        }
    }

    /// Sets the ETag.
    pub fn with_etag(mut self, etag: impl Into<String>) -> Self {
        self.etag = Some(etag.into());
        self
    }

    /// Whether the assignment grants (or is about to grant) access: not deleting, deleted or
    /// failed.
    pub fn is_live(&self) -> bool {
        matches!(
            self.status,
            AssignmentStatus::Active | AssignmentStatus::Pending
        )
    }
}

impl AssignmentStatus {
    /// The wire text.
    pub fn as_str(&self) -> &str {
        match self {
            AssignmentStatus::Pending => "pending",
            AssignmentStatus::Active => "active",
            AssignmentStatus::Deleting => "deleting",
            AssignmentStatus::Deleted => "deleted",
            AssignmentStatus::Error => "error",
            AssignmentStatus::Unknown(s) => s,
        }
    }
}

impl fmt::Display for AssignmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AssignmentStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A long-running operation the service accepted (`202 Accepted` + `Location`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationRef {
    /// The relationship it belongs to.
    pub relationship_id: RelationshipId,
    /// Where to poll it (the `Location` header), opaque to the workflows.
    pub location: String,
}

/// The status of a long-running operation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OperationStatus {
    /// Queued.
    NotStarted,
    /// Running.
    Running,
    /// Done.
    Succeeded,
    /// Failed.
    Failed,
    /// A value this library does not know; the raw text is kept.
    Unknown(String),
}

impl OperationStatus {
    /// Parses the wire text.
    pub fn parse(s: &str) -> Self {
        match s {
            "notStarted" => OperationStatus::NotStarted,
            "running" => OperationStatus::Running,
            "succeeded" => OperationStatus::Succeeded,
            "failed" => OperationStatus::Failed,
            other => OperationStatus::Unknown(other.to_owned()),
        }
    }

    /// The wire text.
    pub fn as_str(&self) -> &str {
        match self {
            OperationStatus::NotStarted => "notStarted",
            OperationStatus::Running => "running",
            OperationStatus::Succeeded => "succeeded",
            OperationStatus::Failed => "failed",
            OperationStatus::Unknown(s) => s,
        }
    }

    /// Whether the operation has ended (succeeded, failed, or a status this library does not
    /// know, which it cannot wait on).
    pub fn is_done(&self) -> bool {
        !matches!(self, OperationStatus::NotStarted | OperationStatus::Running)
    }
}

impl fmt::Display for OperationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer to an update that may run long: done now, or accepted as an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change<T> {
    /// Applied at once (or nothing to change): the object as it now stands.
    Done(T),
    /// Accepted: poll the operation.
    Accepted {
        /// The operation.
        operation: OperationRef,
        /// How long the service asked to wait before polling.
        retry_after: Option<std::time::Duration>,
    },
}

/// A request on a relationship (`lockForApproval`, `terminate`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelationshipRequest {
    /// Its id.
    pub id: AssignmentId,
    /// Its status as sent (`created`, `pending`, `succeeded`, `failed`).
    pub status: String,
    /// When it was created.
    pub created_date_time: Option<OffsetDateTime>,
}

impl RelationshipRequest {
    /// A request.
    pub fn new(
        id: AssignmentId,
        status: impl Into<String>,
        created: Option<OffsetDateTime>,
    ) -> Self {
        Self {
            id,
            status: status.into(),
            created_date_time: created,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trip_keeps_unknown_text() {
        for s in [
            "active",
            "approvalPending",
            "terminationRequested",
            "unknownFutureValue",
            "brandNew",
        ] {
            assert_eq!(RelationshipStatus::parse(s).as_str(), s);
        }
        assert!(matches!(
            RelationshipStatus::parse("unknownFutureValue"),
            RelationshipStatus::Unknown(_)
        ));
    }
}
