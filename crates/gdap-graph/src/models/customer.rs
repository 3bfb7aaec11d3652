//! `delegatedAdminCustomer` and `delegatedAdminServiceManagementDetail`.

use gdap_core::TenantId;
use serde::{Deserialize, Serialize};

/// `delegatedAdminCustomer`: a customer with at least one relationship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DelegatedAdminCustomer {
    /// The id (equals the tenant id in every example).
    pub id: String,
    /// `@odata.etag`.
    #[serde(
        rename = "@odata.etag",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub etag: Option<String>,
    /// The customer's tenant id.
    pub tenant_id: TenantId,
    /// The customer's Entra display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// `delegatedAdminServiceManagementDetail`: where to manage a service for a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServiceManagementDetail {
    /// The id.
    pub id: String,
    /// E.g. `"Azure Active Directory"`.
    #[serde(default)]
    pub service_name: String,
    /// E.g. `https://aad.portal.azure.com/contoso.onmicrosoft.com`.
    #[serde(default)]
    pub service_management_url: String,
}
