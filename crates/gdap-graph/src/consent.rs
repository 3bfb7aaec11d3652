//! Consent in a customer tenant: service principals, app role assignments, delegated permission
//! grants. Call these on a client holding a customer-tenant token
//! ([`GraphClient::with_credential`]).

use gdap_core::{AppId, GrantId, Request, ServicePrincipalId};
use serde::Deserialize;

use crate::client::{GraphClient, ListOptions, Pager};
use crate::error::Result;
use crate::models::{
    AppRoleAssignment, NewAppRoleAssignment, NewOAuth2PermissionGrant, NewServicePrincipal,
    OAuth2PermissionGrant, ScopeUpdate, ServicePrincipal, join_scopes, validate_scope,
};

/// The properties the consent flow reads from a service principal.
const SP_SELECT: &str = "id,appId,displayName,appRoles,oauth2PermissionScopes";

#[derive(Deserialize)]
struct Collection<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
}

impl GraphClient {
    /// `GET /servicePrincipals?$filter=appId eq '{appId}'`: the tenant's service principal of an
    /// application, with its app roles and delegated scopes; `None` when the app has none here.
    ///
    /// # Errors
    /// Any call failure.
    #[tracing::instrument(skip_all, fields(op = "find_service_principal_by_app_id", app_id = %app_id), err)]
    pub async fn find_service_principal_by_app_id(
        &self,
        app_id: &AppId,
    ) -> Result<Option<ServicePrincipal>> {
        let req = Request::get("servicePrincipals")
            .query("$filter", format!("appId eq '{app_id}'"))
            .query("$select", SP_SELECT);
        let page: Collection<ServicePrincipal> = self.send_json(req).await?;
        Ok(page.value.into_iter().find(|sp| &sp.app_id == app_id))
    }

    /// `POST /servicePrincipals {"appId": ...}` (201).
    ///
    /// # Errors
    /// [`crate::Error::is_already_exists`] when it already exists; any call failure.
    #[tracing::instrument(skip_all, fields(op = "create_service_principal", app_id = %app_id), err)]
    pub async fn create_service_principal(&self, app_id: &AppId) -> Result<ServicePrincipal> {
        let req = Request::post("servicePrincipals").json(&NewServicePrincipal { app_id })?;
        self.send_json(req).await
    }

    /// `GET /servicePrincipals/{clientId}/appRoleAssignments`: app roles granted **to** a client.
    ///
    /// # Errors
    /// The stream yields the call's failure.
    pub fn list_app_role_assignments(
        &self,
        client: &ServicePrincipalId,
        options: Option<ListOptions>,
    ) -> Pager<AppRoleAssignment> {
        self.pager(
            format!("servicePrincipals/{client}/appRoleAssignments"),
            options,
        )
    }

    /// `GET /servicePrincipals/{resourceId}/appRoleAssignedTo`: grants of a resource's app roles.
    ///
    /// # Errors
    /// The stream yields the call's failure.
    pub fn list_app_role_assigned_to(
        &self,
        resource: &ServicePrincipalId,
        options: Option<ListOptions>,
    ) -> Pager<AppRoleAssignment> {
        self.pager(
            format!("servicePrincipals/{resource}/appRoleAssignedTo"),
            options,
        )
    }

    /// `POST /servicePrincipals/{resourceId}/appRoleAssignedTo` (201): grants an application
    /// permission.
    ///
    /// # Errors
    /// [`crate::Error::is_already_exists`] for a duplicate (400 "Permission being assigned already
    /// exists on the object", or 409); any call failure.
    #[tracing::instrument(skip_all, fields(op = "create_app_role_assignment", resource_id = %assignment.resource_id, app_role_id = %assignment.app_role_id), err)]
    pub async fn create_app_role_assignment(
        &self,
        assignment: &NewAppRoleAssignment,
    ) -> Result<AppRoleAssignment> {
        let req = Request::post(format!(
            "servicePrincipals/{}/appRoleAssignedTo",
            assignment.resource_id
        ))
        .json(assignment)?;
        self.send_json(req).await
    }

    /// `DELETE /servicePrincipals/{resourceId}/appRoleAssignedTo/{id}` (204).
    ///
    /// # Errors
    /// Any call failure.
    #[tracing::instrument(skip_all, fields(op = "delete_app_role_assignment", resource_id = %resource), err)]
    pub async fn delete_app_role_assignment(
        &self,
        resource: &ServicePrincipalId,
        assignment: &GrantId,
    ) -> Result<()> {
        self.send(Request::delete(format!(
            "servicePrincipals/{resource}/appRoleAssignedTo/{assignment}"
        )))
        .await
        .map(|_| ())
    }

    /// `GET /oauth2PermissionGrants?$filter=clientId eq '..' and resourceId eq '..'`: delegated
    /// grants, filtered by client and/or resource (all grants when both are `None`).
    ///
    /// # Errors
    /// The stream yields the call's failure.
    pub fn list_oauth2_permission_grants(
        &self,
        client: Option<&ServicePrincipalId>,
        resource: Option<&ServicePrincipalId>,
    ) -> Pager<OAuth2PermissionGrant> {
        let mut clauses = Vec::new();
        if let Some(c) = client {
            clauses.push(format!("clientId eq '{c}'"));
        }
        if let Some(r) = resource {
            clauses.push(format!("resourceId eq '{r}'"));
        }
        let options =
            (!clauses.is_empty()).then(|| ListOptions::new().filter(clauses.join(" and ")));
        self.pager("oauth2PermissionGrants".to_owned(), options)
    }

    /// `POST /oauth2PermissionGrants` (201): grants delegated permissions.
    ///
    /// # Errors
    /// [`crate::Error::Validation`] naming `scope`/`principalId`; [`crate::Error::is_already_exists`]
    /// (409) when a grant for this client, resource and consent type exists — PATCH it instead;
    /// any call failure.
    #[tracing::instrument(skip_all, fields(op = "create_oauth2_permission_grant", client_id = %grant.client_id, resource_id = %grant.resource_id), err)]
    pub async fn create_oauth2_permission_grant(
        &self,
        grant: &NewOAuth2PermissionGrant,
    ) -> Result<OAuth2PermissionGrant> {
        grant.validate()?;
        let req = Request::post("oauth2PermissionGrants").json(grant)?;
        self.send_json(req).await
    }

    /// `PATCH /oauth2PermissionGrants/{id} {"scope": "..."}` (204): replaces the granted scopes
    /// with `scopes` (joined with spaces, duplicates dropped).
    ///
    /// # Errors
    /// [`crate::Error::Validation`] naming `scope`; any call failure.
    #[tracing::instrument(skip_all, fields(op = "update_oauth2_permission_grant_scope"), err)]
    pub async fn update_oauth2_permission_grant_scope<I, S>(
        &self,
        grant: &GrantId,
        scopes: I,
    ) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let scope = join_scopes(scopes);
        validate_scope(&scope)?;
        let req = Request::patch(format!("oauth2PermissionGrants/{grant}"))
            .json(&ScopeUpdate { scope })?;
        self.send(req).await.map(|_| ())
    }

    /// `DELETE /oauth2PermissionGrants/{id}` (204): revokes every scope of the grant.
    ///
    /// # Errors
    /// Any call failure.
    #[tracing::instrument(skip_all, fields(op = "delete_oauth2_permission_grant"), err)]
    pub async fn delete_oauth2_permission_grant(&self, grant: &GrantId) -> Result<()> {
        self.send(Request::delete(format!("oauth2PermissionGrants/{grant}")))
            .await
            .map(|_| ())
    }
}
