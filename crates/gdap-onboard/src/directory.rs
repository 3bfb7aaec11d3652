//! Customer-tenant directory objects and Partner Center consents, in domain terms.
//!
//! These are what [`crate::ports::CustomerDirectory`] and [`crate::ports::PartnerCenter`] speak.

use gdap_core::{AppId, AppRoleId, GrantId, ServicePrincipalId, TenantId};
use serde::Serialize;

/// A tenant's organization object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Organization {
    /// The tenant id.
    pub tenant_id: TenantId,
    /// The organization's display name.
    pub display_name: String,
    /// The default (or initial `*.onmicrosoft.com`) verified domain, when known.
    pub default_domain: Option<String>,
}

impl Organization {
    /// An organization.
    pub fn new(
        tenant_id: TenantId,
        display_name: impl Into<String>,
        default_domain: Option<&str>,
    ) -> Self {
        Self {
            tenant_id,
            display_name: display_name.into(),
            default_domain: default_domain.map(str::to_owned),
        }
    }
}

/// An app role or delegated scope a resource service principal defines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionDef {
    /// Its id (app roles: the same in every tenant).
    pub id: AppRoleId,
    /// Its value, e.g. `"User.Read.All"`.
    pub value: String,
}

/// A service principal in a customer tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServicePrincipal {
    /// Object id (differs per tenant).
    pub id: ServicePrincipalId,
    /// The application id.
    pub app_id: AppId,
    /// Display name.
    pub display_name: String,
    /// Application roles it defines (for resources), with `Application` among allowed members.
    pub app_roles: Vec<PermissionDef>,
    /// Delegated scopes it defines (for resources).
    pub scopes: Vec<PermissionDef>,
}

impl ServicePrincipal {
    /// A service principal defining no permissions.
    pub fn new(id: ServicePrincipalId, app_id: AppId, display_name: impl Into<String>) -> Self {
        Self {
            id,
            app_id,
            display_name: display_name.into(),
            app_roles: Vec::new(),
            scopes: Vec::new(),
        }
    }

    /// Sets the app roles it defines.
    pub fn with_app_roles(mut self, roles: Vec<PermissionDef>) -> Self {
        self.app_roles = roles;
        self
    }

    /// Sets the scopes it defines.
    pub fn with_scopes(mut self, scopes: Vec<PermissionDef>) -> Self {
        self.scopes = scopes;
        self
    }

    /// The id of the application role named `value`.
    pub fn app_role_id(&self, value: &str) -> Option<AppRoleId> {
        self.app_roles
            .iter()
            .find(|r| r.value == value)
            .map(|r| r.id)
    }
}

/// An application permission granted to a service principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AppRoleGrant {
    /// Assignment id.
    pub id: GrantId,
    /// The client service principal.
    pub principal_id: ServicePrincipalId,
    /// The resource service principal.
    pub resource_id: ServicePrincipalId,
    /// The app role.
    pub app_role_id: AppRoleId,
}

impl AppRoleGrant {
    /// A grant.
    pub fn new(
        id: GrantId,
        principal_id: ServicePrincipalId,
        resource_id: ServicePrincipalId,
        app_role_id: AppRoleId,
    ) -> Self {
        Self {
            id,
            principal_id,
            resource_id,
            app_role_id,
        }
    }
}

/// A tenant-wide (`AllPrincipals`) delegated permission grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DelegatedGrant {
    /// Grant id.
    pub id: GrantId,
    /// The client service principal.
    pub client_id: ServicePrincipalId,
    /// The resource service principal.
    pub resource_id: ServicePrincipalId,
    /// The scopes granted.
    pub scopes: Vec<String>,
}

impl DelegatedGrant {
    /// A grant.
    pub fn new(
        id: GrantId,
        client_id: ServicePrincipalId,
        resource_id: ServicePrincipalId,
        scopes: Vec<String>,
    ) -> Self {
        Self {
            id,
            client_id,
            resource_id,
            scopes,
        }
    }
}

/// A Partner Center (CPV) application consent: delegated scopes per resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppConsent {
    /// The app's application id.
    pub application_id: AppId,
    /// Its display name.
    pub display_name: String,
    /// Scopes per resource.
    pub grants: Vec<ConsentGrant>,
}

/// Scopes for one resource in an [`AppConsent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentGrant {
    /// The resource's application id.
    pub resource_app_id: AppId,
    /// Delegated scope names.
    pub scopes: Vec<String>,
}
