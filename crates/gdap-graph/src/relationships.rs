//! `tenantRelationships/delegatedAdminRelationships`: list, get, create, update, delete.

use gdap_core::{RelationshipId, Request};

use crate::client::{GraphClient, ListOptions, Pager, UpdateOutcome};
use crate::error::{Error, Result};
use crate::models::{DelegatedAdminRelationship, NewRelationship, RelationshipUpdate};

pub(crate) const RELATIONSHIPS: &str = "tenantRelationships/delegatedAdminRelationships";

pub(crate) fn relationship_path(id: &RelationshipId) -> String {
    format!("{RELATIONSHIPS}/{id}")
}

pub(crate) fn require_etag(etag: &str) -> Result<()> {
    if etag.trim().is_empty() {
        return Err(Error::validation(
            "If-Match",
            "an ETag (@odata.etag) is required",
        ));
    }
    Ok(())
}

impl GraphClient {
    /// `GET /tenantRelationships/delegatedAdminRelationships`: every relationship of the partner,
    /// plain and reseller items alike, page by page.
    ///
    /// # Arguments
    /// * `options` — `$filter` (e.g. `status eq 'active'`), `$select`, `$top` (≤ 300), `$orderby`.
    ///
    /// # Errors
    /// The stream yields [`Error::Validation`] for `$top` out of range, or the call's failure.
    pub fn list_relationships(
        &self,
        options: Option<ListOptions>,
    ) -> Pager<DelegatedAdminRelationship> {
        self.pager(RELATIONSHIPS.to_owned(), options)
    }

    /// `GET /tenantRelationships/delegatedAdminRelationships/{id}`.
    ///
    /// # Errors
    /// [`Error::is_not_found`] when it does not exist; any call failure.
    #[tracing::instrument(skip_all, fields(op = "get_relationship", relationship_id = %id), err)]
    pub async fn get_relationship(
        &self,
        id: &RelationshipId,
    ) -> Result<DelegatedAdminRelationship> {
        self.send_json(Request::get(relationship_path(id))).await
    }

    /// `POST /tenantRelationships/delegatedAdminRelationships` (201 + `Location`). The body is
    /// validated first.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the field (nothing sent); [`Error::is_duplicate_display_name`]
    /// on a name clash; any call failure.
    #[tracing::instrument(skip_all, fields(op = "create_relationship"), err)]
    pub async fn create_relationship(
        &self,
        relationship: &NewRelationship,
    ) -> Result<DelegatedAdminRelationship> {
        relationship.validate()?;
        let req = Request::post(RELATIONSHIPS).json(relationship)?;
        self.send_json(req)
            .await
            .map_err(Error::on_relationship_write)
    }

    /// `PATCH /tenantRelationships/delegatedAdminRelationships/{id}` with `If-Match: {etag}`.
    ///
    /// Answers [`UpdateOutcome::Updated`] (200), or [`UpdateOutcome::Accepted`] (202 + `Location`
    /// of an operation + `Retry-After`) when Global Administrator is removed from an active
    /// relationship.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the field; [`Error::is_precondition_failed`] for a stale ETag;
    /// any call failure.
    #[tracing::instrument(skip_all, fields(op = "update_relationship", relationship_id = %id), err)]
    pub async fn update_relationship(
        &self,
        id: &RelationshipId,
        etag: &str,
        update: &RelationshipUpdate,
    ) -> Result<UpdateOutcome<DelegatedAdminRelationship>> {
        require_etag(etag)?;
        update.validate()?;
        let req = Request::patch(relationship_path(id))
            .if_match(etag)?
            .json(update)?;
        let resp = self.send(req).await.map_err(|e| {
            if update.display_name.is_some() {
                e.on_relationship_write()
            } else {
                e
            }
        })?;
        self.update_outcome(&resp)
    }

    /// `DELETE /tenantRelationships/delegatedAdminRelationships/{id}` with `If-Match` (204). Graph
    /// allows it only while the relationship is `created`.
    ///
    /// # Errors
    /// [`Error::is_precondition_failed`] for a stale ETag; any call failure.
    #[tracing::instrument(skip_all, fields(op = "delete_relationship", relationship_id = %id), err)]
    pub async fn delete_relationship(&self, id: &RelationshipId, etag: &str) -> Result<()> {
        require_etag(etag)?;
        self.send(Request::delete(relationship_path(id)).if_match(etag)?)
            .await
            .map(|_| ())
    }
}
