//! Request permissions: create a GDAP relationship request from a template, lock it for
//! approval, and return the link the customer's admin opens.
//!
//! - The template is validated (roles, duration ≤ 730 days, auto-extend 0/180 and never with
//!   Global Administrator).
//! - The MSP's own partner tenant is never a GDAP target: the request is skipped silently.
//! - An active relationship that already carries every role of the template gives the
//!   catalogue's "already has an active GDAP relationship" guidance; one that lacks roles (the
//!   tenant shows Missing) does not stop a re-request.
//! - A pending request with the same roles is reused (its approval link returned again), so the
//!   call is safe to repeat.
//! - The name is unique among the partner's relationships and at most 50 characters:
//!   `"{template} {tenant} {yyyymmdd}"`, truncated, with a numeric suffix on collision.

use std::collections::BTreeSet;

use futures::TryStreamExt;
use gdap_core::{RelationshipId, RoleTemplateId, TenantId};
use serde::Serialize;
use time::OffsetDateTime;
use url::Url;

use crate::error::{OnboardError, Operation, Result};
use crate::port_error::{PortError, PortErrorKind};
use crate::relationship::{CustomerRef, NewRelationship, Relationship, RelationshipStatus};
use crate::templates::RelationshipTemplate;

use super::Orchestrator;

/// The longest relationship display name Graph accepts.
pub const MAX_DISPLAY_NAME: usize = 50;

/// A relationship request waiting for the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedRelationship {
    /// The relationship.
    pub relationship_id: RelationshipId,
    /// Its display name.
    pub display_name: String,
    /// The link the customer's admin opens to approve it.
    pub approval_link: Url,
    /// Whether an earlier pending request was reused instead of creating a new one.
    pub reused: bool,
}

/// What [`Orchestrator::request_permissions`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
#[non_exhaustive]
pub enum RequestOutcome {
    /// A request is waiting for approval.
    Requested(RequestedRelationship),
    /// The tenant is the MSP's own partner tenant: no GDAP, nothing sent.
    SkippedOwnTenant,
}

impl RequestOutcome {
    /// The request, when one was made or reused.
    pub fn requested(&self) -> Option<&RequestedRelationship> {
        match self {
            RequestOutcome::Requested(r) => Some(r),
            RequestOutcome::SkippedOwnTenant => None,
        }
    }
}

/// Checks a relationship display name: 1..=50 characters of letters, digits, spaces and
/// `-_.()`.
///
/// # Errors
/// [`OnboardError::InvalidDisplayName`] naming the rule broken.
pub fn validate_display_name(name: &str) -> Result<()> {
    let invalid = |reason: &str| {
        Err(OnboardError::InvalidDisplayName {
            display_name: name.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if name.trim().is_empty() {
        return invalid("must not be empty");
    }
    if name.chars().count() > MAX_DISPLAY_NAME {
        return invalid("is longer than 50 characters");
    }
    if name != name.trim() {
        return invalid("must not start or end with a space");
    }
    if !name.chars().all(allowed_char) {
        return invalid("may contain only letters, digits, spaces and - _ . ( )");
    }
    Ok(())
}

fn allowed_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '(' | ')')
}

fn sanitize(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if allowed_char(c) { c } else { ' ' })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn truncate(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

/// The display name for a request: `"{stem} {tenant} {yyyymmdd}"` (or `hint`), cleaned, at most
/// 50 characters, made unique against `taken` (lower-cased names) with a `" 2"`, `" 3"`, …
/// suffix.
pub fn generate_display_name(
    stem: &str,
    tenant_label: &str,
    today: OffsetDateTime,
    hint: Option<&str>,
    taken: &BTreeSet<String>,
) -> String {
    let date = format!(
        "{:04}{:02}{:02}",
        today.year(),
        u8::from(today.month()),
        today.day()
    );
    let base = match hint.map(sanitize).filter(|h| !h.is_empty()) {
        Some(h) => truncate(&h, MAX_DISPLAY_NAME),
        None => {
            let stem = truncate(&sanitize(stem), 16);
            let room = MAX_DISPLAY_NAME.saturating_sub(stem.chars().count() + date.len() + 2);
            let tenant = truncate(&sanitize(tenant_label), room);
            [stem, tenant, date]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    if !taken.contains(&base.to_lowercase()) {
        return base;
    }
    for n in 2u32.. {
        let suffix = format!(" {n}");
        let candidate = format!(
            "{}{suffix}",
            truncate(&base, MAX_DISPLAY_NAME - suffix.chars().count())
        );
        if !taken.contains(&candidate.to_lowercase()) {
            return candidate;
        }
    }
    base
}

impl Orchestrator {
    /// Requests a GDAP relationship with `template`'s roles for `tenant`; see the module docs.
    ///
    /// `name_hint` replaces the generated display name (still cleaned, truncated and made
    /// unique).
    ///
    /// # Errors
    /// - [`OnboardError::InvalidTemplate`] / [`OnboardError::InvalidDisplayName`];
    /// - [`OnboardError::ActiveRelationshipExists`] when an active relationship already carries
    ///   the roles, or the service refuses with `disallowedOperation`;
    /// - [`OnboardError::DuplicateDisplayName`] when the service keeps refusing the name;
    /// - other port failures, classified through the catalogue.
    pub async fn request_permissions(
        &self,
        tenant: TenantId,
        template: &RelationshipTemplate,
        name_hint: Option<&str>,
    ) -> Result<RequestOutcome> {
        template.validate()?;
        let ports = self.ports();
        let record = ports
            .store
            .get_record(&tenant)
            .await
            .map_err(|e| OnboardError::classify(Operation::Store, Some(tenant), e))?;
        if record.as_ref().is_some_and(|r| r.is_own_partner_tenant) {
            tracing::info!(%tenant, "GDAP request to the MSP's own partner tenant skipped");
            return Ok(RequestOutcome::SkippedOwnTenant);
        }

        let wanted: BTreeSet<RoleTemplateId> = template.roles.iter().copied().collect();
        let list_err = |e| OnboardError::classify(Operation::ListRelationships, Some(tenant), e);
        // One listing serves both the checks on this tenant and name uniqueness.
        let all: Vec<Relationship> = ports
            .gdap
            .list_relationships(None)
            .try_collect()
            .await
            .map_err(list_err)?;
        let mine: Vec<&Relationship> = all
            .iter()
            .filter(|r| r.customer_tenant() == Some(tenant))
            .collect();
        let usable = |r: &&&Relationship| !r.is_reseller && !r.is_microsoft_led_transition();
        if let Some(active) = mine
            .iter()
            .filter(usable)
            .find(|r| r.status.is_active() && wanted.is_subset(&r.roles))
        {
            return Err(OnboardError::ActiveRelationshipExists {
                tenant: Some(tenant),
                relationship_id: Some(active.id.clone()),
                source: None,
            });
        }
        if let Some(pending) = mine.iter().filter(usable).find(|r| {
            matches!(
                r.status,
                RelationshipStatus::ApprovalPending | RelationshipStatus::Created
            ) && r.roles == wanted
        }) {
            if pending.status == RelationshipStatus::Created {
                self.lock_with_retry(&pending.id, tenant).await?;
            }
            return Ok(RequestOutcome::Requested(RequestedRelationship {
                relationship_id: pending.id.clone(),
                display_name: pending.display_name.clone(),
                approval_link: self.config().links.approval_link(&pending.id),
                reused: true,
            }));
        }

        let mut taken: BTreeSet<String> =
            all.iter().map(|r| r.display_name.to_lowercase()).collect();
        let tenant_name = record
            .as_ref()
            .and_then(|r| r.display_name.clone())
            .or_else(|| {
                mine.iter()
                    .find_map(|r| r.customer.as_ref().and_then(|c| c.display_name.clone()))
            });
        let tenant_label = tenant_name
            .clone()
            .unwrap_or_else(|| tenant.to_string().chars().take(8).collect());
        let today = ports.clock.now();

        let mut attempts = 0;
        let created = loop {
            attempts += 1;
            let display_name = generate_display_name(
                &template.short_name,
                &tenant_label,
                today,
                name_hint,
                &taken,
            );
            validate_display_name(&display_name)?;
            let new = NewRelationship {
                display_name: display_name.clone(),
                customer: Some(CustomerRef {
                    tenant_id: tenant,
                    display_name: tenant_name.clone(),
                }),
                roles: template.roles.clone(),
                duration: template.duration,
                auto_extend: template.auto_extend,
            };
            match ports.gdap.create_relationship(&new).await {
                Ok(rel) => break rel,
                Err(e) => {
                    match OnboardError::classify(Operation::CreateRelationship, Some(tenant), e) {
                        OnboardError::DuplicateDisplayName { source, .. } => {
                            if attempts >= 3 {
                                return Err(OnboardError::DuplicateDisplayName {
                                    display_name,
                                    source,
                                });
                            }
                            taken.insert(display_name.to_lowercase());
                        }
                        other => return Err(other),
                    }
                }
            }
        };
        self.lock_with_retry(&created.id, tenant).await?;
        tracing::info!(%tenant, relationship = %created.id, "relationship request created and locked for approval");
        Ok(RequestOutcome::Requested(RequestedRelationship {
            approval_link: self.config().links.approval_link(&created.id),
            relationship_id: created.id,
            display_name: created.display_name,
            reused: false,
        }))
    }

    /// Re-requests the app-install template for a tenant (the Request / Re-request Permissions
    /// action).
    ///
    /// # Errors
    /// As [`Orchestrator::request_permissions`].
    pub async fn re_request_permissions(&self, tenant: TenantId) -> Result<RequestOutcome> {
        self.request_permissions(tenant, &RelationshipTemplate::app_install(), None)
            .await
    }

    async fn lock_with_retry(&self, id: &RelationshipId, tenant: TenantId) -> Result<()> {
        let ports = self.ports();
        let attempts = self.config().lock_attempts.max(1);
        let mut n = 0;
        loop {
            n += 1;
            match ports.gdap.lock_for_approval(id).await {
                Ok(_) => return Ok(()),
                Err(e) if n < attempts && not_ready_yet(&e) => {
                    let wait = e.retry_after().unwrap_or(self.config().lock_retry_delay);
                    tracing::debug!(relationship = %id, attempt = n, ?wait, "lockForApproval not accepted yet; retrying");
                    ports.clock.sleep(wait).await;
                }
                Err(e) => {
                    return Err(OnboardError::classify(
                        Operation::LockForApproval,
                        Some(tenant),
                        e,
                    ));
                }
            }
        }
    }
}

/// Right after creation Graph sometimes answers 405 (or 404, or a transient failure) to
/// `lockForApproval`: eventual consistency; worth another try.
fn not_ready_yet(e: &PortError) -> bool {
    e.is_retryable() || e.status() == Some(405) || e.kind() == PortErrorKind::NotFound
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn generated_names_fit_and_are_unique() {
        let today = datetime!(2026-03-04 10:00 UTC);
        let mut taken = BTreeSet::new();
        let long = "Contoso Pharmaceuticals International Holdings (Europe) GmbH & Co. KG";
        let a = generate_display_name("AppInstall", long, today, None, &taken);
        assert!(a.chars().count() <= MAX_DISPLAY_NAME, "{a}");
        assert!(a.starts_with("AppInstall Contoso"));
        assert!(a.ends_with("20260304"));
        validate_display_name(&a).unwrap();
        taken.insert(a.to_lowercase());
        let b = generate_display_name("AppInstall", long, today, None, &taken);
        assert_ne!(a, b);
        assert!(b.ends_with(" 2"));
        assert!(b.chars().count() <= MAX_DISPLAY_NAME);
        validate_display_name(&b).unwrap();
    }

    #[test]
    fn validation_rules() {
        assert!(validate_display_name("").is_err());
        assert!(validate_display_name(&"x".repeat(51)).is_err());
        assert!(validate_display_name("a/b").is_err());
        validate_display_name(&"x".repeat(50)).unwrap();
    }
}
