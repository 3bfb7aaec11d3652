//! `organization` of a (customer) tenant.

use gdap_core::TenantId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// `verifiedDomain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VerifiedDomain {
    /// The domain name.
    pub name: String,
    /// Whether it is the default domain.
    #[serde(default)]
    pub is_default: bool,
    /// Whether it is the initial `*.onmicrosoft.com` domain.
    #[serde(default)]
    pub is_initial: bool,
    /// `"Managed"` or `"Federated"`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub domain_type: Option<String>,
    /// E.g. `"Email, OfficeCommunicationsOnline"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<String>,
}

/// `organization`: the tenant's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Organization {
    /// The tenant id.
    pub id: TenantId,
    /// The tenant's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// E.g. `"AAD"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_type: Option<String>,
    /// Verified domains.
    #[serde(default)]
    pub verified_domains: Vec<VerifiedDomain>,
    /// Two-letter country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_letter_code: Option<String>,
    /// Creation time.
    #[serde(
        default,
        with = "super::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_date_time: Option<OffsetDateTime>,
}

impl Organization {
    /// The tenant id.
    pub fn tenant_id(&self) -> &TenantId {
        &self.id
    }

    /// The default verified domain.
    pub fn default_domain(&self) -> Option<&str> {
        self.verified_domains
            .iter()
            .find(|d| d.is_default)
            .map(|d| d.name.as_str())
    }

    /// The initial `*.onmicrosoft.com` domain.
    pub fn initial_domain(&self) -> Option<&str> {
        self.verified_domains
            .iter()
            .find(|d| d.is_initial)
            .map(|d| d.name.as_str())
    }
}
