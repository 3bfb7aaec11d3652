//! The MSP's own partner tenant (seed 003).
//!
//! It is never a GDAP target (it is reached with the partner app's client credentials), never
//! billed, and never hard-deleted: [`Orchestrator::delete_tenant`] refuses it with the seed's
//! message, and [`Orchestrator::disable_own_tenant`] is the only way out. There is at most one;
//! enabling a second is refused (409).

use gdap_core::TenantId;

use crate::error::{OnboardError, Operation, Result};
use crate::tenant::{EmailPerms, ManagedTenant, OnboardedVia, Protection, TenantRecord};

use super::Orchestrator;

/// How many tenants count toward billing: every row but the MSP's own partner tenant (19
/// customers + own = 19).
pub fn billable_count(tenants: &[ManagedTenant]) -> usize {
    tenants.iter().filter(|t| t.is_billable()).count()
}

impl Orchestrator {
    /// The MSP's own partner tenant record, if enabled.
    ///
    /// # Errors
    /// The store failed.
    pub async fn own_tenant(&self) -> Result<Option<TenantRecord>> {
        Ok(self
            .ports()
            .store
            .list_records()
            .await
            .map_err(|e| OnboardError::classify(Operation::Store, None, e))?
            .into_iter()
            .find(|r| r.is_own_partner_tenant))
    }

    /// Enables `tenant` as the MSP's own partner tenant: creates its record, or converts an
    /// existing one. Enabling the same tenant again is a no-op.
    ///
    /// # Errors
    /// [`OnboardError::SecondPartnerTenant`] when another tenant is already the partner tenant;
    /// store failures.
    pub async fn enable_own_tenant(
        &self,
        tenant: TenantId,
        display_name: Option<&str>,
    ) -> Result<TenantRecord> {
        let store = &self.ports().store;
        let err = |e| OnboardError::classify(Operation::Store, Some(tenant), e);
        if let Some(existing) = self.own_tenant().await? {
            if existing.tenant_id != tenant {
                return Err(OnboardError::SecondPartnerTenant {
                    existing: existing.tenant_id,
                    requested: tenant,
                });
            }
            return Ok(existing);
        }
        let mut record = store
            .get_record(&tenant)
            .await
            .map_err(err)?
            .unwrap_or_else(|| TenantRecord::new(tenant));
        record.is_own_partner_tenant = true;
        record.protection = Protection::Monitoring;
        record.onboarded_via = Some(OnboardedVia::OwnTenantConsent);
        if record.email_perms == EmailPerms::NotApplicable {
            record.email_perms = EmailPerms::Unknown;
        }
        if let Some(name) = display_name {
            record.display_name = Some(name.to_owned());
        }
        store.upsert_record(&record).await.map_err(err)?;
        tracing::info!(%tenant, "own partner tenant enabled");
        Ok(record)
    }

    /// Disables the MSP's own partner tenant: clears the flag and removes its record. Returns the
    /// tenant that was disabled, or `None` when there was none.
    ///
    /// # Errors
    /// Store failures.
    pub async fn disable_own_tenant(&self) -> Result<Option<TenantId>> {
        let Some(own) = self.own_tenant().await? else {
            return Ok(None);
        };
        self.ports()
            .store
            .remove_record(&own.tenant_id)
            .await
            .map_err(|e| OnboardError::classify(Operation::Store, Some(own.tenant_id), e))?;
        tracing::info!(tenant = %own.tenant_id, "own partner tenant disabled");
        Ok(Some(own.tenant_id))
    }

    /// Deletes a tenant from the product: its record is kept, marked deleted, so the tenant shows
    /// as "Previously Deleted" if it appears again through GDAP. Returns whether there was a
    /// record.
    ///
    /// # Errors
    /// [`OnboardError::OwnTenantHardDelete`] for the MSP's own partner tenant ("Disable via
    /// /my-tenant first"); store failures.
    pub async fn delete_tenant(&self, tenant: TenantId) -> Result<bool> {
        let store = &self.ports().store;
        let err = |e| OnboardError::classify(Operation::Store, Some(tenant), e);
        let Some(mut record) = store.get_record(&tenant).await.map_err(err)? else {
            return Ok(false);
        };
        if record.is_own_partner_tenant {
            return Err(OnboardError::OwnTenantHardDelete { tenant });
        }
        record.protection = Protection::Deleted;
        record.email_perms = EmailPerms::NotApplicable;
        store.upsert_record(&record).await.map_err(err)?;
        tracing::info!(%tenant, "tenant deleted");
        Ok(true)
    }
}
