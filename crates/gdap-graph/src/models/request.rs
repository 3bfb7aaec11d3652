//! `delegatedAdminRelationshipRequest`.

use gdap_core::AssignmentId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{RequestAction, RequestStatus};

/// `delegatedAdminRelationshipRequest` as Graph returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RelationshipRequest {
    /// The request id (a GUID in every example).
    pub id: AssignmentId,
    /// `@odata.etag`.
    #[serde(
        rename = "@odata.etag",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub etag: Option<String>,
    /// What was asked.
    pub action: RequestAction,
    /// Progress of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RequestStatus>,
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

/// Body of `POST .../requests`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct NewRequest<'a> {
    pub(crate) action: &'a RequestAction,
}
