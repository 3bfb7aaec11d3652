//! `GET /v1/customers` and `GET /v1/customers/{id}`.

use std::fmt;

use gdap_core::TenantId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Page size sent when [`ListCustomersOptions::size`] is not set. Partner Center marks `size` as
/// required; 40 is what Microsoft's SDK samples use.
pub const DEFAULT_PAGE_SIZE: u32 = 40;

/// Options of [`PartnerCenterClient::list_customers`](crate::PartnerCenterClient::list_customers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListCustomersOptions {
    /// Page size (`?size=`); [`DEFAULT_PAGE_SIZE`] when `None`. Only changes how many requests
    /// the stream makes, never which customers it yields.
    pub size: Option<u32>,
}

impl ListCustomersOptions {
    /// Sets the page size.
    pub fn with_size(mut self, size: u32) -> Self {
        self.size = Some(size);
        self
    }
}

/// A customer of the partner, as `GET /v1/customers` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Customer {
    /// The Partner Center customer id. For CSP customers it equals the Entra tenant id
    /// (`companyProfile.tenantId`) in every known example; use [`Customer::tenant_id`].
    pub id: String,
    /// The commerce id, when Partner Center sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commerce_id: Option<String>,
    /// Tenant id, domain and company name.
    #[serde(default)]
    pub company_profile: CompanyProfile,
    /// How the customer is related to the partner (`reseller`, `none`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship_to_partner: Option<RelationshipToPartner>,
    /// Whether delegated (DAP) access is allowed, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_delegated_access: Option<bool>,
    /// The indirect reseller's partner id, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_partner_id: Option<String>,
}

impl Customer {
    /// The customer's Entra tenant id: `companyProfile.tenantId`, or else the customer `id` when it
    /// is a GUID (they are the same for CSP customers).
    pub fn tenant_id(&self) -> Option<TenantId> {
        self.company_profile
            .tenant_id
            .or_else(|| self.id.parse().ok())
    }
}

/// `companyProfile` of a [`Customer`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CompanyProfile {
    /// The customer's Entra tenant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<TenantId>,
    /// The customer's default domain, e.g. `contoso.onmicrosoft.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The customer's company name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// The customer's contact email, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A service value this crate does not know yet, kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnknownValue(String);

impl UnknownValue {
    /// The value as the service sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `relationshipToPartner` of a [`Customer`]. Values this crate does not know are kept in
/// [`RelationshipToPartner::Unrecognized`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RelationshipToPartner {
    /// `reseller`: the partner is the customer's CSP reseller.
    Reseller,
    /// `advisor`.
    Advisor,
    /// `none`: no reseller relationship (e.g. removed at offboarding; GDAP may still exist).
    None,
    /// `unknown`, as the service itself may send.
    Unknown,
    /// Any other value, kept verbatim.
    Unrecognized(UnknownValue),
}

impl RelationshipToPartner {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Reseller => "reseller",
            Self::Advisor => "advisor",
            Self::None => "none",
            Self::Unknown => "unknown",
            Self::Unrecognized(v) => v.as_str(),
        }
    }

    /// Whether the partner is the customer's reseller.
    pub fn is_reseller(&self) -> bool {
        matches!(self, Self::Reseller)
    }
}

impl From<&str> for RelationshipToPartner {
    fn from(s: &str) -> Self {
        match s.to_ascii_lowercase().as_str() {
            "reseller" => Self::Reseller,
            "advisor" => Self::Advisor,
            "none" => Self::None,
            "unknown" => Self::Unknown,
            _ => Self::Unrecognized(UnknownValue(s.to_owned())),
        }
    }
}

impl fmt::Display for RelationshipToPartner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RelationshipToPartner {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RelationshipToPartner {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Self::from(s.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relationship_round_trips_and_keeps_unknown_values() {
        for v in ["reseller", "advisor", "none", "unknown", "somethingNew"] {
            let r: RelationshipToPartner = serde_json::from_value(serde_json::json!(v)).unwrap();
            assert_eq!(serde_json::to_value(&r).unwrap(), serde_json::json!(v));
        }
        let r = RelationshipToPartner::from("Reseller");
        assert!(r.is_reseller());
        assert!(matches!(
            RelationshipToPartner::from("x"),
            RelationshipToPartner::Unrecognized(_)
        ));
    }

    #[test]
    fn customer_tolerates_missing_and_unknown_fields() {
        let c: Customer = serde_json::from_value(serde_json::json!({
            "id": "0b9c4d2e-8f5a-4c1b-9e2d-3a4b5c6d7e8f",
            "billingProfile": {"x": 1},
            "attributes": {"objectType": "Customer"}
        }))
        .unwrap();
        assert_eq!(
            c.tenant_id().map(|t| t.to_string()).as_deref(),
            Some("0b9c4d2e-8f5a-4c1b-9e2d-3a4b5c6d7e8f")
        );
        assert!(c.relationship_to_partner.is_none());
    }
}
