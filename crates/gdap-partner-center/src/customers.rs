//! Customer operations.

use gdap_core::{Request, TenantId};

use crate::client::{Pager, PartnerCenterClient, WithMeta};
use crate::error::Result;
use crate::models::{Customer, DEFAULT_PAGE_SIZE, ListCustomersOptions};

/// Partner Center's `links.next.uri` is relative and not always under `/v1` (invoice examples
/// omit it); customers live under `/v1`, so add it when missing.
pub(crate) fn under_v1(uri: &str) -> String {
    let rel = uri.trim_start_matches('/');
    if rel == "v1" || rel.starts_with("v1/") || rel.starts_with("v1?") {
        format!("/{rel}")
    } else {
        format!("/v1/{rel}")
    }
}

fn customer_path(tenant_id: &TenantId) -> String {
    format!("v1/customers/{tenant_id}")
}

impl PartnerCenterClient {
    /// `GET /v1/customers?size={n}`: every customer of the partner, as a lazy stream that follows
    /// the continuation link page by page.
    ///
    /// GDAP-only customers (no reseller relationship) may be absent from this list; build the
    /// tenant list from Graph `delegatedAdminRelationships` when that matters.
    ///
    /// # Arguments
    /// * `options` - page size; `None` uses [`DEFAULT_PAGE_SIZE`].
    ///
    /// # Errors
    /// The stream yields an [`Error`](crate::Error) and ends when a page cannot be fetched or
    /// decoded.
    ///
    /// # Example
    /// ```no_run
    /// # async fn demo(client: gdap_partner_center::PartnerCenterClient) -> gdap_partner_center::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut customers = client.list_customers(None);
    /// while let Some(c) = customers.try_next().await? {
    ///     let _ = (c.tenant_id(), c.company_profile.company_name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn list_customers(&self, options: Option<ListCustomersOptions>) -> Pager<Customer> {
        let size = options.and_then(|o| o.size).unwrap_or(DEFAULT_PAGE_SIZE);
        let first = Request::get("v1/customers").query("size", size.to_string());
        self.pager(first, under_v1)
    }

    /// `GET /v1/customers/{tenantId}`: one customer.
    ///
    /// # Arguments
    /// * `tenant_id` - the customer's tenant id (the Partner Center customer id).
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) when the tenant is not a customer of the
    /// partner; otherwise as any call.
    ///
    /// # Example
    /// ```no_run
    /// # async fn demo(client: gdap_partner_center::PartnerCenterClient, tenant: gdap_core::TenantId) -> gdap_partner_center::Result<()> {
    /// let customer = client.get_customer(&tenant).await?;
    /// println!("{:?}", customer.company_profile.domain);
    /// # Ok(())
    /// # }
    /// ```
    #[tracing::instrument(skip_all, fields(op = "get_customer", tenant_id = %tenant_id), err)]
    pub async fn get_customer(&self, tenant_id: &TenantId) -> Result<Customer> {
        Ok(self.get_customer_with_meta(tenant_id).await?.value)
    }

    /// [`get_customer`](Self::get_customer) plus the response metadata (`isMfaCompliant`, ids).
    ///
    /// # Errors
    /// As [`get_customer`](Self::get_customer).
    pub async fn get_customer_with_meta(&self, tenant_id: &TenantId) -> Result<WithMeta<Customer>> {
        let resp = self.send(Request::get(customer_path(tenant_id))).await?;
        let value = resp.json().map_err(|e| self.map_err(e))?;
        Ok(WithMeta {
            value,
            meta: self.meta(&resp),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::under_v1;

    #[test]
    fn next_links_are_put_under_v1_once() {
        assert_eq!(
            under_v1("/v1/customers?size=2&seekOperation=Next"),
            "/v1/customers?size=2&seekOperation=Next"
        );
        assert_eq!(
            under_v1("/customers?size=2&seekOperation=Next"),
            "/v1/customers?size=2&seekOperation=Next"
        );
        assert_eq!(under_v1("customers?size=2"), "/v1/customers?size=2");
        assert_eq!(under_v1("/v1x/customers"), "/v1/v1x/customers");
    }
}
