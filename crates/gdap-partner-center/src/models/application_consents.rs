//! `POST/GET /v1/customers/{id}/applicationconsents` and
//! `DELETE /v1/customers/{id}/applicationconsents/{appId}`.

use gdap_core::AppId;
use serde::{Deserialize, Serialize};

/// The first-party "Microsoft Partner Center" application. It is the resource your app calls
/// Partner Center with; it must never be consented into a customer tenant, so
/// [`create_application_consent`](crate::PartnerCenterClient::create_application_consent) refuses a
/// grant naming it.
pub const PARTNER_CENTER_APP_ID: AppId = AppId::from_uuid(uuid::Uuid::from_u128(
    0xfa3d9a0c_3fb0_42cc_9193_47c7ecd2edbd,
));

/// A CPV application consent: installs `application_id` into a customer tenant and grants it
/// delegated scopes on each resource in `application_grants`.
///
/// Used both as the `POST` body and as what Partner Center answers. Partner Center advises one
/// resource per `POST` (one [`ApplicationGrant`]); several are allowed by the wire format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationConsent {
    /// The multi-tenant application's client id. Must be the app the token was issued to.
    pub application_id: AppId,
    /// A display name; optional on the wire (Microsoft samples send it, CIPP does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The resources and delegated scopes to grant.
    #[serde(default)]
    pub application_grants: Vec<ApplicationGrant>,
}

impl ApplicationConsent {
    /// A consent for `application_id` with a display name and no grants yet.
    pub fn new(application_id: AppId, display_name: impl Into<String>) -> Self {
        Self {
            application_id,
            display_name: Some(display_name.into()),
            application_grants: Vec::new(),
        }
    }

    /// Adds a grant.
    pub fn with_grant(mut self, grant: ApplicationGrant) -> Self {
        self.application_grants.push(grant);
        self
    }
}

/// Delegated scopes on one resource API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationGrant {
    /// The resource API's application (client) id, e.g. Microsoft Graph
    /// `00000003-0000-0000-c000-000000000000`.
    pub enterprise_application_id: AppId,
    /// Delegated permission names, comma-separated as Partner Center expects
    /// (`"Directory.ReadWrite.All,AppRoleAssignment.ReadWrite.All"`). Use
    /// [`ApplicationGrant::new`] to build it and [`ApplicationGrant::scopes`] to read it.
    pub scope: String,
}

impl ApplicationGrant {
    /// A grant of `scopes` on `resource`; scopes are trimmed, empty ones dropped, and joined with
    /// `,`.
    pub fn new<I, S>(resource: AppId, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let scope = scopes
            .into_iter()
            .map(|s| s.as_ref().trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(",");
        Self {
            enterprise_application_id: resource,
            scope,
        }
    }

    /// The individual scope names (split on `,` and trimmed, so `"A, B"` and `"A,B"` read the same).
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_joins_and_splits_scopes() {
        let g = ApplicationGrant::new(PARTNER_CENTER_APP_ID, [" A ", "", "B"]);
        assert_eq!(g.scope, "A,B");
        let g = ApplicationGrant {
            scope: "A, B,,C".into(),
            ..g
        };
        assert_eq!(g.scopes().collect::<Vec<_>>(), ["A", "B", "C"]);
    }

    #[test]
    fn partner_center_app_id_is_the_first_party_app() {
        assert_eq!(
            PARTNER_CENTER_APP_ID.to_string(),
            "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd"
        );
    }
}
