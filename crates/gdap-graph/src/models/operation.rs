//! `delegatedAdminRelationshipOperation`: a long-running operation.

use gdap_core::AssignmentId;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    DelegatedAdminAccessAssignment, DelegatedAdminRelationship, LongRunningOperationStatus,
    OperationType,
};
use crate::error::{Error, Result};

/// `delegatedAdminRelationshipOperation` as Graph returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RelationshipOperation {
    /// The operation id.
    pub id: AssignmentId,
    /// `@odata.etag`.
    #[serde(
        rename = "@odata.etag",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub etag: Option<String>,
    /// What the operation does.
    pub operation_type: OperationType,
    /// A JSON document serialized into a string, exactly as sent; see
    /// [`RelationshipOperation::data_json`] and friends.
    #[serde(default)]
    pub data: String,
    /// Progress.
    pub status: LongRunningOperationStatus,
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

impl RelationshipOperation {
    /// Whether the operation reached a final status.
    pub fn is_done(&self) -> bool {
        self.status.is_terminal()
    }

    /// `data` parsed as any JSON value.
    ///
    /// # Errors
    /// [`Error::InvalidOperationData`] when `data` is not JSON.
    pub fn data_json(&self) -> Result<serde_json::Value> {
        self.data_as()
    }

    /// `data` parsed as `T`.
    ///
    /// # Errors
    /// [`Error::InvalidOperationData`] when `data` is not JSON of that shape.
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(&self.data).map_err(|e| Error::InvalidOperationData {
            reason: e.to_string(),
        })
    }

    /// `data` of a `delegatedAdminAccessAssignmentUpdate`: the access assignment after the update.
    ///
    /// # Errors
    /// [`Error::InvalidOperationData`] when `data` is not an access assignment.
    pub fn access_assignment(&self) -> Result<DelegatedAdminAccessAssignment> {
        self.data_as()
    }

    /// `data` of a `delegatedAdminRelationshipUpdate`: the relationship after the update.
    ///
    /// # Errors
    /// [`Error::InvalidOperationData`] when `data` is not a relationship.
    pub fn relationship(&self) -> Result<DelegatedAdminRelationship> {
        self.data_as()
    }
}
