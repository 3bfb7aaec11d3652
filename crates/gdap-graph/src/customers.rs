//! `tenantRelationships/delegatedAdminCustomers` and their service management details.

use gdap_core::{Request, TenantId};

use crate::client::{GraphClient, ListOptions, Pager};
use crate::error::Result;
use crate::models::{DelegatedAdminCustomer, ServiceManagementDetail};

const CUSTOMERS: &str = "tenantRelationships/delegatedAdminCustomers";

impl GraphClient {
    /// `GET /tenantRelationships/delegatedAdminCustomers`.
    ///
    /// # Errors
    /// The stream yields [`crate::Error::Validation`] for `$top` out of range, or the call's failure.
    pub fn list_customers(&self, options: Option<ListOptions>) -> Pager<DelegatedAdminCustomer> {
        self.pager(CUSTOMERS.to_owned(), options)
    }

    /// `GET /tenantRelationships/delegatedAdminCustomers/{id}` (the id is the tenant id).
    ///
    /// # Errors
    /// Any call failure.
    #[tracing::instrument(skip_all, fields(op = "get_customer", tenant_id = %tenant), err)]
    pub async fn get_customer(&self, tenant: &TenantId) -> Result<DelegatedAdminCustomer> {
        self.send_json(Request::get(format!("{CUSTOMERS}/{tenant}")))
            .await
    }

    /// `GET /tenantRelationships/delegatedAdminCustomers/{id}/serviceManagementDetails` (no OData
    /// options are supported).
    ///
    /// # Errors
    /// The stream yields the call's failure.
    pub fn list_service_management_details(
        &self,
        tenant: &TenantId,
    ) -> Pager<ServiceManagementDetail> {
        self.pager(
            format!("{CUSTOMERS}/{tenant}/serviceManagementDetails"),
            None,
        )
    }
}
