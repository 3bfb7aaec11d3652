//! Sync: build the managed-tenants table.
//!
//! 1. Stream the active relationships (`status eq 'active'`), keeping reseller relationships,
//!    `MLT_…` relationships, items without a customer and items that are not active out of
//!    readiness (counted in [`SkipCounts`], never failing the sync).
//! 2. Merge several relationships per tenant: the roles are their union.
//! 3. Evaluate readiness with the configured [`crate::RoleRequirement`].
//! 4. Add the MSP's own partner tenant from the store (no GDAP; client credentials).
//! 5. Count users per tenant with bounded concurrency; a failure leaves `user_count: None` and a
//!    warning.
//! 6. Combine with the product's records (status, Legacy, Email Perms), compare with the last
//!    sync's rows (added / changed / gone) and save the new rows.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, TryStreamExt};
use gdap_core::{RoleTemplateId, TenantId};
use serde::Serialize;
use time::OffsetDateTime;

use crate::error::{OnboardError, Operation, Result};
use crate::ports::AccessPath;
use crate::readiness::Readiness;
use crate::relationship::{Relationship, RelationshipStatus};
use crate::tenant::{EmailPerms, ManagedTenant, RelationshipSummary, TenantRecord, TenantStatus};

use super::Orchestrator;

/// Relationships kept out of readiness, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkipCounts {
    /// Reseller (indirect provider) relationships.
    pub reseller: usize,
    /// Microsoft-Led Transition (`MLT_…`) relationships.
    pub microsoft_led_transition: usize,
    /// Items whose status was not `active` (despite the filter).
    pub not_active: usize,
    /// Of those, items with a status this library does not know.
    pub unknown_status: usize,
    /// Items without a customer tenant.
    pub no_customer: usize,
}

/// What a sync found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// The table, sorted by display name (case-insensitive), then tenant id.
    pub tenants: Vec<ManagedTenant>,
    /// Tenants not in the last sync.
    pub added: Vec<TenantId>,
    /// Tenants whose row changed since the last sync.
    pub changed: Vec<TenantId>,
    /// Tenants of the last sync that are gone.
    pub gone: Vec<TenantId>,
    /// Relationships kept out of readiness.
    pub skipped: SkipCounts,
    /// Active relationships used.
    pub relationships_used: usize,
    /// Problems that did not fail the sync (e.g. a user count that could not be read).
    pub warnings: Vec<String>,
    /// When the sync ran.
    #[serde(with = "time::serde::rfc3339")]
    pub synced_at: OffsetDateTime,
}

impl SyncReport {
    /// Tenants that count toward billing (all but the MSP's own).
    pub fn billable_count(&self) -> usize {
        super::billable_count(&self.tenants)
    }

    /// The row of `tenant`.
    pub fn tenant(&self, tenant: &TenantId) -> Option<&ManagedTenant> {
        self.tenants.iter().find(|t| &t.tenant_id == tenant)
    }
}

struct Gathered {
    name: Option<String>,
    rels: Vec<Relationship>,
}

impl Orchestrator {
    /// Syncs the managed-tenants table; see the module docs.
    ///
    /// # Errors
    /// Listing relationships or using the store failed (classified through the catalogue). A
    /// user count that fails does not fail the sync.
    pub async fn sync(&self) -> Result<SyncReport> {
        let ports = self.ports();
        let requirement = self.config().effective_requirement();
        let synced_at = ports.clock.now();
        let store_err = |e| OnboardError::classify(Operation::Store, None, e);

        let records: BTreeMap<TenantId, TenantRecord> = ports
            .store
            .list_records()
            .await
            .map_err(store_err)?
            .into_iter()
            .map(|r| (r.tenant_id, r))
            .collect();
        let previous = ports.store.load_rows().await.map_err(store_err)?;

        let mut skipped = SkipCounts::default();
        let mut warnings = Vec::new();
        let mut by_tenant: BTreeMap<TenantId, Gathered> = BTreeMap::new();
        let mut used = 0usize;

        let mut stream = ports
            .gdap
            .list_relationships(Some(RelationshipStatus::Active))
            .map_err(|e| OnboardError::classify(Operation::ListRelationships, None, e));
        while let Some(rel) = stream.try_next().await? {
            if rel.is_reseller {
                skipped.reseller += 1;
                continue;
            }
            if rel.is_microsoft_led_transition() {
                skipped.microsoft_led_transition += 1;
                continue;
            }
            if !rel.status.is_active() {
                skipped.not_active += 1;
                if matches!(rel.status, RelationshipStatus::Unknown(_)) {
                    skipped.unknown_status += 1;
                }
                continue;
            }
            let Some(customer) = rel.customer.clone() else {
                skipped.no_customer += 1;
                warnings.push(format!(
                    "relationship {} ({}) names no customer; ignored",
                    rel.display_name, rel.id
                ));
                continue;
            };
            used += 1;
            let entry = by_tenant.entry(customer.tenant_id).or_insert(Gathered {
                name: None,
                rels: Vec::new(),
            });
            if entry.name.is_none() {
                entry.name = customer.display_name.filter(|n| !n.trim().is_empty());
            }
            entry.rels.push(rel);
        }

        // The MSP's own partner tenant: no GDAP, client credentials.
        let own = records.values().find(|r| r.is_own_partner_tenant).cloned();

        let mut tenants: Vec<TenantId> = by_tenant.keys().copied().collect();
        if let Some(own) = &own
            && !by_tenant.contains_key(&own.tenant_id)
        {
            tenants.push(own.tenant_id);
        }

        let own_id = own.as_ref().map(|o| o.tenant_id);
        let directories = ports.directories.clone();
        let counts: BTreeMap<TenantId, std::result::Result<u64, String>> =
            futures::stream::iter(tenants.iter().copied())
                .map(|tenant| {
                    let directories = directories.clone();
                    let path = if Some(tenant) == own_id {
                        AccessPath::ClientCredentials
                    } else {
                        AccessPath::Gdap
                    };
                    async move {
                        let dir = directories.for_tenant(tenant, path);
                        let count = dir.user_count().await.map_err(|e| e.to_string());
                        (tenant, count)
                    }
                })
                .buffer_unordered(self.config().user_count_concurrency.max(1))
                .collect()
                .await;

        let mut rows = Vec::with_capacity(tenants.len());
        for tenant in tenants {
            let record = records.get(&tenant);
            let is_own = Some(tenant) == own_id;
            let gathered = by_tenant.remove(&tenant);
            let (name_from_graph, mut rels) = match gathered {
                Some(g) => (g.name, g.rels),
                None => (None, Vec::new()),
            };
            rels.sort_by(|a, b| a.display_name.cmp(&b.display_name).then(a.id.cmp(&b.id)));
            let held: BTreeSet<RoleTemplateId> =
                rels.iter().flat_map(|r| r.roles.iter().copied()).collect();
            let gdap = if is_own {
                Readiness::NotRequired
            } else {
                requirement.evaluate(&held)
            };
            let display_name = name_from_graph
                .or_else(|| record.and_then(|r| r.display_name.clone()))
                .unwrap_or_else(|| tenant.to_string());
            let user_count = match counts.get(&tenant) {
                Some(Ok(n)) => Some(*n),
                Some(Err(e)) => {
                    warnings.push(format!(
                        "could not count users of {display_name} ({tenant}): {e}"
                    ));
                    None
                }
                None => None,
            };
            let status = record.map_or(TenantStatus::NotProtected, TenantRecord::status);
            let legacy = record.is_some_and(TenantRecord::is_legacy);
            let email_perms = record.map_or(EmailPerms::NotApplicable, |r| r.email_perms_column());
            let actions = ManagedTenant::actions_for(&gdap, status, legacy, email_perms, is_own);
            rows.push(ManagedTenant {
                tenant_id: tenant,
                display_name,
                legacy,
                gdap,
                user_count,
                status,
                email_perms,
                relationships: rels.iter().map(RelationshipSummary::from).collect(),
                is_own_partner_tenant: is_own,
                actions,
            });
        }
        rows.sort_by(|a, b| {
            a.display_name
                .to_lowercase()
                .cmp(&b.display_name.to_lowercase())
                .then(a.tenant_id.cmp(&b.tenant_id))
        });

        let before: BTreeMap<TenantId, &ManagedTenant> =
            previous.iter().map(|r| (r.tenant_id, r)).collect();
        let after: BTreeSet<TenantId> = rows.iter().map(|r| r.tenant_id).collect();
        let mut added = Vec::new();
        let mut changed = Vec::new();
        for row in &rows {
            match before.get(&row.tenant_id) {
                None => added.push(row.tenant_id),
                Some(old) if *old != row => changed.push(row.tenant_id),
                Some(_) => {}
            }
        }
        let gone: Vec<TenantId> = before
            .keys()
            .filter(|t| !after.contains(t))
            .copied()
            .collect();

        ports.store.save_rows(&rows).await.map_err(store_err)?;
        tracing::info!(
            tenants = rows.len(),
            added = added.len(),
            changed = changed.len(),
            gone = gone.len(),
            "sync finished"
        );
        Ok(SyncReport {
            tenants: rows,
            added,
            changed,
            gone,
            skipped,
            relationships_used: used,
            warnings,
            synced_at,
        })
    }
}
