//! Open enums: every Graph enum keeps values this crate does not know yet.

use std::fmt;

/// A value of a service enum that this version of the crate does not know. Opaque: compare it
/// through [`UnknownValue::as_str`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnknownValue(pub(crate) String);

impl UnknownValue {
    /// The value as the service sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

macro_rules! open_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$doc])*
        ///
        /// Open: `unknownFutureValue` has its own variant and any other value is kept in
        /// `Unrecognized`.
        #[derive(Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// Graph's `unknownFutureValue` sentinel (a member the caller did not opt into).
            UnknownFutureValue,
            /// A value this crate does not know; the raw string is kept.
            Unrecognized($crate::models::UnknownValue),
        }

        impl $name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)*
                    $name::UnknownFutureValue => "unknownFutureValue",
                    $name::Unrecognized(v) => v.as_str(),
                }
            }

            /// Parses a wire value; unknown values are kept, never rejected.
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $($wire => $name::$variant,)*
                    "unknownFutureValue" => $name::UnknownFutureValue,
                    other => $name::Unrecognized($crate::models::UnknownValue(other.to_owned())),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from_wire(s))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::from_wire(s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    $name::Unrecognized(v) => write!(f, "Unrecognized({:?})", v.as_str()),
                    other => f.write_str(other.as_str()),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Ok(Self::from_wire(&s))
            }
        }
    };
}

open_enum! {
    /// `delegatedAdminRelationshipStatus`.
    RelationshipStatus {
        /// System provisioning after approval.
        Activating = "activating",
        /// Provisioning complete; the relationship is in force.
        Active = "active",
        /// Finalized by the partner with `lockForApproval`; waiting for the customer.
        ApprovalPending = "approvalPending",
        /// The customer approved.
        Approved = "approved",
        /// Created by the partner; still editable.
        Created = "created",
        /// Deprovisioning after expiry is complete.
        Expired = "expired",
        /// Past its end date; deprovisioning.
        Expiring = "expiring",
        /// Deprovisioning after termination is complete.
        Terminated = "terminated",
        /// Deprovisioning after termination started.
        Terminating = "terminating",
        /// The partner or customer asked for termination.
        TerminationRequested = "terminationRequested",
    }
}

impl RelationshipStatus {
    /// `active`.
    pub fn is_active(&self) -> bool {
        matches!(self, RelationshipStatus::Active)
    }

    /// A status the relationship never leaves (`expired`, `terminated`).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            RelationshipStatus::Expired | RelationshipStatus::Terminated
        )
    }

    /// On its way out (`expiring`, `terminationRequested`, `terminating`) or gone.
    pub fn is_ending(&self) -> bool {
        self.is_terminal()
            || matches!(
                self,
                RelationshipStatus::Expiring
                    | RelationshipStatus::TerminationRequested
                    | RelationshipStatus::Terminating
            )
    }

    /// Waiting on the customer or on provisioning (`approvalPending`, `approved`, `activating`).
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            RelationshipStatus::ApprovalPending
                | RelationshipStatus::Approved
                | RelationshipStatus::Activating
        )
    }
}

open_enum! {
    /// `delegatedAdminAccessAssignmentStatus`.
    AccessAssignmentStatus {
        /// Being provisioned.
        Pending = "pending",
        /// In force.
        Active = "active",
        /// Being removed.
        Deleting = "deleting",
        /// Removed.
        Deleted = "deleted",
        /// Provisioning failed.
        Error = "error",
    }
}

impl AccessAssignmentStatus {
    /// `active`.
    pub fn is_active(&self) -> bool {
        matches!(self, AccessAssignmentStatus::Active)
    }

    /// `deleted` or `error`: no further change is expected without a new request.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            AccessAssignmentStatus::Deleted | AccessAssignmentStatus::Error
        )
    }
}

open_enum! {
    /// `delegatedAdminAccessContainerType`.
    AccessContainerType {
        /// An Entra security group of the partner tenant.
        SecurityGroup = "securityGroup",
    }
}

open_enum! {
    /// `delegatedAdminRelationshipOperationType`.
    OperationType {
        /// An access assignment update.
        AccessAssignmentUpdate = "delegatedAdminAccessAssignmentUpdate",
        /// A relationship update (removal of Global Administrator from an active relationship);
        /// evolvable, sent only with `Prefer: include-unknown-enum-members`.
        RelationshipUpdate = "delegatedAdminRelationshipUpdate",
    }
}

open_enum! {
    /// `longRunningOperationStatus`.
    LongRunningOperationStatus {
        /// Queued.
        NotStarted = "notStarted",
        /// In progress.
        Running = "running",
        /// Done.
        Succeeded = "succeeded",
        /// Failed.
        Failed = "failed",
    }
}

impl LongRunningOperationStatus {
    /// `succeeded` or `failed`, or a value this crate does not know (which it cannot wait on).
    pub fn is_terminal(&self) -> bool {
        !matches!(
            self,
            LongRunningOperationStatus::NotStarted | LongRunningOperationStatus::Running
        )
    }
}

open_enum! {
    /// `delegatedAdminRelationshipRequestAction`.
    RequestAction {
        /// The partner finalizes a `created` relationship.
        LockForApproval = "lockForApproval",
        /// An indirect reseller approves a relationship created for it.
        Approve = "approve",
        /// The partner terminates an `active` relationship.
        Terminate = "terminate",
        /// An indirect reseller rejects a relationship (evolvable member).
        Reject = "reject",
    }
}

open_enum! {
    /// `delegatedAdminRelationshipRequestStatus`.
    RequestStatus {
        /// Accepted.
        Created = "created",
        /// Being processed.
        Pending = "pending",
        /// Done.
        Succeeded = "succeeded",
        /// Failed.
        Failed = "failed",
    }
}

open_enum! {
    /// `consentType` of an oauth2PermissionGrant.
    ConsentType {
        /// Admin consent on behalf of every user.
        AllPrincipals = "AllPrincipals",
        /// Consent for one user (`principalId`).
        Principal = "Principal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_round_trip() {
        let s: RelationshipStatus = serde_json::from_str("\"hibernating\"").unwrap();
        assert!(matches!(&s, RelationshipStatus::Unrecognized(v) if v.as_str() == "hibernating"));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"hibernating\"");
        let s: RelationshipStatus = serde_json::from_str("\"unknownFutureValue\"").unwrap();
        assert_eq!(s, RelationshipStatus::UnknownFutureValue);
        let s: OperationType =
            serde_json::from_str("\"delegatedAdminRelationshipUpdate\"").unwrap();
        assert_eq!(s, OperationType::RelationshipUpdate);
        assert_eq!(RequestAction::Reject.as_str(), "reject");
    }

    #[test]
    fn every_known_relationship_status_round_trips() {
        for w in [
            "activating",
            "active",
            "approvalPending",
            "approved",
            "created",
            "expired",
            "expiring",
            "terminated",
            "terminating",
            "terminationRequested",
            "unknownFutureValue",
        ] {
            let s = RelationshipStatus::from_wire(w);
            assert!(!matches!(s, RelationshipStatus::Unrecognized(_)), "{w}");
            assert_eq!(s.as_str(), w);
        }
    }
}
