//! Service principals, app role assignments and delegated permission grants (customer tenant).

use gdap_core::{AppId, AppRoleId, GrantId, ServicePrincipalId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::ConsentType;
use crate::error::{Error, Result};

/// Longest `scope` string of an oauth2PermissionGrant.
pub const MAX_SCOPE_CHARS: usize = 3850;

/// `appRole`: an application permission defined by a resource app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AppRole {
    /// The role id (the same in every tenant).
    pub id: AppRoleId,
    /// The permission name, e.g. `"User.Read.All"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `["Application"]` for application permissions.
    #[serde(default)]
    pub allowed_member_types: Vec<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it can be assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_enabled: Option<bool>,
}

/// `permissionScope`: a delegated permission defined by a resource app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PermissionScope {
    /// The scope id.
    pub id: Uuid,
    /// The claim value, e.g. `"User.Read.All"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `"Admin"` or `"User"`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub scope_type: Option<String>,
    /// Whether it can be granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_enabled: Option<bool>,
    /// Admin consent display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_consent_display_name: Option<String>,
}

/// `servicePrincipal` (the fields the consent flow uses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServicePrincipal {
    /// Object id in this tenant.
    pub id: ServicePrincipalId,
    /// The application id.
    pub app_id: AppId,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Application permissions the app defines.
    #[serde(default)]
    pub app_roles: Vec<AppRole>,
    /// Delegated permissions the app defines.
    #[serde(default)]
    pub oauth2_permission_scopes: Vec<PermissionScope>,
}

impl ServicePrincipal {
    /// The enabled application permission named `value` (e.g. `"User.Read.All"`).
    pub fn app_role(&self, value: &str) -> Option<&AppRole> {
        self.app_roles.iter().find(|r| {
            r.value.as_deref() == Some(value)
                && r.is_enabled != Some(false)
                && r.allowed_member_types.iter().any(|t| t == "Application")
        })
    }

    /// The id of the application permission named `value`.
    pub fn app_role_id(&self, value: &str) -> Option<AppRoleId> {
        self.app_role(value).map(|r| r.id)
    }

    /// The enabled delegated permission named `value`.
    pub fn permission_scope(&self, value: &str) -> Option<&PermissionScope> {
        self.oauth2_permission_scopes
            .iter()
            .find(|s| s.value.as_deref() == Some(value) && s.is_enabled != Some(false))
    }
}

/// `appRoleAssignment`: an application permission granted to a principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AppRoleAssignment {
    /// The assignment id.
    pub id: GrantId,
    /// The role granted.
    pub app_role_id: AppRoleId,
    /// Object id of the principal (a service principal for app permissions).
    pub principal_id: Uuid,
    /// `"ServicePrincipal"`, `"User"` or `"Group"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<String>,
    /// Principal display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_display_name: Option<String>,
    /// Object id of the resource service principal.
    pub resource_id: ServicePrincipalId,
    /// Resource display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_display_name: Option<String>,
    /// Creation time.
    #[serde(
        default,
        with = "super::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_date_time: Option<OffsetDateTime>,
    /// Deletion time (null while in force).
    #[serde(
        default,
        with = "super::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub deleted_date_time: Option<OffsetDateTime>,
}

/// Body of `POST /servicePrincipals/{resourceId}/appRoleAssignedTo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAppRoleAssignment {
    /// Object id of the client service principal.
    pub principal_id: ServicePrincipalId,
    /// Object id of the resource service principal.
    pub resource_id: ServicePrincipalId,
    /// The app role to grant.
    pub app_role_id: AppRoleId,
}

impl NewAppRoleAssignment {
    /// Grants `app_role_id` of `resource` to `client`.
    pub fn new(
        client: ServicePrincipalId,
        resource: ServicePrincipalId,
        app_role_id: AppRoleId,
    ) -> Self {
        Self {
            principal_id: client,
            resource_id: resource,
            app_role_id,
        }
    }
}

/// `oAuth2PermissionGrant`: delegated permissions granted to a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OAuth2PermissionGrant {
    /// The grant id.
    pub id: GrantId,
    /// Object id of the client service principal.
    pub client_id: ServicePrincipalId,
    /// `AllPrincipals` (admin consent) or `Principal`.
    pub consent_type: ConsentType,
    /// The user, for `Principal` grants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<UserId>,
    /// Object id of the resource service principal.
    pub resource_id: ServicePrincipalId,
    /// Space-separated claim values.
    #[serde(default)]
    pub scope: String,
}

impl OAuth2PermissionGrant {
    /// The individual scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_whitespace()
    }
}

/// Body of `POST /oauth2PermissionGrants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOAuth2PermissionGrant {
    /// Object id of the client service principal (not its app id).
    pub client_id: ServicePrincipalId,
    /// `AllPrincipals` or `Principal`.
    pub consent_type: ConsentType,
    /// The user, for `Principal` grants; must be absent for `AllPrincipals`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<UserId>,
    /// Object id of the resource service principal.
    pub resource_id: ServicePrincipalId,
    /// Space-separated claim values.
    pub scope: String,
}

impl NewOAuth2PermissionGrant {
    /// Admin consent for every user of `client` to `scopes` of `resource`.
    pub fn all_principals<I, S>(
        client: ServicePrincipalId,
        resource: ServicePrincipalId,
        scopes: I,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self {
            client_id: client,
            consent_type: ConsentType::AllPrincipals,
            principal_id: None,
            resource_id: resource,
            scope: join_scopes(scopes),
        }
    }

    /// Checks the scope string and the principal rule.
    ///
    /// # Errors
    /// [`Error::Validation`] naming `scope` or `principalId`.
    pub fn validate(&self) -> Result<()> {
        validate_scope(&self.scope)?;
        match (&self.consent_type, &self.principal_id) {
            (ConsentType::Principal, None) => Err(Error::validation(
                "principalId",
                "is required when consentType is Principal",
            )),
            (ConsentType::AllPrincipals, Some(_)) => Err(Error::validation(
                "principalId",
                "must be absent when consentType is AllPrincipals",
            )),
            _ => Ok(()),
        }
    }
}

/// Joins scopes with single spaces, dropping blanks and duplicates (first occurrence wins).
pub fn join_scopes<I, S>(scopes: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out: Vec<String> = Vec::new();
    for s in scopes {
        for part in s.as_ref().split_whitespace() {
            if !out.iter().any(|o| o == part) {
                out.push(part.to_owned());
            }
        }
    }
    out.join(" ")
}

pub(crate) fn validate_scope(scope: &str) -> Result<()> {
    if scope.trim().is_empty() {
        return Err(Error::validation("scope", "must name at least one scope"));
    }
    let n = scope.chars().count();
    if n > MAX_SCOPE_CHARS {
        return Err(Error::validation(
            "scope",
            format!("is {n} characters; at most {MAX_SCOPE_CHARS} are allowed"),
        ));
    }
    Ok(())
}

/// Body of `PATCH /oauth2PermissionGrants/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ScopeUpdate {
    pub(crate) scope: String,
}

/// Body of `POST /servicePrincipals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NewServicePrincipal<'a> {
    pub(crate) app_id: &'a AppId,
}
