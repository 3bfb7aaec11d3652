//! `groups`: list, find by display name, get, create a security group, and the `members`
//! navigation (list, add and remove by `$ref`).

use gdap_core::{Request, SecurityGroupId};
use serde::Serialize;
use uuid::Uuid;

use crate::client::{GraphClient, ListOptions, MAX_DIRECTORY_TOP, Pager};
use crate::error::{Error, Result};
use crate::models::{DirectoryObject, Group, NewSecurityGroup, validate_group_display_name};

/// The properties [`GraphClient::find_groups_by_display_name`] asks for (those of [`Group`]).
const GROUP_SELECT: &str = "id,displayName,description,mailNickname,mailEnabled,securityEnabled,groupTypes,createdDateTime";

/// Body of `POST /groups/{id}/members/$ref`.
#[derive(Serialize)]
struct Reference {
    #[serde(rename = "@odata.id")]
    odata_id: String,
}

/// An OData string literal's content: single quotes are doubled.
pub(crate) fn odata_string(value: &str) -> String {
    value.replace('\'', "''")
}

/// Parses a member's object id (a GUID), so nothing but a GUID lands in a path or a reference.
fn member_id(member_object_id: &str) -> Result<Uuid> {
    let s = member_object_id.trim();
    // 38 = a GUID in braces; longer input cannot be one.
    if s.is_empty() || s.len() > 38 {
        return Err(Error::validation(
            "member id",
            "must be a directory object id (a GUID)",
        ));
    }
    Uuid::try_parse(s).map_err(|_| {
        Error::validation(
            "member id",
            "must be a directory object id (a GUID like 00000000-0000-0000-0000-000000000000)",
        )
    })
}

impl GraphClient {
    /// `GET /groups`: the directory's groups, page by page.
    ///
    /// # Arguments
    /// * `options` — `$filter`, `$select`, `$top` (≤ 999), `$orderby`.
    ///
    /// # Errors
    /// The stream yields [`Error::Validation`] for `$top` out of range, or the call's failure.
    pub fn list_groups(&self, options: Option<ListOptions>) -> Pager<Group> {
        self.directory_pager("groups".to_owned(), options)
    }

    /// `GET /groups?$filter=displayName eq '{name}'`: every group with this display name (single
    /// quotes in `name` are doubled), all pages collected. Graph does not enforce unique display
    /// names, so there may be several; Graph compares display names without regard to case.
    ///
    /// # Errors
    /// [`Error::Validation`] naming `displayName` for a blank name or one longer than 256
    /// characters (nothing sent); any call failure.
    #[tracing::instrument(skip_all, fields(op = "find_groups_by_display_name"), err)]
    pub async fn find_groups_by_display_name(&self, name: &str) -> Result<Vec<Group>> {
        validate_group_display_name(name)?;
        let options = ListOptions::new()
            .filter(format!("displayName eq '{}'", odata_string(name)))
            .select(GROUP_SELECT.split(','))
            .top(MAX_DIRECTORY_TOP);
        self.directory_pager("groups".to_owned(), Some(options))
            .collect_all()
            .await
    }

    /// `GET /groups/{id}`.
    ///
    /// # Errors
    /// [`Error::is_not_found`] when it does not exist; any call failure.
    #[tracing::instrument(skip_all, fields(op = "get_group", group_id = %id), err)]
    pub async fn get_group(&self, id: &SecurityGroupId) -> Result<Group> {
        self.send_json(Request::get(format!("groups/{id}"))).await
    }

    /// `POST /groups` (201) with `"mailEnabled": false, "securityEnabled": true`: creates a
    /// security group. The body is validated first. Graph does not refuse a second group with the
    /// same display name, so look before creating ([`GraphClient::find_groups_by_display_name`]).
    ///
    /// # Errors
    /// [`Error::Validation`] naming `displayName` or `mailNickname` (nothing sent); any call
    /// failure.
    #[tracing::instrument(skip_all, fields(op = "create_security_group"), err)]
    pub async fn create_security_group(&self, group: &NewSecurityGroup) -> Result<Group> {
        group.validate()?;
        let req = Request::post("groups").json(group)?;
        self.send_json(req).await
    }

    /// `GET /groups/{id}/members`: the direct members (users, groups, service principals, …) as
    /// directory objects carrying `@odata.type`.
    ///
    /// # Arguments
    /// * `options` — `$filter`, `$select`, `$top` (≤ 999).
    ///
    /// # Errors
    /// The stream yields [`Error::Validation`] for `$top` out of range, or the call's failure
    /// ([`Error::is_not_found`] for a missing group).
    pub fn list_group_members(
        &self,
        group: &SecurityGroupId,
        options: Option<ListOptions>,
    ) -> Pager<DirectoryObject> {
        self.directory_pager(format!("groups/{group}/members"), options)
    }

    /// `POST /groups/{id}/members/$ref {"@odata.id": "{endpoint}/directoryObjects/{memberId}"}`
    /// (204): adds a user, group or service principal to the group. The reference is built from
    /// this client's endpoint.
    ///
    /// # Errors
    /// [`Error::Validation`] naming `member id` when it is not a GUID (nothing sent);
    /// [`Error::is_already_exists`] when it is already a member (400 "One or more added object
    /// references already exist …"); [`Error::is_not_found`] when the group or the object does not
    /// exist; any call failure.
    #[tracing::instrument(skip_all, fields(op = "add_group_member", group_id = %group, member_id = tracing::field::Empty), err)]
    pub async fn add_group_member(
        &self,
        group: &SecurityGroupId,
        member_object_id: &str,
    ) -> Result<()> {
        let member = member_id(member_object_id)?;
        tracing::Span::current().record("member_id", tracing::field::display(&member));
        let odata_id = format!(
            "{}/directoryObjects/{member}",
            self.endpoint().as_str().trim_end_matches('/')
        );
        let req =
            Request::post(format!("groups/{group}/members/$ref")).json(&Reference { odata_id })?;
        self.send(req).await.map(|_| ())
    }

    /// `DELETE /groups/{id}/members/{memberId}/$ref` (204): removes the membership only, never
    /// the member object.
    ///
    /// # Errors
    /// [`Error::Validation`] naming `member id` when it is not a GUID (nothing sent);
    /// [`Error::is_not_found`] when the group does not exist or the object is not a member; any
    /// call failure.
    #[tracing::instrument(skip_all, fields(op = "remove_group_member", group_id = %group, member_id = tracing::field::Empty), err)]
    pub async fn remove_group_member(
        &self,
        group: &SecurityGroupId,
        member_object_id: &str,
    ) -> Result<()> {
        let member = member_id(member_object_id)?;
        tracing::Span::current().record("member_id", tracing::field::display(&member));
        self.send(Request::delete(format!(
            "groups/{group}/members/{member}/$ref"
        )))
        .await
        .map(|_| ())
    }
}
