//! `delegatedAdminAccessAssignment` and its request bodies.

use gdap_core::{AssignmentId, SecurityGroupId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{AccessAssignmentStatus, AccessContainerType, AccessDetails};
use crate::error::Result;

/// `delegatedAdminAccessContainer`: who receives the roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessContainer {
    /// For `securityGroup`: the object id of a security group in the partner tenant.
    pub access_container_id: String,
    /// The container type.
    pub access_container_type: AccessContainerType,
}

impl AccessContainer {
    /// A partner-tenant security group.
    pub fn security_group(id: SecurityGroupId) -> Self {
        Self {
            access_container_id: id.to_string(),
            access_container_type: AccessContainerType::SecurityGroup,
        }
    }

    /// The security group id, when the container is a security group with a GUID id.
    pub fn security_group_id(&self) -> Option<SecurityGroupId> {
        match self.access_container_type {
            AccessContainerType::SecurityGroup => self.access_container_id.parse().ok(),
            _ => None,
        }
    }
}

/// `delegatedAdminAccessAssignment` as Graph returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DelegatedAdminAccessAssignment {
    /// The assignment id.
    pub id: AssignmentId,
    /// `@odata.etag`: pass it to update and delete.
    #[serde(
        rename = "@odata.etag",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub etag: Option<String>,
    /// Who receives the roles.
    pub access_container: AccessContainer,
    /// The roles.
    #[serde(default)]
    pub access_details: AccessDetails,
    /// Lifecycle status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AccessAssignmentStatus>,
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
}

/// Body of `POST .../accessAssignments`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAccessAssignment {
    /// Who receives the roles (immutable afterwards).
    pub access_container: AccessContainer,
    /// The roles: a subset of the relationship's roles.
    pub access_details: AccessDetails,
}

impl NewAccessAssignment {
    /// Assigns `access_details` to the partner security group `group`.
    pub fn for_security_group(group: SecurityGroupId, access_details: AccessDetails) -> Self {
        Self {
            access_container: AccessContainer::security_group(group),
            access_details,
        }
    }

    /// Checks that roles are given and the container id is set.
    ///
    /// # Errors
    /// [`crate::Error::Validation`] naming the field.
    pub fn validate(&self) -> Result<()> {
        if self.access_container.access_container_id.trim().is_empty() {
            return Err(crate::Error::validation(
                "accessContainer.accessContainerId",
                "must not be empty",
            ));
        }
        super::relationship::validate_access_details(&self.access_details)
    }
}

/// Body of `PATCH .../accessAssignments/{id}`: only the roles can change.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessAssignmentUpdate {
    /// The new roles.
    pub access_details: AccessDetails,
}

impl AccessAssignmentUpdate {
    /// An update setting the roles to `access_details`.
    pub fn new(access_details: AccessDetails) -> Self {
        Self { access_details }
    }

    /// Checks that roles are given.
    ///
    /// # Errors
    /// [`crate::Error::Validation`] naming `accessDetails`.
    pub fn validate(&self) -> Result<()> {
        super::relationship::validate_access_details(&self.access_details)
    }
}
