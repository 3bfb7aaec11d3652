//! `.../delegatedAdminRelationships/{id}/requests` and `.../operations`.

use std::time::Duration;

use gdap_core::{AssignmentId, Method, RelationshipId, Request};
use url::Url;

use crate::client::{GraphClient, ListOptions, Pager};
use crate::error::{Error, Result};
use crate::models::{NewRequest, RelationshipOperation, RelationshipRequest, RequestAction};
use crate::relationships::relationship_path;

/// Poll interval when the service sends no `Retry-After`.
const DEFAULT_POLL: Duration = Duration::from_secs(5);
/// Bounds on the poll interval, whatever the service asks.
const MIN_POLL: Duration = Duration::from_secs(1);
const MAX_POLL: Duration = Duration::from_secs(60);

impl GraphClient {
    /// `POST .../delegatedAdminRelationships/{id}/requests` with `{"action": ...}` (201).
    ///
    /// `lockForApproval` finalizes a `created` relationship; `terminate` ends an `active` one;
    /// `approve`/`reject` are for indirect resellers.
    ///
    /// # Errors
    /// [`Error::Validation`] for `unknownFutureValue`; any call failure (a 405 right after create is
    /// eventual consistency: retry after a few seconds).
    #[tracing::instrument(skip_all, fields(op = "create_relationship_request", relationship_id = %relationship, action = %action), err)]
    pub async fn create_relationship_request(
        &self,
        relationship: &RelationshipId,
        action: RequestAction,
    ) -> Result<RelationshipRequest> {
        if matches!(action, RequestAction::UnknownFutureValue) {
            return Err(Error::validation(
                "action",
                "unknownFutureValue cannot be requested",
            ));
        }
        let req = Request::post(format!("{}/requests", relationship_path(relationship)))
            .json(&NewRequest { action: &action })?;
        self.send_json(req).await
    }

    /// `GET .../delegatedAdminRelationships/{id}/requests`.
    ///
    /// # Errors
    /// The stream yields [`Error::Validation`] for `$top` out of range, or the call's failure.
    pub fn list_relationship_requests(
        &self,
        relationship: &RelationshipId,
        options: Option<ListOptions>,
    ) -> Pager<RelationshipRequest> {
        self.pager(
            format!("{}/requests", relationship_path(relationship)),
            options,
        )
    }

    /// `GET .../delegatedAdminRelationships/{id}/requests/{requestId}`.
    ///
    /// # Errors
    /// Any call failure.
    #[tracing::instrument(skip_all, fields(op = "get_relationship_request", relationship_id = %relationship, request_id = %request), err)]
    pub async fn get_relationship_request(
        &self,
        relationship: &RelationshipId,
        request: &AssignmentId,
    ) -> Result<RelationshipRequest> {
        self.send_json(Request::get(format!(
            "{}/requests/{request}",
            relationship_path(relationship)
        )))
        .await
    }

    /// `GET .../delegatedAdminRelationships/{id}/operations`.
    ///
    /// # Errors
    /// The stream yields [`Error::Validation`] for `$top` out of range, or the call's failure.
    pub fn list_operations(
        &self,
        relationship: &RelationshipId,
        options: Option<ListOptions>,
    ) -> Pager<RelationshipOperation> {
        self.pager(
            format!("{}/operations", relationship_path(relationship)),
            options,
        )
    }

    /// `GET .../delegatedAdminRelationships/{id}/operations/{operationId}`.
    ///
    /// # Errors
    /// Any call failure.
    #[tracing::instrument(skip_all, fields(op = "get_operation", relationship_id = %relationship, operation_id = %operation), err)]
    pub async fn get_operation(
        &self,
        relationship: &RelationshipId,
        operation: &AssignmentId,
    ) -> Result<RelationshipOperation> {
        self.send_json(Request::get(format!(
            "{}/operations/{operation}",
            relationship_path(relationship)
        )))
        .await
    }

    /// `GET {operation_url}`, the `Location` of a 202 answer. The URL must be on the endpoint's
    /// origin (otherwise nothing is sent and the token stays home).
    ///
    /// # Errors
    /// A foreign-origin error; any call failure.
    #[tracing::instrument(skip_all, fields(op = "get_operation_by_url"), err)]
    pub async fn get_operation_by_url(&self, operation_url: &Url) -> Result<RelationshipOperation> {
        self.send_json(Request::for_url(Method::GET, operation_url.clone()))
            .await
    }

    /// Polls `operation_url` until the operation is `succeeded` or `failed` (or reports a status
    /// this crate does not know), waiting `Retry-After` between polls (5 s when absent, bounded to
    /// 1..=60 s) on tokio time. The final operation is returned whatever its status: check
    /// `status`.
    ///
    /// # Errors
    /// [`Error::OperationTimedOut`] when the next wait would cross `timeout`; any call failure.
    #[tracing::instrument(skip_all, fields(op = "wait_for_operation"), err)]
    pub async fn wait_for_operation(
        &self,
        operation_url: &Url,
        timeout: Duration,
    ) -> Result<RelationshipOperation> {
        let started = tokio::time::Instant::now();
        loop {
            let resp = self
                .send(Request::for_url(Method::GET, operation_url.clone()))
                .await?;
            let op: RelationshipOperation = resp.json()?;
            if op.is_done() {
                return Ok(op);
            }
            let wait = resp
                .retry_after()
                .unwrap_or(DEFAULT_POLL)
                .clamp(MIN_POLL, MAX_POLL);
            let waited = started.elapsed();
            if waited + wait > timeout {
                return Err(Error::OperationTimedOut {
                    operation_url: operation_url.to_string(),
                    waited,
                    last_status: Some(op.status),
                });
            }
            tracing::debug!(status = %op.status, wait_ms = wait.as_millis() as u64, "operation not done");
            tokio::time::sleep(wait).await;
        }
    }
}
