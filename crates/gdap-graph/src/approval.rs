//! The link a customer opens to approve a relationship.

use gdap_core::RelationshipId;

/// Prefix of the customer approval link (Microsoft 365 admin center).
pub const APPROVAL_LINK_PREFIX: &str =
    "https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/";

/// The URL to send the customer after `lockForApproval`:
/// `https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/{id}`.
///
/// `id` is the **relationship** id (73 characters), not the id of the `lockForApproval` request.
///
/// ```
/// let id: gdap_core::RelationshipId =
///     "5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836".parse().unwrap();
/// assert_eq!(
///     gdap_graph::approval_link(&id),
///     "https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836"
/// );
/// ```
pub fn approval_link(id: &RelationshipId) -> String {
    format!("{APPROVAL_LINK_PREFIX}{id}")
}
