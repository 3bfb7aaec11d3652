//! `.../delegatedAdminRelationships/{id}/accessAssignments`.

use gdap_core::{AssignmentId, RelationshipId, Request};

use crate::client::{GraphClient, ListOptions, Pager, UpdateOutcome};
use crate::error::Result;
use crate::models::{AccessAssignmentUpdate, DelegatedAdminAccessAssignment, NewAccessAssignment};
use crate::relationships::{relationship_path, require_etag};

fn assignments_path(id: &RelationshipId) -> String {
    format!("{}/accessAssignments", relationship_path(id))
}

fn assignment_path(id: &RelationshipId, assignment: &AssignmentId) -> String {
    format!("{}/accessAssignments/{assignment}", relationship_path(id))
}

impl GraphClient {
    /// `GET .../delegatedAdminRelationships/{id}/accessAssignments`.
    ///
    /// # Errors
    /// The stream yields [`crate::Error::Validation`] for `$top` out of range, or the call's failure.
    pub fn list_access_assignments(
        &self,
        relationship: &RelationshipId,
        options: Option<ListOptions>,
    ) -> Pager<DelegatedAdminAccessAssignment> {
        self.pager(assignments_path(relationship), options)
    }

    /// `GET .../accessAssignments/{assignmentId}`.
    ///
    /// # Errors
    /// Any call failure.
    #[tracing::instrument(skip_all, fields(op = "get_access_assignment", relationship_id = %relationship, assignment_id = %assignment), err)]
    pub async fn get_access_assignment(
        &self,
        relationship: &RelationshipId,
        assignment: &AssignmentId,
    ) -> Result<DelegatedAdminAccessAssignment> {
        self.send_json(Request::get(assignment_path(relationship, assignment)))
            .await
    }

    /// `POST .../accessAssignments` (201 + `Location`; status `pending`).
    ///
    /// # Errors
    /// [`crate::Error::Validation`]; [`crate::Error::AlreadyExists`] (409) when the group already
    /// has an assignment in this relationship; any call failure.
    #[tracing::instrument(skip_all, fields(op = "create_access_assignment", relationship_id = %relationship), err)]
    pub async fn create_access_assignment(
        &self,
        relationship: &RelationshipId,
        assignment: &NewAccessAssignment,
    ) -> Result<DelegatedAdminAccessAssignment> {
        assignment.validate()?;
        let req = Request::post(assignments_path(relationship)).json(assignment)?;
        self.send_json(req).await
    }

    /// `PATCH .../accessAssignments/{assignmentId}` with `If-Match`: usually 202 + `Location` of an
    /// operation + `Retry-After`; 200 with the object when nothing changed.
    ///
    /// # Errors
    /// [`crate::Error::Validation`]; [`crate::Error::is_precondition_failed`]; any call failure.
    #[tracing::instrument(skip_all, fields(op = "update_access_assignment", relationship_id = %relationship, assignment_id = %assignment), err)]
    pub async fn update_access_assignment(
        &self,
        relationship: &RelationshipId,
        assignment: &AssignmentId,
        etag: &str,
        update: &AccessAssignmentUpdate,
    ) -> Result<UpdateOutcome<DelegatedAdminAccessAssignment>> {
        require_etag(etag)?;
        update.validate()?;
        let req = Request::patch(assignment_path(relationship, assignment))
            .if_match(etag)?
            .json(update)?;
        let resp = self.send(req).await?;
        self.update_outcome(&resp)
    }

    /// `DELETE .../accessAssignments/{assignmentId}` with `If-Match` (204).
    ///
    /// # Errors
    /// [`crate::Error::is_precondition_failed`]; any call failure.
    #[tracing::instrument(skip_all, fields(op = "delete_access_assignment", relationship_id = %relationship, assignment_id = %assignment), err)]
    pub async fn delete_access_assignment(
        &self,
        relationship: &RelationshipId,
        assignment: &AssignmentId,
        etag: &str,
    ) -> Result<()> {
        require_etag(etag)?;
        self.send(Request::delete(assignment_path(relationship, assignment)).if_match(etag)?)
            .await
            .map(|_| ())
    }
}
